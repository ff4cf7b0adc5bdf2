import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.js';
import { recordSchemaErrors, storedRecords } from '../helpers/records.js';
import type { RunRecord } from '../../src/results/record/types.js';

const CHROMIUM = '/usr/bin/chromium';
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-steps-'));
const text = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/\s+/g, ' ').trim();
/** The rows of one case's table in the step report, as text. */
function caseRows(html: string, testId: string): string[] {
  const section = new RegExp(`<section[^>]*data-test-id="${testId.replace('.', '\\.')}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
  return [...section.matchAll(/<tr class="c[^"]*"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => text(m[1]!));
}
function storedRecord(store: string): RunRecord {
  const records = storedRecords(store);
  assert.equal(records.length, 1, `one record in the store: ${records.map((r) => r.id).join(', ')}`);
  return records[0]!;
}

describe('--step-report and ctx.check / ctx.step', () => {
  it('a passing run writes every check, step and measurement as a row; exit 0', async () => {
    const dir = tmp();
    const file = path.join(dir, 'steps.html');
    const result = await runCli(['-c', 'examples/templates/step_report.yaml', '--step-report', file], { env: { KISO_STORE: dir } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Step report: .*steps\.html/);
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<(script|link)\b/i, 'self-contained');
    const rows11 = caseRows(html, '1.1');
    assert.equal(rows11.length, 6, rows11.join('\n'));
    assert.match(rows11[0]!, /^wake the device \d+ ms PASS test_steps\.ts:16$/);
    assert.match(rows11[2]!, /^2 the answer echoes the request equal "PING" "PING" PASS test_steps\.ts:20$/);
    assert.match(rows11[4]!, /^3 status reply equal "OK" "OK" PASS test_steps\.ts:25$/);
    const rows12 = caseRows(html, '1.2');
    assert.deepEqual(rows12.map((r) => r.replace(/ test_steps\.ts:\d+$/, '')), [
      '1 supply near 5 V near 5 ± 0.1 5.01 PASS',
      '2 frame carries the command byte includes contains 0x10 &lt;3 bytes 02 10 03&gt; PASS',
      '3 frame length within 3 ≤ x ≤ 8 3 PASS',
      '4 supply_voltage measurement 4.75 &lt;= x &lt;= 5.25 5.01 V PASS',
    ]);
    // The run record carries the same rows, and stays valid against its schema.
    const record = storedRecord(dir);
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.deepEqual(record.phases[0]!.checks!.map((c) => [c.kind, c.description, c.outcome, c.steps ?? []]), [
      ['step', 'wake the device', 'PASS', []],
      ['check', 'an answer within 1 s', 'PASS', ['wake the device']],
      ['check', 'the answer echoes the request', 'PASS', ['wake the device']],
      ['step', 'read the status', 'PASS', []],
      ['check', 'status reply', 'PASS', ['read the status']],
      ['check', 'reply is upper-case ASCII', 'PASS', ['read the status']],
    ]);
    assert.equal(record.phases[0]!.checks![2]!.source_file, 'suite_step_report/test_steps.ts');
  });

  it('a failed check fails the case after the rest was recorded: exit 1, the reason in console, JUnit and record', async () => {
    const dir = tmp();
    const file = path.join(dir, 'steps.html');
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', 'examples/templates/step_report.yaml', '--step-report', file, '--junit', junit], { env: { KISO_STORE: dir, KISO_DEMO_REPLY: 'NOK' } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /FAIL +\[1\.1\] handshake[\s\S]*CheckFailure: check failed: "status reply": expected "OK", got "NOK"/);
    assert.match(readFileSync(junit, 'utf8'), /<failure message="check failed: &quot;status reply&quot;: expected &quot;OK&quot;, got &quot;NOK&quot;"/);
    const rows = caseRows(readFileSync(file, 'utf8'), '1.1');
    assert.match(rows[3]!, /^read the status \d+ ms FAIL/);
    assert.match(rows[4]!, /^3 status reply equal "OK" "NOK" FAIL/);
    assert.match(rows[5]!, /^4 reply is upper-case ASCII match \/\^\[A-Z\]\+\$\/ "NOK" PASS/, 'the checks after the failed one still ran');
    const phase = storedRecord(dir).phases[0]!;
    assert.equal(phase.outcome, 'FAIL');
    assert.deepEqual({ ...phase.checks![4]!, timestamp: undefined, line_number: undefined }, {
      kind: 'check', description: 'status reply', operator: 'equal', expected: '"OK"', actual: '"NOK"', outcome: 'FAIL', steps: ['read the status'],
      timestamp: undefined, source_file: 'suite_step_report/test_steps.ts', line_number: undefined,
    });
  });

  it('a thrown assertion is the last row of its case and of its step, recorded once', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    writeFileSync(path.join(dir, 'suites', 'test_assert.mjs'), `import assert from 'node:assert/strict';
import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
export default defineSuite({ cases: [
  { name: 'asserts', async run(ctx) {
    ctx.check.equal(1, 1, 'before');
    await ctx.step('compare versions', () => assert.equal('1.3.9', '1.4.2', 'firmware version'));
    ctx.check(true, 'never reached');
  } },
  { name: 'errors', async run(ctx) { await ctx.step('open', () => { throw new Error('port gone'); }); } },
] });
`);
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries:\n  aux1: { connectors: { com: chan }, type: CommunicationAuxiliary }\nconnectors:\n  chan: { type: CCLoopback }\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 7 }\n');
    const file = path.join(dir, 'steps.html');
    const result = await runCli(['-c', path.join(dir, 'station.yaml'), '--step-report', file, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const html = readFileSync(file, 'utf8');
    assert.deepEqual(caseRows(html, '7.1').map((r) => r.replace(/ \d+ ms/, '').replace(/ test_assert\.mjs:\d+$/, '')), [
      '1 before equal 1 1 PASS',
      'compare versions FAIL',
      '2 firmware version (assertion strictEqual) "1.4.2" "1.3.9" FAIL',
    ]);
    // An error that is no assertion: the step says why, and the case's error shows above the table.
    assert.match(caseRows(html, '7.2')[0]!, /^open port gone \d+ ms ERROR/);
    assert.match(text(/<section[^>]*data-test-id="7\.2"[\s\S]*?<\/section>/.exec(html)![0]), /Error: port gone/);
  });

  it('a step report that cannot be written fails the run', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'not-a-folder'), '');
    const result = await runCli(['-c', 'examples/templates/step_report.yaml', '--step-report', path.join(dir, 'not-a-folder', 'steps.html'), '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /report\(s\) could not be written/);
  });

  it('with fixture slots each unit gets its own step report, with the checks made in its worker', async () => {
    const dir = tmp();
    const suites = path.join(dir, 'suite_step_report');
    mkdirSync(suites);
    writeFileSync(path.join(suites, 'test_steps.ts'), readFileSync('examples/templates/suite_step_report/test_steps.ts', 'utf8').replace("from 'kiso'", `from ${JSON.stringify(import.meta.resolve('kiso'))}`));
    const station = readFileSync('examples/templates/step_report.yaml', 'utf8');
    writeFileSync(path.join(dir, 'station.yaml'), `duts:\n  - { slot: 1, serial_number: SN-A }\n  - { slot: 2, serial_number: SN-B }\n${station}`);
    const result = await runCli(['-c', path.join(dir, 'station.yaml'), '--step-report', path.join(dir, 'steps.html'), '--no-record']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const serial of ['SN-A', 'SN-B']) {
      const html = readFileSync(path.join(dir, `steps-${serial}.html`), 'utf8');
      assert.match(html, new RegExp(`<dt>Serial number</dt><dd>${serial}</dd>`));
      assert.equal(caseRows(html, '1.1').length, 6);
    }
  });

  it('renders in a real browser', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is missing (apt-get install chromium)` }, async () => {
    const dir = tmp();
    const file = path.join(dir, 'steps.html');
    const result = await runCli(['-c', 'examples/templates/step_report.yaml', '--step-report', file, '--no-record'], { env: { KISO_DEMO_REPLY: 'NOK' } });
    assert.equal(result.code, 1);
    const { stdout: dom } = await promisify(execFile)(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${tmp()}`, '--dump-dom', `file://${file}`], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    assert.match(text(/<div class="verdict"[^>]*>[\s\S]*?<\/div>/.exec(dom)![0]), /^FAIL$/);
    assert.match(text(/<table class="summary">[\s\S]*?<\/table>/.exec(dom)![0]), /1\.1 step report handshake 4 \(1 failed\) 0 \d+ ms FAIL 1\.2 step report supply and frame 3 1 \d+ ms PASS/);
  });
});
