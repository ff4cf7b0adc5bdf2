import type { ProxyEndpoint, ProxyHub, ProxySink } from '../auxiliaries/proxy.js';
import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import type { Message } from '../core/message.js';

/**
 * pykiso's CCProxy (and CCMpProxy, the same class bound to an MpProxyAuxiliary): the connector an auxiliary of a ProxyAuxiliary's
 * aux_list uses. Opening it starts the proxy (and so the physical
 * connector) if needed; sending hands the frame to the proxy; the proxy
 * pushes back every frame from the bus and from the other auxiliaries.
 */
export class ProxyConnector extends Connector<{ processing?: boolean }> implements ProxySink, ProxyEndpoint {
  private proxy?: ProxyHub;
  private owner = '';

  bindProxy(proxy: ProxyHub, owner: string): void {
    this.proxy = proxy;
    this.owner = owner;
  }

  push(message: Message, sender: string | undefined): void {
    if (sender !== this.owner && this.isOpen) this.deliver(message);
  }

  hubFailed(error: Error): void {
    if (this.isOpen) this.fail(error);
  }

  protected async doOpen(): Promise<void> {
    const proxy = this.requireProxy();
    if (!proxy.isRunning) await proxy.createInstance();
    proxy.addSink(this);
  }

  protected async doClose(): Promise<void> {
    this.proxy?.removeSink(this);
  }

  protected async doSend(message: Message): Promise<void> {
    await this.requireProxy().forward(message, this.owner);
  }

  private requireProxy(): ProxyHub {
    if (!this.proxy) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `proxy connector "${this.name}" is not attached to a proxy: list its auxiliary in a ProxyAuxiliary's aux_list`);
    }
    return this.proxy;
  }
}
