import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { isCanFrame } from '../frame.js';
import type { Message } from '../../core/message.js';
import type { FrameFileWriter, TraceFormatName } from './log-format.js';
import { createTraceWriter, traceExtension } from './logs.js';
import type { Direction } from './trace-writer.js';

/**
 * The proxy trace in any writable log format but candump's (which
 * TraceWriter writes with rotation): pcap, pcapng, ASC, BLF, TRC, CSV. The
 * channel of every frame is the proxy's physical connector, sent frames are
 * Tx and received ones Rx where the format keeps a direction (all but pcap
 * and CSV). Timestamps never go backwards: a frame stamped before the line
 * before it (another clock: a device's, an adapter's) is written at that
 * line's time. Messages that are not CAN frames cannot go into these
 * formats and are counted instead, as are frames a format cannot hold
 * (CAN FD in TRC 1.1). The buffer goes to the file at least every second.
 */
export class LogTrace {
  private readonly writer: FrameFileWriter;
  readonly files: string[];
  lines = 0;
  /** Messages that were not CAN frames, or that the format cannot hold. */
  skipped = 0;
  private last = -Infinity;

  constructor(options: { dir: string; name: string; format: TraceFormatName }) {
    mkdirSync(options.dir, { recursive: true });
    const file = path.join(options.dir, `${options.name}${traceExtension(options.format)}`);
    this.writer = createTraceWriter(file, { format: options.format, flushIntervalMs: 1000 });
    this.files = [file];
  }

  get file(): string {
    return this.files[0]!;
  }

  record(message: Message, channel: string, direction: Direction): void {
    if (!isCanFrame(message)) {
      this.skipped++;
      return;
    }
    const timestamp = Math.max(this.last, message.timestamp ?? (performance.timeOrigin + performance.now()) / 1000);
    this.last = timestamp;
    if (this.writer.write({ ...message, timestamp, channel, direction: direction === 'T' ? 'Tx' : 'Rx' })) this.lines++;
    else this.skipped++;
  }

  async close(): Promise<void> {
    this.writer.close();
  }
}

/** The pcap proxy trace (kept by name for code that imports it). */
export class PcapTrace extends LogTrace {
  constructor(options: { dir: string; name: string }) {
    super({ ...options, format: 'pcap' });
  }
}
