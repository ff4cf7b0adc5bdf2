import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * The example station examples/templates/can_dbc_uds.yaml, run by the built
 * CLI as a user runs it: a simulated ECU on the virtual CAN bus, a suite that
 * sets and waits on DBC signals and speaks UDS. Each run gets its own bus port.
 */
const work = mkdtempSync(path.join(tmpdir(), 'kiso-can-dbc-'));
after(() => rmSync(work, { recursive: true, force: true }));
const port = (): string => String(45000 + Math.floor(Math.random() * 10_000));

describe('example: CAN signals and UDS diagnostics', () => {
  it('runs green from the repository', async () => {
    const result = await runCli(['-c', 'examples/templates/can_dbc_uds.yaml'], { env: { KISO_CAN_PORT: port() }, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASSED: 6 passed, 0 failed, 0 errors, 0 skipped/);
    assert.match(result.stdout, /PASS {2}\[1\.2\] the engine follows the requested speed and gear/);
  });

  /** A copy of the example station that imports 'kiso' like a user's station does. */
  function copyStation(name: string): string {
    const copy = path.join(work, name);
    cpSync(path.join(ROOT, 'examples/templates'), copy, { recursive: true });
    mkdirSync(path.join(copy, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, path.join(copy, 'node_modules', 'kiso'), 'dir');
    return copy;
  }

  it('runs the same suite, unchanged, with the tester\'s auxiliaries in their own processes (processing: true)', async () => {
    const copy = copyStation('processing');
    const yaml = path.join(copy, 'can_dbc_uds.yaml');
    const text = readFileSync(yaml, 'utf8').replace(/( {2}(tester_bus|diag_bus):\n {4}type: CCVirtualCan\n {4}config:\n)/g, '$1      processing: true\n');
    assert.equal(text.match(/processing: true/g)?.length, 2);
    writeFileSync(yaml, text);
    const result = await runCli(['-c', yaml], { env: { KISO_CAN_PORT: port() }, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASSED: 6 passed, 0 failed, 0 errors, 0 skipped/);
  });

  it('a broken DBC stops the run before anything opens, naming file and line (exit code 2)', async () => {
    const copy = copyStation('broken');
    const dbc = path.join(copy, 'suite_can_dbc_uds', 'vehicle.dbc');
    const lines = readFileSync(dbc, 'utf8').split('\n');
    const line = lines.findIndex((text) => text.includes('SG_ TargetSpeed'));
    lines[line] = lines[line]!.replace('[0|8000]', '[0|8000');
    writeFileSync(dbc, lines.join('\n'));
    const result = await runCli(['-c', path.join(copy, 'can_dbc_uds.yaml')], { env: { KISO_CAN_PORT: port() } });
    assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, new RegExp(`auxiliary "can": .*vehicle\\.dbc:${line + 1}:\\d+: expected "\\]" after the maximum, found "rpm" \\(a text\\)`));
    assert.doesNotMatch(result.stdout, /Suite 1/);
    const validate = await runCli(['validate', '-c', path.join(copy, 'can_dbc_uds.yaml')], { env: { KISO_CAN_PORT: port() } });
    assert.equal(validate.code, 2, `${validate.stdout}\n${validate.stderr}`);
    assert.match(validate.stderr, new RegExp(`vehicle\\.dbc:${line + 1}:\\d+: expected "\\]" after the maximum`));
  });
});
