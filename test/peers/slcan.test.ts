import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { encodeSlcan, parseSlcanLine, SlcanConnector, type SlcanConnectorConfig } from '../../src/connectors/slcan.js';
import { BUILTIN_TYPES } from '../../src/builtins.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';
import { collect, peerTestFile, PtyPair, PythonPeer, waitUntil, type PeerEvent } from './peer-helpers.js';

const { skip, cleanups } = peerTestFile('slcan');

interface Bench {
  pty: PtyPair;
  sim: PythonPeer;
  slcan: SlcanConnector;
}

/** A pty pair, the adapter simulator on its far end, and a (not yet open) connector on the near end. */
async function bench(config: Partial<SlcanConnectorConfig> = {}, simArgs: string[] = []): Promise<Bench> {
  const pty = await PtyPair.start();
  cleanups.add(() => pty.stop());
  const sim = await PythonPeer.start('slcan_adapter_sim.py', [pty.b, ...simArgs]);
  cleanups.add(() => sim.stop());
  const slcan = new SlcanConnector({ port: pty.a, ...config }, { name: 'canable', log: silentLogger(), baseDir: process.cwd() });
  cleanups.add(() => slcan.close());
  return { pty, sim, slcan };
}

/** The commands the simulator reported up to and including `last` (its report may trail its answer), consumed. */
async function commands(sim: PythonPeer, last: string): Promise<string[]> {
  await waitUntil(() => sim.events.some((event) => event.cmd === last), `the simulator to report command ${last}`);
  const seen: string[] = [];
  for (let i = 0; i < sim.events.length; ) {
    const event = sim.events[i]!;
    if (typeof event.cmd === 'string') {
      seen.push(event.cmd);
      sim.events.splice(i, 1);
    } else i++;
  }
  return seen;
}

async function simState(sim: PythonPeer): Promise<Record<string, unknown>> {
  sim.send({ op: 'state' });
  const event = await sim.next((candidate) => 'state' in candidate, 'the simulator state');
  return event.state as Record<string, unknown>;
}

async function transmitted(sim: PythonPeer): Promise<PeerEvent> {
  const event = await sim.next((candidate) => 'tx' in candidate, 'a frame at the simulator');
  return event.tx as PeerEvent;
}

function fields(message: Message) {
  const can = message.can!;
  return { id: can.id, extended: can.extended, remote: can.remote, fd: can.fd, brs: can.brs, data: Buffer.from(message.data).toString('hex').toUpperCase(), dlc: (can as { dlc?: number }).dlc };
}

describe('slcan line codec', () => {
  it('encodes every frame kind', () => {
    assert.equal(encodeSlcan(canFrame({ id: 0x123, data: [0xde, 0xad] })), 't1232DEAD');
    assert.equal(encodeSlcan(canFrame({ id: 0x1abcdef0, extended: true, data: [1] })), 'T1ABCDEF0101');
    assert.equal(encodeSlcan(canFrame({ id: 0x7ff, remote: true, dlc: 3 })), 'r7FF3');
    assert.equal(encodeSlcan(canFrame({ id: 0x10, extended: true, remote: true, dlc: 8 })), 'R000000108');
    assert.equal(encodeSlcan(canFrame({ id: 0x42, fd: true, brs: true, data: new Uint8Array(12) })), `b0429${'00'.repeat(12)}`);
    assert.equal(encodeSlcan(canFrame({ id: 0x42, extended: true, fd: true, data: new Uint8Array(64) })), `D00000042F${'00'.repeat(64)}`);
  });

  it('parses answers, frames, stamps and rejects bad lines by kind', () => {
    assert.deepEqual(parseSlcanLine(''), { kind: 'answer', answer: 'ok' });
    assert.deepEqual(parseSlcanLine('z'), { kind: 'answer', answer: 'ok' });
    const stamped = parseSlcanLine('t1232AABB1F40');
    assert.equal(stamped.kind, 'frame');
    assert.equal(stamped.kind === 'frame' && stamped.adapterMs, 0x1f40);
    assert.equal(parseSlcanLine('hello').kind === 'malformed' && (parseSlcanLine('hello') as { problem: string }).problem, 'garbage');
    const problem = (line: string) => {
      const parsed = parseSlcanLine(line);
      return parsed.kind === 'malformed' ? parsed.problem : parsed.kind;
    };
    assert.equal(problem('t12'), 'truncated frame');
    assert.equal(problem('t1232AA'), 'truncated frame');
    assert.equal(problem('t12G1AA'), 'invalid hex');
    assert.equal(problem('t8001AA'), 'id out of range');
    assert.equal(problem('T200000001AA'), 'id out of range');
    assert.equal(problem('t1239AABBCCDDEEFF001122'), 'wrong length');
    assert.equal(problem('t1231AABB'), 'wrong length');
    assert.equal(problem('t1231AAFFFF'), 'invalid timestamp');
  });

  it('is registered as CCSlcan and slcan', async () => {
    assert.equal(await BUILTIN_TYPES.CCSlcan.load(), SlcanConnector);
    assert.ok((BUILTIN_TYPES.CCSlcan.aliases as readonly string[]).includes('slcan'));
  });
});

describe('SlcanConnector against an slcan adapter simulator over a socat pty pair', () => {
  it('opens with C, S<n>, O: the simulator sees the commands and the bitrate', { skip }, async () => {
    const { sim, slcan } = await bench({ bitrate: 250_000 });
    await slcan.open();
    assert.deepEqual(await commands(sim, 'O'), ['C', 'S5', 'O']);
    assert.deepEqual(await simState(sim), { open: true, listen_only: false, bitrate: 250_000, data_bitrate: null, timestamps: false });
    await slcan.close();
    assert.deepEqual(await commands(sim, 'C'), ['C']);
    assert.equal((await simState(sim)).open, false);
  });

  it('sends Y<n>, Z1 and L when data_bitrate, timestamps and listen_only are set', { skip }, async () => {
    const { sim, slcan } = await bench({ bitrate: 1_000_000, data_bitrate: 2_000_000, timestamps: true, listen_only: true });
    await slcan.open();
    assert.deepEqual(await commands(sim, 'L'), ['C', 'S8', 'Y2', 'Z1', 'L']);
    assert.deepEqual(await simState(sim), { open: true, listen_only: true, bitrate: 1_000_000, data_bitrate: 2_000_000, timestamps: true });
    await assert.rejects(slcan.send(canFrame({ id: 1 })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /listen-only/.test(error.message));
  });

  it('a refused bitrate (BEL) fails the open naming the command; the port is released', { skip }, async () => {
    const { sim, slcan } = await bench({ bitrate: 125_000 });
    await sim.request({ op: 'fail', prefix: 'S' });
    await assert.rejects(slcan.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, /"S4"/);
      assert.match(error.message, /125000 bit\/s/);
      assert.match(error.message, /BEL/);
      return true;
    });
    assert.equal(slcan.isOpen, false);
    await sim.request({ op: 'fail', prefix: null });
    await slcan.open();
    assert.equal(slcan.isOpen, true);
  });

  it('sends standard, extended, remote and CAN FD frames with exact fields', { skip }, async () => {
    const { sim, slcan } = await bench({ remote_id: 0x321 });
    await slcan.open();
    const cases: Array<[CanFrame | Uint8Array, PeerEvent]> = [
      [canFrame({ id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] }), { id: 0x123, ext: false, rtr: false, fd: false, brs: false, dlc: 4, data: 'DEADBEEF' }],
      [canFrame({ id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] }), { id: 0x1abcdef0, ext: true, rtr: false, fd: false, brs: false, dlc: 8, data: '0102030405060708' }],
      [canFrame({ id: 0x7ff, remote: true, dlc: 3 }), { id: 0x7ff, ext: false, rtr: true, fd: false, brs: false, dlc: 3, data: '' }],
      [canFrame({ id: 0x18daf110, extended: true, remote: true, dlc: 8 }), { id: 0x18daf110, ext: true, rtr: true, fd: false, brs: false, dlc: 8, data: '' }],
      [canFrame({ id: 0x0, data: [] }), { id: 0, ext: false, rtr: false, fd: false, brs: false, dlc: 0, data: '' }],
      [canFrame({ id: 0x42, fd: true, brs: true, data: Array.from({ length: 12 }, (_, i) => i) }), { id: 0x42, ext: false, rtr: false, fd: true, brs: true, dlc: 9, data: '000102030405060708090A0B' }],
      [canFrame({ id: 0x1000, extended: true, fd: true, data: new Uint8Array(64).fill(0xa5) }), { id: 0x1000, ext: true, rtr: false, fd: true, brs: false, dlc: 15, data: 'A5'.repeat(64) }],
      [Uint8Array.of(0x10, 0x20), { id: 0x321, ext: false, rtr: false, fd: false, brs: false, dlc: 2, data: '1020' }],
    ];
    for (const [frame, expected] of cases) {
      await slcan.send(frame);
      assert.deepEqual(await transmitted(sim), expected);
    }
    assert.equal(slcan.stats.sent, cases.length);
    assert.equal(slcan.stats.malformed, 0, JSON.stringify(slcan.malformedCounts()));
  });

  it('handles CANable-style CR answers to transmitted frames', { skip }, async () => {
    const { sim, slcan } = await bench({}, ['--ack', 'cr']);
    await slcan.open();
    await slcan.send(canFrame({ id: 0x100, data: [1] }));
    await slcan.send(canFrame({ id: 0x100, extended: true, data: [2] }));
    assert.equal((await transmitted(sim)).data, '01');
    assert.equal((await transmitted(sim)).data, '02');
  });

  it('receives standard, extended, remote and CAN FD frames with exact fields', { skip }, async () => {
    const { sim, slcan } = await bench();
    const received = collect(slcan);
    await slcan.open();
    const injected: PeerEvent[] = [
      { op: 'frame', id: 0x123, data: 'DEADBEEF' },
      { op: 'frame', id: 0x1abcdef0, ext: true, data: '0102030405060708' },
      { op: 'frame', id: 0x7ff, rtr: true, dlc: 3 },
      { op: 'frame', id: 0x18daf110, ext: true, rtr: true, dlc: 8 },
      { op: 'frame', id: 0x5, data: '' },
      { op: 'frame', id: 0x42, fd: true, brs: true, data: '000102030405060708090A0B' },
      { op: 'frame', id: 0x1000, ext: true, fd: true, data: 'A5'.repeat(64) },
    ];
    for (const frame of injected) await sim.request(frame);
    await waitUntil(() => received.length >= injected.length, 'all injected frames');
    assert.deepEqual(received.map(fields), [
      { id: 0x123, extended: false, remote: false, fd: false, brs: false, data: 'DEADBEEF', dlc: undefined },
      { id: 0x1abcdef0, extended: true, remote: false, fd: false, brs: false, data: '0102030405060708', dlc: undefined },
      { id: 0x7ff, extended: false, remote: true, fd: false, brs: false, data: '', dlc: 3 },
      { id: 0x18daf110, extended: true, remote: true, fd: false, brs: false, data: '', dlc: 8 },
      { id: 0x5, extended: false, remote: false, fd: false, brs: false, data: '', dlc: undefined },
      { id: 0x42, extended: false, remote: false, fd: true, brs: true, data: '000102030405060708090A0B', dlc: undefined },
      { id: 0x1000, extended: true, remote: false, fd: true, brs: false, data: 'A5'.repeat(64), dlc: undefined },
    ]);
    assert.ok(received.every((message) => typeof message.timestamp === 'number'));
    assert.equal(slcan.stats.malformed, 0);
  });

  it('counts and drops garbage and truncated or invalid lines; the valid frames between them all arrive', { skip }, async () => {
    const { sim, slcan } = await bench();
    const received = collect(slcan);
    await slcan.open();
    const raw = (text: string) => sim.request({ op: 'raw', hex: Buffer.from(text, 'latin1').toString('hex') });
    await sim.request({ op: 'frame', id: 0x100, data: '01' });
    await raw('hello adapter\r');
    await raw('t12\r');
    await sim.request({ op: 'frame', id: 0x101, data: '02' });
    await raw('t1232AA\r');
    await raw('t12G1AA\r');
    await raw('t8001AA\r');
    await raw('t1239AABBCCDDEEFF00112233\r');
    await sim.request({ op: 'frame', id: 0x102, ext: true, data: '03' });
    await raw('\x00\xff\xfe');
    await sim.request({ op: 'frame', id: 0x103, rtr: true, dlc: 1 });
    await raw(`${'7'.repeat(400)}\r`);
    await sim.request({ op: 'frame', id: 0x104, fd: true, data: '04' });
    await waitUntil(() => received.length >= 5, 'the five valid frames');
    assert.deepEqual(received.map((message) => message.can!.id), [0x100, 0x101, 0x102, 0x103, 0x104]);
    assert.deepEqual(slcan.malformedCounts(), {
      garbage: 2,
      'truncated frame': 2,
      'invalid hex': 1,
      'id out of range': 1,
      'wrong length': 1,
      'oversized line': 1,
    });
    // Still answering in step after all that.
    await slcan.send(canFrame({ id: 0x200, data: [9] }));
    assert.equal((await transmitted(sim)).id, 0x200);
  });

  it('rejects frames slcan cannot carry with KISO_CONNECTOR_INVALID_MESSAGE before the wire', { skip }, async () => {
    const { sim, slcan } = await bench();
    await slcan.open();
    const invalid: Message[] = [
      { data: new Uint8Array([1]), can: { id: 0x800, extended: false, remote: false, fd: false, brs: false, esi: false } },
      { data: new Uint8Array(9), can: { id: 0x1, extended: false, remote: false, fd: false, brs: false, esi: false } },
      { data: new Uint8Array(10), can: { id: 0x1, extended: false, remote: false, fd: true, brs: false, esi: false } },
      { data: new Uint8Array([1]), can: { id: 0x20000000, extended: true, remote: false, fd: false, brs: false, esi: false } },
      { data: new Uint8Array(8), can: { id: 0x1, extended: false, remote: false, fd: true, brs: true, esi: true } },
    ];
    for (const message of invalid) {
      await assert.rejects(slcan.send(message), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_INVALID_MESSAGE'), JSON.stringify(message.can));
    }
    await slcan.send(canFrame({ id: 0x1, data: [1] }));
    assert.equal((await transmitted(sim)).id, 1, 'only the valid frame reached the adapter');
    assert.equal(slcan.stats.sent, 1);
  });

  it('a frame the adapter refuses (BEL) fails its send with KISO_CONNECTOR_SEND', { skip }, async () => {
    const { sim, slcan } = await bench();
    await slcan.open();
    await sim.request({ op: 'fail', prefix: 't' });
    await assert.rejects(slcan.send(canFrame({ id: 0x123, data: [1] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && error.message.includes('t123101') && /BEL/.test(error.message));
    await sim.request({ op: 'fail', prefix: null });
    await slcan.send(canFrame({ id: 0x123, data: [2] }));
    assert.equal((await transmitted(sim)).data, '02');
  });

  it('with timestamps, frame times keep the adapter millisecond spacing', { skip }, async () => {
    const { sim, slcan } = await bench({ timestamps: true });
    const received = collect(slcan);
    await slcan.open();
    await sim.request({ op: 'frame', id: 1, data: '01', stamp: '0010' });
    await sim.request({ op: 'frame', id: 2, data: '02', stamp: '0110' });
    await waitUntil(() => received.length >= 2, 'two stamped frames');
    const [first, second] = received as [Message, Message];
    assert.equal(Math.round((second.timestamp! - first.timestamp!) * 1000), 0x100);
  });

  it('applies can_filters in software', { skip }, async () => {
    const { sim, slcan } = await bench({ can_filters: [{ can_id: 0x100, can_mask: 0x7f0 }] });
    const received = collect(slcan);
    await slcan.open();
    for (const id of [0x105, 0x200, 0x10f, 0x300]) await sim.request({ op: 'frame', id, data: '00' });
    await sim.request({ op: 'frame', id: 0x101, data: 'FF' });
    await waitUntil(() => received.some((message) => message.can!.id === 0x101), 'the last frame');
    assert.deepEqual(received.map((message) => message.can!.id), [0x105, 0x10f, 0x101]);
  });

  it('reports the adapter vanishing mid-run through onError and rejects later sends', { skip }, async () => {
    const { pty, slcan } = await bench();
    const errors: Error[] = [];
    slcan.onError((error) => errors.push(error));
    await slcan.open();
    await pty.stop();
    await waitUntil(() => errors.length >= 1, 'the vanished-adapter error');
    assert.ok(isKisoError(errors[0], 'KISO_CONNECTOR_CLOSED'));
    assert.ok(errors[0]!.message.includes(pty.a), errors[0]!.message);
    await assert.rejects(slcan.send(canFrame({ id: 1 })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED') && error.message.includes(pty.a));
    await slcan.close();
  });

  it('no answer from the device fails the open after answer_timeout_ms, naming the command', { skip }, async () => {
    // Nothing on the far end: the pty exists but nobody answers.
    const pty = await PtyPair.start();
    cleanups.add(() => pty.stop());
    const slcan = new SlcanConnector({ port: pty.a, answer_timeout_ms: 200 }, { name: 'mute', log: silentLogger(), baseDir: process.cwd() });
    cleanups.add(() => slcan.close());
    await assert.rejects(slcan.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /no answer/.test(error.message) && /"C"/.test(error.message));
    assert.equal(slcan.isOpen, false);
  });
});
