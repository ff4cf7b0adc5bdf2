import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaseAttachments } from '../../src/results/attachments.js';
import { evaluate } from '../../src/results/measurements.js';
import type { RunRecord } from '../../src/results/record/types.js';
import { FleetStore } from '../../src/store/pg-store.js';
import { StationStore } from '../../src/store/sqlite-store.js';
import { syncOutbox } from '../../src/store/sync.js';
import type { RunSummary } from '../../src/store/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PG_PASSWORD, startPostgres, type PgServer } from '../helpers/postgres.js';
import { caseResult, recordOf } from '../helpers/records.js';

/**
 * The fleet store against a real PostgreSQL server this file starts
 * (test/helpers/postgres.ts): same queries as the station store, offline
 * pushes through the outbox, a server killed mid-sync, four stations
 * pushing at once, station links, and the password nowhere in sight.
 */

const started = await startPostgres();
const skip = 'skip' in started ? started.skip : false;
if (skip) process.stderr.write(`\n*** fleet store tests SKIPPED: ${skip} ***\n\n`);
const server = started as PgServer;
after(async () => {
  if (!skip) await server.stop();
});

// In-process syncs take the fleet credential from the environment, as kiso does.
process.env.KISO_STORE_PASSWORD = PG_PASSWORD;
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-fleet-'));
const env = { KISO_STORE_PASSWORD: PG_PASSWORD };
const open = (url: string): Promise<FleetStore> => FleetStore.open(url, { password: PG_PASSWORD });
const day = (n: number, minute = 0): number => Date.parse(`2025-11-01T08:00:00Z`) + n * 86_400_000 + minute * 60_000;

const attachments = new CaseAttachments();
attachments.attach('trace.csv', 't,v\n0,5\n');

/** Runs of three units on two stations, with measurements that pass and fail, one attachment. */
function sampleRecords(): RunRecord[] {
  const records: RunRecord[] = [];
  for (let i = 0; i < 30; i++) {
    const volts = 4.9 + (i % 7) * 0.1;
    const m = [evaluate({ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 } }, volts), evaluate({ name: 'fw', limits: { regex: '^1\\.' } }, i % 9 ? '1.4' : '2.0')];
    const failed = m.some((x) => x.outcome === 'FAIL');
    records.push(recordOf([caseResult({ measurements: m, outcome: failed ? 'failed' : 'passed', attachments: i === 3 ? attachments.list : undefined })], { serialNumber: `SN-${i % 3}`, stationName: i % 2 ? 'bench-1' : 'bench-2', procedureId: i % 4 ? 'FVT1' : 'EOL' }, day(i % 10, i)));
  }
  return records;
}

const runs = (result: CliResult): string => `${result.stdout}\n${result.stderr}`;
const noPassword = { KISO_STORE_PASSWORD: '' };

describe('the fleet store (PostgreSQL)', { skip }, () => {
  let url: string;
  let local: StationStore;
  const records = sampleRecords();

  before(async () => {
    url = await server.database('queries');
    local = StationStore.open(tmp(), { outbox: true });
    for (const record of records) {
      for (const phase of record.phases) phase.attachments.forEach((a) => local.writeAttachment(record.id, a.path, attachments.list[0]!.data));
      local.commit(record);
    }
    const result = await syncOutbox(local, url, {});
    assert.equal(result.error, undefined);
    assert.deepEqual([result.pushed, result.waiting], [30, 0]);
  });
  after(() => local?.close());

  it('answers every query as the station store does', async () => {
    const fleet = await open(url);
    try {
      for (const filter of [{}, { serial: 'SN-1' }, { procedure: 'FVT1', outcome: 'FAIL', limit: 5 }, { station: 'bench-1' }, { partNumber: 'PB-100', since: day(3), until: day(6) }, { outcome: 'PASS' }]) {
        assert.deepEqual(await fleet.list(filter), local.list(filter), JSON.stringify(filter));
      }
      for (const filter of [{}, { procedure: 'FVT1' }, { station: 'bench-2', since: day(2) }, { since: Date.parse('2025-11-03T00:00:00Z'), until: Date.parse('2025-11-07T00:00:00Z') }]) {
        assert.deepEqual(await fleet.stats(filter), local.stats(filter), JSON.stringify(filter));
        assert.deepEqual(await fleet.stats(filter), await fleet.stats(filter, { exact: true }), `aggregates, ${JSON.stringify(filter)}`);
      }
      const withFile = records[3]!;
      assert.deepEqual(await fleet.read(withFile.id.slice(0, 18)), withFile);
      assert.equal(Buffer.from((await fleet.attachments(withFile)).get(withFile.phases[0]!.attachments[0]!.path)!).toString(), 't,v\n0,5\n');
      assert.equal(await fleet.schemaVersion(), 3);
      assert.deepEqual(await fleet.receipt(withFile.id).then((r) => [r?.station, r?.received_by]), [withFile.station.name, 'kiso']);
    } finally {
      await fleet.close();
    }
  });

  it('kiso runs list, show, stats and export read the fleet with --store URL', async () => {
    const list = await runCli(['runs', 'list', '--store', url, '--station', 'bench-1', '--json'], { env });
    assert.equal(list.code, 0, runs(list));
    assert.deepEqual((JSON.parse(list.stdout) as RunSummary[]).map((r) => r.id), local.list({ station: 'bench-1' }).map((r) => r.id));
    const stats = await runCli(['runs', 'stats', '--store', url, '--procedure', 'FVT1', '--json'], { env });
    assert.equal(stats.code, 0, runs(stats));
    assert.deepEqual(JSON.parse(stats.stdout), JSON.parse(JSON.stringify(local.stats({ procedure: 'FVT1' }))));
    const text = await runCli(['runs', 'stats', '--store', url], { env });
    assert.match(text.stdout, /First pass/);
    assert.match(text.stdout, /supply_voltage +V +\d+/);
    const exported = await runCli(['runs', 'export', records[3]!.id, '--format', 'openhtf', '--store', url], { env });
    assert.equal(exported.code, 0, runs(exported));
    const openhtf = JSON.parse(exported.stdout) as { phases: Array<{ attachments: Record<string, { data: string }> }> };
    assert.equal(Buffer.from(openhtf.phases[0]!.attachments['trace.csv']!.data, 'base64').toString(), 't,v\n0,5\n');
  });

  it('a wrong password fails with the URL redacted, and the password never shows', async () => {
    const withSecret = url.replace('kiso@', 'kiso:not-the-Pw-xyz@');
    const result = await runCli(['runs', 'list', '--store', withSecret], { env: { KISO_STORE_PASSWORD: '' } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /password authentication failed/);
    assert.doesNotMatch(runs(result), /not-the-Pw-xyz/);
    assert.match(result.stderr, /kiso:\*\*\*@/);
  });

  it('migrations are versioned and applied once, however many stations open at once', async () => {
    const fresh = await server.database('migrations');
    const stores = await Promise.all([1, 2, 3, 4].map(() => open(fresh)));
    for (const store of stores) assert.equal(await store.schemaVersion(), 3);
    await Promise.all(stores.map((store) => store.close()));
  });
});

describe('offline first: the outbox', { skip }, () => {
  it('a run is recorded on the station while the fleet is unreachable, and kiso runs sync pushes it exactly once', async () => {
    const url = await server.database('offline');
    const stationDir = tmp();
    // Register the station first (a fleet station must be linked to its procedure).
    const add = await runCli(['stations', 'add', 'bench-off', '--procedure', 'LOOP', '--fleet-url', url], { env });
    assert.equal(add.code, 0, runs(add));
    const nowhere = `postgres://kiso@127.0.0.1:1/nothing`;
    const run = await runCli(['-c', 'examples/templates/loopback.yaml', '--store', nowhere, '--station-name', 'bench-off', '--procedure-id', 'LOOP'], { env: { ...env, KISO_STORE: stationDir } });
    assert.equal(run.code, 0, `an unreachable fleet never fails the run\n${runs(run)}`);
    assert.match(run.stdout, /Fleet store: unreachable, 1 run\(s\) wait in the outbox/);
    const id = /kiso runs show (\S+)\)/.exec(run.stdout)![1]!;

    const sync = await runCli(['runs', 'sync', '--fleet-url', url], { env: { ...env, KISO_STORE: stationDir } });
    assert.equal(sync.code, 0, runs(sync));
    assert.match(sync.stdout, /pushed 1 runs .*; 0 waiting/);
    const again = await runCli(['runs', 'sync', '--fleet-url', url], { env: { ...env, KISO_STORE: stationDir } });
    assert.match(again.stdout, /pushed 0 runs/);
    const fleet = await open(url);
    try {
      assert.deepEqual((await fleet.list({})).map((r) => [r.id, r.station]), [[id, 'bench-off']]);
    } finally {
      await fleet.close();
    }
    const failing = await runCli(['runs', 'sync', '--fleet-url', nowhere], { env: { ...env, KISO_STORE: stationDir } });
    assert.equal(failing.code, 0, 'nothing waiting: nothing to fail');
  });

  it('kiso runs sync exits 1 while runs wait and the fleet is unreachable', async () => {
    const stationDir = tmp();
    const store = StationStore.open(stationDir, { outbox: true });
    store.commit(recordOf([caseResult()]));
    store.close();
    const failing = await runCli(['runs', 'sync', '--fleet-url', 'postgres://kiso:pw-in-url-123@127.0.0.1:1/x'], { env: { ...noPassword, KISO_STORE: stationDir } });
    assert.equal(failing.code, 1, runs(failing));
    assert.match(failing.stderr, /1 runs wait in the outbox/);
    assert.doesNotMatch(runs(failing), /pw-in-url-123/);
  });

  it('the fleet server killed mid-sync: after it is back, every run is there once, in order', async () => {
    const url = await server.database('killed');
    const store = StationStore.open(tmp(), { outbox: true });
    const total = 2000;
    const records = Array.from({ length: total }, (_, i) => recordOf([caseResult({ measurements: [evaluate({ name: 'v', limits: { upper: 5 } }, i % 6)] })], { serialNumber: `SN-${i % 50}` }, day(0, i)));
    store.commitMany(records);
    let crashed: Promise<void> | undefined;
    // The crash is sent as batch 4 starts: that push may or may not reach the fleet before the server dies.
    const first = await syncOutbox(store, url, { batch: 100, connectTimeoutMs: 2000, beforeBatch: (n) => void (n === 4 && (crashed = server.crash())) });
    await crashed;
    assert.ok(first.error, 'the first sync was cut off');
    assert.ok(first.pushed >= 300 && first.pushed <= 400, `pushed ${first.pushed} before the crash`);
    assert.equal(first.waiting, total - first.pushed);
    await server.start();
    const second = await syncOutbox(store, url, { batch: 100 });
    assert.equal(second.error, undefined);
    assert.equal(second.waiting, 0);
    assert.equal(first.pushed + second.pushed, total);
    const fleet = await open(url);
    try {
      assert.equal(await fleet.count(), total, 'nothing lost, nothing doubled');
      const listed = await fleet.list({});
      assert.deepEqual(listed.map((r) => r.id), store.list({}).map((r) => r.id));
      assert.equal(new Set(listed.map((r) => r.id)).size, total);
      const stats = await fleet.stats({});
      assert.equal(stats.measurements.find((m) => m.name === 'v')!.count, total, 'no measurement doubled either');
      assert.deepEqual(stats, store.stats({}));
    } finally {
      await fleet.close();
      store.close();
    }
  });

  it('a batch the fleet committed but the station never heard of is pushed again and stays single', async () => {
    const url = await server.database('acklost');
    const store = StationStore.open(tmp(), { outbox: true });
    const records = Array.from({ length: 10 }, (_, i) => recordOf([caseResult()], { serialNumber: `SN-${i}` }, day(1, i)));
    store.commitMany(records);
    const fleet = await open(url);
    try {
      await fleet.push(records.slice(0, 5).map((record) => ({ record, blobs: new Map() }))); // as if the answer was lost
      const result = await syncOutbox(store, fleet);
      assert.deepEqual([result.pushed, result.waiting], [10, 0]);
      assert.equal(await fleet.count(), 10);
      assert.equal((await fleet.stats({})).yield.units, 10);
      // Measurements too: pushed twice (and once more with another value), counted once, as the station counts them.
      const measured = Array.from({ length: 6 }, (_, i) => recordOf([caseResult({ measurements: [evaluate({ name: 'v', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 4.6 + i / 10)] })], { serialNumber: `SN-M${i}` }, day(2, i)));
      await fleet.push(measured.map((record) => ({ record, blobs: new Map() })));
      await fleet.push(measured.slice(0, 3).map((record) => ({ record, blobs: new Map() })));
      const changed = { ...recordOf([caseResult({ measurements: [evaluate({ name: 'v', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, 5.4)] })], { serialNumber: 'SN-M0' }, day(3, 0)), id: measured[0]!.id };
      await fleet.push([{ record: changed, blobs: new Map() }]);
      store.commitMany([...measured, changed]);
      const v = (await fleet.stats({})).measurements.find((m) => m.name === 'v')!;
      assert.deepEqual([v.count, v.max], [6, 5.4]);
      assert.deepEqual(await fleet.stats({}), store.stats({}));
      assert.deepEqual(await fleet.stats({}), await fleet.stats({}, { exact: true }));
    } finally {
      await fleet.close();
      store.close();
    }
  });
});

describe('stations and their procedures', { skip }, () => {
  it('a procedure not linked to the station is refused before anything opens (exit 2), from the fleet or its last list', async () => {
    const url = await server.database('stations');
    const stationDir = tmp();
    const kiso = (args: string[], fleetUrl = url): Promise<CliResult> =>
      runCli(['-c', 'examples/templates/loopback.yaml', '--store', fleetUrl, '--station-name', 'bench-7', ...args], { env: { ...env, KISO_STORE: stationDir } });

    const unknown = await kiso(['--procedure-id', 'LOOP']);
    assert.equal(unknown.code, 2, runs(unknown));
    assert.match(unknown.stderr, /station bench-7 is not registered in the fleet store .*kiso stations add bench-7/);
    assert.doesNotMatch(unknown.stdout, /PASS/, 'nothing ran');

    assert.equal((await runCli(['stations', 'add', 'bench-7', '--procedure', 'LOOP', '--fleet-url', url], { env })).code, 0);
    const linked = await kiso(['--procedure-id', 'LOOP']);
    assert.equal(linked.code, 0, runs(linked));
    assert.match(linked.stdout, /Fleet store: pushed 1 run\(s\)/);

    const other = await kiso(['--procedure-id', 'EOL']);
    assert.equal(other.code, 2, runs(other));
    assert.match(other.stderr, /station bench-7 is not linked to procedure EOL in the fleet store \(linked: LOOP\)/);

    const offline = await kiso(['--procedure-id', 'EOL'], 'postgres://kiso@127.0.0.1:1/nothing');
    assert.equal(offline.code, 2, runs(offline));
    assert.match(offline.stderr, /not linked to procedure EOL in the list this station last fetched/);

    const list = await runCli(['stations', 'list', '--json', '--fleet-url', url], { env });
    assert.deepEqual(JSON.parse(list.stdout), [{ name: 'bench-7', procedures: ['LOOP'] }]);
    const listed = await runCli(['runs', 'list', '--store', url, '--station', 'bench-7', '--json'], { env });
    assert.equal((JSON.parse(listed.stdout) as RunSummary[]).length, 1);
  });

  it('station.linked_procedures in the YAML refuses any other procedure, with no fleet at all', async () => {
    const dir = tmp();
    const yaml = path.join(dir, 'station.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(yaml, readFileSync('examples/templates/loopback.yaml', 'utf8').replace(/suite_dir: (\S+)/, (_m, dir: string) => `suite_dir: ${path.resolve('examples/templates', dir)}`) + '\nstation:\n  name: bench-y\n  linked_procedures: [LOOP]\n');
    const refused = await runCli(['-c', yaml, '--procedure-id', 'EOL'], { env: { KISO_STORE: dir } });
    assert.doesNotMatch(refused.stdout, /PASS/, 'nothing ran');
    assert.equal(refused.code, 2, runs(refused));
    assert.match(refused.stderr, /station bench-y may run LOOP \(station\.linked_procedures\), not EOL/);
    const ok = await runCli(['-c', yaml, '--procedure-id', 'LOOP'], { env: { KISO_STORE: dir } });
    assert.equal(ok.code, 0, runs(ok));
  });
});

describe('four stations pushing into one fleet at once', { skip }, () => {
  it('lose nothing, and the fleet knows which station ran what', async () => {
    const url = await server.database('four');
    for (let n = 1; n <= 4; n++) assert.equal((await runCli(['stations', 'add', `line-${n}`, '--procedure', 'LOOP', '--fleet-url', url], { env })).code, 0);
    const configs = Array.from({ length: 3 }, () => ['-c', 'examples/templates/loopback.yaml']).flat();
    const logDir = tmp();
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => runCli([...configs, '--store', url, '--station-name', `line-${n}`, '--procedure-id', 'LOOP', '-l', path.join(logDir, `line-${n}.ndjson`)], { env: { ...env, KISO_STORE: tmp() }, timeoutMs: 120_000 })),
    );
    const printed = results.flatMap((result) => {
      assert.equal(result.code, 0, runs(result));
      assert.doesNotMatch(runs(result), new RegExp(PG_PASSWORD));
      return [...result.stdout.matchAll(/kiso runs show (\S+)\)/g)].map((m) => m[1]!);
    });
    assert.equal(printed.length, 12);
    for (let n = 1; n <= 4; n++) assert.doesNotMatch(readFileSync(path.join(logDir, `line-${n}.ndjson`), 'utf8'), new RegExp(PG_PASSWORD), 'never in a log');
    const fleet = await open(url);
    try {
      const all = await fleet.list({});
      assert.deepEqual(all.map((r) => r.id).sort(), printed.sort());
      for (let n = 1; n <= 4; n++) assert.equal((await fleet.list({ station: `line-${n}` })).length, 3);
      const stats = await fleet.stats({});
      assert.deepEqual(stats.stations.map((s) => [s.station, s.runs]), [['line-1', 3], ['line-2', 3], ['line-3', 3], ['line-4', 3]]);
      for (const id of printed) assert.doesNotMatch(JSON.stringify(await fleet.read(id)), new RegExp(PG_PASSWORD), 'never in a record');
    } finally {
      await fleet.close();
    }
  });
});
