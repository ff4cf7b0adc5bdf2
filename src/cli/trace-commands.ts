import { createWriteStream, type WriteStream } from 'node:fs';
import { decodeTrace } from '../can/trace/decode.js';
import { createTraceWriter, readTrace, traceFormatOf } from '../can/trace/logs.js';
import type { FrameFileWriter } from '../can/trace/log-format.js';
import type { ReadStats, TraceFrame } from '../can/trace/trace-frame.js';
import { isKisoError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/logging.js';
import { openConnector } from '../station/bringup.js';
import { loadAll, type PlannedRun } from './load-stations.js';
import { EXIT, UsageError } from './usage.js';

/**
 * `kiso trace convert | decode | info | replay`: CAN logs from the command
 * line. Malformed lines are reported on stderr with the first few of them
 * (line number, reason) and skipped; `--strict` makes them exit 1.
 */

function reportStats(file: string, stats: ReadStats): void {
  if (stats.malformed === 0) return;
  process.stderr.write(`kiso trace: ${stats.malformed} malformed line(s) in ${file} skipped; the first:\n`);
  for (const example of stats.examples) process.stderr.write(`  ${example.line}: ${example.reason}: ${example.text}\n`);
}

function reportRefused(writer: FrameFileWriter): void {
  for (const [reason, count] of writer.refused) process.stderr.write(`kiso trace: ${count} frame(s) not written to ${writer.path}: ${reason}\n`);
}

function usageFormat(file: string, name: string | undefined): ReturnType<typeof traceFormatOf> {
  try {
    return traceFormatOf(file, name);
  } catch (error) {
    if (isKisoError(error, 'KISO_USAGE')) throw new UsageError(error.message);
    throw error;
  }
}

export interface ConvertFlags {
  from?: string;
  to?: string;
  strict?: boolean;
}

export async function convertCommand(input: string, output: string, flags: ConvertFlags): Promise<number> {
  const from = usageFormat(input, flags.from);
  const to = usageFormat(output, flags.to);
  const reader = readTrace(input, { format: from });
  const writer = createTraceWriter(output, { format: to });
  try {
    for await (const frame of reader) writer.write(frame);
  } finally {
    writer.close();
  }
  reportStats(input, reader.stats);
  reportRefused(writer);
  process.stderr.write(`kiso trace convert: ${writer.count} frame(s) ${from} → ${to}: ${output}\n`);
  return flags.strict && reader.stats.malformed > 0 ? EXIT.failed : EXIT.passed;
}

export interface DecodeFlags {
  dbc: string;
  signals?: string;
  output?: string;
  from?: string;
  workers?: number;
  strict?: boolean;
}

export async function decodeCommand(input: string, flags: DecodeFlags): Promise<number> {
  const from = usageFormat(input, flags.from);
  const signals = flags.signals?.split(',').map((name) => name.trim()).filter(Boolean);
  let stream: WriteStream | undefined;
  const write = (text: string): Promise<void> | void => {
    if (!text) return;
    const target = stream ?? process.stdout;
    if (!target.write(text)) return new Promise((resolve) => target.once('drain', () => resolve()));
  };
  if (flags.output) stream = createWriteStream(flags.output);
  let summary;
  try {
    summary = await decodeTrace(input, { dbcPath: flags.dbc, format: from, ...(signals ? { signals } : {}), ...(flags.workers !== undefined ? { workers: flags.workers } : {}) }, write);
  } catch (error) {
    if (isKisoError(error, 'KISO_DBC_SIGNAL')) throw new UsageError(`--signals: ${error.message}`);
    throw error;
  } finally {
    if (stream) await new Promise<void>((resolve, reject) => stream!.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  reportStats(input, summary.stats);
  process.stderr.write(`kiso trace decode: ${summary.stats.frames} frame(s), ${summary.decoded} decoded, ${summary.unknown} not in the DBC${flags.output ? `: ${flags.output}` : ''}\n`);
  return flags.strict && summary.stats.malformed > 0 ? EXIT.failed : EXIT.passed;
}

interface IdInfo {
  count: number;
  first: number;
  last: number;
  lengths: Set<number>;
}

export async function infoCommand(input: string, flags: { from?: string; json?: boolean; strict?: boolean }): Promise<number> {
  const from = usageFormat(input, flags.from);
  const reader = readTrace(input, { format: from });
  const ids = new Map<string, IdInfo>();
  const channels = new Map<string, number>();
  const kinds = { extended: 0, fd: 0, brs: 0, remote: 0, error: 0, rx: 0, tx: 0 };
  let first = Infinity;
  let last = -Infinity;
  let backwards = 0;
  let previous = -Infinity;
  for await (const frame of reader) {
    const { can } = frame;
    if (frame.timestamp < previous) backwards++;
    previous = frame.timestamp;
    first = Math.min(first, frame.timestamp);
    last = Math.max(last, frame.timestamp);
    if (can.extended) kinds.extended++;
    if (can.fd) kinds.fd++;
    if (can.brs) kinds.brs++;
    if (can.remote) kinds.remote++;
    if (can.error) kinds.error++;
    if (frame.direction === 'Rx') kinds.rx++;
    if (frame.direction === 'Tx') kinds.tx++;
    const channel = frame.channel ?? '';
    channels.set(channel, (channels.get(channel) ?? 0) + 1);
    if (can.error) continue;
    const key = can.extended ? `${can.id.toString(16).toUpperCase().padStart(8, '0')}` : can.id.toString(16).toUpperCase().padStart(3, '0');
    const entry = ids.get(key) ?? { count: 0, first: frame.timestamp, last: frame.timestamp, lengths: new Set<number>() };
    entry.count++;
    entry.last = frame.timestamp;
    entry.lengths.add(can.remote ? (can.dlc ?? 0) : frame.data.length);
    ids.set(key, entry);
  }
  const { stats } = reader;
  const span = stats.frames ? last - first : 0;
  const idRows = [...ids].sort(([a], [b]) => a.length - b.length || a.localeCompare(b)).map(([id, entry]) => ({
    id,
    count: entry.count,
    rate_hz: entry.count > 1 && entry.last > entry.first ? (entry.count - 1) / (entry.last - entry.first) : null,
    lengths: [...entry.lengths].sort((a, b) => a - b),
  }));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ file: input, format: from, frames: stats.frames, malformed: stats.malformed, skipped: stats.skipped, first: stats.frames ? first : null, last: stats.frames ? last : null, span_s: span, rate_fps: span > 0 ? stats.frames / span : null, backwards, ...kinds, channels: Object.fromEntries(channels), ids: idRows }, null, 2)}\n`);
  } else {
    const time = (t: number): string => (t > 631152000 ? `${new Date(t * 1000).toISOString()} (${t.toFixed(6)})` : `${t.toFixed(6)} s`);
    const lines = [
      `${input}: ${from}`,
      `frames      ${stats.frames}${stats.malformed ? `, ${stats.malformed} malformed line(s) skipped` : ''}${stats.skipped ? `, ${stats.skipped} other event(s)` : ''}`,
      ...(stats.frames ? [`first       ${time(first)}`, `last        ${time(last)}`, `span        ${span.toFixed(6)} s${span > 0 ? `, ${(stats.frames / span).toFixed(1)} frames/s` : ''}${backwards ? `, ${backwards} step(s) back in time` : ''}`] : []),
      `kinds       ${kinds.extended} extended, ${kinds.fd} CAN FD (${kinds.brs} BRS), ${kinds.remote} remote, ${kinds.error} error; ${kinds.rx} Rx, ${kinds.tx} Tx`,
      `channels    ${[...channels].map(([name, count]) => `${name || '(none)'}: ${count}`).join(', ')}`,
      `ids         ${ids.size}`,
      '  id          frames   rate/Hz  bytes',
      ...idRows.map((row) => `  ${row.id.padEnd(10)} ${String(row.count).padStart(8)} ${(row.rate_hz === null ? '-' : row.rate_hz.toFixed(2)).padStart(9)}  ${row.lengths.join(',')}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  reportStats(input, stats);
  return flags.strict && stats.malformed > 0 ? EXIT.failed : EXIT.passed;
}

export interface ReplayFlags {
  testConfigurationFile: string;
  connector: string;
  speed: number;
  loop?: boolean;
  from?: string;
  logLevel: LogLevel;
}

/** canplayer: the frames of a log on a connector, with their original timing (scaled by --speed; 0: as fast as possible). */
export async function replayCommand(input: string, flags: ReplayFlags): Promise<number> {
  const from = usageFormat(input, flags.from);
  if (!Number.isFinite(flags.speed) || flags.speed < 0) throw new UsageError(`--speed takes a factor >= 0 (1: original timing, 0: as fast as possible), got ${flags.speed}`);
  const [{ config }] = (await loadAll([flags.testConfigurationFile])) as [PlannedRun];
  const { logger } = createLogger({ level: flags.logLevel, console: true });
  const connector = await openConnector(config, flags.connector, logger);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let sent = 0;
  let errorFrames = 0;
  let rounds = 0;
  let stats: ReadStats | undefined;
  try {
    do {
      rounds++;
      const reader = readTrace(input, { format: from });
      stats = reader.stats;
      let origin: number | undefined;
      let started = performance.now();
      for await (const frame of reader) {
        if (stop.signal.aborted) break;
        if (frame.can.error) {
          errorFrames++;
          continue;
        }
        if (flags.speed > 0) {
          if (origin === undefined) {
            origin = frame.timestamp;
            started = performance.now();
          }
          const due = started + ((frame.timestamp - origin) * 1000) / flags.speed;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        await connector.send(outgoing(frame));
        sent++;
      }
    } while (flags.loop && !stop.signal.aborted && sent > 0);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await connector.close();
  }
  if (stats) reportStats(input, stats);
  process.stderr.write(`kiso trace replay: ${sent} frame(s) sent on "${flags.connector}"${rounds > 1 ? ` in ${rounds} rounds` : ''}${errorFrames ? `, ${errorFrames} error frame(s) not sendable, skipped` : ''}\n`);
  return EXIT.passed;
}

/** What goes on the wire: the frame, without the log's channel, direction and timestamp. */
function outgoing(frame: TraceFrame): { data: Uint8Array; can: TraceFrame['can'] } {
  return { data: frame.data, can: frame.can };
}
