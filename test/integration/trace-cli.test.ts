import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, ROOT, runCli } from '../helpers/cli.js';

/** `kiso trace` as a user runs it: exit codes 0/1/2, malformed lines reported, replay on the virtual CAN bus. */
const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-cli-'));
const LOG = path.join(dir, 'in.log');
writeFileSync(LOG, [
  '(1700000000.000000) can0 123#DEADBEEF R',
  '(1700000000.010000) can0 1F334455##1AABB T',
  'garbage in the middle',
  '(1700000000.020000) can0 321#R4 R',
  '(1700000000.030000) can0 7E8#0662F190 T',
  '',
].join('\n'));

describe('kiso trace', () => {
  it('convert: 0, and what it wrote reads back; malformed lines reported on stderr', async () => {
    const out = path.join(dir, 'out.asc');
    const result = await runCli(['trace', 'convert', LOG, out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /1 malformed line\(s\)/);
    assert.match(result.stderr, /3: not "\(timestamp\) channel id#data": garbage in the middle/);
    assert.match(result.stderr, /4 frame\(s\) candump → asc/);
    const back = await runCli(['trace', 'info', out, '--json']);
    assert.equal(back.code, 0, back.stderr);
    const info = JSON.parse(back.stdout) as { frames: number; fd: number; remote: number; tx: number };
    assert.deepEqual([info.frames, info.fd, info.remote, info.tx], [4, 1, 1, 2]);
  });

  it('exit 2 for usage errors (unknown format, unknown extension), 1 for an unreadable log or --strict', async () => {
    assert.equal((await runCli(['trace', 'convert', LOG, path.join(dir, 'x.log'), '--to', 'mdf4'])).code, 2);
    const unknown = await runCli(['trace', 'convert', LOG, path.join(dir, 'x.unknown')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /cannot tell the format/);
    assert.equal((await runCli(['trace', 'info', path.join(dir, 'missing.log')])).code, 1);
    writeFileSync(path.join(dir, 'fake.blf'), 'not a BLF file, not at all, no LOGG here'.repeat(4));
    const fake = await runCli(['trace', 'info', path.join(dir, 'fake.blf')]);
    assert.equal(fake.code, 1);
    assert.match(fake.stderr, /not a BLF file/);
    assert.equal((await runCli(['trace', 'info', LOG, '--strict'])).code, 1);
    assert.equal((await runCli(['trace', 'info', LOG])).code, 0);
    assert.equal((await runCli(['trace', 'decode', LOG])).code, 2, 'no --dbc');
  });

  it('replay: the frames of a log reach another connector on the bus, in order', async () => {
    const port = String(50000 + Math.floor(Math.random() * 9000));
    const station = path.join(ROOT, 'examples/templates/proxy_aux.yaml');
    const env = { ...process.env, KISO_CAN_PORT: port, NO_COLOR: '1' };
    const dump = spawn(process.execPath, [CLI, 'dump', '-c', station, '--connector', 'device_channel', '-L', '--count', '4'], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    dump.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const listening = new Promise<void>((resolve) => dump.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening')) resolve();
    }));
    const exited = new Promise<number | null>((resolve) => dump.on('close', resolve));
    const guard = setTimeout(() => dump.kill('SIGKILL'), 30_000);
    await listening;
    const replay = await runCli(['trace', 'replay', LOG, '-c', station, '--connector', 'can_channel', '--speed', '2'], { env: { KISO_CAN_PORT: port } });
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stderr, /4 frame\(s\) sent on "can_channel"/);
    assert.equal(await exited, 0, stderr);
    clearTimeout(guard);
    const bodies = stdout.trim().split('\n').map((line) => line.split(' ')[2]);
    assert.deepEqual(bodies, ['123#DEADBEEF', '1F334455##1AABB', '321#R4', '7E8#0662F190']);
  });

  it('replay on a connector the station does not have: exit 2 with the names it has', async () => {
    const result = await runCli(['trace', 'replay', LOG, '-c', path.join(ROOT, 'examples/templates/proxy_aux.yaml'), '--connector', 'can_chanel']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /did you mean "can_channel"/);
  });
});

