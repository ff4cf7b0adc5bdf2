import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CaseAttachments } from '../../src/results/attachments.js';
import { evaluate } from '../../src/results/measurements.js';
import { JsonFileStore, serialFileName } from '../../src/store/json-file-store.js';
import { isStoreUrl, redactUrl, storeSettings } from '../../src/store/location.js';
import { migrateFileStore } from '../../src/store/migrate-files.js';
import { StationStore } from '../../src/store/sqlite-store.js';
import { cpk } from '../../src/store/stats.js';
import { statsHtml, statsText } from '../../src/store/stats-report.js';
import { caseResult, recordOf } from '../helpers/records.js';

const attachments = new CaseAttachments();
attachments.attach('trace.csv', 't,v\n0,5\n');

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-station-store-'));
const fresh = (options = {}): StationStore => StationStore.open(tmp(), options);
const day = (n: number): number => Date.parse(`2025-11-${String(n).padStart(2, '0')}T08:00:00Z`);

describe('the station store (SQLite)', () => {
  it('commits records, and lists them newest first with every filter', () => {
    const store = fresh();
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-1' }, day(1)));
    store.commit(recordOf([caseResult({ outcome: 'failed' })], { serialNumber: 'SN-1', procedureId: 'EOL' }, day(2)));
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-2', partNumber: 'PB-200', stationName: 'bench-9' }, day(3)));
    assert.deepEqual(store.list().map((e) => e.started_at.slice(0, 10)), ['2025-11-03', '2025-11-02', '2025-11-01']);
    assert.deepEqual(store.list({ serial: 'SN-1' }).map((e) => e.outcome), ['FAIL', 'PASS']);
    assert.deepEqual(store.list({ procedure: 'EOL' }).map((e) => e.serial_number), ['SN-1']);
    assert.deepEqual(store.list({ partNumber: 'PB-200' }).map((e) => e.serial_number), ['SN-2']);
    assert.deepEqual(store.list({ station: 'bench-9' }).map((e) => e.serial_number), ['SN-2']);
    assert.equal(store.list({ outcome: 'FAIL' }).length, 1);
    assert.deepEqual(store.list({ since: day(2), until: day(3) }).map((e) => e.started_at.slice(0, 10)), ['2025-11-02']);
    assert.equal(store.list({ limit: 2 }).length, 2);
    assert.deepEqual(store.list({ serial: 'SN-404' }), []);
    const [first] = store.list({ serial: 'SN-2' });
    assert.deepEqual(first!.phases, { passed: 1, failed: 0, error: 0, skipped: 0, total: 1 });
    assert.equal(store.schemaVersion(), 3);
    store.close();
  });

  it('gives the record back exactly, finds a run by a prefix, and reads its attachments by hash', () => {
    const store = fresh();
    const record = recordOf([caseResult({ attachments: attachments.list })]);
    const file = store.writeAttachment(record.id, record.phases[0]!.attachments[0]!.path, attachments.list[0]!.data);
    assert.equal(path.basename(file), record.phases[0]!.attachments[0]!.sha1, 'named by its SHA-1');
    store.commit(record);
    assert.deepEqual(store.read(record.id), record);
    assert.equal(store.read(record.id.slice(0, 17)).id, record.id);
    assert.equal(store.readAttachment(record, record.phases[0]!.attachments[0]!.path)!.toString(), 't,v\n0,5\n');
    assert.throws(() => store.read('20250101-000000-zzzzzzzz'), { code: 'KISO_STORE' });
    assert.throws(() => store.read('latest'), { code: 'KISO_STORE' });
    store.close();
  });

  it('a run in progress is invisible to queries until committed; reindex commits one whose kiso was killed', () => {
    const store = fresh();
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-1' }));
    const orphan = recordOf([caseResult()], { serialNumber: 'SN-2' });
    store.writeRecord(orphan); // written, never committed: as if SIGKILLed
    assert.equal(store.list().length, 1);
    assert.equal(store.read(orphan.id).id, orphan.id, 'show still finds it');
    assert.equal(store.stats().runs, 1);
    assert.equal(store.reindex(), 1);
    assert.deepEqual(store.list().map((e) => e.serial_number).sort(), ['SN-1', 'SN-2']);
    store.close();
  });

  it('a late partial write never turns a committed run back into one in progress', () => {
    const store = fresh();
    const record = recordOf([caseResult()]);
    store.commit(record);
    store.writeRecord({ ...record, outcome: 'ERROR' });
    assert.equal(store.list()[0]!.outcome, 'PASS');
    store.close();
  });

  it('finds a unit whatever the letter case of its serial number, and keeps its spelling', () => {
    const store = fresh();
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-A-17' }, day(1)));
    store.commit(recordOf([caseResult({ outcome: 'failed' })], { serialNumber: 'sn-a-17' }, day(2)));
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-A-170' }, day(3)));
    for (const asked of ['sn-a-17', 'SN-A-17', 'Sn-A-17']) assert.deepEqual(store.list({ serial: asked }).map((e) => e.serial_number), ['sn-a-17', 'SN-A-17'], asked);
    assert.equal(store.list({ serial: 'sn-a-17', outcome: 'PASS' }).length, 1);
  });

  it('serial numbers are values, never paths or SQL', () => {
    const store = fresh();
    for (const serial of ['../x', "SN'; DROP TABLE runs; --", 'ÄB 1']) store.commit(recordOf([caseResult()], { serialNumber: serial }));
    for (const serial of ['../x', "SN'; DROP TABLE runs; --", 'ÄB 1']) assert.equal(store.list({ serial }).length, 1, serial);
    assert.ok(!existsSync(path.join(store.root, 'x')));
    store.close();
  });

  it('with a fleet configured, a commit queues the run in the same transaction; queueAll adds the rest once', () => {
    const store = fresh();
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-0' }));
    store.enableOutbox();
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-1' }));
    assert.equal(store.outboxSize(), 1);
    assert.equal(store.queueAll(), 1);
    assert.equal(store.queueAll(), 0);
    const pending = store.pending(10);
    assert.deepEqual(pending.map((p) => (JSON.parse(p.record) as { unit_under_test: { serial_number: string } }).unit_under_test.serial_number), ['SN-1', 'SN-0']);
    store.delivered([pending[0]!.seq]);
    assert.equal(store.outboxSize(), 1);
    store.close();
  });
});

describe('yield and measurement statistics', () => {
  it('first-pass yield, final yield, runs per station, Cpk and the Pareto of failures', () => {
    const store = fresh();
    const volts = (v: number, name = 'supply_voltage') => evaluate({ name, units: 'V', limits: { lower: 4.5, upper: 5.5 } }, v);
    // SN-1 passes first time; SN-2 fails then passes; SN-3 fails twice. Another procedure on SN-1.
    const runs: Array<[string, number, string, ReturnType<typeof volts>[]]> = [
      ['SN-1', 1, 'bench-1', [volts(5.0)]],
      ['SN-2', 2, 'bench-1', [volts(5.7), volts(3, 'idle_current')]],
      ['SN-2', 3, 'bench-2', [volts(5.1)]],
      ['SN-3', 4, 'bench-2', [volts(5.8)]],
      ['SN-3', 5, 'bench-2', [volts(4.9), volts(9, 'idle_current')]],
    ];
    for (const [serial, n, station, measurements] of runs) {
      store.commit(recordOf([caseResult({ measurements, outcome: measurements.some((m) => m.outcome === 'FAIL') ? 'failed' : 'passed' })], { serialNumber: serial, stationName: station }, day(n)));
    }
    store.commit(recordOf([caseResult()], { serialNumber: 'SN-1', procedureId: 'EOL' }, day(6)));

    const stats = store.stats({ procedure: 'FVT1' });
    assert.equal(stats.runs, 5);
    assert.equal(stats.passed_runs, 2);
    assert.equal(stats.yield.units, 3);
    assert.equal(stats.yield.first_pass_yield, 1 / 3);
    assert.equal(stats.yield.final_yield, 2 / 3, 'SN-3 last failed');
    assert.deepEqual(stats.stations, [{ station: 'bench-1', runs: 2, passed_runs: 1 }, { station: 'bench-2', runs: 3, passed_runs: 1 }]);
    const supply = stats.measurements.find((m) => m.name === 'supply_voltage')!;
    const values = [5.0, 5.7, 5.1, 5.8, 4.9];
    const mean = values.reduce((a, b) => a + b) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    assert.equal(supply.count, 5);
    assert.ok(Math.abs(supply.mean! - mean) < 1e-12);
    assert.ok(Math.abs(supply.std! - std) < 1e-9);
    assert.deepEqual([supply.min, supply.max, supply.lower, supply.upper, supply.failures], [4.9, 5.8, 4.5, 5.5, 2]);
    assert.ok(Math.abs(supply.cpk! - Math.min(5.5 - mean, mean - 4.5) / (3 * std)) < 1e-9);
    assert.deepEqual(stats.pareto.map((p) => [p.name, p.failures, p.share]), [['idle_current', 2, 0.5], ['supply_voltage', 2, 0.5]], 'most failures first, then by name');
    assert.equal(stats.pareto.at(-1)!.cumulative, 1);

    const all = store.stats();
    assert.deepEqual(all.procedures.map((p) => [p.procedure_id, p.units, p.first_pass_yield]), [['EOL', 1, 1], ['FVT1', 3, 1 / 3]]);
    assert.equal(all.yield.units, 4, 'a unit counts once per procedure');
    assert.equal(store.stats({ since: day(5) }).runs, 2);
    assert.equal(store.stats({ station: 'bench-1' }).runs, 2);
    store.close();
  });

  it('the per-day aggregates give what every measurement row gives, a run committed again counts once, a filter inside a day reads the rows', () => {
    const store = fresh();
    const hour = 3_600_000;
    const m = (i: number) => [
      evaluate({ name: 'v', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 4.4 + (i % 7) * 0.21),
      evaluate({ name: 'i', limits: { upper: 150 } }, 100 + i * 3),
      evaluate({ name: 'fw', limits: { regex: '^1' } }, i % 3 ? '1.0' : '2.0'),
      evaluate({ name: 'v', units: 'V', limits: { lower: 4.0 } }, 5 - i / 100),
    ];
    const records = Array.from({ length: 24 }, (_, i) => {
      const measurements = m(i);
      return recordOf([caseResult({ measurements, outcome: measurements.some((x) => x.outcome === 'FAIL') ? 'failed' : 'passed' })], { serialNumber: `SN-${i % 5}`, stationName: `bench-${i % 2}`, procedureId: i % 3 ? 'FVT1' : i % 2 ? 'EOL' : undefined }, day(1) + i * 5 * hour);
    });
    for (const record of records.slice(0, 12)) store.commit(record);
    store.commitMany(records.slice(12));
    // The same run again (sync, migration, reindex), and one written again with other values.
    store.commit(records[3]!);
    const changed = recordOf([caseResult({ measurements: m(40) })], { serialNumber: 'SN-3', stationName: 'bench-1', procedureId: 'FVT1' }, day(1) + 3 * 5 * hour);
    store.commit({ ...changed, id: records[3]!.id });
    const filters = [{}, { procedure: 'FVT1' }, { procedure: 'EOL' }, { station: 'bench-1' }, { since: day(2) - 8 * hour }, { since: day(2) - 8 * hour, until: day(4) - 8 * hour, station: 'bench-0' }, { since: day(2) }, { until: day(3) + 2 * hour }];
    for (const filter of filters) assert.deepEqual(store.stats(filter), store.stats(filter, { exact: true }), JSON.stringify(filter));
    const v = store.stats().measurements.find((x) => x.name === 'v' && x.upper === 5.5)!;
    assert.equal(v.count, 24, 'the run committed again counts once');
    assert.equal(v.max, Math.max(...records.filter((_, i) => i !== 3).map((r) => r.phases[0]!.measurements[0]!.measured_value as number), changed.phases[0]!.measurements[0]!.measured_value as number));
    assert.ok(store.stats().measurements.some((x) => x.name === 'fw' && x.count === 0 && x.failures > 0), 'a text measurement counts its failures');
    store.close();
  });

  it('migration 3 fills the aggregates from the runs a store already holds', () => {
    const root = tmp();
    const store = StationStore.open(root);
    for (let i = 0; i < 6; i++) store.commit(recordOf([caseResult({ measurements: [evaluate({ name: 'v', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 4 + i / 3)] })], { serialNumber: `SN-${i % 2}` }, day(1 + (i % 3))));
    const expected = store.stats({}, { exact: true });
    store.close();
    const db = new Database(path.join(root, 'kiso.db'));
    db.exec("DROP TABLE measurement_days; DROP INDEX runs_for_stats; DELETE FROM schema_migrations WHERE version = 3");
    db.close();
    const again = StationStore.open(root);
    assert.equal(again.schemaVersion(), 3);
    assert.deepEqual(again.stats(), expected);
    assert.deepEqual(again.stats({ since: day(2) }), again.stats({ since: day(2) }, { exact: true }));
    again.close();
  });

  it('prints a table and a self-contained HTML page with charts', () => {
    const store = fresh();
    const m = [evaluate({ name: '<rail>', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 5.7), evaluate({ name: 'idle', units: 'mA', limits: { upper: 150 } }, 120)];
    store.commit(recordOf([caseResult({ measurements: m, outcome: 'failed' })], { serialNumber: 'SN-1' }, day(1)));
    store.commit(recordOf([caseResult({ measurements: [evaluate({ name: '<rail>', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 5.1)] })], { serialNumber: 'SN-1' }, day(2)));
    const stats = store.stats();
    const text = statsText(stats, store.location);
    assert.match(text, /^2 runs, 1 passed in /);
    assert.match(text, /FVT1 +2 +1 +0\.0% +100\.0%/);
    assert.match(text, /Failing most \(Pareto\)\n +Measurement +Failures +Share +Cumulative\n +<rail> +1 +100\.0% +100\.0%/);
    const html = statsHtml(stats, store.location);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing is loaded from elsewhere');
    assert.ok((html.match(/<svg class="chart"/g) ?? []).length >= 4, 'yield, stations, Pareto and Cpk charts');
    assert.match(html, /&lt;rail&gt;/);
    assert.doesNotMatch(html, /<rail>/);
    store.close();
  });

  it('Cpk is one-sided with one limit, and absent without limits or spread', () => {
    assert.ok(Math.abs(cpk(5, 0.1, null, 5.3)! - 1) < 1e-9);
    assert.ok(Math.abs(cpk(5, 0.1, 4.4, null)! - 2) < 1e-9);
    assert.ok(Math.abs(cpk(5, 0.1, 4.4, 5.3)! - 1) < 1e-9, 'the nearer limit counts');
    assert.equal(cpk(5, 0.1, null, null), null);
    assert.equal(cpk(5, 0, 4, 6), null);
  });
});

describe('migrating a file store written by the previous kiso', () => {
  it('moves every run, indexed or not, and every attachment, and loses nothing; a second pass adds nothing', () => {
    const root = tmp();
    // The store kiso wrote before SQLite, through its own code.
    const old = new JsonFileStore(root);
    const withFile = recordOf([caseResult({ attachments: attachments.list })], { serialNumber: 'SN-OLD-1' }, day(1));
    old.writeAttachment(withFile.id, withFile.phases[0]!.attachments[0]!.path, attachments.list[0]!.data);
    old.commit(withFile);
    old.commit(recordOf([caseResult({ outcome: 'failed' })], { serialNumber: 'SN-OLD-2' }, day(2)));
    const orphan = recordOf([caseResult()], { serialNumber: 'SN-OLD-3' }, day(3));
    old.writeRecord(orphan);
    const before = old.list();
    assert.equal(before.length, 2);

    // First open migrates on its own.
    const store = StationStore.open(root);
    const after = store.list();
    assert.deepEqual(after.map((e) => e.id), before.map((e) => e.id));
    for (const entry of before) {
      const { file: _file, ...summary } = entry;
      assert.deepEqual(after.find((e) => e.id === entry.id), summary);
      assert.deepEqual(store.read(entry.id), old.read(entry.id), 'the record is kept whole');
    }
    assert.equal(store.readAttachment(withFile, withFile.phases[0]!.attachments[0]!.path)!.toString(), 't,v\n0,5\n');
    assert.equal(store.read(orphan.id).id, orphan.id, 'the unindexed run is there, in progress, as before');
    assert.equal(store.reindex(), 1);
    assert.ok(existsSync(path.join(root, 'index', 'runs.ndjson')), 'the files stay where they were');

    const again = migrateFileStore(store, root);
    assert.deepEqual([again.records, again.migrated, again.already], [3, 0, 3]);
    store.close();
    rmSync(root, { recursive: true });
  });

  it('says which attachment is missing, and migrates the record anyway', () => {
    const root = tmp();
    const old = new JsonFileStore(root);
    const record = recordOf([caseResult({ attachments: attachments.list })]);
    old.commit(record); // its attachment was never stored
    const store = StationStore.open(root, { migrateFiles: false });
    const report = migrateFileStore(store, root);
    assert.equal(report.migrated, 1);
    assert.equal(report.missingAttachments.length, 1);
    assert.match(report.missingAttachments[0]!, /trace\.csv$/);
    store.close();
  });

  it('legacy serial file names still never name a path outside the store', () => {
    assert.equal(serialFileName('../../etc/passwd'), '%2E.%2F..%2Fetc%2Fpasswd.ndjson');
  });
});

describe('store settings', () => {
  it('a postgres URL is the fleet store, a folder the station store; flag, then environment, then YAML', () => {
    assert.ok(isStoreUrl('postgres://a@b/c') && isStoreUrl('postgresql://a@b/c') && !isStoreUrl('/var/kiso'));
    assert.deepEqual(storeSettings({ flag: '/tmp/a', env: {} }), { localRoot: '/tmp/a' });
    assert.deepEqual(storeSettings({ flag: 'postgres://st@db/kiso', env: { KISO_STORE: '/tmp/b' } }), { localRoot: '/tmp/b', fleetUrl: 'postgres://st@db/kiso' });
    assert.deepEqual(storeSettings({ yaml: 'postgres://y@db/kiso', env: { KISO_STORE: '/tmp/b', KISO_STORE_URL: 'postgres://e@db/kiso' } }), { localRoot: '/tmp/b', fleetUrl: 'postgres://e@db/kiso' });
    assert.deepEqual(storeSettings({ yaml: '/srv/store', env: {} }), { localRoot: '/srv/store' });
    assert.throws(() => storeSettings({ env: { KISO_STORE_URL: 'mysql://x:hunter2@db' } }), (error: Error) => !error.message.includes('hunter2'));
  });

  it('a URL is never shown with its password', () => {
    assert.equal(redactUrl('postgres://bench:s3cr%40t@db:5432/kiso'), 'postgres://bench:***@db:5432/kiso');
    assert.equal(redactUrl('postgres://bench@db/kiso?password=s3cret'), 'postgres://bench@db/kiso?password=***');
    assert.doesNotMatch(redactUrl('postgres://bench:pa ss@db/kiso'), /pa ss/);
  });
});

describe('the database file', () => {
  it('is one SQLite database in WAL mode beside its attachments', () => {
    const store = fresh();
    store.commit(recordOf([caseResult()]));
    assert.equal(readFileSync(store.file).subarray(0, 15).toString(), 'SQLite format 3');
    assert.ok(existsSync(`${store.file}-wal`), 'write-ahead log');
    store.close();
  });
});
