import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Dbc } from '../src/can/dbc/index.js';
import { decodeTrace } from '../src/can/trace/decode.js';
import { createTraceWriter, readTrace } from '../src/can/trace/logs.js';
import type { TraceFrame } from '../src/can/trace/trace-frame.js';
import { packageRoot } from '../src/core/package-root.js';
import { result, type BenchResult } from './harness.js';

/**
 * CAN logs, on one generated log of 1,000,000 frames of the example DBC's
 * messages (candump -L, about 45 MB; and the same frames as BLF):
 * - can_logs.raw_read: reading the file's bytes (no parsing): the baseline
 *   of every other figure here;
 * - can_logs.read_candump / read_blf: frames/s readTrace() yields;
 * - can_logs.convert_candump_to_blf: frames/s of a conversion;
 * - can_logs.decode_1_worker / decode_N_workers: frames/s `kiso trace
 *   decode` parses and decodes with the DBC into CSV rows, in a piscina
 *   pool of 1 worker and of one per core.
 */
const FRAMES = 1_000_000;
const DBC_FILE = path.join(packageRoot(), 'examples/templates/suite_can_dbc_uds/vehicle.dbc');

async function timed(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-logs-'));
  const dbc = Dbc.load(DBC_FILE);
  const log = path.join(dir, 'drive.log');
  const blf = path.join(dir, 'drive.blf');
  try {
    const writer = createTraceWriter(log);
    let seed = 1;
    for (let i = 0; i < FRAMES; i++) {
      const message = dbc.messages[i % dbc.messages.length]!;
      const data = new Uint8Array(message.length);
      for (let b = 0; b < data.length; b++) data[b] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      writer.write({ data, timestamp: 1_700_000_000 + i * 0.0001, channel: 'can0', direction: 'Rx', can: { id: message.id, extended: message.extended, remote: false, fd: message.fd, brs: false, esi: false } } satisfies TraceFrame);
    }
    writer.close();
    const bytes = statSync(log).size;

    const rawSeconds = await timed(async () => {
      for await (const chunk of createReadStream(log, { highWaterMark: 1 << 20 })) void chunk;
    });
    const raw = FRAMES / rawSeconds;
    const out: BenchResult[] = [result('can_logs.raw_read', raw, 'frames/s', null, { frames: FRAMES, bytes, mb_per_s: Number((bytes / rawSeconds / 1e6).toFixed(1)), is: 'the bytes of the candump log read from disk, no parsing' })];

    let frames = 0;
    const readSeconds = await timed(async () => {
      for await (const frame of readTrace(log)) void frame, frames++;
    });
    out.push(result('can_logs.read_candump', frames / readSeconds, 'frames/s', raw, { frames, baseline_is: 'raw read of the same file' }));

    let converted = 0;
    const convertSeconds = await timed(async () => {
      const blfWriter = createTraceWriter(blf);
      for await (const frame of readTrace(log)) blfWriter.write(frame);
      blfWriter.close();
      converted = blfWriter.count;
    });
    out.push(result('can_logs.convert_candump_to_blf', converted / convertSeconds, 'frames/s', raw, { frames: converted, blf_bytes: statSync(blf).size, baseline_is: 'raw read of the candump file' }));

    frames = 0;
    const blfSeconds = await timed(async () => {
      for await (const frame of readTrace(blf)) void frame, frames++;
    });
    out.push(result('can_logs.read_blf', frames / blfSeconds, 'frames/s', raw, { frames, baseline_is: 'raw read of the candump file' }));

    const cores = availableParallelism();
    for (const workers of [...new Set([0, 1, cores])]) {
      let decoded = 0;
      let csvBytes = 0;
      const seconds = await timed(async () => {
        const summary = await decodeTrace(log, { dbcPath: DBC_FILE, workers }, (text) => void (csvBytes += text.length));
        decoded = summary.decoded;
      });
      const name = workers === 0 ? 'can_logs.decode_main_thread' : `can_logs.decode_${workers === cores ? `${workers}_workers_all_cores` : `${workers}_worker`}`;
      out.push(result(name, FRAMES / seconds, 'frames/s', raw, { frames: FRAMES, decoded, csv_bytes: csvBytes, workers, cores, baseline_is: 'raw read of the same file' }));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
