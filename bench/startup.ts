import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, result, type BenchResult } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const RUNS = 15;
/** A run writes its record, as at a station, but into a store of its own, not ~/.kiso. */
const STORE = mkdtempSync(path.join(tmpdir(), 'kiso-bench-startup-'));

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, KISO_STORE: STORE } });
  if (child.status !== 0) throw new Error(`${args.join(' ')} exited ${child.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The loopback example with its suite in plain JavaScript: a run that needs no TypeScript loader. */
function javascriptLoopback(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-loopback-js-'));
  mkdirSync(path.join(dir, 'suite'));
  const kiso = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;
  writeFileSync(
    path.join(dir, 'suite', 'test_loopback.mjs'),
    `import assert from 'node:assert/strict';
import { defineSuite } from '${kiso}';
export default defineSuite({ name: 'loopback', auxiliaries: ['aux1'], cases: [{ id: 1, name: 'echo', async run(ctx) {
  const aux = ctx.aux('aux1');
  await aux.send(Buffer.from([1, 2, 3]));
  assert.deepEqual([...(await aux.receive({ timeoutMs: 1000 })).data], [1, 2, 3]);
} }] });
`,
  );
  const station = path.join(dir, 'loopback.yaml');
  writeFileSync(
    station,
    'auxiliaries:\n  aux1:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\nconnectors:\n  chan:\n    type: CCLoopback\ntest_suite_list:\n  - suite_dir: suite\n    test_filter_pattern: "test_*.mjs"\n',
  );
  return station;
}

interface Command {
  name: string;
  args: string[];
  /** Milliseconds above bare `node -e 0` this command should stay under. */
  targetAboveNode: number;
}

/**
 * Start-up of the commands a technician types, process start to exit, each
 * against bare `node -e 0` timed alternately in the same run.
 */
export async function run(): Promise<BenchResult[]> {
  const commands: Command[] = [
    { name: 'startup.kiso_version', args: [CLI, '--version'], targetAboveNode: 80 },
    { name: 'startup.kiso_validate', args: [CLI, 'validate', '-c', 'examples/templates/loopback.yaml'], targetAboveNode: 200 },
    { name: 'startup.kiso_loopback_run_js_suite', args: [CLI, '-c', javascriptLoopback(), '--log-level', 'warn'], targetAboveNode: 300 },
    // The example's suite is TypeScript: this run also loads tsx (its CommonJS hook).
    { name: 'startup.kiso_loopback_run', args: [CLI, '-c', 'examples/templates/loopback.yaml', '--log-level', 'warn'], targetAboveNode: 300 },
  ];
  const results: BenchResult[] = [];
  for (const command of commands) {
    wallMs(command.args); // warm the file cache
    const kiso: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(wallMs(['-e', '0']));
      kiso.push(wallMs(command.args));
    }
    const kisoMs = median(kiso);
    const bareMs = median(bare);
    const above = Number((kisoMs - bareMs).toFixed(1));
    results.push(result(command.name, kisoMs, 'ms', bareMs, { above_bare_node_ms: above, target: `under ${command.targetAboveNode} ms above bare node`, target_met: above < command.targetAboveNode, runs: RUNS }));
  }
  return results;
}
