import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord } from '../../src/results/record/types.js';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { recordFromOutput, recordSchemaErrors, storedAttachmentFile, storedRecords } from '../helpers/records.js';

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
}

/** Runs the formats station (serial SN-F-1 unless another, or none with null, is given). */
async function runFormats(args: string[] = [], env: NodeJS.ProcessEnv = {}, serial: string | null = 'SN-F-1'): Promise<Run> {
  const dir = tmp();
  const store = path.join(dir, 'store');
  const result = await runCli(['-c', STATION, ...(serial === null ? [] : ['--serial', serial]), '--store', store, ...args], { env: { KISO_STORE: store, ...env } });
  assert.match(result.stdout, /^Run record: \S+ in /m, `no "Run record:" line in:\n${result.stdout}\n${result.stderr}`);
  return { dir, store, result, record: recordFromOutput(result.stdout, store) };
}

/** Runs Debian's Python on a script (`-c` text, or a .py file); its stdout parsed as JSON. */
function python(script: string, ...args: string[]): any {
  return JSON.parse(execFileSync('/usr/bin/python3', [...(script.endsWith('.py') ? [script] : ['-c', script]), ...args], { encoding: 'utf8' }));
}

const PY_JSON = 'import json, sys; print(json.dumps(json.load(open(sys.argv[1], encoding="utf-8"))))';

describe('structured log fields', () => {
  const run = runFormats();

  it('are kept in the run record, minus keys named like secrets', async () => {
    const { record, result } = await run;
    assert.equal(result.code, 1, 'the fixture has a failed and an errored case');
    assert.deepEqual(recordSchemaErrors(record), []);
    const log = record.phases[0]!.logs.find((l) => l.message === 'firmware version')!;
    assert.deepEqual(log.fields, { version: '1.3.9', nested: { ok: 1 } });
    assert.doesNotMatch(JSON.stringify(record), /SECRET|redacted/, 'no secret, and no trace of one, in the record');
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
    const { store, record, dir } = await runFormats();
    rmSync(storedAttachmentFile(store, record.phases[0]!.attachments[0]!.sha1));
    const result = await runCli(['runs', 'export', record.id, '--format', 'openhtf', '-o', path.join(dir, 'run.json'), '--store', store]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /1 attachment\(s\) missing from the store, exported without their bytes: .*blob\.bin/);
  });
});

const XSD = path.join(ROOT, 'test/fixtures/junit/junit-10.xsd');

/** xmllint against Jenkins xunit-plugin's junit-10.xsd: its exit code and error lines. */
function xmllint(file: string): { code: number; errors: string[] } {
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, errors: [] };
  } catch (error) {
    const failed = error as { status: number; stderr: string };
    return { code: failed.status, errors: failed.stderr.split('\n').filter((line) => line.includes('validity error')) };
  }
}

/** What junitparser (Debian's python3-junitparser) reads of a JUnit file. */
const JUNITPARSER = `
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        results = [{"tag": r._tag, "message": r.message, "type": r.type, "text": r.text} for r in case.result]
        cases.append({"name": case.name, "results": results})
    suites.append({"name": suite.name, "properties": {p.name: p.value for p in suite.properties()}, "cases": cases})
print(json.dumps(suites))
`;

/** What Python's own XML parser reads: attributes and element text as a JUnit reader sees them. */
const PY_XML = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
out = {"testsuites": dict(root.attrib), "cases": []}
for case in root.iter("testcase"):
    out["cases"].append({"attrib": dict(case.attrib), "children": [{"tag": c.tag, "attrib": dict(c.attrib), "text": c.text} for c in case]})
out["suites"] = [dict(s.attrib) for s in root.iter("testsuite")]
print(json.dumps(out))
`;

describe('JUnit XML', () => {
  const both = (async () => {
    const dir = tmp();
    const files = { default: path.join(dir, 'default.xml'), jenkins: path.join(dir, 'jenkins.xml') };
    const runs = { default: await runFormats(['--junit', files.default]), jenkins: await runFormats(['--junit', files.jenkins, '--junit-format', 'jenkins']) };
    return { files, runs };
  })();

  it("--junit-format jenkins validates against Jenkins xunit-plugin's junit-10.xsd (xmllint)", async () => {
    const { files, runs } = await both;
    assert.equal(runs.jenkins.result.code, 1, runs.jenkins.result.stderr);
    assert.deepEqual(xmllint(files.jenkins), { code: 0, errors: [] });
  });

  it('the default differs from junit-10.xsd only by its four documented extensions', async () => {
    const { files } = await both;
    const { code, errors } = xmllint(files.default);
    assert.equal(code, 3, 'xmllint: the document does not validate');
    const kinds = new Set(errors.map((line) => line.replace(/^.*Schemas validity error : /, '')));
    assert.deepEqual([...kinds].sort(), [
      "Element 'properties': This element is not expected.",
      "Element 'testcase', attribute 'file': The attribute 'file' is not allowed.",
      "Element 'testsuites', attribute 'skipped': The attribute 'skipped' is not allowed.",
      "Element 'testsuites', attribute 'timestamp': The attribute 'timestamp' is not allowed.",
    ]);
  });

  it('junitparser reads both; the jenkins format keeps the case tags and requirements as suite properties', async () => {
    const { files, runs } = await both;
    const byFormat = { default: python(JUNITPARSER, files.default), jenkins: python(JUNITPARSER, files.jenkins) };
    for (const [format, suites] of Object.entries(byFormat)) {
      assert.equal(suites.length, 1, format);
      assert.deepEqual(suites[0].cases.map((c: { name: string; results: Array<{ tag: string }> }) => [c.name, c.results.map((r) => r.tag)]), [
        ['[4.1] identity', []],
        ['[4.2] several failures', ['error']],
        ['[4.3] asserts on two lines', ['failure']],
        ['[4.4] skipped for now', ['skipped']],
      ], format);
      const run = runs[format as 'default' | 'jenkins'];
      assert.equal(suites[0].properties.run_id, run.record.id, `${format}: the run id, as the record has it`);
      assert.equal(suites[0].properties.serial_number, 'SN-F-1');
    }
    assert.equal(byFormat.jenkins[0].properties['[4.1] tag.variant'], 'eu');
    assert.equal(byFormat.jenkins[0].properties['[4.1] requirement'], 'REQ-7');
  });

  it('a message attribute is one line, the element holds the full text; files are relative to the station folder', async () => {
    const { files } = await both;
    for (const file of Object.values(files)) {
      const xml = python(PY_XML, file);
      const asserts = xml.cases.find((c: { attrib: { name: string } }) => c.attrib.name === '[4.3] asserts on two lines').children.find((c: { tag: string }) => c.tag === 'failure');
      assert.equal(asserts.attrib.message, 'device did not boot […]');
      assert.match(asserts.text, /device did not boot\nexpected "READY", got "PANIC"\n {4}at /);
      const several = xml.cases.find((c: { attrib: { name: string } }) => c.attrib.name === '[4.2] several failures').children.find((c: { tag: string }) => c.tag === 'error');
      for (const name of ['rail FAIL', 'mode ERROR', 'current FAIL', 'never_set UNSET']) assert.ok(several.attrib.message.includes(`measurement ${name}`), `${name} in ${several.attrib.message}`);
      assert.equal(xml.suites[0].file, 'suite_formats/test_formats.ts');
      if (file === files.default) for (const c of xml.cases) assert.equal(c.attrib.file, 'suite_formats/test_formats.ts');
    }
  });
});

describe('which unit and which slot', () => {
  it('per-slot JUnit files, HTML reports and records name their slot and serial number', async () => {
    const dir = tmp();
    const store = path.join(dir, 'store');
    writeFileSync(path.join(dir, 'duts.yaml'), '- { slot: 1, serial_number: SN-S1 }\n- { slot: 2, serial_number: sn-s2 }\n');
    const result = await runCli(['-c', STATION, '--duts', path.join(dir, 'duts.yaml'), '--junit', path.join(dir, 'junit.xml'), '--junit-format', 'jenkins', '--html', path.join(dir, 'unit.html'), '--store', store], { env: { KISO_STORE: store } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const records = storedRecords(store);
    assert.equal(records.length, 2);
    for (const [slot, serial] of [[1, 'SN-S1'], [2, 'sn-s2']] as const) {
      const record = records.find((r) => r.unit_under_test.serial_number === serial)!;
      assert.equal(record.station.slot, slot);
      assert.deepEqual(recordSchemaErrors(record), []);
      const junit = path.join(dir, `junit-${serial}.xml`);
      assert.deepEqual(xmllint(junit), { code: 0, errors: [] });
      const [suite] = python(JUNITPARSER, junit);
      assert.equal(suite.name, `formats (slot ${slot}, ${serial})`);
      assert.deepEqual([suite.properties.slot, suite.properties.serial_number, suite.properties.run_id], [String(slot), serial, record.id]);
      const html = readFileSync(path.join(dir, `unit-${serial}.html`), 'utf8');
      assert.match(html, new RegExp(`<dt>Fixture slot</dt><dd>${slot}</dd>`));
      assert.match(html, new RegExp(`<h1 id="unit">${serial}</h1>`));
    }
  });
});

describe('HTML attachments over the 5 MiB embed cap', () => {
  const SIX_MIB = String(6 * 1024 * 1024);
  const linked = (html: string, htmlFile: string): string => {
    const href = /<li data-attachment="blob\.bin"><a class="stored" href="([^"]+)">blob\.bin<\/a>/.exec(html)?.[1];
    assert.ok(href, `no link to blob.bin in:\n${/<ul class="attachments">.*?<\/ul>/s.exec(html)?.[0]}`);
    return path.resolve(path.dirname(htmlFile), decodeURIComponent(href));
  };

  it('are linked to their stored copy, from the report of the run and from an export elsewhere', async () => {
    const dir = tmp();
    const htmlFile = path.join(dir, 'reports', 'unit.html');
    const { record, store } = await runFormats(['--html', htmlFile], { FORMATS_ATTACH_BYTES: SIX_MIB });
    const ref = record.phases[0]!.attachments[0]!;
    const html = readFileSync(htmlFile, 'utf8');
    assert.ok(statSync(htmlFile).size < 1024 * 1024, 'the 6 MiB attachment is not embedded');
    const target = linked(html, htmlFile);
    assert.equal(createHash('sha1').update(readFileSync(target)).digest('hex'), ref.sha1, 'the link opens the stored attachment');
    assert.match(html, /over the 5\.0 MiB a page embeds: stored at \//);

    const exported = path.join(tmp(), 'elsewhere', 'run.html');
    const result = await runCli(['runs', 'export', record.id, '--format', 'html', '-o', exported, '--store', store]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(linked(readFileSync(exported, 'utf8'), exported), target);
  });

  it('with --no-record the page says the attachment was not kept', async () => {
    const dir = tmp();
    const htmlFile = path.join(dir, 'unit.html');
    const result = await runCli(['-c', STATION, '--serial', 'SN-F-2', '--no-record', '--html', htmlFile], { env: { FORMATS_ATTACH_BYTES: SIX_MIB } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(readFileSync(htmlFile, 'utf8'), /blob\.bin <span class="note">application\/octet-stream, 6\.0 MiB<\/span> <span class="note">\(over the 5\.0 MiB a page embeds, and not stored: the run had no record\)/);
  });
});
