import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import type { Message, Sendable } from '../core/message.js';
import { ReceiveQueue } from '../core/receive-queue.js';

export interface CommunicationAuxiliaryConfig {
  /** Most messages kept unread; older ones are dropped (and counted) past it. */
  receive_buffer_size?: number;
}

export const DEFAULT_RECEIVE_BUFFER_SIZE = 10_000;
export const DEFAULT_RECEIVE_TIMEOUT_MS = 1_000;

/**
 * pykiso's CommunicationAuxiliary: raw messages out, raw messages in.
 * `send()` writes through the `com` connector; everything the connector
 * receives is queued (bounded) until `receive()` takes it.
 */
export class CommunicationAuxiliary extends Auxiliary<CommunicationAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  private readonly inbox: ReceiveQueue<Message>;

  constructor(config: CommunicationAuxiliaryConfig, context: AuxiliaryContext) {
    super(config, context);
    this.inbox = new ReceiveQueue<Message>(config.receive_buffer_size ?? DEFAULT_RECEIVE_BUFFER_SIZE, (dropped) => {
      // Log the first overflow and then every 1000th, so a flood cannot flood the log too.
      if (dropped === 1 || dropped % 1000 === 0) {
        this.log.warn({ auxiliary: this.name, dropped, capacity: this.inbox.capacity }, `receive buffer of "${this.name}" is full: dropping the oldest messages`);
      }
    });
  }

  /** Sends bytes, text (UTF-8) or a full message. */
  async send(message: Sendable): Promise<void> {
    this.ensureRunning('send');
    await this.connector('com').send(message);
  }

  /**
   * The next received message, or undefined if none comes within `timeoutMs`
   * (default: the connector's receive timeout, e.g. CCSerial's `timeout`, else 1000).
   */
  async receive(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Message | undefined> {
    this.ensureRunning('receive');
    const timeoutMs = options.timeoutMs ?? this.connector('com').defaultReceiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
    return this.inbox.shift(timeoutMs, options.signal);
  }

  /** Discards unread messages; returns how many. */
  clearBuffer(): number {
    return this.inbox.clear();
  }

  /** Messages received and not read yet (pykiso's `queue_out.qsize()`). */
  pendingCount(): number {
    return this.inbox.size;
  }

  /** Messages dropped because the buffer was full. */
  get droppedCount(): number {
    return this.inbox.dropped;
  }

  protected override onMessage(message: Message): void {
    this.inbox.push(message);
  }

  protected override async onCreate(): Promise<void> {
    this.inbox.recover();
  }

  protected override async onDelete(): Promise<void> {
    this.inbox.cancelWaiters();
  }

  protected override onConnectorFault(error: Error): void {
    this.inbox.fail(error);
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    switch (command) {
      case 'send':
        await this.send(data as Sendable);
        return true;
      case 'receive':
        return this.receive({ timeoutMs: typeof data === 'number' ? data : undefined, signal });
      default:
        return super.executeCommand(command, data, signal);
    }
  }
}
