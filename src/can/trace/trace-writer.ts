import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { formatCansend, isCanFrame } from '../frame.js';
import { nowSeconds, type Message } from '../../core/message.js';

/**
 * The proxy's traffic trace, in candump's log format (`candump -L`), which
 * python-can's log reader, can-utils' canplayer/log2asc and most CAN tools
 * read back:
 *
 *   (1700000000.123456) can_channel 123#DEADBEEF R     a frame received from the bus
 *   (1700000000.124001) can_channel 321#CAFE T         a frame an auxiliary sent
 *
 * The second column is the channel: the proxy's physical connector, for
 * both directions (one bus is one channel, as can-utils and python-can
 * expect); the last is the direction. Timestamps are microseconds of one
 * clock and never go backwards: a frame stamped before the line before it
 * (by another clock: a device's, an adapter's) is written at that line's
 * time. Messages that are not CAN frames are written as `(ts) channel #<hex> T`.
 *
 * Lines are buffered and written in one chunk per event-loop turn; when the
 * disk is slower than the bus the buffer grows instead of dropping (the
 * stream's backpressure decides when to write). With `maxBytes`, the file
 * rotates to `<name>.1.log`, `<name>.2.log`, ... instead of dropping.
 */
export interface TraceWriterOptions {
  dir: string;
  name: string;
  /** Rotate when a file would grow past this many bytes (0: never). */
  maxBytes?: number;
}

export type Direction = 'R' | 'T';

export function formatTraceLine(message: Message, source: string, direction: Direction, timestamp = message.timestamp ?? nowSeconds()): string {
  const body = isCanFrame(message) ? formatCansend(message) : `#${Buffer.from(message.data).toString('hex').toUpperCase()}`;
  return `(${timestamp.toFixed(6)}) ${source.replace(/\s/g, '_')} ${body} ${direction}\n`;
}

export class TraceWriter {
  private stream: WriteStream;
  private pending: string[] = [];
  private scheduled = false;
  private congested = false;
  private fileBytes = 0;
  private fileIndex = 0;
  private closing?: Promise<void>;
  private last = -Infinity;
  /** Lines written (or queued) so far. */
  lines = 0;
  readonly files: string[] = [];

  constructor(private readonly options: TraceWriterOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.stream = this.openFile();
  }

  /** Path of the first trace file. */
  get file(): string {
    return this.files[0]!;
  }

  record(message: Message, channel: string, direction: Direction): void {
    if (this.closing) return;
    const timestamp = Math.max(this.last, message.timestamp ?? nowSeconds());
    this.last = timestamp;
    this.pending.push(formatTraceLine(message, channel, direction, timestamp));
    this.lines++;
    if (!this.scheduled && !this.congested) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued and closes the file. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.pending.length > 0) {
        if (this.congested) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
        this.flush();
      }
      await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    })();
    return this.closing;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.congested) return;
    const chunk = this.pending.join('');
    this.pending = [];
    const bytes = Buffer.byteLength(chunk);
    const max = this.options.maxBytes ?? 0;
    if (max > 0 && this.fileBytes > 0 && this.fileBytes + bytes > max) this.rotate();
    this.fileBytes += bytes;
    if (!this.stream.write(chunk)) {
      this.congested = true;
      this.stream.once('drain', () => {
        this.congested = false;
        if (this.pending.length > 0 && !this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.flush());
        }
      });
    }
  }

  private rotate(): void {
    const previous = this.stream;
    previous.end();
    this.fileIndex++;
    this.fileBytes = 0;
    this.congested = false;
    this.stream = this.openFile();
  }

  private openFile(): WriteStream {
    const file = path.join(this.options.dir, this.fileIndex === 0 ? `${this.options.name}.log` : `${this.options.name}.${this.fileIndex}.log`);
    this.files.push(file);
    return createWriteStream(file, { flags: 'w', highWaterMark: 1 << 20 });
  }
}
