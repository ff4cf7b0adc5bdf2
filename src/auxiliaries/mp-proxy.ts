import { bindProxyEndpoints, type ProxyHub, type ProxySink } from './proxy.js';
import type { StationView } from '../core/auxiliary.js';
import { KisoError } from '../core/errors.js';
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
    this.outgoing = new FrameBatcher<string>((sender, batch, count) => {
      // Settlers were queued in send order, so this batch's are the first ones.
      const settle = this.settlers.splice(0, count);
      // A batch that leaves after the host died (its crash came between the send and this flush) has no one to ack it.
      const dead = this.fault ?? this.host.crashError;
      if (dead || this.host.state !== 'ready') {
        const error = dead ?? new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" has no running process (it is ${this.host.state}): cannot send`);
        for (const { reject } of settle) reject(error);
        return;
      }
      const seq = this.nextSeq++;
      this.pendingBatches.set(seq, { settle });
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
      const settler = { resolve, reject };
      this.settlers.push(settler);
      try {
        this.outgoing.push(sender, message);
      } catch (error) {
        // Not packed (it cannot be): it has no place in a batch, so neither has its settler.
        this.settlers.splice(this.settlers.lastIndexOf(settler), 1);
        throw error;
      }
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

  override async deleteInstance(): Promise<void> {
    try {
      await super.deleteInstance();
    } finally {
      // The host is gone: a send it did not acknowledge before it stopped never will be.
      const error = new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" stopped before the frame was sent`);
      for (const batch of this.pendingBatches.values()) for (const { reject } of batch.settle) reject(error);
      this.pendingBatches.clear();
      this.outgoing.discard();
      for (const { reject } of this.settlers.splice(0)) reject(error);
    }
  }

  protected override onCrash(error: KisoError): void {
    super.onCrash(error);
    // Every send waiting on the dead host rejects now: those sent to it, and those still in the batcher.
    for (const batch of this.pendingBatches.values()) for (const { reject } of batch.settle) reject(error);
    this.pendingBatches.clear();
    this.outgoing.discard();
    for (const { reject } of this.settlers.splice(0)) reject(error);
    for (const sink of this.sinks) sink.hubFailed?.(error);
  }
}
