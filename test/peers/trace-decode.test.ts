import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Dbc } from '../../src/can/dbc/index.js';
import { createTraceWriter } from '../../src/can/trace/logs.js';
import type { TraceFrame } from '../../src/can/trace/trace-frame.js';
import { runCli } from '../helpers/cli.js';

/**
 * `kiso trace decode` against python3-canmatrix decoding the same frames
 * with the same DBC (test/fixtures/dbc/coverage.dbc: Intel and Motorola,
 * signed, float, double, 64-bit, multiplexing, an extended id, 64-byte FD),
 * and the parallel decode (piscina workers, chunks of 1 MiB) writing
 * exactly what the single-thread decode writes, in the file's order.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/canmatrix_codec.py', import.meta.url));
const DBC_FILE = fileURLToPath(new URL('../fixtures/dbc/coverage.dbc', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import canmatrix.formats'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import canmatrix (Debian package python3-canmatrix)`;
if (skip) console.log(`SKIPPED: trace decode against canmatrix: ${skip}`);

const dbc = Dbc.load(DBC_FILE);
const FRAMES = 40_000; // about 1.9 MB of candump lines: several chunks for the workers

function makeFrames(): TraceFrame[] {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 0xff;
  };
  const frames: TraceFrame[] = [];
  for (let i = 0; i < FRAMES; i++) {
    const message = dbc.messages[i % (dbc.messages.length + 1)];
    const id = message?.id ?? 0x555; // every few frames one the DBC does not describe
    const length = message?.length ?? 3;
    const data = Uint8Array.from({ length }, random);
    frames.push({ data, timestamp: 1_700_000_000 + i * 0.000137, channel: 'can0', direction: i % 3 ? 'Rx' : 'Tx', can: { id, extended: message?.extended ?? false, remote: false, fd: message?.fd ?? false, brs: false, esi: false } });
  }
  return frames;
}

interface CmDecoded {
  ok?: Record<string, { raw: string; phys: string; named: string }>;
  error?: string;
}

function canmatrixDecode(items: Array<{ message: string; data: string }>): CmDecoded[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ dbc: DBC_FILE, decode: items }), encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(run.status, 0, run.stderr);
  return (JSON.parse(run.stdout) as { decoded: CmDecoded[] }).decoded;
}

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

describe('kiso trace decode', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-decode-'));
  const frames = makeFrames();
  const log = path.join(dir, 'drive.log');
  const blf = path.join(dir, 'drive.blf');
  for (const file of [log, blf]) {
    const writer = createTraceWriter(file);
    for (const frame of frames) writer.write(frame);
    writer.close();
  }
  appendFileSync(log, 'this line is not candump\n(1700000010.000000) can0 100#ZZ R\n');

  it('matches canmatrix decoding the same frames, and workers write what one thread writes', async () => {
    const parallel = await runCli(['trace', 'decode', log, '--dbc', DBC_FILE, '--workers', '2', '-o', path.join(dir, 'parallel.csv')]);
    assert.equal(parallel.code, 0, parallel.stderr);
    assert.match(parallel.stderr, /2 malformed line\(s\)/);
    assert.match(parallel.stderr, new RegExp(`${FRAMES} frame\\(s\\)`));
    const single = await runCli(['trace', 'decode', log, '--dbc', DBC_FILE, '--workers', '0', '-o', path.join(dir, 'single.csv')]);
    assert.equal(single.code, 0, single.stderr);
    const text = readFileSync(path.join(dir, 'parallel.csv'), 'utf8');
    assert.equal(text, readFileSync(path.join(dir, 'single.csv'), 'utf8'), 'the parallel decode writes the same rows in the same order');
    // the binary log decodes to the same rows
    const fromBlf = await runCli(['trace', 'decode', blf, '--dbc', DBC_FILE, '--workers', '2']);
    assert.equal(fromBlf.code, 0, fromBlf.stderr);
    assert.equal(fromBlf.stdout, text);

    const rows = text.trim().split('\n').slice(1);
    const known = frames.filter((frame) => dbc.messageById(frame.can.id, frame.can.extended));
    assert.equal(rows.length, known.length);
    const sample = known.slice(0, 600);
    const answers = canmatrixDecode(sample.map((frame) => ({ message: dbc.messageById(frame.can.id, frame.can.extended)!.name, data: Buffer.from(frame.data).toString('hex') })));
    sample.forEach((frame, index) => {
      const row = rows[index]!;
      const [stamp, channel, direction, id, name] = row.split(',');
      assert.equal(Number(stamp), Number(frame.timestamp.toFixed(6)));
      assert.equal(channel, 'can0');
      assert.equal(direction, frame.direction);
      assert.equal(id, `0x${frame.can.id.toString(16).toUpperCase()}${frame.can.extended ? 'x' : ''}`);
      const signalsText = row.slice(row.indexOf(`,${name},`) + name!.length + 2).replace(/^"|"$/g, '');
      const answer = answers[index]!;
      assert.ok(answer.ok, `canmatrix could not decode ${name}: ${answer.error}`);
      for (const pair of signalsText.split(';')) {
        const [signal, valueText] = pair.replace(/ \(.*\)$/, '').split('=') as [string, string];
        const reference = answer.ok[signal];
        assert.ok(reference, `${name}.${signal}: kiso decodes it, canmatrix does not`);
        assert.ok(close(Number(valueText), Number(reference.phys)), `${name}.${signal}: kiso ${valueText}, canmatrix ${reference.phys} (frame ${Buffer.from(frame.data).toString('hex')})`);
      }
    });
  });

  it('--signals writes one column per signal', async () => {
    const signals = ['EngineData.EngineSpeed', 'EngineData.EngineTemp'];
    const chosen = dbc.messages.find((message) => message.name === 'EngineData');
    const names = chosen ? chosen.signals.slice(0, 2).map((signal) => `EngineData.${signal.name}`) : signals;
    const result = await runCli(['trace', 'decode', log, '--dbc', DBC_FILE, '--signals', names.join(',')]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], `timestamp,${names.join(',')}`);
    assert.equal(lines.length - 1, frames.filter((frame) => frame.can.id === chosen!.id && !frame.can.extended).length);
    const unknown = await runCli(['trace', 'decode', log, '--dbc', DBC_FILE, '--signals', 'NoSuchSignal']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /NoSuchSignal/);
  });
});
