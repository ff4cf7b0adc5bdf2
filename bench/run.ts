import { print, type BenchResult } from './harness.js';

/**
 * `npm run bench`: every benchmark, one JSON line per figure, each with the
 * raw baseline measured in the same run. Pass names to run a subset:
 * `npm run bench -- startup runner`.
 */
const BENCHES: Record<string, () => Promise<{ run: () => Promise<BenchResult[]> }>> = {
  startup: () => import('./startup.js'),
  runner: () => import('./runner-overhead.js'),
  store: () => import('./store.js'),
  proxy: () => import('./proxy.js'),
  trace: () => import('./trace.js'),
  parallel: () => import('./parallel.js'),
  virtual_can: () => import('./virtual-can.js'),
  can_dbc: () => import('./can-dbc.js'),
  can_logs: () => import('./can-logs.js'),
  serve: () => import('./serve.js'),
  soak: () => import('./soak.js'),
};
/** Long runs, only when named: `npm run bench -- soak`. */
const ON_REQUEST = new Set(['soak']);

const wanted = process.argv.slice(2);
let failed = false;
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length ? !wanted.includes(name) : ON_REQUEST.has(name)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  const started = performance.now();
  try {
    print(await (await load()).run());
    process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    failed = true;
    process.stderr.write(`bench ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
}
process.exit(failed ? 1 : 0);
