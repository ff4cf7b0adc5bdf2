import { Dbc } from '../dbc/index.js';
import { decodeRows, type DecodeCounts, type SignalColumn } from './decode-rows.js';
import type { ParserContext, TraceFormatName } from './log-format.js';
import { TRACE_FORMATS, parseLines } from './logs.js';
import { newStats, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * A piscina worker of `kiso trace decode`: parses one chunk of a text log
 * (whole lines, with the parser state the file's header left) or takes a
 * batch of frames the main thread read from a binary log, decodes them with
 * the DBC (loaded once per worker) and returns the CSV text of the chunk.
 */
export interface DecodeTask {
  dbcPath: string;
  columns?: SignalColumn[];
  format: TraceFormatName;
  context?: ParserContext;
  /** Whole lines of a text log. */
  bytes?: Uint8Array;
  /** Frames of a binary log. */
  frames?: TraceFrame[];
}

export interface DecodeTaskResult {
  text: string;
  counts: DecodeCounts;
  stats: ReadStats;
  /** Lines in the chunk (line numbers of the malformed ones are relative to it). */
  lines: number;
}

const databases = new Map<string, Dbc>();

export function runDecodeTask(task: DecodeTask): DecodeTaskResult {
  let dbc = databases.get(task.dbcPath);
  if (!dbc) {
    dbc = Dbc.load(task.dbcPath);
    databases.set(task.dbcPath, dbc);
  }
  const stats = newStats();
  const counts: DecodeCounts = { decoded: 0, unknown: 0 };
  if (task.frames) {
    stats.frames = task.frames.length;
    return { text: decodeRows(task.frames, dbc, task.columns, counts), counts, stats, lines: 0 };
  }
  const format = TRACE_FORMATS[task.format];
  if (format.kind !== 'text') throw new Error(`${task.format} is not a text format`);
  const text = Buffer.from(task.bytes!.buffer, task.bytes!.byteOffset, task.bytes!.byteLength).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const frames = parseLines(format.parser(task.context), lines, stats, 1);
  return { text: decodeRows(frames, dbc, task.columns, counts), counts, stats, lines: lines.length };
}

export default runDecodeTask;
