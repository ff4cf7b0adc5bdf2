/**
 * A bounded FIFO with async consumers: what an auxiliary's `receive()` reads.
 * When full, the oldest item is dropped and counted, so memory stays bounded
 * even if a test never reads what a chatty device sends.
 */
export class ReceiveQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Array<{ resolve: (item: T | undefined) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    private readonly onOverflow?: (droppedSoFar: number) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(item);
      return;
    }
    if (this.size >= this.capacity) {
      this.head++;
      this.dropped++;
      this.onOverflow?.(this.dropped);
    }
    this.items.push(item);
    this.compact();
  }

  /** The next item, or undefined when `timeoutMs` passes (or the signal aborts) first. */
  shift(timeoutMs?: number, signal?: AbortSignal): Promise<T | undefined> {
    if (this.size > 0) return Promise.resolve(this.take());
    if (this.failure) return Promise.reject(this.failure);
    if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(undefined);
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter = {
        resolve: (item: T | undefined) => {
          cleanup();
          resolve(item);
        },
        reject: (error: Error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(undefined);
      };
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(onAbort, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The source is gone: waiting and later consumers get `error` once what is queued is read. */
  fail(error: Error): void {
    this.failure = error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** The source is back: consumers wait again. */
  recover(): void {
    this.failure = undefined;
  }

  /** Takes everything queued now. */
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }

  /** Empties the queue; returns how many items were discarded. */
  clear(): number {
    return this.drain().length;
  }

  /** Wakes every waiting consumer with undefined (used on stop). */
  cancelWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve(undefined);
  }

  private take(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    this.compact();
    return item;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
