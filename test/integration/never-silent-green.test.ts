import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-green-'));

// Every path here once ended, or could end, in exit 0 while testing nothing.
// A run that selects or executes nothing, or loses a report, is never green.

const KISO = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;

/** A station with one loopback auxiliary and the given suite files (plain JavaScript, so no loader is needed). */
function station(suites: Record<string, string>, pattern = 'test_*.mjs'): string {
  const dir = tmp();
  mkdirSync(path.join(dir, 'suite'));
  for (const [name, body] of Object.entries(suites)) writeFileSync(path.join(dir, 'suite', name), `import { defineSuite } from '${KISO}';\nexport default defineSuite(${body});\n`);
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, `auxiliaries:\n  aux1:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\nconnectors:\n  chan: { type: CCLoopback }\ntest_suite_list:\n  - suite_dir: suite\n    test_filter_pattern: '${pattern}'\n    test_suite_id: 1\n`);
  return file;
}

const TAGGED = `{ name: 'tagged', cases: [
  { name: 'full only', tags: { branch_level: ['full'] }, run() {} },
  { name: 'quick and full', tags: { branch_level: ['quick', 'full'] }, run() {} },
  { name: 'untagged', run() {} },
] }`;

describe('never a silent green: the command line', () => {
  it('an option kiso does not know, that no case declares as a tag, is exit 2 (pykiso --logger)', async () => {
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--logger', 'Foo', '--no-record']);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /unknown option --logger: it is not a kiso option, and no selected case declares a tag "logger" \(tags declared: branch_level\)/);
    assert.doesNotMatch(result.stdout, /PASSED/);
  });

  it('an unknown option without a value is exit 2 with the kiso option it resembles', async () => {
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--failfst', '--no-record']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option --failfst \(did you mean --failfast\?\)/);
  });

  it('a tag name no case declares is exit 2, naming the tags that exist and the one it resembles', async () => {
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--branch-levl', 'quick', '--no-record']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /did you mean --branch_level\?/);
    assert.match(result.stderr, /tags declared: branch_level/);
  });

  it('a tag value no case has is exit 2, naming the values that exist', async () => {
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--branch_level', 'nightly', '--no-record']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--branch_level: no case has the value "nightly" \(values of branch_level: full, quick\)/);
  });

  it('tags follow pykiso: - and _ are the same, and an untagged case still runs under a filter', async () => {
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--branch-level', 'quick', '--no-record']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /SKIP +\[1\.1\] full only/);
    assert.match(result.stdout, /PASS +\[1\.2\] quick and full/);
    assert.match(result.stdout, /PASS +\[1\.3\] untagged/);
  });

  it('a -p pattern that selects no file, or no case, is exit 2', async () => {
    const file = station({ 'test_a.mjs': TAGGED });
    const noFile = await runCli(['-c', file, '-p', 'test_nothing*.mjs', '--no-record']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /-p 'test_nothing\*\.mjs' matches no file in suite folder/);
    const noCase = await runCli(['-c', file, '-p', 'test_a.mjs::no such case', '--no-record']);
    assert.equal(noCase.code, 2);
    assert.match(noCase.stderr, /selects no case out of 3/);
  });

  it("pykiso's -p file.py::Class::test form selects by suite and case name, and a .py file that is not there says how kiso runs Python suites", async () => {
    const file = station({ 'test_a.mjs': TAGGED, 'test_b.mjs': `{ name: 'other', cases: [{ name: 'untagged', run() {} }] }` });
    const selected = await runCli(['-c', file, '-p', 'test_*.mjs::tagged::untagged', '--no-record']);
    assert.equal(selected.code, 0, selected.stderr);
    assert.match(selected.stdout, /1 passed, 0 failed, 0 errors, 3 skipped/);
    const python = await runCli(['-c', file, '-p', 'test_a.py::TestA::test_run', '--no-record']);
    assert.equal(python.code, 2);
    assert.match(python.stderr, /-p 'test_a\.py' matches no file in suite folder .*kiso runs pykiso Python suites/);
  });
});

describe('never a silent green: suites and reports', () => {
  it('a suite folder whose pattern matches no file is exit 2 (a folder of pykiso Python suites)', async () => {
    const file = station({ 'test_a.mjs': TAGGED }, 'test_*.py');
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /test_filter_pattern 'test_\*\.py' matches no file in suite folder .*suite: kiso runs pykiso Python suites from the files the pattern matches there/);
  });

  it('a fixture whose devices all skipped every case executed nothing: exit 1, never 0', async () => {
    const file = station({ 'test_a.mjs': `{ cases: [{ name: 'a', skip: 'not on this bench', run() {} }] }` });
    writeFileSync(file, `duts:\n  - { slot: 1, serial_number: SN-S1 }\n  - { slot: 2, serial_number: SN-S2 }\n${readFileSync(file, 'utf8')}`);
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /no case was executed on any device \(2 skipped\): a run that tests nothing does not pass/);
  });

  it('a run whose every case is skipped executed nothing: exit 1, never 0', async () => {
    const file = station({ 'test_a.mjs': `{ cases: [{ name: 'a', skip: 'not on this bench', run() {} }, { name: 'b', skip: true, run() {} }] }` });
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no case was executed \(2 skipped\): a run that tests nothing does not pass/);
  });

  it("--junit FOLDER writes FOLDER/<station>-<timestamp>.xml, as pykiso does", async () => {
    const reports = tmp();
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--junit', reports, '--no-record']);
    assert.equal(result.code, 0, result.stderr);
    const files = readdirSync(reports);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^station-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.xml$/);
    assert.match(readFileSync(path.join(reports, files[0]!), 'utf8'), /<testsuites[^>]* tests="3"/);
  });

  it('a report that cannot be written is exit 1 with the reason, not a log line', async () => {
    // Beneath a plain file no folder can be made, whoever runs the test (root included).
    const blocker = path.join(tmp(), 'a-file');
    writeFileSync(blocker, '');
    const result = await runCli(['-c', station({ 'test_a.mjs': TAGGED }), '--junit', path.join(blocker, 'junit.xml'), '--no-record']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /1 report\(s\) could not be written:\n  JunitReporter \(on\w+\): .*EEXIST/);
  });
});

describe('never a silent green: the station file', () => {
  it('an empty file says it is empty; a list says the file must be a mapping', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'empty.yaml'), '# nothing here yet\n');
    writeFileSync(path.join(dir, 'list.yaml'), '- aux1\n- aux2\n');
    const empty = await runCli(['validate', '-c', path.join(dir, 'empty.yaml')]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the file is empty/);
    const list = await runCli(['validate', '-c', path.join(dir, 'list.yaml')]);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /list\.yaml:1:1: the file must be a mapping with the keys auxiliaries, connectors and test_suite_list, not a list/);
    assert.doesNotMatch(list.stderr, /\[0\]/);
  });
});

describe("pykiso's command line", () => {
  it("--log-level takes pykiso's names in any case, -v means debug, --text is accepted", async () => {
    const file = station({ 'test_a.mjs': TAGGED });
    for (const level of ['WARNING', 'Debug', 'error', 'INFO']) {
      const result = await runCli(['-c', file, '--log-level', level, '--text', '--no-record']);
      assert.equal(result.code, 0, `${level}: ${result.stderr}`);
    }
    const bad = await runCli(['-c', file, '--log-level', 'LOUD', '--no-record']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--log-level "LOUD" is not a level/);
    const verbose = await runCli(['-c', file, '-v', '--no-record']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /DEBUG/);
  });

  it('one -l per -c writes each station log to its own file', async () => {
    const logs = tmp();
    const first = station({ 'test_a.mjs': TAGGED });
    const second = station({ 'test_b.mjs': `{ name: 'second', cases: [{ name: 'one', run(ctx) { ctx.log.info('in the second station'); } }] }` });
    const result = await runCli(['-c', first, '-l', path.join(logs, 'first.ndjson'), '-c', second, '-l', path.join(logs, 'second.ndjson'), '--no-record']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(readFileSync(path.join(logs, 'first.ndjson'), 'utf8'), /in the second station/);
    assert.match(readFileSync(path.join(logs, 'second.ndjson'), 'utf8'), /in the second station/);
    const mismatched = await runCli(['-c', first, '-c', second, '-l', 'a.ndjson', '-l', 'b.ndjson', '-l', 'c.ndjson', '--no-record']);
    assert.equal(mismatched.code, 2);
    assert.match(mismatched.stderr, /3 -l\/--log-path for 2 -c/);
  });
});
