import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { KisoError } from '../../core/errors.js';
import { ascFormat } from './asc-log.js';
import { blfFormat } from './blf-log.js';
import { candumpFormat } from './candump-log.js';
import { csvFormat } from './csv-log.js';
import type { FrameFileWriter, LineParser, LogFormat, ParserContext, TextLogFormat, TraceFormatName } from './log-format.js';
import { pcapFormat, pcapngFormat } from './pcap-log.js';
import { MalformedLine, newStats, noteMalformed, type ReadStats, type TraceFrame } from './trace-frame.js';
import { trc11Format, trcFormat } from './trc-log.js';

export type { TraceFormatName } from './log-format.js';

/**
 * CAN logs in the formats engineers exchange, read and written streaming:
 * `readTrace(path)` is an async iterator of frames (constant memory: one
 * 1 MiB chunk and one line at a time), `createTraceWriter(path)` a buffered
 * writer. The format comes from the extension unless one is named.
 */
export const TRACE_FORMATS: Record<TraceFormatName, LogFormat> = {
  candump: candumpFormat,
  asc: ascFormat,
  blf: blfFormat,
  trc: trcFormat,
  'trc-1.1': trc11Format,
  csv: csvFormat,
  pcap: pcapFormat,
  pcapng: pcapngFormat,
};

export const TRACE_FORMAT_NAMES = Object.keys(TRACE_FORMATS) as TraceFormatName[];

const EXTENSIONS: Record<string, TraceFormatName> = { '.log': 'candump', '.asc': 'asc', '.blf': 'blf', '.trc': 'trc', '.csv': 'csv', '.pcap': 'pcap', '.pcapng': 'pcapng' };

export const CHUNK_BYTES = 1 << 20;

export function isTraceFormatName(name: string): name is TraceFormatName {
  return Object.hasOwn(TRACE_FORMATS, name);
}

/** The format named, or the one of the file's extension; a KISO_USAGE error listing the known ones otherwise. */
export function traceFormatOf(file: string, name?: string): TraceFormatName {
  if (name !== undefined) {
    if (isTraceFormatName(name)) return name;
    throw new KisoError('KISO_USAGE', `"${name}" is not a trace format: ${TRACE_FORMAT_NAMES.join(', ')}`);
  }
  const extension = path.extname(file).toLowerCase();
  const format = EXTENSIONS[extension];
  if (!format) throw new KisoError('KISO_USAGE', `cannot tell the format of "${file}" from its extension${extension ? ` ${extension}` : ''}: name it (${TRACE_FORMAT_NAMES.join(', ')}); extensions: ${Object.entries(EXTENSIONS).map(([ext, f]) => `${ext} ${f}`).join(', ')}`);
  return format;
}

export interface ReadTraceOptions {
  /** Instead of the file's extension. */
  format?: TraceFormatName | string;
  /** Bytes read at a time (default 1 MiB). */
  chunkBytes?: number;
}

/** The frames of a log, with what the reader met besides them (`stats`, complete once the iteration ended). */
export interface TraceReader extends AsyncIterable<TraceFrame> {
  readonly format: TraceFormatName;
  readonly stats: ReadStats;
}

async function* fileChunks(file: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw new KisoError('KISO_TRACE_READ', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Lines of a stream of chunks, with their 1-based numbers; `\r\n` and `\n` both end a line. */
export async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop()!;
    yield lines;
  }
  const last = rest + decoder.end();
  if (last !== '') yield [last];
}

/** Parses lines with a parser; malformed ones are counted in stats, never thrown. */
export function* parseLines(parser: LineParser, lines: readonly string[], stats: ReadStats, firstLine: number): Generator<TraceFrame> {
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let frame: TraceFrame | undefined;
    try {
      frame = parser.parse(line, stats);
    } catch (error) {
      if (!(error instanceof MalformedLine) && !(error instanceof RangeError)) throw error;
      noteMalformed(stats, firstLine + i, line, error.message);
      continue;
    }
    if (frame) {
      stats.frames++;
      yield frame;
    }
  }
}

async function* readText(format: TextLogFormat, chunks: AsyncIterable<Buffer>, stats: ReadStats, context?: ParserContext): AsyncGenerator<TraceFrame> {
  const parser = format.parser(context);
  let lineNumber = 1;
  for await (const lines of linesOf(chunks)) {
    yield* parseLines(parser, lines, stats, lineNumber);
    lineNumber += lines.length;
  }
}

/** Frames of any stream of a log's bytes (a file, a socket, a decompressor). */
export function readTraceChunks(chunks: AsyncIterable<Buffer>, formatName: TraceFormatName): TraceReader {
  const format = TRACE_FORMATS[formatName];
  const stats = newStats();
  return {
    format: formatName,
    stats,
    [Symbol.asyncIterator]: () => (format.kind === 'text' ? readText(format, chunks, stats) : format.read(chunks, stats))[Symbol.asyncIterator](),
  };
}

/**
 * The frames of a CAN log, one at a time:
 *
 *   for await (const frame of readTrace('drive.blf')) ...
 *
 * Malformed lines are counted in `stats` (with the first few as examples)
 * and skipped; a file that is not in its format at all (a BLF without
 * "LOGG") throws KISO_TRACE_READ.
 */
export function readTrace(file: string, options: ReadTraceOptions = {}): TraceReader {
  const formatName = traceFormatOf(file, options.format);
  return readTraceChunks(fileChunks(file, options.chunkBytes ?? CHUNK_BYTES), formatName);
}

/** Reads the header of a text log (up to its first frame) and returns the parser state after it, for parsing later chunks apart. */
export async function headerContext(file: string, formatName: TraceFormatName): Promise<{ context: ParserContext; chunkable: boolean }> {
  const format = TRACE_FORMATS[formatName];
  if (format.kind !== 'text') return { context: {}, chunkable: false };
  const parser = format.parser();
  const stats = newStats();
  let seen = 0;
  for await (const lines of linesOf(fileChunks(file, 64 * 1024))) {
    for (const frame of parseLines(parser, lines, stats, 1)) {
      void frame;
      return { context: parser.context(), chunkable: parser.chunkable };
    }
    seen += lines.length;
    if (seen > 10_000) break;
  }
  return { context: parser.context(), chunkable: parser.chunkable };
}

/** Writes text formats through one buffer, synchronously. */
class TextFileWriter implements FrameFileWriter {
  private fd: number | undefined;
  private buffer: string[] = [];
  private bufferedChars = 0;
  private readonly state;
  private timer: NodeJS.Timeout | undefined;
  count = 0;
  readonly refused = new Map<string, number>();

  constructor(
    readonly path: string,
    format: TextLogFormat,
    flushIntervalMs: number,
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new KisoError('KISO_TRACE_READ', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
    }
    this.state = format.writer();
    if (flushIntervalMs > 0) {
      this.timer = setInterval(() => this.flush(), flushIntervalMs);
      this.timer.unref();
    }
  }

  write(frame: TraceFrame): boolean {
    if (this.fd === undefined) throw new KisoError('KISO_CONNECTOR_CLOSED', `${this.path} is closed`);
    const text = this.state.frame(frame);
    if (typeof text !== 'string') {
      this.refused.set(text.refused, (this.refused.get(text.refused) ?? 0) + 1);
      return false;
    }
    this.buffer.push(text);
    this.bufferedChars += text.length;
    this.count++;
    if (this.bufferedChars >= 256 * 1024) this.flush();
    return true;
  }

  flush(): void {
    if (this.fd === undefined || this.buffer.length === 0) return;
    const data = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.bufferedChars = 0;
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd === undefined) return;
    try {
      const end = this.state.end();
      if (end) this.buffer.push(end);
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export interface TraceWriterFileOptions {
  format?: TraceFormatName | string;
  /** Also write the buffer out this often (ms), so that a killed process leaves its log (0: only when full and on close; the default). */
  flushIntervalMs?: number;
}

/** A writer for a log file in any of the formats; `write(frame)` per frame, `close()` at the end. */
export function createTraceWriter(file: string, options: TraceWriterFileOptions = {}): FrameFileWriter {
  const format = TRACE_FORMATS[traceFormatOf(file, options.format)];
  if (format.kind === 'text') return new TextFileWriter(file, format, options.flushIntervalMs ?? 0);
  return format.writer(file);
}

/** The file name extension of a format. */
export function traceExtension(format: TraceFormatName): string {
  return Object.entries(EXTENSIONS).find(([, name]) => name === format)?.[0] ?? (format === 'trc-1.1' ? '.trc' : `.${format}`);
}
