import type { Logger } from './logging.js';
import { KisoError } from './errors.js';
import { toMessage, type Message, type Sendable } from './message.js';

/**
 * The connector contract: a transport to a device.
 *
 * - `open()` acquires the transport (socket, port, bus) and rejects with
 *   KISO_CONNECTOR_OPEN and a message naming the resource when it cannot.
 * - `close()` releases it; it is idempotent and never throws for an already
 *   closed connector.
 * - `send(message)` resolves once the message is handed to the transport;
 *   it rejects with KISO_CONNECTOR_INVALID_MESSAGE for a message the transport
 *   cannot carry and KISO_CONNECTOR_CLOSED when not open.
 * - received messages are pushed to the owner through `deliver()`; the owner
 *   subscribes with `attach()`. A connector never buffers without bound: it
 *   delivers as it receives.
 * - bad input from the wire goes through `malformed()`: logged once per kind,
 *   counted, dropped; it never throws.
 */
export interface ConnectorContext {
  /** The connector's name in the YAML. */
  name: string;
  log: Logger;
  /** Folder of the YAML file, for resolving relative paths the type reads itself. */
  baseDir: string;
}

export type MessageReceiver = (message: Message) => void;
export type ConnectorErrorListener = (error: Error) => void;

export interface ConnectorStats {
  sent: number;
  received: number;
  malformed: number;
}

export abstract class Connector<Config extends object = Record<string, unknown>> {
  /** JSON schema of `config`; the registry validates the YAML against it before anything opens. */
  static configSchema?: object;

  readonly name: string;
  readonly config: Config;
  protected readonly log: Logger;
  protected readonly baseDir: string;
  readonly stats: ConnectorStats = { sent: 0, received: 0, malformed: 0 };

  private receivers: MessageReceiver[] = [];
  private errorListeners: ConnectorErrorListener[] = [];
  private malformedKinds = new Map<string, number>();
  private opened = false;

  constructor(config: Config, context: ConnectorContext) {
    this.name = context.name;
    this.config = config;
    this.log = context.log;
    this.baseDir = context.baseDir;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** The owner (an auxiliary, a proxy, `kiso dump`) subscribes to received messages. */
  attach(receiver: MessageReceiver): () => void {
    this.receivers.push(receiver);
    return () => {
      this.receivers = this.receivers.filter((r) => r !== receiver);
    };
  }

  /** Errors that happen outside a call (the device went away mid-run). */
  onError(listener: ConnectorErrorListener): () => void {
    this.errorListeners.push(listener);
    return () => {
      this.errorListeners = this.errorListeners.filter((l) => l !== listener);
    };
  }

  async open(): Promise<void> {
    if (this.opened) return;
    await this.doOpen();
    this.opened = true;
    this.log.debug({ connector: this.name }, 'connector opened');
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    try {
      await this.doClose();
    } finally {
      this.reportMalformedSummary();
      this.log.debug({ connector: this.name, ...this.stats }, 'connector closed');
    }
  }

  async send(value: Sendable): Promise<void> {
    if (!this.opened) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `connector "${this.name}" is not open: cannot send`);
    }
    const message = toMessage(value);
    await this.doSend(message);
    this.stats.sent++;
  }

  /**
   * How long a receive on this transport waits when the caller gives no
   * timeout, in ms, when the connector's config says (CCSerial's pyserial
   * `timeout`); undefined leaves the auxiliary's own default.
   */
  get defaultReceiveTimeoutMs(): number | undefined {
    return undefined;
  }

  /**
   * The message as this transport carries it (a CAN connector gives plain
   * bytes its id and flags). A proxy hands this form to the other
   * auxiliaries, so they see what went out on the wire.
   */
  wireForm(message: Message): Message {
    return message;
  }

  protected abstract doOpen(): Promise<void>;
  protected abstract doClose(): Promise<void>;
  protected abstract doSend(message: Message): Promise<void>;

  /** Hands a received message to every attached owner. */
  protected deliver(message: Message): void {
    this.stats.received++;
    for (const receiver of this.receivers) receiver(message);
  }

  /** Reports a failure that happened outside any call, e.g. the peer vanished. */
  protected fail(error: Error): void {
    this.log.error({ connector: this.name, err: error }, error.message);
    for (const listener of this.errorListeners) listener(error);
  }

  /**
   * Bad input from the wire: counted, logged the first time each kind is seen
   * (a summary with the count is logged on close), and dropped.
   */
  protected malformed(kind: string, detail?: Record<string, unknown>): void {
    this.stats.malformed++;
    const seen = (this.malformedKinds.get(kind) ?? 0) + 1;
    this.malformedKinds.set(kind, seen);
    if (seen === 1) {
      this.log.warn({ connector: this.name, kind, ...detail }, `dropped malformed input: ${kind} (further ones are counted)`);
    }
  }

  /** How many malformed inputs of each kind were dropped. */
  malformedCounts(): Record<string, number> {
    return Object.fromEntries(this.malformedKinds);
  }

  private reportMalformedSummary(): void {
    if (this.malformedKinds.size === 0) return;
    this.log.warn({ connector: this.name, dropped: this.malformedCounts() }, `connector "${this.name}" dropped ${this.stats.malformed} malformed input(s)`);
  }
}

/** What the registry needs of a connector class. */
export interface ConnectorClass {
  new (config: any, context: ConnectorContext): Connector<any>;
  configSchema?: object;
}
