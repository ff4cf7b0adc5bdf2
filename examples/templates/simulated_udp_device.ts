import { Auxiliary, type Message } from 'kiso';

interface SimulatedUdpDeviceConfig {
  firmware: string;
  /** How long the device takes to answer, as a real one would. */
  answer_delay_ms: number;
}

/**
 * A stand-in device under test that answers text commands over UDP after a
 * delay: PING → PONG, VERSION? → its firmware version, VOLT? → 4.98.
 * Each fixture slot gets its own, on its own port.
 */
export class SimulatedUdpDevice extends Auxiliary<SimulatedUdpDeviceConfig> {
  static override connectorRoles = ['com'] as const;
  static override configSchema = {
    type: 'object',
    properties: {
      firmware: { type: 'string' },
      answer_delay_ms: { type: 'integer', minimum: 0, default: 50 },
    },
    required: ['firmware'],
    additionalProperties: false,
  };

  private readonly timers = new Set<NodeJS.Timeout>();

  protected override onMessage(message: Message): void {
    const command = Buffer.from(message.data).toString().trim();
    const answer = command === 'PING' ? 'PONG' : command === 'VERSION?' ? this.config.firmware : command === 'VOLT?' ? '4.98' : `ERR unknown command ${command}`;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.connector('com').send({ data: Buffer.from(answer), peer: message.peer }).catch((error: unknown) => this.log.warn({ err: error }, 'device could not answer'));
    }, this.config.answer_delay_ms);
    this.timers.add(timer);
  }

  protected override async onDelete(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
