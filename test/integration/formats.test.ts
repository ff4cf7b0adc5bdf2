import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord } from '../../src/results/record/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { recordSchemaErrors } from '../helpers/records.js';

/**
 * What each report format carries, read back by readers kiso did not write:
 * Python's json and xml (Debian's /usr/bin/python3), xmllint with Jenkins'
 * JUnit schema, junitparser.
 */

const STATION = 'test/fixtures/valid/formats.yaml';
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-formats-'));

interface Run {
  dir: string;
  store: string;
  result: CliResult;
  record: RunRecord;
  recordFile: string;
}

async function runFormats(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dir = tmp();
  const store = path.join(dir, 'store');
  const result = await runCli(['-c', STATION, '--serial', 'SN-F-1', '--store', store, ...args], { env: { KISO_STORE: store, ...env } });
  const match = /^Run record: (.+) \(kiso runs show (\S+)\)$/m.exec(result.stdout);
  assert.ok(match, `no "Run record:" line in:\n${result.stdout}\n${result.stderr}`);
  return { dir, store, result, recordFile: match[1]!, record: JSON.parse(readFileSync(match[1]!, 'utf8')) as RunRecord };
}

/** Runs Debian's Python on a script; its stdout parsed as JSON. */
function python(script: string, ...args: string[]): any {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' }));
}

const PY_JSON = 'import json, sys; print(json.dumps(json.load(open(sys.argv[1], encoding="utf-8"))))';

describe('structured log fields', () => {
  const run = runFormats();

  it('are kept in the run record, minus keys named like secrets', async () => {
    const { record, result, recordFile } = await run;
    assert.equal(result.code, 1, 'the fixture has a failed and an errored case');
    assert.deepEqual(recordSchemaErrors(record), []);
    const log = record.phases[0]!.logs.find((l) => l.message === 'firmware version')!;
    assert.deepEqual(log.fields, { version: '1.3.9', nested: { ok: 1 } });
    assert.doesNotMatch(readFileSync(recordFile, 'utf8'), /SECRET|redacted/, 'no secret, and no trace of one, in the record');
  });

  it('are in the HTML report and the OpenHTF export, never the secrets', async () => {
    const { store, record, dir } = await run;
    const html = path.join(dir, 'run.html');
    const exported = path.join(dir, 'run.openhtf.json');
    for (const [format, file] of [['html', html], ['openhtf', exported]]) {
      const result = await runCli(['runs', 'export', record.id, '--format', format!, '-o', file!, '--store', store]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(readFileSync(file!, 'utf8'), /SECRET/);
    }
    assert.match(readFileSync(html, 'utf8'), /firmware version <span class="fields note">version=1\.3\.9 nested=\{&quot;ok&quot;:1\}<\/span>/);
    const openhtf = python(PY_JSON, exported);
    assert.ok(openhtf.log_records.some((l: { message: string }) => l.message === 'firmware version version=1.3.9 nested={"ok":1}'), JSON.stringify(openhtf.log_records));
  });
});

describe("the run record's TofuPilot field names", () => {
  it('lower_limit / upper_limit beside limits, sub_units, operated_by', async () => {
    const { record, store } = await runFormats(['--operated-by', 'j.doe@example.com', '--sub-unit', 'PSU-0042', '--sub-unit', 'CPU-7']);
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.equal(record.operated_by, 'j.doe@example.com');
    assert.deepEqual(record.unit_under_test.sub_units, [{ serial_number: 'PSU-0042' }, { serial_number: 'CPU-7' }]);
    const rail = record.phases[1]!.measurements.find((m) => m.name === 'rail')!;
    assert.deepEqual([rail.limits, rail.lower_limit, rail.upper_limit], [{ lower: 4.75, upper: 5.25 }, 4.75, 5.25]);
    const current = record.phases[1]!.measurements.find((m) => m.name === 'current')!;
    assert.deepEqual([current.lower_limit, current.upper_limit], [undefined, 100], 'only the bounds the limits give');
    const shown = await runCli(['runs', 'show', record.id, '--store', store]);
    assert.match(shown.stdout, /^ {2}sub-units {2}PSU-0042, CPU-7$/m);
    assert.match(shown.stdout, /^ {2}operator {3}j\.doe@example\.com$/m);
  });

  it('a record without them (no flag given) still says so: operated_by null, sub_units empty', async () => {
    const { record } = await runFormats();
    assert.equal(record.operated_by, null);
    assert.deepEqual(record.unit_under_test.sub_units, []);
  });
});
