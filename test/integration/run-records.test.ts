import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord } from '../../src/results/record/types.js';
import type { RunSummary as IndexEntry } from '../../src/store/types.js';
import { StationStore } from '../../src/store/sqlite-store.js';
import { CLI, ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { recordSchemaErrors } from '../helpers/records.js';

const EXAMPLE = 'examples/templates/measurements.yaml';
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-records-'));

/** The record the run printed ("Run record: ID in DB (kiso runs show ID)"), read from that store's database. */
function printedRecord(result: CliResult): RunRecord {
  const match = /^Run record: (\S+) in (.+) \(kiso runs show (\S+)\)$/m.exec(result.stdout);
  assert.ok(match, `no "Run record:" line in:\n${result.stdout}\n${result.stderr}`);
  assert.equal(match[1], match[3]);
  const store = StationStore.open(path.dirname(match[2]!));
  try {
    return store.read(match[1]!);
  } finally {
    store.close();
  }
}

const phase = (record: RunRecord, name: string) => record.phases.find((p) => p.name === name)!;
const measurement = (record: RunRecord, phaseName: string, name: string) => phase(record, phaseName).measurements.find((m) => m.name === name)!;

function kiso(store: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { env: { KISO_STORE: store, ...env } });
}

describe('the run record of a real run', () => {
  it('is written for every run, validates against its schema, and holds every kind of measurement', async () => {
    const store = tmp();
    const result = await kiso(store, ['-c', EXAMPLE, '--serial', 'SN-IT-1', '--batch-number', 'LOT-9']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const record = printedRecord(result);
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.ok(result.stdout.includes(` in ${path.join(store, 'kiso.db')} `), 'the record is in the store KISO_STORE names');
    assert.equal(record.outcome, 'PASS');
    assert.equal(record.procedure_id, 'FVT-POWER');
    assert.equal(record.procedure_version, '1.4.0');
    assert.deepEqual(record.unit_under_test, { serial_number: 'SN-IT-1', part_number: 'PB-100', revision: 'C', batch_number: 'LOT-9', sub_units: [] });
    assert.equal(record.station.name, 'bench-1');

    const supply = measurement(record, 'supply rail', 'supply_voltage');
    assert.deepEqual([supply.measured_value, supply.units, supply.outcome, supply.limits_source], [4.98, 'V', 'PASS', 'limits file']);
    assert.deepEqual(supply.limits, { lower: 4.75, upper: 5.25 }, 'the limits file replaced the suite\'s 4.5..5.5');
    assert.equal(measurement(record, 'identity', 'firmware_version').measured_value, '1.4.2');
    assert.equal(measurement(record, 'identity', 'self_test_passed').measured_value, true);
    const step = measurement(record, 'load step response', 'load_step');
    assert.equal((step.measured_value as unknown[][]).length, 21);
    assert.deepEqual(step.dimensions!.map((d) => d.units), ['ms', 'mA', 'V']);
    assert.equal(measurement(record, 'load step response', 'recovery_time').units, 'ms');

    const csv = phase(record, 'load step response').attachments.find((a) => a.name === 'load_step.csv')!;
    const stored = readFileSync(path.join(store, 'attachments', csv.sha1.slice(0, 2), csv.sha1));
    assert.equal(createHash('sha1').update(stored).digest('hex'), csv.sha1);
    assert.match(stored.toString(), /^time_ms,current_mA,voltage_V\n0,0,5\.000/);

    const log = phase(record, 'supply rail').logs.find((l) => l.message === 'supply rail measured')!;
    assert.equal(log.source_file, 'suite_measurements/test_power_board.ts');
    assert.equal(readFileSync(path.join(ROOT, 'examples/templates', log.source_file!), 'utf8').split('\n')[log.line_number! - 1]!.includes("'supply rail measured'"), true);
  });

  it("takes the serial number from the station's serial hook when --serial is not given", async () => {
    const store = tmp();
    const result = await kiso(store, ['-c', EXAMPLE, '--part-number', 'PB-101', '--station-name', 'line-2'], { KISO_SCANNED_SERIAL: 'SN-SCANNED-7' });
    assert.equal(result.code, 0, result.stderr);
    const record = printedRecord(result);
    assert.equal(record.unit_under_test.serial_number, 'SN-SCANNED-7');
    assert.equal(record.unit_under_test.part_number, 'PB-101');
    assert.equal(record.station.name, 'line-2');
  });

  it('a failed measurement fails the run, and the record says which and why', async () => {
    const store = tmp();
    const result = await kiso(store, ['-c', EXAMPLE, '--serial', 'SN-IT-2'], { KISO_DEMO_SUPPLY: '5.6' });
    assert.equal(result.code, 1);
    const record = printedRecord(result);
    assert.equal(record.outcome, 'FAIL');
    assert.equal(phase(record, 'supply rail').outcome, 'FAIL');
    assert.equal(measurement(record, 'supply rail', 'supply_voltage').outcome, 'FAIL');
    assert.equal(measurement(record, 'supply rail', 'idle_current').outcome, 'PASS', 'the case went on after the failed measurement');
    assert.match(record.outcome_details[0]!.description, /supply_voltage FAIL: 5\.6 is above the upper limit 5\.25/);
  });

  it('a timeout is an ERROR run with KISO_TIMEOUT in its outcome details', async () => {
    const store = tmp();
    const record = printedRecord(await kiso(store, ['-c', 'examples/templates/failing.yaml']));
    assert.equal(record.outcome, 'ERROR');
    assert.ok(record.outcome_details.some((d) => d.code === 'KISO_TIMEOUT'), JSON.stringify(record.outcome_details));
    assert.deepEqual(recordSchemaErrors(record), []);
  });

  it('--no-record writes nothing', async () => {
    const store = tmp();
    const result = await kiso(store, ['-c', 'examples/templates/loopback.yaml', '--no-record']);
    assert.equal(result.code, 0);
    assert.doesNotMatch(result.stdout, /Run record:/);
    assert.deepEqual(readdirSync(store), []);
  });
});

describe('kiso runs', () => {
  const store = tmp();
  const runs = async (...args: string[]): Promise<CliResult> => runCli(['runs', ...args, '--store', store]);
  const ids: Record<string, string> = {};
  const ready = (async () => {
    for (const [serial, supply] of [['SN-A', '4.98'], ['SN-A', '5.6'], ['SN-B', '5.0']] as const) {
      const result = await kiso(store, ['-c', EXAMPLE, '--serial', serial, ...(serial === 'SN-B' ? ['--part-number', 'PB-200'] : [])], { KISO_DEMO_SUPPLY: supply });
      ids[`${serial}/${supply}`] = printedRecord(result).id;
    }
  })();

  it("list --serial shows one unit's whole history, newest first", async () => {
    await ready;
    const result = await runs('list', '--serial', 'SN-A');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID +Started \(UTC\) +Serial +Part +Procedure +Station +Outcome +Phases +Duration$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, new RegExp(`^${ids['SN-A/5.6']} .* SN-A +PB-100 rev C +FVT-POWER v1\\.4\\.0 +bench-1 +FAIL +2/3 `));
    assert.match(lines[2]!, new RegExp(`^${ids['SN-A/4.98']} .* PASS +3/3 `));
  });

  it('list --serial matches whatever the letter case, and shows the serial as it was given', async () => {
    await ready;
    const result = await runs('list', '--serial', 'sn-a', '--json');
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as IndexEntry[];
    assert.deepEqual(listed.map((e) => [e.id, e.serial_number]), [[ids['SN-A/5.6'], 'SN-A'], [ids['SN-A/4.98'], 'SN-A']]);
  });

  it('list filters by outcome, procedure, part number and date, and prints JSON for scripts', async () => {
    await ready;
    const json = async (...args: string[]): Promise<IndexEntry[]> => JSON.parse((await runs('list', '--json', ...args)).stdout) as IndexEntry[];
    assert.deepEqual((await json('--outcome', 'FAIL')).map((e) => e.id), [ids['SN-A/5.6']]);
    assert.deepEqual((await json('--part-number', 'PB-200')).map((e) => e.serial_number), ['SN-B']);
    assert.equal((await json('--procedure', 'FVT-POWER')).length, 3);
    assert.equal((await json('--procedure', 'EOL')).length, 0);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal((await json('--since', today, '--until', today)).length, 3);
    assert.equal((await json('--since', '2999-01-01')).length, 0);
    assert.equal((await json('--limit', '1')).length, 1);
    const bad = await runs('list', '--since', 'yesterday-ish');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since "yesterday-ish" is not a date/);
  });

  it('show prints a run with its measurements; --json prints the record itself', async () => {
    await ready;
    const id = ids['SN-A/5.6']!;
    const text = await runs('show', id.slice(0, 18));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Run ${id}: FAIL`));
    assert.match(text.stdout, /FAIL +supply_voltage +5\.6 V +4\.75 <= x <= 5\.25/);
    assert.match(text.stdout, /PASS +load_step +21 rows ms×mA×V/);
    const json = JSON.parse((await runs('show', id, '--json')).stdout) as RunRecord;
    assert.equal(json.id, id);
    const missing = await runs('show', '20200101-000000-aaaaaaaa');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no run "20200101-000000-aaaaaaaa"/);
  });

  it('export --format openhtf writes an OpenHTF JSON test record', async () => {
    await ready;
    const out = path.join(tmp(), 'openhtf.json');
    const result = await runs('export', ids['SN-A/4.98']!, '--format', 'openhtf', '-o', out);
    assert.equal(result.code, 0, result.stderr);
    const exported = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    assert.equal(exported.dut_id, 'SN-A');
    assert.equal(exported.outcome, 'PASS');
    assert.equal(exported.station_id, 'bench-1');
    assert.ok(Number.isInteger(exported.start_time_millis) && exported.end_time_millis >= exported.start_time_millis);
    const rail = exported.phases.find((p: { name: string }) => p.name === 'supply rail');
    assert.deepEqual(rail.measurements.supply_voltage.units, { name: 'volt', code: 'VLT', suffix: 'V' });
    assert.equal(rail.measurements.supply_voltage.measured_value, 4.98);
    const identity = exported.phases.find((p: { name: string }) => p.name === 'identity');
    assert.equal(Buffer.from(identity.attachments['device_info.json'].data, 'base64').toString().includes('"firmware": "1.4.2"'), true);
    assert.ok(exported.log_records.some((l: { message: string; level: number }) => l.message === 'supply rail measured volts=4.98' && l.level === 20));
  });
});

describe('a file store of the previous kiso', () => {
  it('is migrated when kiso first opens it, and kiso runs migrate says what it moved', async () => {
    const { JsonFileStore } = await import('../../src/store/json-file-store.js');
    const { caseResult, recordOf } = await import('../helpers/records.js');
    const folder = tmp();
    const old = new JsonFileStore(folder);
    const records = [recordOf([caseResult()], { serialNumber: 'SN-M1' }), recordOf([caseResult({ outcome: 'failed' })], { serialNumber: 'SN-M2' }, Date.parse('2025-11-24T10:00:00Z'))];
    for (const record of records) old.commit(record);
    const listed = JSON.parse((await runCli(['runs', 'list', '--json', '--store', folder])).stdout) as IndexEntry[];
    assert.deepEqual(listed.map((e) => e.serial_number), ['SN-M2', 'SN-M1']);
    const shown = JSON.parse((await runCli(['runs', 'show', records[1]!.id, '--json', '--store', folder])).stdout) as RunRecord;
    assert.deepEqual(shown, records[1]);
    const again = await runCli(['runs', 'migrate', '--store', folder]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^migrated 0 runs .*; 2 were already there$/m);
    const elsewhere = await runCli(['runs', 'migrate', '--from', folder, '--store', tmp()]);
    assert.match(elsewhere.stdout, /^migrated 2 runs \(0 never indexed/m);
  });
});

describe('kiso runs stats on the station store', () => {
  it('prints yield and measurement figures, as JSON too, and writes the HTML page', async () => {
    const store = tmp();
    for (const supply of ['4.98', '5.6', '5.0']) await kiso(store, ['-c', EXAMPLE, '--serial', supply === '5.0' ? 'SN-S2' : 'SN-S1'], { KISO_DEMO_SUPPLY: supply });
    const html = path.join(tmp(), 'stats.html');
    const text = await runCli(['runs', 'stats', '--store', store, '--procedure', 'FVT-POWER', '--html', html]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^3 runs, 2 passed \(procedure FVT-POWER\)/);
    assert.match(text.stdout, /FVT-POWER +3 +2 +100\.0% +50\.0%/);
    assert.match(text.stdout, /supply_voltage +V +3 +5\.193/);
    assert.match(readFileSync(html, 'utf8'), /<svg class="chart"/);
    const json = JSON.parse((await runCli(['runs', 'stats', '--store', store, '--json'])).stdout) as { yield: { units: number; first_pass_yield: number }; pareto: Array<{ name: string }> };
    assert.equal(json.yield.units, 2);
    assert.equal(json.yield.first_pass_yield, 1);
    assert.deepEqual(json.pareto.map((p) => p.name), ['supply_voltage']);
    const bad = await runCli(['runs', 'stats', '--store', store, '--since', 'soon']);
    assert.equal(bad.code, 2);
  });
});

describe('the store under concurrent writers', () => {
  it('several processes opening a new store at the same moment all get it (none sees "database is locked")', async () => {
    for (let round = 0; round < 3; round++) {
      const store = tmp();
      const results = await Promise.all(Array.from({ length: 6 }, () => runCli(['runs', 'list', '--store', store])));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
    }
  });

  it('two kiso processes writing at once lose nothing', async () => {
    const store = tmp();
    const configs = Array.from({ length: 5 }, () => ['-c', 'examples/templates/loopback.yaml']).flat();
    const [a, b] = await Promise.all([kiso(store, [...configs, '--serial', 'SN-P1']), kiso(store, [...configs, '--serial', 'SN-P2'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const printed = [...a.stdout.matchAll(/kiso runs show (\S+)\)/g), ...b.stdout.matchAll(/kiso runs show (\S+)\)/g)].map((m) => m[1]);
    assert.equal(printed.length, 10);
    const entries = JSON.parse((await runCli(['runs', 'list', '--json', '--store', store])).stdout) as IndexEntry[];
    assert.deepEqual(entries.map((e) => e.id).sort(), printed.sort());
    for (const serial of ['SN-P1', 'SN-P2']) {
      const listed = JSON.parse((await runCli(['runs', 'list', '--serial', serial, '--json', '--store', store])).stdout) as IndexEntry[];
      assert.equal(listed.length, 5, serial);
      for (const entry of listed) assert.equal((JSON.parse((await runCli(['runs', 'show', entry.id, '--json', '--store', store])).stdout) as RunRecord).id, entry.id);
    }
  });
});

/** Starts kiso, waits for `until` on its stderr, then lets the test act on the child. */
function startKiso(args: string[], env: NodeJS.ProcessEnv): { child: ReturnType<typeof spawn>; seen: (pattern: RegExp) => Promise<void>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((w) => w.pattern.test(stderr))) waiter.resolve();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(killer);
    resolve({ code, signal, stdout, stderr });
  }));
  const seen = (pattern: RegExp): Promise<void> => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve })));
  return { child, seen, done };
}

describe('a run that does not reach its end still leaves its record', () => {
  it('Ctrl-C (SIGINT) mid-case: the record says ABORTED and holds the phases that ran', async () => {
    const store = tmp();
    const run = startKiso(['-c', 'test/fixtures/valid/stoppable.yaml', '--serial', 'SN-INT'], { KISO_STORE: store, STOP_MODE: 'wait' });
    await run.seen(/waiting for Ctrl-C/);
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.code, 1, result.stderr);
    const record = printedRecord(result);
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.equal(record.outcome, 'ABORTED');
    assert.equal(record.outcome_details[0]!.code, 'KISO_ABORTED');
    assert.deepEqual(record.phases.map((p) => p.outcome), ['PASS', 'ERROR', 'SKIP']);
    assert.equal(record.phases[0]!.measurements[0]!.measured_value, 5.01);
    assert.match(record.phases[1]!.error!.message, /was interrupted/);
    const listed = JSON.parse((await runCli(['runs', 'list', '--json', '--store', store])).stdout) as IndexEntry[];
    assert.deepEqual(listed.map((e) => [e.id, e.outcome]), [[record.id, 'ABORTED']]);
  });

  it('a case that calls process.exit does not end kiso: that case errors, the record holds every phase (issue 17)', async () => {
    const store = tmp();
    const run = startKiso(['-c', 'test/fixtures/valid/stoppable.yaml', '--serial', 'SN-EXIT'], { KISO_STORE: store, STOP_MODE: 'exit' });
    const result = await run.done;
    assert.equal(result.code, 1);
    const listed = JSON.parse((await runCli(['runs', 'list', '--json', '--serial', 'SN-EXIT', '--store', store])).stdout) as IndexEntry[];
    assert.equal(listed.length, 1, 'the record was indexed on exit');
    const record = JSON.parse((await runCli(['runs', 'show', listed[0]!.id, '--json', '--store', store])).stdout) as RunRecord;
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.equal(record.outcome, 'ERROR');
    assert.deepEqual(record.phases.map((p) => [p.name, p.outcome]), [['measures before the stop', 'PASS'], ['is running when kiso stops', 'ERROR'], ['never runs', 'PASS']]);
    assert.match(record.phases[1]!.error!.message, /process\.exit\(7\) was called/);
    const attachment = record.phases[0]!.attachments[0]!;
    assert.equal(readFileSync(path.join(store, 'attachments', attachment.sha1.slice(0, 2), attachment.sha1), 'utf8'), 'taken before the stop');
  });
});
