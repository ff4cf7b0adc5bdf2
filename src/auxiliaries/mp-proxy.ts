import { bindProxyEndpoints, type ProxyHub, type ProxySink } from './proxy.js';
import type { StationView } from '../core/auxiliary.js';
import type { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { Message } from '../core/message.js';
import { FrameBatcher } from '../processing/frame-batcher.js';
import { unpackMessages } from '../processing/frame-pack.js';
import { reviveError } from '../processing/host-process.js';
import type { HostEvent, HostSpec } from '../processing/protocol.js';
import { RemoteAuxiliary } from '../processing/remote-auxiliary.js';

interface PendingBatch {
  settle: Array<{ resolve: () => void; reject: (error: Error) => void }>;
}

/**
 * pykiso's MpProxyAuxiliary: the proxy and its physical connector run in a
 * process of their own; the auxiliaries of aux_list stay in the main process.
 * Frames from the bus and from other auxiliaries arrive in packed batches
 * and are handed to each attached proxy connector here; frames the main
 * process's auxiliaries send go to the host in batches and each send
 * resolves (or rejects with the physical connector's error) when the host
 * has handled it. Same semantics as ProxyAuxiliary, across processes.
 */
export class MpProxyAuxiliary extends RemoteAuxiliary implements ProxyHub {
  private readonly sinks = new Set<ProxySink>();
  private readonly outgoing: FrameBatcher<string>;
  private readonly pendingBatches = new Map<number, PendingBatch>();
  private nextSeq = 1;
  private readonly settlers: PendingBatch['settle'] = [];

  constructor(spec: HostSpec, log: Logger) {
    super(spec, log);
    this.outgoing = new FrameBatcher<string>((sender, batch, messages) => {
      const seq = this.nextSeq++;
      // Settlers were queued in send order, so this batch's are the first ones.
      this.pendingBatches.set(seq, { settle: this.settlers.splice(0, messages.length) });
      this.host.send({ type: 'frames', seq, sender, batch });
    });
  }

  bindStation(station: StationView): void {
    bindProxyEndpoints(this, (this.config.aux_list as string[] | undefined) ?? [], station);
  }

  addSink(sink: ProxySink): void {
    this.sinks.add(sink);
  }

  removeSink(sink: ProxySink): void {
    this.sinks.delete(sink);
  }

  forward(message: Message, sender: string): Promise<void> {
    if (this.fault) return Promise.reject(this.fault);
    return new Promise<void>((resolve, reject) => {
      this.settlers.push({ resolve, reject });
      this.outgoing.push(sender, message);
    });
  }

  protected override onFrames(event: Extract<HostEvent, { type: 'frames' | 'frames-ack' }>): void {
    if (event.type === 'frames') {
      const messages = unpackMessages(event.batch);
      const sender = event.sender ?? undefined;
      for (const message of messages) for (const sink of this.sinks) sink.push(message, sender);
      return;
    }
    const batch = this.pendingBatches.get(event.seq);
    if (!batch) return;
    this.pendingBatches.delete(event.seq);
    const failed = new Map(event.errors.map(({ index, error }) => [index, reviveError(error)]));
    batch.settle.forEach(({ resolve, reject }, index) => {
      const error = failed.get(index);
      if (error) reject(error);
      else resolve();
    });
  }

  protected override onCrash(error: KisoError): void {
    super.onCrash(error);
    for (const batch of this.pendingBatches.values()) for (const { reject } of batch.settle) reject(error);
    this.pendingBatches.clear();
    for (const sink of this.sinks) sink.hubFailed?.(error);
  }
}
