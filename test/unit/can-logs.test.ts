import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TRACE_FORMAT_NAMES, createTraceWriter, readTrace, traceExtension, traceFormatOf, type TraceFormatName } from '../../src/can/trace/logs.js';
import type { TraceFrame } from '../../src/can/trace/trace-frame.js';
import { isKisoError } from '../../src/core/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kiso-logs-unit-'));

async function readAll(file: string, format?: string): Promise<{ frames: TraceFrame[]; stats: ReturnType<typeof readTrace>['stats'] }> {
  const reader = readTrace(file, format ? { format } : {});
  const frames: TraceFrame[] = [];
  for await (const frame of reader) frames.push(frame);
  return { frames, stats: reader.stats };
}

const frame = (init: Partial<TraceFrame> & { id: number; data?: number[] }, can: Partial<TraceFrame['can']> = {}): TraceFrame => ({
  data: Uint8Array.from(init.data ?? []),
  timestamp: init.timestamp ?? 1_700_000_000.5,
  channel: init.channel ?? 'can0',
  ...(init.direction ? { direction: init.direction } : {}),
  can: { id: init.id, extended: false, remote: false, fd: false, brs: false, esi: false, ...can },
});

const ALL: TraceFrame[] = [
  frame({ id: 0x123, data: [1, 2, 3], timestamp: 1_700_000_000.5, direction: 'Rx' }),
  frame({ id: 0x1abcdef, data: [9], timestamp: 1_700_000_000.500123, direction: 'Tx', channel: 'can1' }, { extended: true }),
  frame({ id: 0x10, timestamp: 1_700_000_000.6, direction: 'Rx' }, { remote: true, dlc: 3 }),
  frame({ id: 0x7ff, data: Array.from({ length: 20 }, (_, i) => i), timestamp: 1_700_000_001.000001, direction: 'Tx' }, { fd: true, brs: true }),
  frame({ id: 0x1fffffff, data: Array.from({ length: 64 }, (_, i) => 255 - i), timestamp: 1_700_000_002, direction: 'Rx' }, { extended: true, fd: true, esi: true }),
];

describe('CAN log formats (kiso to kiso)', () => {
  for (const format of TRACE_FORMAT_NAMES) {
    it(`${format}: what kiso writes reads back`, async () => {
      const file = path.join(dir, `all-${format}${traceExtension(format)}`);
      const writer = createTraceWriter(file, { format });
      for (const f of ALL) writer.write(f);
      writer.close();
      const { frames, stats } = await readAll(file, format);
      assert.equal(stats.malformed, 0, JSON.stringify(stats.examples));
      const expected = format === 'trc-1.1' ? ALL.filter((f) => !f.can.fd) : ALL;
      assert.equal(frames.length, expected.length);
      expected.forEach((want, index) => {
        const got = frames[index]!;
        assert.equal(got.can.id, want.can.id, `${format} ${index}`);
        assert.equal(got.can.extended, want.can.extended);
        assert.equal(got.can.remote, want.can.remote);
        if (want.can.remote && format !== 'pcap' && format !== 'pcapng') assert.equal(got.can.dlc, want.can.dlc);
        assert.equal(got.can.fd, want.can.fd);
        assert.deepEqual([...got.data], [...want.data]);
        assert.ok(Math.abs(got.timestamp - want.timestamp) < 1.001e-6, `${format} ${index}: ${got.timestamp} vs ${want.timestamp}`);
        if (!['csv'].includes(format)) {
          assert.equal(got.can.brs, want.can.brs);
          assert.equal(got.can.esi, want.can.esi);
        }
        if (!['csv', 'pcap'].includes(format)) assert.equal(got.direction, want.direction, `${format} ${index} direction`);
        if (!['csv', 'pcap', 'trc-1.1'].includes(format)) assert.equal(got.channel, want.channel, `${format} ${index} channel`);
      });
    });
  }

  it('error frames survive candump, ASC, BLF, TRC 2.1, CSV and pcap', async () => {
    for (const format of ['candump', 'asc', 'blf', 'trc', 'csv', 'pcapng'] as TraceFormatName[]) {
      const file = path.join(dir, `error-${format}${traceExtension(format)}`);
      const writer = createTraceWriter(file, { format });
      writer.write(frame({ id: 0x4, data: [0, 4, 0, 0, 0, 0, 0, 0] }, { error: true }));
      writer.close();
      const { frames } = await readAll(file);
      assert.equal(frames.length, 1, format);
      assert.equal(frames[0]!.can.error, true, format);
    }
  });
});

describe('malformed lines are counted and reported, never thrown', () => {
  const cases: Array<[string, string, number]> = [
    ['bad.log', '(1.000000) can0 123#11\nnot a frame\n(2.0) can0 123#1\n(3.0) can0 123#112233445566778899\n(4.000000) can0 124#22 T\n', 3],
    ['bad.asc', 'date Tue Nov 14 22:13:20 2023\nbase hex  timestamps absolute\nBegin Triggerblock Tue Nov 14 22:13:20 2023\n   0.1 1  123 Rx d 4 11 22\n   0.2 1  123 Rx d 2 11 22\nhello\n   0.3 1  Statistic: D 0 R 0\n   0.4 CANFD 1 Rx 1ff 1 0 9 12 00 01 02 03 04 05 06 07 08 09 0a 0b 0 0 3000 0 0 0 0 0\nEnd TriggerBlock\n', 2],
    ['bad.trc', ';$FILEVERSION=2.1\n;$COLUMNS=N,O,T,B,I,d,R,L,D\n      1         0.100 DT  1     0123 Rx -  2    11 22\n      2         x     DT  1     0123 Rx -  2    11 22\n      3         0.300 DT  1     0123 Rx -  2    11\n      4         0.400 ST  1     - Rx -  4    00 00 00 00\n', 2],
    ['bad.csv', 'timestamp,arbitration_id,extended,remote,error,dlc,data\n1.5,0x123,0,0,0,2,ESI=\n1.6,0x123,0,0\n1.7,0xZZ,0,0,0,0,\n', 2],
  ];
  for (const [name, text, malformed] of cases) {
    it(name, async () => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      const { frames, stats } = await readAll(file);
      assert.equal(stats.malformed, malformed, JSON.stringify(stats.examples));
      assert.equal(stats.examples.length, malformed);
      assert.ok(stats.examples.every((example) => example.line > 0 && example.reason.length > 0));
      assert.ok(frames.length >= 1);
    });
  }

  it('a truncated BLF reports the loss and keeps the frames before it; a file that is no BLF is an error', async () => {
    const file = path.join(dir, 'whole.blf');
    const writer = createTraceWriter(file);
    for (let i = 0; i < 5000; i++) writer.write(frame({ id: i & 0x7ff, data: [i & 0xff], timestamp: 1_700_000_000 + i / 1000 }));
    writer.close();
    const whole = readFileSync(file);
    const cut = path.join(dir, 'cut.blf');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.8)));
    const { stats } = await readAll(cut);
    assert.ok(stats.malformed >= 1, 'the truncation is reported');
    const fake = path.join(dir, 'fake.blf');
    writeFileSync(fake, 'this is not a binary log at all, really not'.repeat(3));
    await assert.rejects(readAll(fake), (error: unknown) => isKisoError(error, 'KISO_TRACE_READ'));
  });
});

describe('other writers’ files', () => {
  it('reads log2asc-style ASC (24-hour date, no milliseconds, decimal base)', async () => {
    const file = path.join(dir, 'dec.asc');
    writeFileSync(file, 'date Tue Nov 14 22:13:20 2023\nbase dec  timestamps absolute\nno internal events logged\n   0.000100 1  291             Rx   d 2 17 34\n   0.000200 2  291x            Tx   r\n');
    const { frames, stats } = await readAll(file);
    assert.equal(stats.malformed, 0);
    assert.equal(frames[0]!.can.id, 291);
    assert.deepEqual([...frames[0]!.data], [17, 34]);
    assert.equal(frames[1]!.can.extended, true);
    assert.equal(frames[1]!.channel, 'can1');
    assert.equal(frames[0]!.timestamp, new Date(2023, 10, 14, 22, 13, 20).getTime() / 1000 + 0.0001);
  });

  it('reads ASC with relative timestamps (each from the line before)', async () => {
    const file = path.join(dir, 'relative.asc');
    writeFileSync(file, 'base hex  timestamps relative\n   0.5 1  123 Rx d 1 01\n   0.25 1  123 Rx d 1 02\n');
    const { frames } = await readAll(file);
    assert.deepEqual(frames.map((f) => f.timestamp), [0.5, 0.75]);
  });

  it('reads TRC 2.0 (N,O,T,I,d,l,D), 1.3 and 1.0', async () => {
    const v20 = path.join(dir, 'v20.trc');
    writeFileSync(v20, ';$FILEVERSION=2.0\n;$STARTTIME=45244.5\n;$COLUMNS=N,O,T,I,d,l,D\n      1        20.824 DT     0300 Rx 8  00 01 02 03 04 05 06 07\n      2        21.000 FD 18DAF110 Tx 12 00 01 02 03 04 05 06 07 08 09 0A 0B\n      3        22.500 RR     0301 Rx 2\n');
    const { frames } = await readAll(v20);
    assert.equal(frames.length, 3);
    assert.equal(frames[1]!.can.fd, true);
    assert.equal(frames[1]!.data.length, 12);
    assert.equal(frames[2]!.can.remote, true);
    assert.equal(frames[0]!.timestamp, new Date(2023, 10, 14, 12, 0, 0).getTime() / 1000 + 0.020824);
    const v13 = path.join(dir, 'v13.trc');
    writeFileSync(v13, ';$FILEVERSION=1.3\n     1)      1059.900 2  Rx         0300 -  2  AA BB\n     2)      1060.000 1  Warng  FFFFFFFF -  4  00 00 00 08 BUSHEAVY\n');
    const read13 = await readAll(v13);
    assert.equal(read13.frames.length, 1);
    assert.equal(read13.frames[0]!.channel, 'can1');
    assert.equal(read13.stats.skipped, 1);
    const v10 = path.join(dir, 'v10.trc');
    writeFileSync(v10, ';##########\n     1)      1059.9 0300 2 AA BB\n     2)      1060.0 FFFFFFFF 4 00 00 00 08\n');
    assert.deepEqual((await readAll(v10)).frames.map((f) => f.can.id), [0x300]);
  });

  it('names the format by extension, and refuses unknown ones with the list', () => {
    assert.equal(traceFormatOf('x.BLF'), 'blf');
    assert.equal(traceFormatOf('x.log'), 'candump');
    assert.throws(() => traceFormatOf('x.mf4'), (error: unknown) => isKisoError(error, 'KISO_USAGE') && /candump, asc, blf/.test((error as Error).message));
    assert.throws(() => traceFormatOf('x.log', 'mdf'), (error: unknown) => isKisoError(error, 'KISO_USAGE'));
  });
});
