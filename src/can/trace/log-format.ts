import type { ReadStats, TraceFrame } from './trace-frame.js';

/**
 * The shape of a CAN log format. Text formats are read line by line by a
 * parser whose state (base, start time, columns: what the header said) can
 * be handed to a worker thread as plain data, so that chunks of one file
 * parse in parallel; binary formats are read from a stream of chunks.
 * Writers are synchronous and buffered: a writer holds one buffer, never
 * the log.
 */
export type TraceFormatName = 'candump' | 'asc' | 'blf' | 'trc' | 'trc-1.1' | 'csv' | 'pcap' | 'pcapng';

export interface LineParser {
  /**
   * One line (without its line break): a frame, or undefined for a line that
   * is no frame (header, comment, event: counted in `stats.skipped` when the
   * format defines it). Throws MalformedLine for a line it cannot read.
   */
  parse(line: string, stats: ReadStats): TraceFrame | undefined;
  /** What the header said so far, as plain data: a parser made from it reads the lines after this point. */
  context(): ParserContext;
  /** False when a line depends on the line before it (ASC relative timestamps): then chunks cannot parse apart. */
  readonly chunkable: boolean;
}

export type ParserContext = Record<string, string | number | boolean | string[] | null>;

export interface TextWriterState {
  /** The text of one frame (with the file's header before the first), or why the format cannot hold it. */
  frame(frame: TraceFrame): string | { refused: string };
  /** What ends the file (also the header when no frame was written). */
  end(): string;
}

export interface TextLogFormat {
  kind: 'text';
  name: TraceFormatName;
  parser(context?: ParserContext): LineParser;
  writer(): TextWriterState;
}

export interface FrameFileWriter {
  /** False when the format cannot hold this frame (it is counted in `refused`, never silently dropped). */
  write(frame: TraceFrame): boolean;
  close(): void;
  readonly path: string;
  /** Frames written. */
  count: number;
  /** Frames the format cannot hold (TRC 1.1 and FD, CSV and channels...), by reason. */
  readonly refused: Map<string, number>;
}

export interface BinaryLogFormat {
  kind: 'binary';
  name: TraceFormatName;
  read(chunks: AsyncIterable<Buffer>, stats: ReadStats): AsyncGenerator<TraceFrame>;
  writer(path: string): FrameFileWriter;
}

export type LogFormat = TextLogFormat | BinaryLogFormat;
