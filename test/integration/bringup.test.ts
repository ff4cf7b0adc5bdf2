import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readCanPcap } from '../../src/can/pcap.js';
import { parseCandumpLog } from '../../src/can/frame.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';

const YAML = 'test/fixtures/valid/bringup.yaml';
const ports = () => ({ KISO_CAN_PORT: String(46000 + Math.floor(Math.random() * 9000)), KISO_UDP_PORT: String(36000 + Math.floor(Math.random() * 9000)) });

/** Starts `kiso dump` and resolves once it listens. */
function startDump(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI, 'dump', '-c', YAML, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const listening = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('listening')) resolve();
  }));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => { clearTimeout(guard); resolve(code); }));
  return { child, listening, done, output: () => ({ stdout, stderr }) };
}

const hasPythonCan = spawnSync('/usr/bin/python3', ['-c', 'import can, msgpack'], { stdio: 'ignore' }).status === 0;

describe('kiso dump and kiso send', () => {
  it('send (cansend syntax) reaches dump (candump format) over the virtual CAN bus, and -L and --pcap read back', async () => {
    const env = ports();
    const pcap = path.join(mkdtempSync(path.join(tmpdir(), 'kiso-dump-')), 'bus.pcap');
    const screen = startDump(['--connector', 'can', '--count', '4'], env);
    const log = startDump(['--connector', 'can', '--count', '4', '-L', '--pcap', pcap], env);
    await Promise.all([screen.listening, log.listening]);
    const sent = await runCli(['send', '-c', YAML, '--connector', 'can_tx', '123#DEADBEEF', '1F334455#11.22', '7FF#R4', '123##1AABBCCDD'], { env });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(await screen.done, 0);
    assert.equal(await log.done, 0);
    assert.deepEqual(screen.output().stdout.split('\n').filter(Boolean), [
      '  can  123   [4]  DE AD BE EF',
      '  can  1F334455   [2]  11 22',
      '  can  7FF   [4]  remote request',
      '  can  123  [04]  AA BB CC DD',
    ]);
    const frames = log.output().stdout.split('\n').filter(Boolean).map(parseCandumpLog);
    assert.deepEqual(frames.map((frame) => [frame.can.id, frame.can.extended, frame.can.remote, frame.can.fd, frame.can.brs, [...frame.data]]), [
      [0x123, false, false, false, false, [0xde, 0xad, 0xbe, 0xef]],
      [0x1f334455, true, false, false, false, [0x11, 0x22]],
      [0x7ff, false, true, false, false, []],
      [0x123, false, false, true, true, [0xaa, 0xbb, 0xcc, 0xdd]],
    ]);
    const records = readCanPcap(readFileSync(pcap));
    assert.equal(records.length, 4);
  });

  it('dump prints what python-can sends on the bus', { skip: hasPythonCan ? false : 'python3-can (with msgpack) is not installed for /usr/bin/python3' }, async () => {
    const env = ports();
    const dump = startDump(['--connector', 'can', '--count', '2'], env);
    await dump.listening;
    const script = `import can\nbus = can.Bus(interface='udp_multicast', channel='239.74.163.2', port=${env.KISO_CAN_PORT})\nbus.send(can.Message(arbitration_id=0x42, data=[1, 2, 3], is_extended_id=False))\nbus.send(can.Message(arbitration_id=0x18DAF110, data=[0xAA], is_extended_id=True))\nbus.shutdown()\n`;
    assert.equal(spawnSync('/usr/bin/python3', ['-c', script], { stdio: 'inherit' }).status, 0);
    assert.equal(await dump.done, 0);
    assert.deepEqual(dump.output().stdout.split('\n').filter(Boolean), ['  can  042   [3]  01 02 03', '  can  18DAF110   [1]  AA']);
  });

  it('works for non-CAN connectors: datagrams print as hex, send takes hex bytes or --text', async () => {
    const env = ports();
    const dump = startDump(['--connector', 'udp_in', '--count', '2'], env);
    await dump.listening;
    const hex = await runCli(['send', '-c', YAML, '--connector', 'udp_out', 'DE.AD.BE.EF'], { env });
    assert.equal(hex.code, 0, hex.stderr);
    const text = await runCli(['send', '-c', YAML, '--connector', 'udp_out', '--text', 'hi'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.equal(await dump.done, 0);
    const lines = dump.output().stdout.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^ {2}udp_in 127\.0\.0\.1:\d+ {2}\[4\] {2}DE AD BE EF$/);
    assert.match(lines[1]!, /^ {2}udp_in 127\.0\.0\.1:\d+ {2}\[2\] {2}68 69$/);
  });

  it('opens only the named connector: another connector of the file may be unusable', async () => {
    const env = ports();
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(Number(env.KISO_UDP_PORT), '127.0.0.1', resolve));
    try {
      // udp_in cannot bind (the port is taken), but sending on can_tx does not touch it.
      const result = await runCli(['send', '-c', YAML, '--connector', 'can_tx', '123#00'], { env });
      assert.equal(result.code, 0, result.stderr);
    } finally {
      blocker.close();
    }
  });

  it('bad input is exit 2 with a clear message, before anything is sent', async () => {
    const env = ports();
    const cases: Array<[string[], RegExp]> = [
      [['send', '-c', YAML, '--connector', 'can_tx', '123#00', '123#112233445566778899'], /classic CAN carries at most 8 bytes, got 9/],
      [['send', '-c', YAML, '--connector', 'can_tx', 'hello'], /not in cansend syntax/],
      [['send', '-c', YAML, '--connector', 'udp_out', '123#00'], /is a CAN frame, but this connector is not a CAN connector/],
      [['send', '-c', YAML, '--connector', 'can_tx'], /needs at least one message/],
      [['dump', '-c', YAML, '--connector', 'cann'], /no connector "cann".*did you mean "can"/],
      [['dump', '-c', YAML, '--connector', 'can', '--count', 'many'], /--count takes a whole number/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { env });
      assert.equal(result.code, 2, `${args.join(' ')}\n${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
