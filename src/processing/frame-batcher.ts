import type { Message } from '../core/message.js';
import { BatchPacker } from './frame-pack.js';

/**
 * Collects messages and hands them on as packed batches: a lone frame leaves
 * on the next event-loop turn (flush on idle, no timer latency), a burst
 * leaves as one buffer. A change of key (the sender) flushes first, so the
 * order across keys is kept.
 *
 * Each message is packed as it arrives, so the messages themselves die young:
 * on a full bus the young generation's collections then find almost nothing
 * alive to copy or promote, which keeps a small young generation cheap (the
 * host processes run with a fixed one, see host-process.ts). Batches are
 * views of one reused buffer (see BatchPacker for why).
 */
export class FrameBatcher<Key> {
  private readonly packer = new BatchPacker();
  private key: Key | undefined;
  private scheduled = false;

  constructor(
    /** `batch` is valid during the call only (the next batch reuses its bytes): send it (IPC serializes at once) or copy it. `count`: the messages in it. */
    private readonly send: (key: Key, batch: Buffer, count: number) => void,
    private readonly maxMessages = 4096,
    /** A batch also leaves at this many bytes, which bounds the reused packing buffer. */
    private readonly maxBytes = 1024 * 1024,
  ) {}

  push(key: Key, message: Message): void {
    if (this.packer.count > 0 && key !== this.key) this.flush();
    this.key = key;
    this.packer.add(message);
    if (this.packer.count >= this.maxMessages || this.packer.bytes >= this.maxBytes) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Drops what is waiting (its receiver is gone). */
  discard(): void {
    this.packer.clear();
  }

  flush(): void {
    const count = this.packer.count;
    if (count === 0) return;
    this.send(this.key as Key, this.packer.take(), count);
  }
}
