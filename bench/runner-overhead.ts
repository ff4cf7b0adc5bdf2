import { Writable } from 'node:stream';
import { silentLogger } from '../src/core/logging.js';
import { ConsoleReporter } from '../src/results/reporters/console.js';
import { ReporterMux } from '../src/results/reporters/reporter.js';
import { StrayErrors, SuiteRunner, type AuxiliaryProvider } from '../src/runner/run.js';
import { defineSuite } from '../src/runner/suite-api.js';
import { median, result, type BenchResult } from './harness.js';

const CASES = 5_000;
const ROUNDS = 5;

const noStation: AuxiliaryProvider = {
  auxiliary: (name) => {
    throw new Error(`no auxiliary ${name}`);
  },
  start: async () => {},
};

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runner cost per trivial case (async no-op), with the console reporter writing to a sink, against awaiting the same no-ops in a plain loop. */
export async function run(): Promise<BenchResult[]> {
  const body = async (): Promise<void> => {};
  const suite = defineSuite({ name: 'trivial', cases: Array.from({ length: CASES }, (_, i) => ({ name: `case ${i}`, run: body })) });
  const log = silentLogger();
  const runnerMs: number[] = [];
  const rawMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now();
    for (let i = 0; i < CASES; i++) await body();
    rawMs.push((performance.now() - start) / CASES);
    const mux = new ReporterMux([new ConsoleReporter({ stream: discard, color: false })], log);
    start = performance.now();
    const outcome = await new SuiteRunner(noStation, mux, { configFile: 'bench', log, strayErrors: new StrayErrors() }).run([{ file: '/bench/test_trivial.ts', suiteId: 1, definition: suite }]);
    runnerMs.push((performance.now() - start) / CASES);
    if (outcome.counts.passed !== CASES) throw new Error(`expected ${CASES} passed, got ${outcome.counts.passed}`);
  }
  return [result('runner.overhead_per_trivial_case', median(runnerMs), 'ms', median(rawMs), { cases: CASES, target: 'under 0.2 ms per case' })];
}
