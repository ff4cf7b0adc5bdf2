import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { storedRecords } from '../helpers/records.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import type { RunRecord } from '../../src/results/record/types.js';

const PYTHON = '/usr/bin/python3';
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-prompt-'));

const SUITE = `import assert from 'node:assert/strict';
import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
export default defineSuite({ name: 'operator', cases: [
  { name: 'led', async run(ctx) {
    const green = await ctx.prompt({ message: 'Is the LED green?' });
    assert.equal(green, true, 'the operator saw the LED green');
  } },
  { name: 'probe', async run(ctx) {
    const volts = await ctx.prompt({ message: 'Voltage on the probe?', kind: 'number' });
    ctx.check.near(volts, 5, 0.2, 'probe voltage');
    const fixture = await ctx.prompt({ message: 'Which fixture?', kind: 'choice', choices: ['A', 'B'] });
    ctx.check.equal(fixture, 'B', 'fixture');
  } },
] });
`;

function station(extra = ''): string {
  const dir = tmp();
  mkdirSync(path.join(dir, 'suites'));
  writeFileSync(path.join(dir, 'suites', 'test_operator.mjs'), SUITE);
  writeFileSync(path.join(dir, 'station.yaml'), `${extra}auxiliaries:\n  aux1: { connectors: { com: chan }, type: CommunicationAuxiliary }\nconnectors:\n  chan: { type: CCLoopback }\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 1 }\n`);
  return path.join(dir, 'station.yaml');
}

const records = (store: string): RunRecord[] => storedRecords(store);

/** kiso on a real pseudo-terminal (Python's pty), answering each prompt once its text appears. */
function onTerminal(args: string[], answers: Array<[string, string]>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [path.join(ROOT, 'test/helpers/pty_run.py'), JSON.stringify(answers), '--', process.execPath, CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 90_000 }, (error, stdout) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout });
    });
  });
}

describe('operator prompts', () => {
  it('with no operator (no terminal, no kiso serve) a prompt is an ERROR naming it, never a hang; the record says so', async () => {
    const file = station();
    const store = path.dirname(file);
    const result = await runCli(['-c', file], { env: { KISO_STORE: store } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] led .*\n +KisoError: prompt "Is the LED green\?" needs an operator and there is none: run kiso at a terminal, or under kiso serve/);
    const [record] = records(store);
    assert.deepEqual({ ...record!.phases[0]!.prompts![0]!, asked_at: undefined }, { message: 'Is the LED green?', kind: 'confirm', error: 'prompt "Is the LED green?" needs an operator and there is none: run kiso at a terminal, or under kiso serve', asked_at: undefined });
  });

  it('at a terminal kiso asks, asks again until the answer fits, and records the answers', { skip: existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing` }, async () => {
    const file = station();
    const store = path.dirname(file);
    const { code, output } = await onTerminal(['-c', file], [['Is the LED green? [y/n]', 'maybe'], ['answer yes or no', 'y'], ['Voltage on the probe? [number]', '5.1'], ['Which fixture? [1=A, 2=B]', '2']], { KISO_STORE: store });
    assert.equal(code, 0, output);
    assert.match(output, /PASS +\[1\.1\] led[\s\S]*PASS +\[1\.2\] probe/);
    const [record] = records(store);
    assert.deepEqual(record!.phases.flatMap((p) => p.prompts!.map((q) => [q.message, q.answer])), [['Is the LED green?', true], ['Voltage on the probe?', 5.1], ['Which fixture?', 'B']]);
  });

  it('a prompt of a fixture slot (in its worker) is asked at the terminal, naming the slot and serial', { skip: existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing` }, async () => {
    const file = station('duts:\n  - { slot: 1, serial_number: SN-P1 }\n');
    const { code, output } = await onTerminal(['-c', file, '--no-record', '-p', 'test_operator.mjs::led'], [['slot 1 SN-P1 · led: Is the LED green? [y/n]', 'n']]);
    assert.equal(code, 1, output);
    assert.match(output, /FAIL +\[1\.1\] led[\s\S]*the operator saw the LED green/);
  });

  it('a prompt with timeoutMs and nobody answering is an ERROR after that long', { skip: existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing` }, async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    writeFileSync(path.join(dir, 'suites', 'test_wait.mjs'), `import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
export default defineSuite({ cases: [{ name: 'waits', async run(ctx) { await ctx.prompt({ message: 'Anyone?', timeoutMs: 300 }); } }] });
`);
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 1 }\n');
    const { code, output } = await onTerminal(['-c', path.join(dir, 'station.yaml'), '--no-record'], []);
    assert.equal(code, 1, output);
    assert.match(output, /ERROR +\[1\.1\] waits .*\r?\n +KisoError: no answer to prompt "Anyone\?" within 300 ms/);
  });

  it('pykiso.prompt in a Python suite is ctx.prompt', { skip: existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing` }, async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    writeFileSync(path.join(dir, 'suites', 'test_ask.py'), `import pykiso

@pykiso.define_test_parameters(suite_id=1, case_id=1)
class Ask(pykiso.BasicTest):
    def test_run(self):
        self.assertEqual(pykiso.prompt("Serial on the label?", kind="text"), "SN-LABEL-7")
`);
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.py", test_suite_id: 1 }\n');
    const { code, output } = await onTerminal(['-c', path.join(dir, 'station.yaml'), '--no-record'], [['Serial on the label?', 'SN-LABEL-7']]);
    assert.equal(code, 0, output);
    assert.match(output, /PASS +\[1\.1\] Ask\.test_run/);
  });
});
