import type { Message } from '../core/message.js';
import { packMessages } from './frame-pack.js';

/**
 * Collects messages and hands them on as packed batches: a lone frame leaves
 * on the next event-loop turn (flush on idle, no timer latency), a burst
 * leaves as one buffer. A change of key (the sender) flushes first, so the
 * order across keys is kept.
 */
export class FrameBatcher<Key> {
  private messages: Message[] = [];
  private key: Key | undefined;
  private scheduled = false;

  constructor(
    private readonly send: (key: Key, batch: Buffer, messages: readonly Message[]) => void,
    private readonly maxMessages = 4096,
  ) {}

  push(key: Key, message: Message): void {
    if (this.messages.length > 0 && key !== this.key) this.flush();
    this.key = key;
    this.messages.push(message);
    if (this.messages.length >= this.maxMessages) this.flush();
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
    this.messages = [];
  }

  flush(): void {
    if (this.messages.length === 0) return;
    const messages = this.messages;
    this.messages = [];
    this.send(this.key as Key, packMessages(messages), messages);
  }
}
