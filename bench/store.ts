import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { evaluate } from '../src/results/measurements.js';
import { RunRecordBuilder } from '../src/results/record/builder.js';
import type { RunRecord } from '../src/results/record/types.js';
import type { CaseResult } from '../src/results/outcomes.js';
import { indexEntry, JsonFileStore as RunStore } from '../src/store/json-file-store.js';
import { median, result, type BenchResult } from './harness.js';

/**
 * The run store at production scale: 100,000 runs of 20,000 units (five runs
 * each, as retests do), each a real record of three phases with scalar and
 * multi-dimensional measurements, committed through the store's own API
 * (record written durably, then indexed). Beside each figure, the raw cost of
 * the same work done the naive way in the same run.
 */

const RUNS = 100_000;
const UNITS = 20_000;
const SAMPLES = 200;
const PROCEDURES = ['FVT1', 'EOL', 'ICT', 'BURN-IN'];

function caseResult(index: number, name: string, measurements: CaseResult['measurements'], outcome: CaseResult['outcome']): CaseResult {
  return { suiteId: 1, suiteName: 'power board', caseId: index, name, file: '/station/suites/test_power.ts', outcome, startedAt: 0, durationMs: 40, attempts: 1, tags: {}, requirements: ['REQ-1'], output: [], measurements, logs: [{ level: 30, time: 0, message: `${name} done`, caller: '/station/suites/test_power.ts:42' }] };
}

/** Run i: unit i % UNITS, a supply voltage that fails now and then, a 20-row load-step curve. */
function makeRecord(i: number, startedAt: number): RunRecord {
  const volts = 5 + ((i * 7919) % 100) / 300 - 0.1;
  const rows = Array.from({ length: 20 }, (_, t) => [t, t < 5 ? 0 : 800, 5 - 0.2 * Math.exp(-t / 3)]);
  const supply = evaluate({ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.2 } }, volts);
  const cases = [
    caseResult(1, 'supply rail', [supply, evaluate({ name: 'idle_current', units: 'mA', limits: { upper: 150 } }, 120 + (i % 20))], supply.outcome === 'PASS' ? 'passed' : 'failed'),
    caseResult(2, 'identity', [evaluate({ name: 'firmware_version', limits: { regex: '^1\\.4' } }, '1.4.2'), evaluate({ name: 'self_test', limits: { equals: true } }, true)], 'passed'),
    caseResult(3, 'load step', [evaluate({ name: 'load_step', dimensions: [{ name: 'time', units: 'ms' }, { name: 'current', units: 'mA' }, { name: 'voltage', units: 'V' }], limits: { lower: 4.6 } }, rows)], 'passed'),
  ];
  const builder = new RunRecordBuilder({ stationName: 'bench-1', configFile: '/station/station.yaml', procedureId: PROCEDURES[i % PROCEDURES.length], procedureVersion: '1.4.0', serialNumber: `SN-${String(i % UNITS).padStart(6, '0')}`, partNumber: 'PB-100', revision: 'C' });
  builder.start(startedAt);
  for (const c of cases) builder.addCase(c);
  const failed = cases.filter((c) => c.outcome === 'failed').length;
  return builder.finish({ configFile: '/station/station.yaml', startedAt, durationMs: 1200, suites: [], outcome: failed ? 'failed' : 'passed', counts: { passed: 3 - failed, failed, error: 0, skipped: 0, total: 3 } });
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(path.join(tmpdir(), 'kiso-bench-store-'));
  try {
    const store = new RunStore(path.join(root, 'store'));
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    // Fill: every run through the real commit. The last runs are timed per run, at ~100,000 runs in the store.
    const insertMs: number[] = [];
    const fillStart = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const record = makeRecord(i, t0 + i * 60_000);
      if (i >= RUNS - SAMPLES * 10) insertMs.push(time(() => store.commit(record)));
      else store.commit(record);
      if (i % 20_000 === 19_999) process.stderr.write(`bench: store: ${i + 1} runs stored\n`);
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;

    // Raw baseline of an insert: the same record stringified to a file and its line appended, no rename, no fsync.
    const raw = path.join(root, 'raw');
    mkdirSync(raw);
    const rawMs: number[] = [];
    for (let i = 0; i < SAMPLES * 10; i++) {
      const record = makeRecord(RUNS + i, t0);
      rawMs.push(time(() => {
        writeFileSync(path.join(raw, `${record.id}.json`), JSON.stringify(record, null, 2));
        appendFileSync(path.join(raw, 'index.ndjson'), `${JSON.stringify(indexEntry(record, record.id))}\n`);
      }));
    }

    // One unit's history, at 100,000 runs: the store's per-serial index against parsing the same lines raw.
    const serials = Array.from({ length: SAMPLES }, (_, k) => `SN-${String((k * 97) % UNITS).padStart(6, '0')}`);
    const listMs: number[] = [];
    const listRawMs: number[] = [];
    let found = 0;
    for (const serial of serials) {
      listMs.push(time(() => (found += store.list({ serial }).length)));
      const file = path.join(store.root, 'index', 'serial', `${serial}.ndjson`);
      listRawMs.push(time(() => readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown)));
    }
    if (found !== SAMPLES * (RUNS / UNITS)) throw new Error(`expected ${SAMPLES * (RUNS / UNITS)} runs for ${SAMPLES} units, found ${found}`);

    // A filter over the whole store (procedure + outcome), against reading and parsing every index line.
    const indexFile = path.join(store.root, 'index', 'runs.ndjson');
    const scanMs: number[] = [];
    const scanRawMs: number[] = [];
    for (let k = 0; k < 5; k++) {
      scanMs.push(time(() => store.list({ procedure: 'EOL', outcome: 'FAIL', limit: 100 })));
      scanRawMs.push(time(() => readFileSync(indexFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown)));
    }

    // `kiso runs show ID` at 100,000 runs: the id says where the file is; against reading and parsing that same file.
    const ids = store.list({ serial: serials[0] }).map((e) => e.id);
    const showMs: number[] = [];
    const showRawMs: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      const id = ids[k % ids.length]!;
      showMs.push(time(() => store.read(id)));
      showRawMs.push(time(() => JSON.parse(readFileSync(store.recordPath(id), 'utf8')) as unknown));
    }

    const extra = { runs_in_store: RUNS, units: UNITS };
    return [
      result('store.insert_per_run_at_100k', median(insertMs), 'ms', median(rawMs), { ...extra, fill_seconds: Number(fillSeconds.toFixed(1)), note: 'commit = record written to a temp file, fsync, rename, 2 O_APPEND index lines; baseline = writeFile + appendFile of the same data' }),
      result('store.list_by_serial_at_100k', median(listMs), 'ms', median(listRawMs), { ...extra, runs_per_unit: RUNS / UNITS, note: 'baseline = read + JSON.parse of the same lines' }),
      result('store.list_filtered_scan_at_100k', median(scanMs), 'ms', median(scanRawMs), { ...extra, filter: 'procedure EOL, outcome FAIL, newest 100', note: 'baseline = read + JSON.parse of every index line' }),
      result('store.show_at_100k', median(showMs), 'ms', median(showRawMs), { ...extra, note: 'baseline = read + JSON.parse of the same record file' }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
