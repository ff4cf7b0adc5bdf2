import { Connector } from '../../src/core/connector.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';

/** An in-memory connector for unit tests of the layers above connectors: records sends, injects receives. */
export class MemoryConnector extends Connector<{ failOpen?: string }> {
  readonly sent: Message[] = [];
  opens = 0;
  closes = 0;

  constructor(name = 'mem', config: { failOpen?: string } = {}) {
    super(config, { name, log: silentLogger(), baseDir: process.cwd() });
  }

  protected async doOpen(): Promise<void> {
    if (this.config.failOpen) throw new Error(this.config.failOpen);
    this.opens++;
  }

  protected async doClose(): Promise<void> {
    this.closes++;
  }

  protected async doSend(message: Message): Promise<void> {
    this.sent.push(message);
  }

  /** Plays the device: a message arrives. */
  inject(data: Uint8Array | string): void {
    this.deliver({ data: typeof data === 'string' ? Buffer.from(data) : data, timestamp: Date.now() / 1000 });
  }

  /** Plays a malformed frame from the wire. */
  injectGarbage(kind: string): void {
    this.malformed(kind);
  }

  /** Plays the device vanishing. */
  vanish(error: Error): void {
    this.fail(error);
  }
}
