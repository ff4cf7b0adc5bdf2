/**
 * Sends batches to the main process with a bound on the bytes waiting to be
 * written: when the main process does not keep up (a full bus into a busy
 * machine, or a main process that blocks), the host's memory would grow with
 * every batch queued on the IPC channel. Past `maxBytesInFlight` unwritten
 * bytes, new batches are dropped and counted; `stats` says how many, and what
 * is waiting, for the log. Bytes, not batches: a burst of small batches from
 * a healthy but momentarily slower main process must not cost frames.
 */
export type SendWithCallback<M> = (message: M, written: (error: Error | null) => void) => boolean;

/** What a host may keep waiting for its main process by default: a 1,000,000-frame burst of classic CAN frames is ~24 MB. */
export const DEFAULT_BACKLOG_BYTES = 32 * 1024 * 1024;

export interface SenderStats {
  /** Batches sent and not yet written to the channel. */
  inFlight: number;
  /** Their bytes. */
  bytesInFlight: number;
  droppedBatches: number;
  droppedFrames: number;
}

export class BoundedSender<M> {
  private inFlight = 0;
  private bytesInFlight = 0;
  private droppedBatches = 0;
  private droppedFrames = 0;

  constructor(
    private readonly send: SendWithCallback<M>,
    readonly maxBytesInFlight = DEFAULT_BACKLOG_BYTES,
  ) {}

  /** Sends a batch of `frames` frames in `bytes` bytes, or drops it (false) when it would pass the bound. */
  push(message: M, frames: number, bytes: number): boolean {
    // One batch always fits when nothing waits: the bound is on what piles up, not on a batch.
    if (this.inFlight > 0 && this.bytesInFlight + bytes > this.maxBytesInFlight) {
      this.droppedBatches++;
      this.droppedFrames += frames;
      return false;
    }
    this.inFlight++;
    this.bytesInFlight += bytes;
    const settle = (): void => {
      this.inFlight--;
      this.bytesInFlight -= bytes;
    };
    try {
      this.send(message, settle);
    } catch {
      settle(); // the channel is gone: 'disconnect' ends the host
    }
    return true;
  }

  get stats(): SenderStats {
    return { inFlight: this.inFlight, bytesInFlight: this.bytesInFlight, droppedBatches: this.droppedBatches, droppedFrames: this.droppedFrames };
  }
}
