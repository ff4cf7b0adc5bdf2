import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, runCli, ROOT } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-cli-'));
const freePort = (): string => String(40000 + Math.floor(Math.random() * 20000));

describe('kiso CLI on the examples', () => {
  it('loopback.yaml runs green: exit 0, live progress and a summary', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /PASS +\[1\.1\] a message comes back unchanged/);
    assert.match(result.stdout, /PASSED: 3 passed, 0 failed, 0 errors, 0 skipped/);
  });

  it('udp.yaml runs green over 127.0.0.1', async () => {
    const result = await runCli(['-c', 'examples/templates/udp.yaml'], { env: { KISO_UDP_PORT: freePort() } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 passed, 0 failed/);
    assert.doesNotMatch(result.stderr, /still open after the run/);
  });

  it('failing.yaml exits 1 and its JUnit report has each outcome, messages and system-out', async () => {
    const junit = path.join(tmp(), 'reports', 'failing.xml');
    const result = await runCli(['-c', 'examples/templates/failing.yaml', '--junit', junit]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /FAILED: 1 passed, 1 failed, 2 errors, 1 skipped/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuites name="kiso" tests="5" failures="1" errors="2" skipped="1"/);
    assert.match(xml, /<failure message="supply voltage out of range[^"]*" type="AssertionError">/);
    assert.match(xml, /<error message="no answer from the device" type="Error">/);
    assert.match(xml, /<error message="case &quot;times out and still tears down&quot; timed out after 200 ms" type="KisoError">/);
    assert.match(xml, /<skipped message="needs the climate chamber"\/>/);
    assert.match(xml, /<system-out>[^<]*measured 4\.2 V/);
    assert.match(xml, /<system-out>[^<]*teardown ran after the timeout/);
  });

  it('runs several -c files one after another and fails if one fails', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '-c', 'examples/templates/failing.yaml']);
    assert.equal(result.code, 1);
    assert.ok(result.stdout.indexOf('Suite 1: loopback') < result.stdout.indexOf('Suite 1: every outcome'));
  });
});

describe('selection', () => {
  it('a tag filter (--variant quick) runs only the cases with that tag value', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '--variant', 'quick']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /PASS +\[1\.2\]/);
    assert.match(result.stdout, /SKIP +\[1\.1\][^\n]*\n +not selected by --variant quick/);
  });

  it('-p file::case selects cases by name', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '-p', 'test_loop*.ts::*order*']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /1 passed, 0 failed, 0 errors, 2 skipped/);
  });

  it('--failfast stops after the first failure', async () => {
    const result = await runCli(['-c', 'examples/templates/failing.yaml', '--failfast']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /1 passed, 1 failed, 0 errors, 3 skipped/);
  });
});

describe('logs', () => {
  it('-l FOLDER writes the run as NDJSON, one JSON object per line', async () => {
    const dir = tmp();
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '-l', `${dir}/`, '--log-level', 'debug']);
    assert.equal(result.code, 0, result.stderr);
    const [file] = readdirSync(dir);
    assert.ok(file?.endsWith('.ndjson'));
    const lines = readFileSync(path.join(dir, file), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: number });
    assert.ok(lines.some((line) => line.msg === 'got the echo back'));
    assert.ok(lines.some((line) => line.level === 20), 'debug lines are in the file at --log-level debug');
  });

  it('--log-level warn hides info lines on the console', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '--log-level', 'warn']);
    assert.doesNotMatch(result.stderr, /INFO/);
  });
});

describe('exit behaviour', () => {
  it('charges stray errors to the running case, warns about a handle a suite left open, and still exits', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/leaky.yaml'], { timeoutMs: 20_000 });
    assert.equal(result.signal, null, 'kiso had to be killed: it hung on the leftover timer');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /still open after the run: 1 × Timeout/);
    assert.match(result.stderr, /unhandled rejection \(from a suite or auxiliary\): stray failure nobody awaited/);
    assert.match(result.stdout, /ERROR +\[1\.1\] leaves an interval[^\n]*\n[^\n]*escaped the case[^\n]*stray failure nobody awaited/);
    assert.match(result.stdout, /ERROR +\[1\.2\] throws from a timer callback[^\n]*\n[^\n]*thrown in a timer callback/);
    assert.match(result.stdout, /PASS +\[1\.3\] still runs after that/);
  });
});

describe('suites in a station folder of their own', () => {
  /** A station folder with `suites/` and kiso in its node_modules, as a user's project has. */
  function stationFolder(options: { typeModule?: boolean } = {}): string {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'kiso'));
    if (options.typeModule) writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\nconnectors: {}\ntest_suite_list:\n  - suite_dir: suites\n');
    return dir;
  }

  it('loads a .ts suite outside any "type": "module" package (CommonJS) and imports kiso from node_modules', async () => {
    const dir = stationFolder();
    writeFileSync(
      path.join(dir, 'suites', 'test_plain.ts'),
      "import assert from 'node:assert';\nimport { defineSuite } from 'kiso';\nexport default defineSuite({ cases: [{ name: 'passes', run() {} }, { name: 'fails', run() { assert.ok(1 > 2); } }] });\n",
    );
    const result = await runCli(['-c', path.join(dir, 'station.yaml')], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /1 passed, 1 failed, 0 errors/);
  });

  it('a CommonJS .ts suite shares the run\'s kiso (and kiso/can) instead of a recompiled copy, and imports a .ts helper by its .js name', async () => {
    const dir = stationFolder();
    writeFileSync(path.join(dir, 'suites', 'helper.ts'), "export const answer: number = 42;\n");
    writeFileSync(
      path.join(dir, 'suites', 'test_shared.ts'),
      [
        "import assert from 'node:assert/strict';",
        "import { defineSuite } from 'kiso';",
        "import * as can from 'kiso/can';",
        "import { answer } from './helper.js';",
        'export default defineSuite({ cases: [',
        "  { name: 'one kiso', async run() { assert.equal((await import('kiso')).defineSuite, defineSuite); } },",
        "  { name: 'one kiso/can', async run() { const esm = await import('kiso/can'); for (const key of Object.keys(esm)) assert.equal((can as Record<string, unknown>)[key], (esm as Record<string, unknown>)[key], key); } },",
        "  { name: 'helper', run() { assert.equal(answer, 42); } },",
        '] });',
        '',
      ].join('\n'),
    );
    const result = await runCli(['-c', path.join(dir, 'station.yaml')], { cwd: dir });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /3 passed, 0 failed, 0 errors/);
  });

  it('a .ts suite with top-level await (an ES module only import() can load) still loads, import.meta included', async () => {
    const dir = stationFolder({ typeModule: true });
    writeFileSync(path.join(dir, 'suites', 'test_a_plain.ts'), "import { defineSuite } from 'kiso';\nexport default defineSuite({ name: 'plain', cases: [{ name: 'where', run() { if (!import.meta.url.endsWith('/test_a_plain.ts')) throw new Error(import.meta.url); } }] });\n");
    writeFileSync(
      path.join(dir, 'suites', 'test_b_awaits.ts'),
      "import { defineSuite } from 'kiso';\nconst value = await Promise.resolve(7);\nexport default defineSuite({ name: 'awaits', cases: [{ name: 'awaited', run() { if (value !== 7) throw new Error(String(value)); } }] });\n",
    );
    const result = await runCli(['-c', path.join(dir, 'station.yaml')], { cwd: dir });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 passed, 0 failed, 0 errors/);
  });
});

describe('usage', () => {
  it('the built kiso command is executable (npx kiso runs it directly)', () => {
    assert.ok((statSync(CLI).mode & 0o111) !== 0, `${CLI} has no execute bit`);
  });

  it('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /-c, --test-configuration-file/);
    assert.match(help.stdout, /tag filter/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    const { version: expected } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), expected);
  });

  it('no -c, a bad option value or a stray argument is a usage error: exit 2', async () => {
    assert.equal((await runCli([])).code, 2);
    assert.equal((await runCli(['-c', 'examples/templates/loopback.yaml', '--log-level', 'loud'])).code, 2);
    const stray = await runCli(['-c', 'examples/templates/loopback.yaml', 'extra']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument "extra"/);
  });

  it('a missing config file is exit 2 naming it', async () => {
    const result = await runCli(['-c', 'nope/station.yaml']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot read ".*nope\/station\.yaml": no such file/);
  });

  it('`kiso validate` says OK for every example station', async () => {
    const examples = readdirSync(path.join(ROOT, 'examples/templates')).filter((name) => name.endsWith('.yaml'));
    assert.ok(examples.length >= 8, examples.join(', '));
    const result = await runCli(['validate', ...examples.flatMap((name) => ['-c', `examples/templates/${name}`])]);
    assert.equal(result.code, 0, result.stderr);
    for (const name of examples) assert.match(result.stdout, new RegExp(`${name.replace('.', '\\.')}: OK`));
  });

  it('`kiso schema` prints a JSON schema with every built-in type', async () => {
    const result = await runCli(['schema']);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as { definitions: { connector: { allOf: unknown[] } } };
    assert.ok(schema.definitions.connector.allOf.length >= 5);
    assert.match(result.stdout, /pykiso\.lib\.connectors\.cc_udp:CCUdp/);
  });
});

describe('editor schema', () => {
  it('`kiso schema` compiles, accepts the example stations and flags a wrong key as an editor would', async () => {
    const { Ajv } = await import('ajv');
    const { parse } = await import('yaml');
    const result = await runCli(['schema']);
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('address', true);
    const validate = ajv.compile(JSON.parse(result.stdout) as object);
    for (const name of ['loopback.yaml', 'failing.yaml']) {
      const data = parse(readFileSync(path.join(ROOT, 'examples/templates', name), 'utf8')) as unknown;
      assert.equal(validate(data), true, `${name}: ${JSON.stringify(validate.errors)}`);
    }
    const typo = parse('auxiliaries: {}\nconnectors:\n  udp:\n    type: CCUdp\n    config: { dest_ip: 127.0.0.1, dest_prot: 5000 }\n') as unknown;
    assert.equal(validate(typo), false);
    assert.ok(validate.errors?.some((error) => error.params && (error.params as { additionalProperty?: string }).additionalProperty === 'dest_prot'));
  });
});
