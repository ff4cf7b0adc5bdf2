import { Connector } from '../../src/core/connector.js';
import type { Message } from '../../src/core/message.js';

/**
 * A "physical" connector for benchmarks: when it is sent the text `go`, it
 * delivers `frames` classic CAN frames (id 0x100, 8 bytes, a fresh object
 * each, as a real driver would) as fast as the event loop lets it.
 */
export class FrameSourceConnector extends Connector<{ frames: number; processing?: boolean }> {
  static override configSchema = {
    type: 'object',
    properties: { frames: { type: 'integer', minimum: 1 }, processing: { type: 'boolean' } },
    required: ['frames'],
    additionalProperties: false,
  };

  private running = false;

  protected async doOpen(): Promise<void> {}

  protected async doClose(): Promise<void> {
    this.running = false;
  }

  protected async doSend(message: Message): Promise<void> {
    if (Buffer.from(message.data).toString() === 'go' && !this.running) void this.generate();
  }

  private async generate(): Promise<void> {
    this.running = true;
    for (let i = 0; i < this.config.frames && this.running; i++) {
      const data = new Uint8Array(8);
      data[0] = i & 0xff;
      data[1] = (i >> 8) & 0xff;
      data[2] = (i >> 16) & 0xff;
      this.deliver({ data, timestamp: 1_700_000_000 + i / 1e6, can: { id: 0x100, extended: false, remote: false, fd: false, brs: false, esi: false } });
      if ((i & 2047) === 2047) await new Promise((resolve) => setImmediate(resolve));
    }
    this.running = false;
  }
}
