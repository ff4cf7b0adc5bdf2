import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

/**
 * The proxy trace of a real run (the in-process proxy example on the
 * virtual CAN bus), read by tools nobody here wrote: python-can's readers,
 * can-utils' log2asc, Wireshark's capinfos (strict time order) and tshark
 * (direction flags). One bus is one channel, in both directions; one clock
 * at microsecond resolution for sent and received frames, never backwards.
 */
const hasPythonCan = spawnSync('/usr/bin/python3', ['-c', 'import can, msgpack'], { stdio: 'ignore' }).status === 0;
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const skipPython = hasPythonCan ? false : 'python3-can is not installed for /usr/bin/python3';
const skipLog2asc = has('log2asc') ? skipPython : 'log2asc is not installed (Debian package can-utils)';
const skipCapinfos = has('capinfos') && has('tshark') ? false : 'capinfos/tshark are not installed (Debian packages wireshark-common, tshark)';
for (const reason of [skipPython, skipLog2asc, skipCapinfos]) if (reason) console.log(`SKIPPED: proxy trace readback: ${reason}`);

/** Runs the example with its trace in a temporary folder, in `format`; returns the trace file. */
async function tracedRun(format?: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-'));
  const station = path.join(dir, 'station.yaml');
  let yaml = readFileSync('examples/templates/proxy_aux.yaml', 'utf8')
    .replace('trace_dir: ./traces', `trace_dir: ${dir}`)
    .replaceAll('./simulated_can_device.ts', path.resolve('examples/templates/simulated_can_device.ts'))
    .replace('suite_dir: suite_mp_proxy', `suite_dir: ${path.resolve('examples/templates/suite_mp_proxy')}`);
  if (format) yaml = yaml.replace('trace_name: can_trace', `trace_name: can_trace\n      trace_format: ${format}`);
  writeFileSync(station, yaml);
  const result = await runCli(['-c', station], { env: { KISO_CAN_PORT: String(50000 + Math.floor(Math.random() * 9000)) } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const extension = { pcap: 'pcap', pcapng: 'pcapng', blf: 'blf', asc: 'asc', trc: 'trc' }[format ?? ''] ?? 'log';
  return path.join(dir, `can_trace.${extension}`);
}

type PyFrame = [number, string | number | null, number, boolean, number[]];

function pythonRead(file: string): PyFrame[] {
  const script = 'import can, json, sys\nprint(json.dumps([[m.timestamp, m.channel, m.arbitration_id, m.is_rx, list(m.data)] for m in can.LogReader(sys.argv[1])]))';
  const read = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(read.status, 0, read.stderr);
  return JSON.parse(read.stdout) as PyFrame[];
}

function assertOneClock(times: number[], what: string): void {
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `${what}: frame ${i + 1} at ${times[i]} is before frame ${i} at ${times[i - 1]}`);
  // microseconds, not whole milliseconds, in both directions (one in a thousand frames is on a millisecond by chance)
  const onMillisecond = times.filter((t) => Math.round(t * 1e6) % 1000 === 0).length;
  assert.ok(onMillisecond < times.length / 10, `${what}: ${onMillisecond} of ${times.length} timestamps are whole milliseconds`);
}

describe('proxy trace', () => {
  it("candump: python-can and log2asc read it back on one channel, both directions, in time order", { skip: skipLog2asc }, async () => {
    const trace = await tracedRun();
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    const frames = pythonRead(trace);
    assert.equal(frames.length, lines.length);
    assert.ok(frames.length > 400, `expected the suite's traffic, got ${frames.length} frames`);
    assert.deepEqual([...new Set(frames.map(([, channel]) => channel))], ['can_channel'], 'one bus is one channel');
    // the requests auxiliaries sent are Tx, the device's answers Rx
    assert.ok(frames.some(([, , id, isRx]) => id === 0x300 && !isRx));
    assert.ok(frames.some(([, , id, isRx, data]) => id === 0x301 && isRx && data[0] === 0x02));
    assertOneClock(frames.map(([t]) => t), 'python-can');
    // log2asc converts the frames of the channels it is given: all of them, with their direction, never back in time
    const asc = spawnSync('log2asc', ['-I', trace, 'can_channel'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(asc.status, 0, asc.stderr);
    const ascFrames = asc.stdout.split('\n').filter((line) => /^\s*\d+\.\d+ 1 /.test(line));
    assert.equal(ascFrames.length, lines.length);
    assert.equal(ascFrames.filter((line) => / Tx /.test(line)).length, frames.filter(([, , , isRx]) => !isRx).length);
    const ascTimes = ascFrames.map((line) => Number(line.trim().split(/\s+/)[0]));
    for (let i = 1; i < ascTimes.length; i++) assert.ok(ascTimes[i]! >= ascTimes[i - 1]!, `log2asc line ${i + 1} goes back in time`);
  });

  it('pcapng: capinfos says strict time order, tshark shows each frame\'s direction', { skip: skipCapinfos }, async () => {
    const trace = await tracedRun('pcapng');
    const info = spawnSync('capinfos', ['-o', '-c', '-M', trace], { encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /Strict time order:\s+True/);
    const count = Number(/Number of packets:\s+(\d+)/.exec(info.stdout)?.[1]);
    assert.ok(count > 400, info.stdout);
    const fields = spawnSync('tshark', ['-r', trace, '-T', 'fields', '-e', 'frame.packet_flags_direction', '-e', 'frame.interface_name', '-e', 'can.id'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(fields.status, 0, fields.stderr);
    const rows = fields.stdout.trim().split('\n').map((line) => line.split('\t'));
    assert.equal(rows.length, count);
    assert.deepEqual([...new Set(rows.map(([, name]) => name))], ['can_channel'], 'one interface: the physical channel');
    // 0x1 inbound (Rx: the device's answers), 0x2 outbound (Tx: the auxiliaries' requests)
    assert.ok(rows.every(([direction, , id]) => (Number(id) === 0x300 ? direction === '0x2' || direction === '0x00000002' : true)), fields.stdout.slice(0, 500));
    assert.ok(rows.some(([direction, , id]) => Number(id) === 0x301 && Number(direction) === 1));
    assert.ok(rows.some(([direction, , id]) => Number(id) === 0x300 && Number(direction) === 2));
  });

  it('pcap: capinfos says strict time order', { skip: skipCapinfos }, async () => {
    const trace = await tracedRun('pcap');
    const info = spawnSync('capinfos', ['-o', '-c', trace], { encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /Strict time order:\s+True/);
  });

  for (const format of ['blf', 'asc', 'trc']) {
    it(`${format}: python-can reads the trace, one channel, both directions, in time order`, { skip: skipPython }, async () => {
      const trace = await tracedRun(format);
      const frames = pythonRead(trace);
      assert.ok(frames.length > 400, `expected the suite's traffic, got ${frames.length} frames`);
      // python-can numbers channels from 0 (ASC, BLF) or gives TRC's bus number (1)
      assert.equal(new Set(frames.map(([, channel]) => channel)).size, 1, 'one bus is one channel');
      assert.ok(frames.some(([, , id, isRx]) => id === 0x300 && !isRx));
      assert.ok(frames.some(([, , id, isRx]) => id === 0x301 && isRx));
      assertOneClock(frames.map(([t]) => t), `python-can ${format}`);
    });
  }
});
