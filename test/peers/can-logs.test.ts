import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTraceWriter, readTrace, type TraceFormatName } from '../../src/can/trace/logs.js';
import type { TraceFrame } from '../../src/can/trace/trace-frame.js';

/**
 * kiso's log readers and writers against python-can's own (Debian's
 * python3-can: can.CanutilsLogWriter, ASCWriter, BLFWriter, TRCWriter,
 * CSVWriter and their readers), frame for frame in both directions: id,
 * extended, remote (with its DLC), error, FD with BRS and ESI, data,
 * direction and channel where the format keeps them, timestamps to the
 * microsecond. Where python-can cannot write or read something (its TRC
 * writer has no FD, remote or error frames; its CSV layout has no channel,
 * direction or FD flags), that frame or field is left out of that format's
 * comparison, and kiso's own round trip of it is checked instead.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/can_logs.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import can'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `${PYTHON} cannot import can (Debian package python3-can)`;
if (skip) console.log(`SKIPPED: python-can log format peers: ${skip}`);

interface PyFrame {
  timestamp: number;
  id: number;
  extended: boolean;
  remote: boolean;
  error: boolean;
  fd: boolean;
  brs: boolean;
  esi: boolean;
  dlc: number;
  data: string;
  channel: number | string | null;
  rx: boolean;
}

const T0 = 1_700_000_000.123; // the first frame on a millisecond: python-can's ASC and BLF headers keep milliseconds
const bytes = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => ((i * 7 + seed) & 0xff).toString(16).padStart(2, '0')).join('');

interface Sample {
  offset: number;
  id: number;
  extended?: boolean;
  remote?: boolean;
  error?: boolean;
  fd?: boolean;
  brs?: boolean;
  esi?: boolean;
  dlc?: number;
  data?: string;
  channel?: number;
  rx: boolean;
}

const SAMPLES: Sample[] = [
  { offset: 0, id: 0x123, data: 'deadbeef', rx: true },
  { offset: 0.001234, id: 0x1f334455, extended: true, data: '1122334455667788', rx: false, channel: 1 },
  { offset: 0.002001, id: 0x321, remote: true, dlc: 4, rx: true },
  { offset: 0.010507, id: 0x7ff, fd: true, brs: true, data: bytes(12, 1), rx: false },
  { offset: 0.020999, id: 0x18daf110, extended: true, fd: true, esi: true, data: bytes(64, 3), rx: true, channel: 1 },
  { offset: 0.030001, id: 0, error: true, data: '', rx: true },
  { offset: 1.5, id: 0x000, data: '', rx: true },
  { offset: 2.000001, id: 0x7e8, data: '0662f190', rx: false },
];

interface Caps {
  remote: boolean;
  error: boolean;
  fd: boolean;
  direction: boolean;
  /** How python-can names channel N (0-based) in this format. */
  pyChannel?: (n: number) => number | string;
  /** What to hand python-can's writer as channel N (0-based). */
  writeChannel?: (n: number) => number | string;
  relativeTime?: boolean;
  fdFlags: boolean;
  /** python-can's candump writer drops the DLC of remote frames (it writes "123#R"). */
  pyDropsRemoteDlc?: boolean;
}

const CAPS: Record<string, Caps> = {
  candump: { remote: true, error: true, fd: true, fdFlags: true, direction: true, pyChannel: (n) => `can${n}`, writeChannel: (n) => `can${n}`, pyDropsRemoteDlc: true },
  asc: { remote: true, error: true, fd: true, fdFlags: true, direction: true, pyChannel: (n) => n, writeChannel: (n) => n },
  blf: { remote: true, error: true, fd: true, fdFlags: true, direction: true, pyChannel: (n) => n, writeChannel: (n) => n },
  // python-can's TRC reader gives the bus number as channel (1-based), its writer takes 0-based channels
  trc: { remote: false, error: false, fd: false, fdFlags: false, direction: true, pyChannel: (n) => n + 1, writeChannel: (n) => n, relativeTime: true },
  csv: { remote: true, error: true, fd: true, fdFlags: false, direction: false },
};

function samplesFor(caps: Caps): Sample[] {
  return SAMPLES.filter((s) => (caps.remote || !s.remote) && (caps.error || !s.error) && (caps.fd || !s.fd));
}

function python(args: string[], input?: string): string {
  const run = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `python-can ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

function toPy(sample: Sample, caps: Caps): PyFrame {
  const data = sample.remote ? '' : (sample.data ?? '');
  return {
    timestamp: T0 + sample.offset,
    id: sample.id,
    extended: sample.extended ?? false,
    remote: sample.remote ?? false,
    error: sample.error ?? false,
    fd: sample.fd ?? false,
    brs: sample.brs ?? false,
    esi: sample.esi ?? false,
    dlc: sample.remote ? sample.dlc! : data.length / 2,
    data,
    channel: caps.writeChannel ? caps.writeChannel(sample.channel ?? 0) : null,
    rx: sample.rx,
  };
}

function toKiso(sample: Sample): TraceFrame {
  const data = Buffer.from(sample.remote ? '' : (sample.data ?? ''), 'hex');
  return {
    data: new Uint8Array(data),
    timestamp: T0 + sample.offset,
    channel: `can${sample.channel ?? 0}`,
    direction: sample.rx ? 'Rx' : 'Tx',
    can: { id: sample.id, extended: sample.extended ?? false, remote: sample.remote ?? false, fd: sample.fd ?? false, brs: sample.brs ?? false, esi: sample.esi ?? false, ...(sample.error ? { error: true } : {}), ...(sample.remote ? { dlc: sample.dlc } : {}) },
  };
}

function assertTime(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1.001e-6, `${what}: timestamp ${actual.toFixed(7)} is not ${expected.toFixed(7)} to the microsecond`);
}

/** What both sides must agree on, per sample, for this format. */
function compare(format: string, caps: Caps, samples: Sample[], times: number[], got: Array<{ id: number; extended: boolean; remote: boolean; error: boolean; fd: boolean; brs: boolean; esi: boolean; dlc?: number; data: string; channel?: number | string | null; rx?: boolean }>): void {
  assert.equal(got.length, samples.length, `${format}: ${got.length} frames read, ${samples.length} written`);
  samples.forEach((sample, index) => {
    const frame = got[index]!;
    const what = `${format} frame ${index + 1}`;
    const t0 = caps.relativeTime ? times[0]! - T0 : 0;
    assertTime(times[index]! - t0, T0 + sample.offset, what);
    assert.equal(frame.error, sample.error ?? false, `${what}: error flag`);
    if (sample.error) return; // error frames: the flag is what every format keeps
    assert.equal(frame.id, sample.id, `${what}: id`);
    assert.equal(frame.extended, sample.extended ?? false, `${what}: extended`);
    assert.equal(frame.remote, sample.remote ?? false, `${what}: remote`);
    if (sample.remote && !caps.pyDropsRemoteDlc) assert.equal(frame.dlc, sample.dlc, `${what}: remote DLC`);
    assert.equal(frame.data, sample.remote ? '' : sample.data, `${what}: data`);
    if (caps.fdFlags) {
      assert.equal(frame.fd, sample.fd ?? false, `${what}: fd`);
      assert.equal(frame.brs, sample.brs ?? false, `${what}: brs`);
      assert.equal(frame.esi, sample.esi ?? false, `${what}: esi`);
    }
    if (caps.direction && frame.rx !== undefined) assert.equal(frame.rx, sample.rx, `${what}: direction`);
    if (frame.channel !== undefined && caps.pyChannel) assert.equal(frame.channel, caps.pyChannel(sample.channel ?? 0), `${what}: channel`);
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'kiso-can-logs-'));
const extension: Record<string, string> = { candump: 'log', asc: 'asc', blf: 'blf', trc: 'trc', csv: 'csv' };

describe('CAN logs against python-can', { skip }, () => {
  for (const [format, caps] of Object.entries(CAPS)) {
    it(`${format}: kiso reads what python-can writes, frame for frame`, async () => {
      const samples = samplesFor(caps);
      const file = path.join(dir, `py-${format}.${extension[format]}`);
      python(['write', format, file], JSON.stringify(samples.map((s) => toPy(s, caps))));
      const reader = readTrace(file);
      const frames: TraceFrame[] = [];
      for await (const frame of reader) frames.push(frame);
      assert.equal(reader.stats.malformed, 0, JSON.stringify(reader.stats.examples));
      compare(
        format,
        // python-can's readers name channels one way, kiso another: compare kiso's channel names here
        { ...caps, pyChannel: caps.pyChannel ? (n) => `can${n}` : undefined, pyDropsRemoteDlc: caps.pyDropsRemoteDlc },
        samples,
        frames.map((f) => f.timestamp),
        frames.map((f) => ({ ...f.can, error: f.can.error ?? false, data: Buffer.from(f.data).toString('hex'), channel: caps.pyChannel ? f.channel : undefined, rx: f.direction === undefined ? undefined : f.direction === 'Rx' })),
      );
    });

    it(`${format}: python-can reads what kiso writes, frame for frame`, async () => {
      // kiso writes everything it can; python-can's reader is compared on what it reads
      const written = format === 'trc' ? SAMPLES.filter((s) => !s.error) : SAMPLES;
      const file = path.join(dir, `kiso-${format}.${extension[format]}`);
      const writer = createTraceWriter(file);
      for (const sample of written) writer.write(toKiso(sample));
      writer.close();
      const read = JSON.parse(python(['read', format, file])) as PyFrame[];
      // python-can 4.1's TRC reader reads DT lines only (kiso writes FD as FD/FB/FE/BI, remote as RR)
      const samples = format === 'trc' ? written.filter((s) => !s.fd && !s.remote) : written;
      compare(format, { ...caps, pyDropsRemoteDlc: false }, samples, read.map((f) => f.timestamp), read.map((f) => ({ ...f, channel: caps.pyChannel ? f.channel : undefined, rx: caps.direction ? f.rx : undefined, fd: format === 'csv' ? f.data.length > 16 : f.fd })));
      // and kiso reads its own file back with everything it wrote
      const again: TraceFrame[] = [];
      for await (const frame of readTrace(file)) again.push(frame);
      assert.equal(again.length, written.length);
    });
  }

  it('trc-1.1: python-can reads the TRC 1.1 kiso writes; FD and error frames are refused and counted', async () => {
    // python-can 4.1's TRC 1.1 reader cannot read RTR lines (it parses "RTR" as a data byte): it gets the data frames
    const classic = SAMPLES.filter((s) => !s.fd && !s.error && !s.remote);
    const forPython = path.join(dir, 'kiso-11-data.trc');
    const writer = createTraceWriter(forPython, { format: 'trc-1.1' as TraceFormatName });
    for (const sample of classic) writer.write(toKiso(sample));
    writer.close();
    const read = JSON.parse(python(['read', 'trc-1.1', forPython])) as PyFrame[];
    compare('trc-1.1', { ...CAPS.trc!, pyChannel: () => 1 }, classic, read.map((f) => f.timestamp), read.map((f) => ({ ...f, channel: 1 })));
    // everything else kiso writes to 1.1 it reads back; what 1.1 cannot hold is refused and counted
    const file = path.join(dir, 'kiso-11.trc');
    const all = createTraceWriter(file, { format: 'trc-1.1' as TraceFormatName });
    for (const sample of SAMPLES) all.write(toKiso(sample));
    all.close();
    assert.deepEqual(Object.fromEntries(all.refused), { 'TRC 1.1 has no CAN FD frames (write TRC 2.1)': 2, 'TRC 1.1 has no error frames (write TRC 2.1)': 1 });
    const again: TraceFrame[] = [];
    for await (const frame of readTrace(file)) again.push(frame);
    assert.equal(again.length, SAMPLES.length - 3);
    assert.equal(again.find((f) => f.can.remote)?.can.dlc, 4);
    assert.deepEqual(again.map((f) => f.direction), SAMPLES.filter((s) => !s.fd && !s.error).map((s) => (s.rx ? 'Rx' : 'Tx')));
  });
});
