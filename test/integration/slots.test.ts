import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-slots-'));

/** The example's slots on free ports, as a --duts file. */
function dutsFile(dir: string): string {
  const base = 30000 + Math.floor(Math.random() * 20000);
  const file = path.join(dir, 'duts.yaml');
  writeFileSync(
    file,
    [
      `- { slot: 1, serial_number: SN-0001, port: ${base + 1}, firmware: "1.4.2" }`,
      `- { slot: 2, serial_number: SN-0002, port: ${base + 2}, firmware: "1.4.2" }`,
      `- { slot: 3, serial_number: SN-0003, port: ${base + 3}, firmware: "1.3.9" }`,
      `- { slot: 4, serial_number: SN-0004, port: ${base + 4}, firmware: "1.4.2" }`,
      '- { slot: 5, present: false }',
      '',
    ].join('\n'),
  );
  return file;
}

const caseLines = (stdout: string, slot: number): string[] => stdout.split('\n').filter((line) => line.startsWith(`[slot ${slot} `) && /(PASS|FAIL|ERROR|SKIP) +\[/.test(line));

describe('fixture slots', () => {
  it('--dist each: every device runs every case in its own worker; one failing slot fails only itself; reports per serial', async () => {
    const dir = tmp();
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', dutsFile(dir), '--junit', junit, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    for (const slot of [1, 2, 4]) assert.equal(caseLines(result.stdout, slot).filter((line) => line.includes('PASS')).length, 3, `slot ${slot}`);
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
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', dutsFile(dir), '--dist', 'load', '--no-record']);
    const ran = [1, 2, 3, 4].flatMap((slot) => caseLines(result.stdout, slot)).map((line) => /\[(1\.\d)\]/.exec(line)![1]);
    assert.deepEqual(ran.sort(), ['1.1', '1.2', '1.3']);
  });

  it('--jobs 1 runs the slots one after another', async () => {
    const dir = tmp();
    const result = await runCli(['-c', 'examples/templates/parallel_duts.yaml', '--duts', dutsFile(dir), '--jobs', '1', '--no-record']);
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

  it('a worker that dies with --dist load: its unit is ERROR, the rest goes to the other slot', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/slots_crash.yaml', '--dist', 'load', '--no-record']);
    assert.equal(result.code, 1);
    const errors = caseLines(result.stdout, 2).filter((line) => line.includes('ERROR'));
    const passes = caseLines(result.stdout, 1).filter((line) => line.includes('PASS'));
    assert.equal(errors.length, 1, result.stdout);
    assert.equal(passes.length, 3, result.stdout);
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
