import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canFrame } from '../src/can/frame.js';
import { TraceWriter, formatTraceLine } from '../src/can/trace/trace-writer.js';
import { result, type BenchResult } from './harness.js';

const FRAMES = 1_000_000;

/** Frames offered in bursts of 2,000 per event-loop turn, as a busy bus delivers them. */
async function offer(record: (i: number) => void): Promise<void> {
  for (let i = 0; i < FRAMES; i++) {
    record(i);
    if (i % 2000 === 1999) await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The proxy trace writer (candump log lines, buffered, with backpressure)
 * against writing the same lines with a bare write stream, in the same run;
 * and that every line reached the file. A saturated CAN FD bus is about
 * 25,000 frames/s: the writer must keep far above that.
 */
export async function run(): Promise<BenchResult[]> {
  const frame = canFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8], timestamp: 1_700_000_000.123456 });
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-trace-'));

  let start = performance.now();
  const raw = createWriteStream(path.join(dir, 'raw.log'), { highWaterMark: 1 << 20 });
  let chunk: string[] = [];
  await offer(() => {
    chunk.push(formatTraceLine(frame, 'can0', 'R'));
    if (chunk.length === 2000) {
      raw.write(chunk.join(''));
      chunk = [];
    }
  });
  await new Promise<void>((resolve) => raw.end(() => resolve()));
  const rawRate = FRAMES / ((performance.now() - start) / 1000);

  start = performance.now();
  const trace = new TraceWriter({ dir, name: 'trace' });
  await offer(() => trace.record(frame, 'can0', 'R'));
  await trace.close();
  const rate = FRAMES / ((performance.now() - start) / 1000);
  const written = readFileSync(trace.file, 'utf8').split('\n').length - 1;
  return [result('trace.candump_lines_per_s', rate, 'lines/s', rawRate, { frames: FRAMES, lost: FRAMES - written, baseline_is: 'the same lines through a bare write stream' })];
}
