/**
 * Node's `advanced` IPC serialization makes a v8.Serializer for every
 * message, and a serializer keeps what it serialized alive past scavenges,
 * until a major GC: every message leaves ~200 bytes (the serializer, the
 * message object, the batch's view) in the old generation. A host streaming
 * a full bus sends ~800 frame batches a second, ~0.15 MiB/s of such garbage,
 * which V8 collects only once its old generation reaches its limit, minutes
 * apart on a small heap: the host's RSS rose ~7 MiB a minute meanwhile (64
 * to 75 MiB from 20 to 120 s of the soak bench without this), a high-water
 * mark that stays.
 *
 * A major GC every `every` frame batches (sent or received) keeps that
 * garbage to ~1 MiB: on a full bus one every ~6 s, 5 to 10 ms for a host's
 * ~6 MiB heap on the 2-core machine. Calls and their results are not
 * counted: they are few next to a bus, and the GCs cost the proxy bench's
 * round trip (runCommand + waitAndGetReport, ~8 messages) its p99, 0.35 to
 * 2.5 ms at one GC per 5,000 messages.
 *
 * It must be V8's `execution: 'async'` GC (a task of its own, with no heap
 * pointers on the stack): a synchronous gc() from JavaScript keeps the
 * serializers and what they hold alive (measured: the heap after each one
 * grew as without them). Host processes run with --expose-gc for this;
 * without it (a test importing this module) nothing is collected.
 */
export class IpcGarbageBound {
  private batches = 0;

  constructor(
    readonly every = 5000,
    private readonly collect: () => void = () => void globalThis.gc?.({ type: 'major', execution: 'async' }),
  ) {}

  /** One frame batch sent or received over IPC. */
  count(): void {
    if (++this.batches < this.every) return;
    this.batches = 0;
    this.collect();
  }
}
