import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { evaluate } from '../src/results/measurements.js';
import { RunRecordBuilder } from '../src/results/record/builder.js';
import type { RunRecord } from '../src/results/record/types.js';
import type { CaseResult } from '../src/results/outcomes.js';
import { indexEntry, JsonFileStore, serialFileName } from '../src/store/json-file-store.js';
import { FleetStore } from '../src/store/pg-store.js';
import { StationStore } from '../src/store/sqlite-store.js';
import { syncOutbox } from '../src/store/sync.js';
import { PG_PASSWORD, startPostgres } from '../test/helpers/postgres.js';
import { median, result, type BenchResult } from './harness.js';

/**
 * The stores at production scale: 100,000 runs of 20,000 units (five runs
 * each, as retests do), each a real record of three phases and 20
 * measurements (scalars, a text, a boolean, a 20-row curve). Beside each
 * figure, a baseline measured in the same run: the file store kiso had
 * before (its index files written for the same 100,000 runs) for the
 * queries, bare SQL on the same database for inserts and statistics.
 * PostgreSQL figures come from a server this bench starts (as the tests do);
 * they are left out, saying why, where none can start.
 */

const RUNS = 100_000;
const UNITS = 20_000;
const SAMPLES = 200;
const SYNC_RUNS = 10_000;
const PROCEDURES = ['FVT1', 'EOL', 'ICT', 'BURN-IN'];

function caseResult(index: number, name: string, measurements: CaseResult['measurements'], outcome: CaseResult['outcome']): CaseResult {
  return { suiteId: 1, suiteName: 'power board', caseId: index, name, file: '/station/suites/test_power.ts', outcome, startedAt: 0, durationMs: 40, attempts: 1, tags: {}, requirements: ['REQ-1'], output: [], measurements, logs: [{ level: 30, time: 0, message: `${name} done`, caller: '/station/suites/test_power.ts:42' }] };
}

/** Run i: unit i % UNITS, a supply voltage that fails now and then, 16 rail readings, a firmware text, a self test, a 20-row load-step curve. */
export function makeRecord(i: number, startedAt: number): RunRecord {
  const volts = 5 + ((i * 7919) % 100) / 300 - 0.1;
  const rows = Array.from({ length: 20 }, (_, t) => [t, t < 5 ? 0 : 800, 5 - 0.2 * Math.exp(-t / 3)]);
  const supply = evaluate({ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.2 } }, volts);
  const rails = Array.from({ length: 16 }, (_, r) => evaluate({ name: `rail_${r}`, units: 'mV', limits: { lower: 900, upper: 1100 } }, 1000 + (((i + r) * 31) % 120) - 60));
  const cases = [
    caseResult(1, 'supply rail', [supply, evaluate({ name: 'idle_current', units: 'mA', limits: { upper: 150 } }, 120 + (i % 20)), ...rails], supply.outcome === 'PASS' ? 'passed' : 'failed'),
    caseResult(2, 'identity', [evaluate({ name: 'firmware_version', limits: { regex: '^1\\.4' } }, '1.4.2'), evaluate({ name: 'self_test', limits: { equals: true } }, true)], 'passed'),
    caseResult(3, 'load step', [evaluate({ name: 'load_step', dimensions: [{ name: 'time', units: 'ms' }, { name: 'current', units: 'mA' }, { name: 'voltage', units: 'V' }], limits: { lower: 4.6 } }, rows)], 'passed'),
  ];
  const builder = new RunRecordBuilder({ stationName: `bench-${i % 4}`, configFile: '/station/station.yaml', procedureId: PROCEDURES[i % PROCEDURES.length], procedureVersion: '1.4.0', serialNumber: `SN-${String(i % UNITS).padStart(6, '0')}`, partNumber: 'PB-100', revision: 'C' });
  builder.start(startedAt);
  for (const c of cases) builder.addCase(c);
  const failed = cases.filter((c) => c.outcome === 'failed').length;
  return builder.finish({ configFile: '/station/station.yaml', startedAt, durationMs: 1200, suites: [], outcome: failed ? 'failed' : 'passed', counts: { passed: 3 - failed, failed, error: 0, skipped: 0, total: 3 } });
}

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const T0 = Date.parse('2025-01-01T00:00:00Z');
const serials = Array.from({ length: SAMPLES }, (_, k) => `SN-${String((k * 97) % UNITS).padStart(6, '0')}`);

/** The file store of before, as it would stand after the same 100,000 runs: its index files (the records themselves are not read by these queries). */
function fileStoreBaseline(root: string, records: (i: number) => RunRecord): JsonFileStore {
  const store = new JsonFileStore(root);
  mkdirSync(path.join(root, 'index', 'serial'), { recursive: true });
  const all: string[] = [];
  const bySerial = new Map<string, string[]>();
  for (let i = 0; i < RUNS; i++) {
    const record = records(i);
    const line = JSON.stringify(indexEntry(record, store.relativeRecordPath(record.id)));
    all.push(line);
    const serial = record.unit_under_test.serial_number!;
    bySerial.set(serial, [...(bySerial.get(serial) ?? []), line]);
  }
  writeFileSync(path.join(root, 'index', 'runs.ndjson'), `${all.join('\n')}\n`);
  for (const [serial, lines] of bySerial) writeFileSync(path.join(root, 'index', 'serial', serialFileName(serial)), `${lines.join('\n')}\n`);
  return store;
}

export async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(path.join(tmpdir(), 'kiso-bench-store-'));
  const out: BenchResult[] = [];
  try {
    const recordAt = (i: number): RunRecord => makeRecord(i, T0 + i * 60_000);
    const store = StationStore.open(path.join(root, 'station'), { migrateFiles: false });
    // Fill through the store's own commit, 1,000 runs per transaction; the last runs one transaction each, timed.
    const fillStart = performance.now();
    const timedFrom = RUNS - SAMPLES * 5;
    for (let start = 0; start < timedFrom; start += 1000) store.commitMany(Array.from({ length: Math.min(1000, timedFrom - start) }, (_, k) => recordAt(start + k)));
    process.stderr.write(`bench: store: ${timedFrom} runs in ${((performance.now() - fillStart) / 1000).toFixed(1)} s\n`);
    const insertMs: number[] = [];
    for (let i = timedFrom; i < RUNS; i++) {
      const record = recordAt(i);
      insertMs.push(time(() => store.commit(record)));
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;

    // Raw baseline of an insert: the same record's JSON into a one-table database, same pragmas, one transaction each.
    const raw = new Database(path.join(root, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.exec('CREATE TABLE runs (id TEXT PRIMARY KEY, record TEXT NOT NULL)');
    const rawInsert = raw.prepare('INSERT INTO runs (id, record) VALUES (?, ?)');
    const rawMs: number[] = [];
    for (let i = 0; i < SAMPLES * 5; i++) {
      const record = recordAt(RUNS + i);
      rawMs.push(time(() => raw.transaction(() => rawInsert.run(record.id, JSON.stringify(record))).immediate()));
    }
    raw.close();
    const measurementsPerRun = recordAt(0).phases.reduce((n, p) => n + p.measurements.length, 0);
    const extra = { runs_in_store: RUNS, units: UNITS };
    out.push(result('store.sqlite.insert_run_at_100k', median(insertMs), 'ms', median(rawMs), { ...extra, measurements: measurementsPerRun, target_ms: 1, fill_seconds: Number(fillSeconds.toFixed(1)), note: 'one transaction (WAL, synchronous=FULL): run, unit, 3 phases, 20 measurements, logs; baseline = the record JSON alone into a one-table database, same pragmas' }));

    const before = fileStoreBaseline(path.join(root, 'files'), recordAt);
    const listMs: number[] = [];
    const listFileMs: number[] = [];
    let found = 0;
    for (const serial of serials) {
      listMs.push(time(() => (found += store.list({ serial }).length)));
      listFileMs.push(time(() => before.list({ serial })));
    }
    if (found !== SAMPLES * (RUNS / UNITS)) throw new Error(`expected ${SAMPLES * (RUNS / UNITS)} runs for ${SAMPLES} units, found ${found}`);
    out.push(result('store.sqlite.list_by_serial_at_100k', median(listMs), 'ms', median(listFileMs), { ...extra, target_ms: 5, note: 'baseline = the file store of before (per-serial index file)' }));

    const scanMs: number[] = [];
    const scanFileMs: number[] = [];
    for (let k = 0; k < 7; k++) {
      scanMs.push(time(() => store.list({ procedure: 'EOL', outcome: 'FAIL', limit: 100 })));
      scanFileMs.push(time(() => before.list({ procedure: 'EOL', outcome: 'FAIL', limit: 100 })));
    }
    out.push(result('store.sqlite.list_filtered_at_100k', median(scanMs), 'ms', median(scanFileMs), { ...extra, filter: 'procedure EOL, outcome FAIL, newest 100', target_ms: 5, note: 'baseline = the file store of before (scans its index)' }));

    const showMs: number[] = [];
    const ids = store.list({ serial: serials[0] }).map((e) => e.id);
    for (let k = 0; k < SAMPLES; k++) showMs.push(time(() => store.read(ids[k % ids.length]!)));
    out.push(result('store.sqlite.show_at_100k', median(showMs), 'ms', null, { ...extra }));

    const statsMs: number[] = [];
    const statsRawMs: number[] = [];
    const db = new Database(store.file, { readonly: true });
    const everyValue = db.prepare('SELECT value_num FROM measurements').raw();
    for (let k = 0; k < 3; k++) {
      statsMs.push(time(() => store.stats({})));
      statsRawMs.push(time(() => {
        let n = 0;
        for (const _row of everyValue.iterate()) n++;
        return n;
      }));
    }
    db.close();
    out.push(result('store.sqlite.stats_at_100k', median(statsMs), 'ms', median(statsRawMs), { ...extra, measurement_rows: RUNS * measurementsPerRun, target_ms: 500, note: 'yield per procedure, runs per station, 20 measurements with Cpk and Pareto; baseline = reading every measurement value once' }));

    await fleetFigures(store, recordAt, root, out, extra);
    store.close();
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function fleetFigures(station: StationStore, recordAt: (i: number) => RunRecord, root: string, out: BenchResult[], extra: Record<string, unknown>): Promise<void> {
  const server = await startPostgres();
  if ('skip' in server) {
    process.stderr.write(`bench: store: PostgreSQL figures SKIPPED: ${server.skip}\n`);
    return;
  }
  try {
    const url = await server.database('bench');
    const fleet = await FleetStore.open(url, { password: PG_PASSWORD });
    try {
      // Sync of 10,000 queued runs, through the outbox, against pushing their JSON alone (same batches) as the raw baseline.
      const outbox = StationStore.open(path.join(root, 'outbox'), { outbox: true, migrateFiles: false });
      for (let start = 0; start < SYNC_RUNS; start += 1000) outbox.commitMany(Array.from({ length: 1000 }, (_, k) => recordAt(start + k)));
      const syncStart = performance.now();
      const synced = await syncOutbox(outbox, fleet, { batch: 200 });
      const syncSeconds = (performance.now() - syncStart) / 1000;
      if (synced.error || synced.pushed !== SYNC_RUNS) throw new Error(`sync pushed ${synced.pushed}: ${synced.error ?? ''}`);
      outbox.close();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url.replace('kiso@', `kiso:${PG_PASSWORD}@`) });
      await client.connect();
      await client.query('CREATE TABLE raw_runs (id TEXT PRIMARY KEY, record TEXT NOT NULL)');
      const chunks = Array.from({ length: SYNC_RUNS / 200 }, (_, c) => Array.from({ length: 200 }, (_, k) => recordAt(c * 200 + k)).flatMap((r) => [r.id, JSON.stringify(r)]));
      const rawInsertSql = `INSERT INTO raw_runs (id, record) VALUES ${Array.from({ length: 200 }, (_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ')}`;
      const rawStart = performance.now();
      for (const values of chunks) {
        await client.query('BEGIN');
        await client.query(rawInsertSql, values);
        await client.query('COMMIT');
      }
      const rawSeconds = (performance.now() - rawStart) / 1000;
      out.push(result('store.sync_runs_per_s', SYNC_RUNS / syncSeconds, 'runs/s', SYNC_RUNS / rawSeconds, { runs: SYNC_RUNS, target: '> 1000', note: 'outbox → PostgreSQL on localhost, 200 runs per transaction, every row and unit; baseline = the records\' JSON alone into a one-table PostgreSQL, same batches' }));

      // Fill to 100,000 runs (10,000 are there), then time one run's push.
      for (let start = SYNC_RUNS; start < RUNS; start += 500) await fleet.push(Array.from({ length: 500 }, (_, k) => ({ record: recordAt(start + k), blobs: new Map() })));
      await client.query('ANALYZE');
      const insertMs: number[] = [];
      const rawInsertMs: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const record = recordAt(RUNS + SAMPLES * 10 + i);
        insertMs.push(await timeAsync(() => fleet.push([{ record, blobs: new Map() }])));
        rawInsertMs.push(await timeAsync(async () => {
          await client.query('BEGIN');
          await client.query('INSERT INTO raw_runs (id, record) VALUES ($1, $2)', [record.id, JSON.stringify(record)]);
          await client.query('COMMIT');
        }));
      }
      out.push(result('store.pg.insert_run_at_100k', median(insertMs), 'ms', median(rawInsertMs), { ...extra, target_ms: 5, note: 'one transaction on localhost: run, unit, phases, 20 measurements, logs; baseline = the record JSON alone in one transaction' }));

      const listMs: number[] = [];
      const scanMs: number[] = [];
      const pingMs: number[] = [];
      for (const serial of serials) {
        listMs.push(await timeAsync(() => fleet.list({ serial })));
        pingMs.push(await timeAsync(() => client.query('SELECT 1')));
      }
      for (let k = 0; k < 20; k++) scanMs.push(await timeAsync(() => fleet.list({ procedure: 'EOL', outcome: 'FAIL', limit: 100 })));
      out.push(result('store.pg.list_by_serial_at_100k', median(listMs), 'ms', median(pingMs), { ...extra, target_ms: 20, note: 'baseline = one SELECT 1 round trip' }));
      out.push(result('store.pg.list_filtered_at_100k', median(scanMs), 'ms', median(pingMs), { ...extra, filter: 'procedure EOL, outcome FAIL, newest 100', target_ms: 20, note: 'baseline = one SELECT 1 round trip' }));

      const statsMs: number[] = [];
      const statsRawMs: number[] = [];
      for (let k = 0; k < 3; k++) {
        statsMs.push(await timeAsync(() => fleet.stats({})));
        statsRawMs.push(await timeAsync(() => client.query('SELECT count(value_num) FROM measurements')));
      }
      out.push(result('store.pg.stats_at_100k', median(statsMs), 'ms', median(statsRawMs), { ...extra, target_ms: 500, note: 'baseline = counting every measurement value once' }));
      await client.end();
      void station;
    } finally {
      await fleet.close();
    }
  } finally {
    await server.stop();
  }
}
