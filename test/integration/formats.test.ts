import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord } from '../../src/results/record/types.js';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';
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

/** Runs the formats station (serial SN-F-1 unless another, or none with null, is given). */
async function runFormats(args: string[] = [], env: NodeJS.ProcessEnv = {}, serial: string | null = 'SN-F-1'): Promise<Run> {
  const dir = tmp();
  const store = path.join(dir, 'store');
  const result = await runCli(['-c', STATION, ...(serial === null ? [] : ['--serial', serial]), '--store', store, ...args], { env: { KISO_STORE: store, ...env } });
  const match = /^Run record: (.+) \(kiso runs show (\S+)\)$/m.exec(result.stdout);
  assert.ok(match, `no "Run record:" line in:\n${result.stdout}\n${result.stderr}`);
  return { dir, store, result, recordFile: match[1]!, record: JSON.parse(readFileSync(match[1]!, 'utf8')) as RunRecord };
}

/** Runs Debian's Python on a script (`-c` text, or a .py file); its stdout parsed as JSON. */
function python(script: string, ...args: string[]): any {
  return JSON.parse(execFileSync('/usr/bin/python3', [...(script.endsWith('.py') ? [script] : ['-c', script]), ...args], { encoding: 'utf8' }));
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

describe('OpenHTF export', () => {
  it("matches a reference record shaped as OpenHTF's json_factory writes it", async () => {
    const { store, record, dir } = await runFormats([], {}, null);
    const out = path.join(dir, 'openhtf.json');
    const result = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '-o', out, '--store', store]);
    assert.equal(result.code, 0, result.stderr);
    const compare = (file: string): string[] => python(path.join(ROOT, 'test/helpers/compare_json_shape.py'), path.join(ROOT, 'test/fixtures/openhtf/formats-reference.json'), file) as string[];
    assert.deepEqual(compare(out), []);
    // The comparison sees a difference when there is one: a Greek omega instead of OpenHTF's ohm sign.
    const tampered = path.join(dir, 'tampered.json');
    writeFileSync(tampered, readFileSync(out, 'utf8').replace('"suffix": "\u2126"', '"suffix": "\u03a9"'));
    assert.deepEqual(compare(tampered), ['$.phases[0].measurements.shunt.units.suffix: expected "\u2126", got "\u03a9"']);
  });

  it('--no-inline-attachments writes the files beside the JSON, which keeps mimetype and sha1 as OpenHTF does', async () => {
    const { store, record, dir } = await runFormats([], { FORMATS_ATTACH_BYTES: String(8 * 1024 * 1024) });
    const ref = record.phases[0]!.attachments[0]!;
    const inline = path.join(dir, 'inline', 'run.json');
    const big = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '-o', inline, '--store', store]);
    assert.equal(big.code, 0, big.stderr);
    assert.ok(statSync(inline).size > 10_000_000);
    assert.match(big.stderr, /warning: the export is 11\.\d\d MB: TofuPilot's OpenHTF import refuses reports over 10\.00 MB; --no-inline-attachments/);

    const split = path.join(dir, 'split', 'run.json');
    const small = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '--no-inline-attachments', '-o', split, '--store', store]);
    assert.equal(small.code, 0, small.stderr);
    assert.doesNotMatch(small.stderr, /warning/);
    assert.ok(statSync(split).size < 100_000);
    const exported = python(PY_JSON, split);
    assert.deepEqual(exported.phases[0].attachments, { 'blob.bin': { mimetype: 'application/octet-stream', sha1: ref.sha1 } });
    const beside = path.join(dir, 'split', ref.path);
    assert.equal(ref.path, `${record.id}.files/1/blob.bin`);
    assert.equal(createHash('sha1').update(readFileSync(beside)).digest('hex'), ref.sha1);
    assert.match(small.stderr, new RegExp(`Wrote the attachments in .*${record.id}\\.files`));

    const noFile = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '--no-inline-attachments', '--store', store]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /give the JSON file with -o FILE/);
    const notOpenHtf = await runCli(['runs', 'export', record.id, '--format', 'html', '--no-inline-attachments', '-o', path.join(dir, 'x.html'), '--store', store]);
    assert.equal(notOpenHtf.code, 2);
  });

  it('an attachment missing from the store is said, and the export exits 1', async () => {
    const { store, record, recordFile, dir } = await runFormats();
    rmSync(path.join(path.dirname(recordFile), record.phases[0]!.attachments[0]!.path));
    const result = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '-o', path.join(dir, 'run.json'), '--store', store]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /1 attachment\(s\) missing from the store, exported without their bytes: .*blob\.bin/);
  });
});
