import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runCli } from '../helpers/cli.js';
import { freeUdpPort } from '../helpers/peers.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-slots-'));

/** The example's slots on free ports, as a --duts file. */
/** The example's four devices on UDP ports free now (test files run in parallel: fixed or random ports can collide). */
async function dutsFile(dir: string): Promise<string> {
  const ports: number[] = [];
  while (ports.length < 4) {
    const port = await freeUdpPort();
    if (!ports.includes(port)) ports.push(port);
  }
  const file = path.join(dir, 'duts.yaml');
  writeFileSync(
    file,
    [
      `- { slot: 1, serial_number: SN-0001, port: ${ports[0]}, firmware: "1.4.2" }`,
      `- { slot: 2, serial_number: SN-0002, port: ${ports[1]}, firmware: "1.4.2" }`,
      `- { slot: 3, serial_number: SN-0003, port: ${ports[2]}, firmware: "1.3.9" }`,
      `- { slot: 4, serial_number: SN-0004, port: ${ports[3]}, firmware: "1.4.2" }`,
      '- { slot: 5, present: false }',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * The crash station of test/fixtures/valid/slots_crash.yaml (slot 2's worker dies in the first case
 * it runs), shaped for --dist load so that slot 2 is certain to get a unit. Left to the scheduler,
 * the healthy slot can take all four units before the crashing worker is ready (an idle slot
 * takes the next unit; nothing promises every slot one), and then nothing crashes. Here the
 * healthy slot's cases wait until the crashing worker has started a case and is dead: slot 1
 * holds one unit while it waits, the other three are left, so slot 2 gets one; and the units
 * slot 1 takes after its first are handed out after the crash.
 */
function loadCrashStation(dir: string): string {
  const marker = path.join(dir, 'crashing-worker.pid');
  const suites = path.join(dir, 'suites');
  mkdirSync(suites);
  writeFileSync(
    path.join(suites, 'test_work.mjs'),
    `import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};

const marker = ${JSON.stringify(marker)};
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Until the crashing worker has started a case and is gone (20 s at most: then the test's counts say what went wrong). */
async function crashDone() {
  for (const until = Date.now() + 20_000; Date.now() < until; await sleep(10)) {
    if (existsSync(marker) && !alive(Number(readFileSync(marker, 'utf8')))) return;
  }
}

const work = (name) => ({
  name,
  auxiliaries: ['worker_killer'],
  async run(ctx) {
    if (ctx.dut.crash) writeFileSync(marker, String(process.pid)); // worker_killer kills this process next
    else await crashDone();
    const report = await ctx.aux('worker_killer').runCommand('work');
    assert.equal(report?.value, 'done');
  },
});

export default defineSuite({ name: 'work', cases: [work('a'), work('b'), work('c'), work('d')] });
`,
  );
  const config = path.join(dir, 'slots_crash_load.yaml');
  writeFileSync(
    config,
    [
      'duts:',
      '  - { slot: 1, serial_number: SN-A, crash: false }',
      '  - { slot: 2, serial_number: SN-B, crash: true }',
      'auxiliaries:',
      '  worker_killer:',
      '    connectors: { com: loop }',
      `    type: ${JSON.stringify(`${path.join(ROOT, 'test/fixtures/valid/crashing_auxiliary.ts')}:CrashingAuxiliary`)}`,
      '    config: { crash: "${dut.crash}" }',
      'connectors:',
      '  loop: { type: CCLoopback }',
      'test_suite_list:',
      '  - { suite_dir: suites, test_filter_pattern: "test_*.mjs" }',
      '',
    ].join('\n'),
  );
  return config;
}

const caseLines = (stdout: string, slot: number): string[] => stdout.split('\n').filter((line) => line.startsWith(`[slot ${slot} `) && /(PASS|FAIL|ERROR|SKIP) +\[/.test(line));

describe('fixture slots', () => {
  it('--dist each: every device runs every case in its own worker; one failing slot fails only itself; reports per serial', async () => {
    const dir = tmp();
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', await dutsFile(dir), '--junit', junit, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    for (const slot of [1, 2, 4]) assert.equal(caseLines(result.stdout, slot).filter((line) => line.includes('PASS')).length, 3, `slot ${slot}:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /\[slot 3 SN-0003\] +FAIL +\[1\.2\] the firmware is 1\.4\.2/);
    assert.match(result.stdout, /^3 +SN-0003 +FAILED +2\/1\/0\/0/m);
    assert.match(result.stdout, /^1 +SN-0001 +PASSED +3\/0\/0\/0/m);
    assert.match(result.stdout, /^5 +- +empty/m);
    assert.match(result.stdout, /STATION FAILED: 3 of 4 device\(s\) passed, 1 empty slot\(s\) skipped/);
    const slot3 = readFileSync(path.join(dir, 'junit-SN-0003.xml'), 'utf8');
    assert.match(slot3, /tests="3" failures="1" errors="0"/);
    assert.match(readFileSync(path.join(dir, 'junit-SN-0001.xml'), 'utf8'), /tests="3" failures="0" errors="0"/);
    // the slot's log lines reach its case in its own report
    assert.match(slot3, /<system-out>[^<]*firmware version[^<]*1\.3\.9/);
    // ctx.dut gives the suite its slot's values
    assert.match(slot3, /<system-out>[^<]*firmware version[^<]*serial=SN-0003/);
  });

  it('--dist load: the devices share the case list, every case runs exactly once', async () => {
    const dir = tmp();
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', await dutsFile(dir), '--dist', 'load', '--no-record']);
    const ran = [1, 2, 3, 4].flatMap((slot) => caseLines(result.stdout, slot)).map((line) => /\[(1\.\d)\]/.exec(line)![1]);
    assert.deepEqual(ran.sort(), ['1.1', '1.2', '1.3']);
  });

  it('--jobs 1 runs the slots one after another', async () => {
    const dir = tmp();
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', await dutsFile(dir), '--jobs', '1', '--no-record']);
    const order = result.stdout.split('\n').filter((line) => line.startsWith('[slot ')).map((line) => Number(/^\[slot (\d)/.exec(line)![1]));
    assert.deepEqual(order, [...order].sort(), `slots interleaved: ${order.join(',')}`);
  });

  it('a worker that dies fails its own slot only (each): its cases are ERROR naming the slot and the signal', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/slots_crash.yaml', '--no-record']);
    assert.equal(result.code, 1);
    assert.equal(caseLines(result.stdout, 1).filter((line) => line.includes('PASS')).length, 4);
    assert.match(result.stdout, /^2 +SN-B +ERROR +0\/0\/4\/0 .*the worker of slot 2 \(SN-B, pid \d+\) was killed by SIGKILL/m);
    assert.match(result.stdout, /\[slot 2 SN-B\] +ERROR +\[1\.1\] a[^\n]*\n[^\n]*killed by SIGKILL while this case ran/);
  });

  it('a worker that dies with --dist load: its unit is ERROR, the rest goes to the other slot, every report is written', async () => {
    const dir = tmp();
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', loadCrashStation(dir), '--dist', 'load', '--junit', junit, '--no-record']);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 1, output);
    const errors = caseLines(result.stdout, 2).filter((line) => line.includes('ERROR'));
    const passes = caseLines(result.stdout, 1).filter((line) => line.includes('PASS'));
    assert.equal(errors.length, 1, output);
    assert.equal(caseLines(result.stdout, 2).length, 1, output);
    assert.equal(passes.length, 3, output);
    assert.equal(caseLines(result.stdout, 1).length, 3, output);
    // every case ran (or died) exactly once, across the two slots
    const ran = [1, 2].flatMap((slot) => caseLines(result.stdout, slot)).map((line) => /\[(1\.\d)\]/.exec(line)![1]);
    assert.deepEqual(ran.sort(), ['1.1', '1.2', '1.3', '1.4'], output);
    assert.match(result.stdout, /\[slot 2 SN-B\] +ERROR +\[1\.\d\] [a-d][^\n]*\n[^\n]*killed by SIGKILL while this case ran/, output);
    assert.match(result.stdout, /^2 +SN-B +ERROR +0\/0\/1\/0 .*the worker of slot 2 \(SN-B, pid \d+\) was killed by SIGKILL/m, output);
    assert.match(result.stdout, /^1 +SN-A +PASSED +3\/0\/0\/0/m, output);
    assert.doesNotMatch(output, /work unit\(s\) were not run/);
    assert.match(readFileSync(path.join(dir, 'junit-SN-A.xml'), 'utf8'), /tests="3" failures="0" errors="0"/);
    assert.match(readFileSync(path.join(dir, 'junit-SN-B.xml'), 'utf8'), /tests="1" failures="0" errors="1"/);
  });

  it('duplicate serial numbers stop everything before it starts, naming both slots', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/slots_crash.yaml', '--duts', 'test/fixtures/valid/duts_duplicate.yaml']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /duts_duplicate\.yaml:3:\d+: .*serial number "SN-1" of slot 3 is already used by slot 1/);
    assert.doesNotMatch(result.stdout, /\[slot/);
  });

  it('a ${dut.NAME} a slot lacks is a config error naming the slot', async () => {
    const result = await runCli(['validate', '-c', 'test/fixtures/broken/dut_unknown_value.yaml']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /dut_unknown_value\.yaml:9:\d+: connectors\.udp\.config\.dest_port: slot 2 \(SN-2\): this slot has no value "port" for \$\{dut\.port\}/);
    assert.doesNotMatch(result.stderr, /missing required key "dest_port"/);
  });

  it('kiso validate counts the devices', async () => {
    const result = await runCli(['validate', '-c', 'examples/templates/parallel_duts.yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /4 device\(s\) in 5 slot\(s\)/);
  });
});
