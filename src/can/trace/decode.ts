import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Dbc } from '../dbc/index.js';
import { decodeHeader, decodeRows, signalColumns, type DecodeCounts, type SignalColumn } from './decode-rows.js';
import type { DecodeTask, DecodeTaskResult } from './decode-worker.js';
import { CHUNK_BYTES, TRACE_FORMATS, headerContext, readTrace, traceFormatOf } from './logs.js';
import { mergeStats, newStats, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * `kiso trace decode`: a log decoded with a DBC into CSV rows. With
 * workers, chunks of the log (1 MiB of whole lines of a text log, or 20,000
 * frames the main thread read from a binary one) go to a piscina pool of
 * worker threads, which parse and decode them; the rows are written in the
 * order of the file. At most two chunks per worker are in flight, so
 * memory stays bounded whatever the size of the log.
 */
export interface DecodeOptions {
  dbcPath: string;
  /** Columns instead of one row per message: Signal or Message.Signal names. */
  signals?: readonly string[];
  format?: string;
  /** Worker threads (0: decode in this thread; default: every core). */
  workers?: number;
  chunkBytes?: number;
}

export interface DecodeSummary extends DecodeCounts {
  stats: ReadStats;
  workers: number;
}

const FRAME_BATCH = 20_000;

async function* lineChunks(file: string, chunkBytes: number): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: chunkBytes })) {
    const data = carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    const end = data.lastIndexOf(10);
    if (end < 0) {
      carry = data;
      continue;
    }
    carry = end + 1 < data.length ? Buffer.from(data.subarray(end + 1)) : undefined;
    yield data.subarray(0, end + 1);
  }
  if (carry?.length) yield carry;
}

async function* frameBatches(frames: AsyncIterable<TraceFrame>): AsyncGenerator<TraceFrame[]> {
  let batch: TraceFrame[] = [];
  for await (const frame of frames) {
    batch.push(frame);
    if (batch.length >= FRAME_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

export function workerFile(): URL {
  // Built: decode-worker.js beside this file; from the sources (tsx): decode-worker.ts.
  return new URL(import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', import.meta.url);
}

export async function decodeTrace(file: string, options: DecodeOptions, write: (text: string) => void | Promise<void>): Promise<DecodeSummary> {
  const formatName = traceFormatOf(file, options.format);
  const dbc = Dbc.load(options.dbcPath);
  const columns: SignalColumn[] | undefined = options.signals?.length ? signalColumns(dbc, options.signals) : undefined;
  await write(decodeHeader(columns));
  const counts: DecodeCounts = { decoded: 0, unknown: 0 };
  const workers = options.workers ?? availableParallelism();
  if (workers <= 0) {
    const reader = readTrace(file, { format: formatName });
    let batch: TraceFrame[] = [];
    for await (const frame of reader) {
      batch.push(frame);
      if (batch.length >= FRAME_BATCH) {
        await write(decodeRows(batch, dbc, columns, counts));
        batch = [];
      }
    }
    await write(decodeRows(batch, dbc, columns, counts));
    return { ...counts, stats: reader.stats, workers: 0 };
  }

  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: workerFile().href, minThreads: workers, maxThreads: workers, idleTimeout: 1000 });
  const stats = newStats();
  const format = TRACE_FORMATS[formatName];
  const header = format.kind === 'text' ? await headerContext(file, formatName) : { context: {}, chunkable: false };
  const inFlight: Array<Promise<DecodeTaskResult>> = [];
  let line = 1;
  const settle = async (): Promise<void> => {
    const result = await inFlight.shift()!;
    mergeStats(stats, result.stats, line - 1);
    line += result.lines;
    counts.decoded += result.counts.decoded;
    counts.unknown += result.counts.unknown;
    if (result.text) await write(result.text);
  };
  const base = { dbcPath: options.dbcPath, format: formatName, ...(columns ? { columns } : {}) };
  let binaryStats: ReadStats | undefined;
  try {
    if (format.kind === 'text' && header.chunkable) {
      for await (const bytes of lineChunks(file, options.chunkBytes ?? CHUNK_BYTES)) {
        const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        inFlight.push(pool.run({ ...base, context: header.context, bytes: view } satisfies DecodeTask));
        if (inFlight.length >= workers * 2) await settle();
      }
    } else {
      // Binary logs (and ASC with relative timestamps): this thread reads the frames, the workers decode them.
      const reader = readTrace(file, { format: formatName });
      binaryStats = reader.stats;
      for await (const frames of frameBatches(reader)) {
        inFlight.push(pool.run({ ...base, frames } satisfies DecodeTask));
        if (inFlight.length >= workers * 2) await settle();
      }
    }
    while (inFlight.length) await settle();
  } finally {
    await Promise.allSettled(inFlight);
    await pool.destroy();
  }
  if (binaryStats) {
    stats.malformed = binaryStats.malformed;
    stats.skipped = binaryStats.skipped;
    stats.examples = binaryStats.examples;
    stats.frames = binaryStats.frames;
  }
  return { ...counts, stats, workers };
}
