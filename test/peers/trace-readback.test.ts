import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const hasPythonCan = spawnSync('/usr/bin/python3', ['-c', 'import can, msgpack'], { stdio: 'ignore' }).status === 0;

describe('proxy trace', () => {
  it("python-can's log reader reads the proxy trace back, frame for frame", { skip: hasPythonCan ? false : 'python3-can is not installed for /usr/bin/python3' }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-'));
    const station = path.join(dir, 'station.yaml');
    // The in-process proxy example, with its trace moved to a temporary folder.
    const yaml = readFileSync('examples/templates/proxy_aux.yaml', 'utf8').replace('trace_dir: ./traces', `trace_dir: ${dir}`).replaceAll('./simulated_can_device.ts', path.resolve('examples/templates/simulated_can_device.ts')).replace('suite_dir: suite_mp_proxy', `suite_dir: ${path.resolve('examples/templates/suite_mp_proxy')}`);
    writeFileSync(station, yaml);
    const result = await runCli(['-c', station], { env: { KISO_CAN_PORT: String(50000 + Math.floor(Math.random() * 9000)) } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const trace = path.join(dir, 'can_trace.log');
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    const script = 'import can, json, sys\nprint(json.dumps([[m.timestamp, m.channel, m.arbitration_id, m.is_rx, list(m.data)] for m in can.LogReader(sys.argv[1])]))';
    const read = spawnSync('/usr/bin/python3', ['-c', script, trace], { encoding: 'utf8' });
    assert.equal(read.status, 0, read.stderr);
    const frames = JSON.parse(read.stdout) as Array<[number, string, number, boolean, number[]]>;
    assert.equal(frames.length, lines.length);
    assert.ok(frames.length > 400, `expected the suite's traffic, got ${frames.length} frames`);
    // every request an auxiliary sent is a T line from that auxiliary; every answer an R line from the channel
    assert.ok(frames.some(([, channel, id, isRx]) => channel === 'aux1' && id === 0x300 && !isRx));
    assert.ok(frames.some(([, channel, id, isRx, data]) => channel === 'can_channel' && id === 0x301 && isRx && data[0] === 0x02));
  });
});
