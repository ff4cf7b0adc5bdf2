import { CanConnector, type CanConnectorConfig } from './can-base.js';
import type { CanFrame } from '../can/frame.js';
import type { Logger } from '../core/logging.js';
import { silentLogger } from '../core/silent-logger.js';
import { nowSeconds } from '../core/message.js';

/**
 * An in-process CAN bus: every frame one member sends reaches every other
 * open member (not the sender, as on a real bus without loopback) and every
 * tap. For unit tests, benchmarks and in-process simulations of a device.
 *
 * Delivery is a microtask after `send`, never re-entrant, in send order.
 */
export class MemoryCanBus {
  private readonly members = new Set<MemoryCanConnector>();
  private readonly taps = new Set<(frame: CanFrame) => void>();

  /** A new connector on this bus (closed; open it like any connector). */
  connector(name = `mem${this.members.size}`, config: CanConnectorConfig = {}, log: Logger = silentLogger()): MemoryCanConnector {
    const connector = new MemoryCanConnector(config, { name, log, baseDir: process.cwd() }, this);
    this.members.add(connector);
    return connector;
  }

  /** Sees every frame once, as a bus analyser would (e.g. a pcap writer). */
  tap(listener: (frame: CanFrame) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** @internal */
  transmit(sender: MemoryCanConnector, frame: CanFrame): void {
    queueMicrotask(() => {
      for (const tap of this.taps) tap(frame);
      for (const member of this.members) if (member !== sender) member.receive(frame);
    });
  }
}

export class MemoryCanConnector extends CanConnector<CanConnectorConfig> {
  constructor(config: CanConnectorConfig, context: { name: string; log: Logger; baseDir: string }, private readonly bus: MemoryCanBus) {
    super(config, context);
  }

  protected override async doOpen(): Promise<void> {}
  protected override async doClose(): Promise<void> {}

  protected override async sendFrame(frame: CanFrame): Promise<void> {
    // A copy stamped now: a sender reusing its buffer cannot change what others receive.
    this.bus.transmit(this, { ...frame, data: Uint8Array.from(frame.data), can: { ...frame.can }, timestamp: frame.timestamp ?? nowSeconds() });
  }

  /** @internal */
  receive(frame: CanFrame): void {
    if (this.isOpen) this.deliverFrame({ ...frame, can: { ...frame.can } });
  }
}

/** Two open-able connectors on one fresh in-memory bus: the usual tester/device pair. */
export function memoryCanPair(config: CanConnectorConfig = {}): { bus: MemoryCanBus; a: MemoryCanConnector; b: MemoryCanConnector } {
  const bus = new MemoryCanBus();
  return { bus, a: bus.connector('a', config), b: bus.connector('b', config) };
}
