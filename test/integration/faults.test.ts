import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli } from '../helpers/cli.js';

// Issue 17: a fault in a suite never turns into a pass, a hang or a lost report.

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-faults-'));
const KISO = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;

/** A station with one loopback auxiliary and one suite file (plain JavaScript), in a folder of its own. */
function station(suite: string, preamble = ''): { dir: string; file: string; junit: string } {
  const dir = tmp();
  mkdirSync(path.join(dir, 'suite'));
  writeFileSync(path.join(dir, 'suite', 'test_faults.mjs'), `import { defineSuite } from '${KISO}';\n${preamble}\nexport default defineSuite(${suite});\n`);
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, `auxiliaries:\n  aux1:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\nconnectors:\n  chan: { type: CCLoopback }\ntest_suite_list:\n  - suite_dir: suite\n    test_filter_pattern: 'test_*.mjs'\n    test_suite_id: 1\n`);
  return { dir, file, junit: path.join(dir, 'junit.xml') };
}

describe('a case that calls process.exit()', () => {
  it('is an ERROR of that case; the run goes on, writes every report and exits 1', async () => {
    const { file, junit } = station(`{ name: 'exits', cases: [
      { name: 'calls process.exit(0)', run() { process.exit(0); } },
      { name: 'calls process.exit(0) from a timer', async run() { setTimeout(() => process.exit(0), 5); await new Promise((r) => setTimeout(r, 300)); } },
      { name: 'catches what process.exit throws', run() { try { process.exit(0); } catch {} } },
      { name: 'the next case runs', run() {} },
    ] }`);
    const result = await runCli(['-c', file, '--junit', junit]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] calls process\.exit\(0\)[^\n]*\n[^\n]*process\.exit\(0\) was called/);
    assert.match(result.stdout, /ERROR +\[1\.2\] calls process\.exit\(0\) from a timer[^\n]*\n[^\n]*process\.exit\(0\) was called/);
    assert.match(result.stdout, /ERROR +\[1\.3\] catches what process\.exit throws/);
    assert.match(result.stdout, /PASS +\[1\.4\] the next case runs/);
    assert.ok(existsSync(junit), 'no JUnit report');
    assert.match(readFileSync(junit, 'utf8'), /tests="4" failures="0" errors="3"/);
    assert.match(result.stdout, /Run record: /);
  });
});

describe('a case that ran past its timeout', () => {
  it('is ERROR (KISO_TIMEOUT) even when a busy loop kept it from being aborted, sync or async, in any step', async () => {
    const { file, junit } = station(`{ name: 'busy', cases: [
      { name: 'sync busy loop', timeout: { run: 200 }, run() { busy(600); } },
      { name: 'async busy loop', timeout: { run: 200 }, async run() { await Promise.resolve(); busy(600); } },
      { name: 'busy setup', timeout: { setup: 200 }, setup() { busy(600); }, run() {} },
      { name: 'in time', timeout: { run: 5000 }, run() { busy(10); } },
    ] }`, 'const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };');
    const result = await runCli(['-c', file, '--junit', junit]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] sync busy loop[^\n]*\n[^\n]*case "sync busy loop" ran \d+ ms, past its timeout of 200 ms/);
    assert.match(result.stdout, /ERROR +\[1\.2\] async busy loop[^\n]*\n[^\n]*past its timeout of 200 ms/);
    assert.match(result.stdout, /ERROR +\[1\.3\] busy setup[^\n]*\n[^\n]*setup of case "busy setup" ran \d+ ms, past its timeout of 200 ms/);
    assert.match(result.stdout, /PASS +\[1\.4\] in time/);
    assert.match(readFileSync(junit, 'utf8'), /KISO_TIMEOUT|timed out|past its timeout/);
  });
});

describe('secrets in logs', () => {
  it('are redacted at any depth and in any spelling: console, NDJSON, JUnit and the run record', async () => {
    const { dir, file, junit } = station(`{ name: 'secrets', cases: [
      { name: 'logs secrets', run(ctx) {
        const err = Object.assign(new Error('login failed'), { config: { api_key: 'SECRET-1', headers: { Authorization: 'Bearer SECRET-2' } } });
        ctx.log.info({ key: 'SECRET-3', a: { b: { password: 'SECRET-4' } }, list: [{ token: 'SECRET-5' }], API_KEY: 'SECRET-6', access_token: 'SECRET-7', apikey: 'SECRET-8', 'api-key': 'SECRET-9', passwd: 'SECRET-10', client_secret: 'SECRET-11' }, 'VISIBLE-LINE');
        ctx.log.error({ err }, 'VISIBLE-ERROR');
      } },
    ] }`);
    const ndjson = path.join(dir, 'run.ndjson');
    const result = await runCli(['-c', file, '--junit', junit, '-l', ndjson]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const show = await runCli(['runs', 'show', /Run record: (\S+) in /.exec(result.stdout)![1]!, '--json']);
    assert.equal(show.code, 0, show.stderr);
    const outputs = { console: result.stdout + result.stderr, ndjson: readFileSync(ndjson, 'utf8'), junit: readFileSync(junit, 'utf8'), record: show.stdout };
    for (const [where, text] of Object.entries(outputs)) {
      assert.match(text, /VISIBLE-LINE/, `${where} lacks the log line`);
      assert.doesNotMatch(text, /SECRET-/, `${where} shows a secret`);
    }
    assert.match(outputs.ndjson, /"password":"\[redacted\]"/);
  });
});

describe('a suite that throws at import', () => {
  it('is one ERROR line with the suite file\'s own position and message, no kiso stack on the console or in JUnit', async () => {
    const { dir, file, junit } = station(`{ name: 'fine', cases: [{ name: 'runs', run() {} }] }`);
    writeFileSync(path.join(dir, 'suite', 'test_throws.mjs'), `import { defineSuite } from '${KISO}';\nconst config = undefined;\nconst port = config.port;\nexport default defineSuite({ name: 'never', cases: [] });\n`);
    writeFileSync(path.join(dir, 'suite', 'test_syntax.mjs'), `import { defineSuite } from '${KISO}';\n\nconst x = ;\nexport default defineSuite({ name: 'never', cases: [] });\n`);
    const result = await runCli(['-c', file, '--junit', junit]);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 1, output);
    const throws = path.join(dir, 'suite', 'test_throws.mjs');
    assert.match(result.stdout, new RegExp(`cannot load suite file ${throws.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:21: TypeError: Cannot read properties of undefined \\(reading 'port'\\)`));
    assert.equal(output.split("Cannot read properties of undefined (reading 'port')").length - 1, 1, `the message is printed more than once:\n${output}`);
    assert.match(result.stdout, /test_syntax\.mjs:3:11: SyntaxError: Unexpected token ';'/);
    assert.equal(output.split("Unexpected token ';'").length - 1, 1, output);
    assert.match(result.stdout, /PASS +\[1\.1\] runs/);
    for (const text of [output, readFileSync(junit, 'utf8')]) {
      assert.doesNotMatch(text, /run-station|discover\.js|user-module|"stack"/, text);
    }
    assert.match(readFileSync(junit, 'utf8'), /test_throws\.mjs:3:21/);
  });
});
