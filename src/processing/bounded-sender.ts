/**
 * Sends batches to the main process with a bound on what waits to be
 * written: when the main process does not keep up (a full bus into a busy
 * machine), the host's memory would grow with every batch queued on the IPC
 * channel. Past `maxInFlight` unwritten batches, new ones are dropped and
 * counted; `report()` says how many, and what is waiting, for the log.
 */
export type SendWithCallback<M> = (message: M, written: (error: Error | null) => void) => boolean;

export interface SenderStats {
  inFlight: number;
  droppedBatches: number;
  droppedFrames: number;
}

export class BoundedSender<M> {
  private inFlight = 0;
  private droppedBatches = 0;
  private droppedFrames = 0;

  constructor(
    private readonly send: SendWithCallback<M>,
    readonly maxInFlight = 256,
  ) {}

  /** Sends, or drops (false) when `maxInFlight` batches are still unwritten. */
  push(message: M, frames: number): boolean {
    if (this.inFlight >= this.maxInFlight) {
      this.droppedBatches++;
      this.droppedFrames += frames;
      return false;
    }
    this.inFlight++;
    try {
      this.send(message, () => {
        this.inFlight--;
      });
    } catch {
      this.inFlight--; // the channel is gone: 'disconnect' ends the host
    }
    return true;
  }

  get stats(): SenderStats {
    return { inFlight: this.inFlight, droppedBatches: this.droppedBatches, droppedFrames: this.droppedFrames };
  }
}
