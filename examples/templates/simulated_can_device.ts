import { Auxiliary, type Message } from 'kiso';

interface SimulatedCanDeviceConfig {
  /** Arbitration id the device listens on. */
  request_id: number;
  /** Arbitration id it answers with. */
  response_id: number;
}

/**
 * A stand-in for a device under test on the CAN bus, written as a user
 * auxiliary type. It answers each request frame:
 *   0x01 PING          → 01 00              (alive)
 *   0x02 READ_VERSION  → 02 01 04 02        (version 1.4.2)
 *   0x03 ECHO b1 b2 .. → 03 b1 b2 ..
 *   anything else      → 7F <command>       (not supported)
 * On a bench with the real device, drop this auxiliary from the YAML.
 */
export class SimulatedCanDevice extends Auxiliary<SimulatedCanDeviceConfig> {
  static override connectorRoles = ['com'] as const;
  static override configSchema = {
    type: 'object',
    properties: {
      request_id: { type: 'integer', minimum: 0, maximum: 0x7ff, default: 0x300 },
      response_id: { type: 'integer', minimum: 0, maximum: 0x7ff, default: 0x301 },
    },
    additionalProperties: false,
  };

  answered = 0;

  protected override onMessage(message: Message): void {
    if (message.can?.id !== this.config.request_id || message.data.length === 0) return;
    const [command, ...rest] = message.data;
    const answer = command === 0x01 ? [0x01, 0x00] : command === 0x02 ? [0x02, 1, 4, 2] : command === 0x03 ? [0x03, ...rest] : [0x7f, command!];
    this.connector('com')
      .send({ data: Uint8Array.from(answer), can: { id: this.config.response_id, extended: false, remote: false, fd: false, brs: false, esi: false } })
      .then(() => this.answered++)
      .catch((error: unknown) => this.log.error({ err: error }, 'simulated device could not answer'));
  }
}
