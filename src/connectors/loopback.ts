import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';

export interface LoopbackConnectorConfig {
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

/**
 * pykiso's CCLoopback: every sent message comes back to the owner, in order,
 * stamped with the time it was sent. It stands in for a device, so suites,
 * auxiliaries and proxies can be tried (and unit-tested) without hardware.
 *
 * Delivery is asynchronous (a microtask after `send`), never re-entrant:
 * an owner that sends from inside its receiver does not recurse. Microtasks
 * run first-in first-out, which keeps the order of sends.
 */
export class LoopbackConnector extends Connector<LoopbackConnectorConfig> {
  protected override async doOpen(): Promise<void> {}

  protected override async doClose(): Promise<void> {}

  protected override async doSend(message: Message): Promise<void> {
    if (!(message.data instanceof Uint8Array)) {
      throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `connector "${this.name}": message data must be bytes (Uint8Array), got ${typeof message.data}`);
    }
    // A copy, so a sender that reuses its buffer cannot change what the owner receives.
    const echoed: Message = { ...message, data: Uint8Array.from(message.data), timestamp: nowSeconds() };
    queueMicrotask(() => {
      // Closed in between: the loopback is gone, and so is what was in flight.
      if (this.isOpen) this.deliver(echoed);
    });
  }
}
