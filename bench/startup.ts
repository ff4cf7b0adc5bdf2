import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, result, type BenchResult } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = 15;
/** A run writes its record, as at a station, but into a store of its own, not ~/.kiso. */
const STORE = mkdtempSync(path.join(tmpdir(), 'kiso-bench-startup-'));

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, KISO_STORE: STORE } });
  if (child.status !== 0) throw new Error(`${args.join(' ')} exited ${child.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Start-up of `kiso -c loopback.yaml` (process start to exit), against bare `node -e 0` timed alternately in the same run. */
export async function run(): Promise<BenchResult[]> {
  const kisoArgs = [path.join(ROOT, 'dist/src/cli/main.js'), '-c', 'examples/templates/loopback.yaml', '--log-level', 'warn'];
  wallMs(kisoArgs); // warm the file cache
  const kiso: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(wallMs(['-e', '0']));
    kiso.push(wallMs(kisoArgs));
  }
  const kisoMs = median(kiso);
  const bareMs = median(bare);
  return [result('startup.kiso_loopback_run', kisoMs, 'ms', bareMs, { above_bare_node_ms: Number((kisoMs - bareMs).toFixed(1)), target: 'under 400 ms above bare node', runs: RUNS })];
}
