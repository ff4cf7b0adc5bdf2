import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { memoryCanPair, type MemoryCanConnector } from '../../src/connectors/memory-can.js';
import { IsoTpError, IsoTpTransport, decodeStMin, encodeStMin, type IsoTpOptions } from '../../src/can/isotp.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';

/** Failure guard for waits: a hang becomes a failure, never a timing assertion. */
const GUARD_MS = 10_000;

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function pair(testerOptions: Partial<IsoTpOptions> = {}, ecuOptions: Partial<IsoTpOptions> | null = {}) {
  const { bus, a, b } = memoryCanPair();
  await a.open();
  await b.open();
  opened.push(a, b);
  const frames: CanFrame[] = [];
  bus.tap((frame) => frames.push(frame));
  const tester = new IsoTpTransport(a, { txId: 0x7e0, rxId: 0x7e8, ...testerOptions });
  // ecuOptions null: no transport on b, so a test can play the ECU frame by frame.
  const ecu = new IsoTpTransport(b, { txId: 0x7e8, rxId: 0x7e0, ...ecuOptions });
  if (ecuOptions === null) ecu.close();
  opened.push(tester, ecu);
  return { bus, a, b, tester, ecu, frames };
}

function payload(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

const pci = (frame: CanFrame): number => frame.data[0]! >> 4;
const from = (frames: CanFrame[], id: number): CanFrame[] => frames.filter((f) => f.can.id === id);

async function expectIsoTpError(promise: Promise<unknown>, result: string): Promise<IsoTpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof IsoTpError, `expected an IsoTpError, got ${String(error)}`);
    assert.equal(error.result, result, error.message);
    assert.equal(error.code, 'KISO_ISOTP');
    return error;
  }
  assert.fail(`expected ${result}, but it succeeded`);
}

/** Sends raw frames as a hand-written peer would. */
function raw(connector: MemoryCanConnector, id: number, bytes: number[]): Promise<void> {
  return connector.send(canFrame({ id, data: bytes }));
}

function nextFrame(connector: MemoryCanConnector, id: number): Promise<CanFrame> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no frame on 0x${id.toString(16)}`)), GUARD_MS);
    const detach = connector.attach((message) => {
      if (message.can?.id !== id) return;
      clearTimeout(timer);
      detach();
      resolve(message as CanFrame);
    });
  });
}

describe('ISO-TP', () => {
  it('sends a single frame, padded to 8 bytes with 0xCC', async () => {
    const { tester, ecu, frames } = await pair();
    await tester.send(Uint8Array.of(0x22, 0xf1, 0x90));
    assert.deepEqual([...(await ecu.receive({ timeoutMs: GUARD_MS }))!], [0x22, 0xf1, 0x90]);
    assert.equal(frames.length, 1);
    assert.deepEqual([...frames[0]!.data], [0x03, 0x22, 0xf1, 0x90, 0xcc, 0xcc, 0xcc, 0xcc]);
    assert.equal(frames[0]!.can.id, 0x7e0);
  });

  it('sends frames as short as their data with padding: null', async () => {
    const { tester, ecu, frames } = await pair({ padding: null });
    await tester.send(Uint8Array.of(0x3e, 0x00));
    await ecu.receive({ timeoutMs: GUARD_MS });
    assert.deepEqual([...frames[0]!.data], [0x02, 0x3e, 0x00]);
  });

  it('transfers 4095 bytes in a first frame, flow control and 585 consecutive frames', async () => {
    const { tester, ecu, frames } = await pair();
    const message = payload(4095);
    await tester.send(message);
    const received = await ecu.receive({ timeoutMs: GUARD_MS });
    assert.deepEqual(received, message);
    const sent = from(frames, 0x7e0);
    assert.equal(pci(sent[0]!), 1);
    assert.deepEqual([...sent[0]!.data.subarray(0, 2)], [0x1f, 0xff]);
    assert.equal(sent.length, 1 + Math.ceil((4095 - 6) / 7));
    sent.slice(1).forEach((frame, i) => {
      assert.equal(pci(frame), 2);
      assert.equal(frame.data[0]! & 0x0f, (i + 1) & 0x0f, 'sequence numbers wrap 15 → 0');
      assert.equal(frame.data.length, 8);
    });
    const flowControls = from(frames, 0x7e8);
    assert.equal(flowControls.length, 1);
    assert.deepEqual([...flowControls[0]!.data.subarray(0, 3)], [0x30, 0x00, 0x00]);
  });

  it('waits for a flow control after every block the receiver asks for', async () => {
    const { tester, ecu, frames } = await pair({}, { blockSize: 4, stMinMs: 1 });
    const message = payload(200);
    await tester.send(message);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), message);
    const consecutive = Math.ceil((200 - 6) / 7);
    const flowControls = from(frames, 0x7e8);
    assert.equal(flowControls.length, 1 + Math.floor((consecutive - 1) / 4));
    for (const fc of flowControls) assert.deepEqual([...fc.data.subarray(0, 3)], [0x30, 4, 1]);
    // Between two flow controls the sender sends exactly one block.
    let inBlock = 0;
    for (const frame of frames) {
      if (frame.can.id === 0x7e8) inBlock = 0;
      else if (pci(frame) === 2) assert.ok(++inBlock <= 4, 'a block is longer than the block size');
    }
  });

  it('encodes STmin as the standard does (ms, 100-900 µs, reserved values as 127 ms)', () => {
    assert.equal(encodeStMin(0), 0);
    assert.equal(encodeStMin(127), 0x7f);
    assert.equal(encodeStMin(0.1), 0xf1);
    assert.equal(encodeStMin(0.9), 0xf9);
    assert.throws(() => encodeStMin(128), RangeError);
    assert.equal(decodeStMin(0x0a), 10);
    assert.equal(decodeStMin(0xf5), 0.5);
    assert.equal(decodeStMin(0x80), 127);
    assert.equal(decodeStMin(0xfa), 127);
  });

  it('honours a sub-millisecond STmin and an N_Br / N_Cs delay', async () => {
    const { tester, ecu, frames } = await pair({ timeouts: { N_Cs: 1 } }, { stMinMs: 0.5, timeouts: { N_Br: 2 } });
    const message = payload(50);
    await tester.send(message);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), message);
    assert.equal(from(frames, 0x7e8)[0]!.data[2], 0xf5);
  });

  it('uses the escape first frame for messages over 4095 bytes', async () => {
    const { tester, ecu, frames } = await pair();
    const message = payload(5000);
    await tester.send(message);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), message);
    const first = from(frames, 0x7e0)[0]!;
    assert.deepEqual([...first.data.subarray(0, 6)], [0x10, 0x00, 0x00, 0x00, 0x13, 0x88]);
  });

  it('carries CAN FD frames: escape single frames, 64-byte consecutive frames, a padded last frame', async () => {
    const { tester, ecu, frames } = await pair({ fd: true, brs: true }, { fd: true });
    await tester.send(payload(20));
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), payload(20));
    const single = frames[0]!;
    assert.equal(single.can.fd, true);
    assert.equal(single.can.brs, true);
    assert.equal(single.data.length, 24, '2 + 20 bytes padded to the FD length 24');
    assert.deepEqual([...single.data.subarray(0, 2)], [0x00, 20]);

    frames.length = 0;
    const message = payload(4095, 3);
    await tester.send(message);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), message);
    const sent = from(frames, 0x7e0);
    assert.equal(sent[0]!.data.length, 64);
    assert.equal(sent.length, 1 + Math.ceil((4095 - 62) / 63));
    for (const frame of sent.slice(1, -1)) assert.equal(frame.data.length, 64);
    const last = sent[sent.length - 1]!;
    const lastBytes = (4095 - 62) % 63 || 63;
    assert.ok([12, 16, 20, 24, 32, 48, 64, 8].includes(last.data.length) && last.data.length >= lastBytes + 1);
    assert.ok(last.data.subarray(1 + lastBytes).every((byte) => byte === 0xcc));
  });

  it('sends and receives at the same time in both directions', async () => {
    const { tester, ecu } = await pair({}, { blockSize: 3 });
    const up = payload(1000, 5);
    const down = payload(700, 9);
    await Promise.all([tester.send(up), ecu.send(down)]);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), up);
    assert.deepEqual(await tester.receive({ timeoutMs: GUARD_MS }), down);
  });

  it('queues sends: messages leave whole and in call order', async () => {
    const { tester, ecu } = await pair();
    await Promise.all([tester.send(payload(100, 1)), tester.send(payload(3, 2)), tester.send(payload(50, 3))]);
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), payload(100, 1));
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), payload(3, 2));
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), payload(50, 3));
  });

  it('fails with N_TIMEOUT_Bs when no flow control comes', async () => {
    const { a } = await pair();
    const lonely = new IsoTpTransport(a, { txId: 0x700, rxId: 0x708, timeouts: { N_Bs: 30 } });
    opened.push(lonely);
    const error = await expectIsoTpError(lonely.send(payload(20)), 'N_TIMEOUT_Bs');
    assert.match(error.message, /N_Bs = 30 ms/);
  });

  it('fails a reception with N_TIMEOUT_Cr when consecutive frames stop', async () => {
    const { a, ecu } = await pair({}, { timeouts: { N_Cr: 30 } });
    const flowControl = nextFrame(a, 0x7e8);
    await raw(a, 0x7e0, [0x10, 20, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...(await flowControl).data.subarray(0, 3)], [0x30, 0, 0]);
    await raw(a, 0x7e0, [0x21, 7, 8, 9, 10, 11, 12, 13]);
    await expectIsoTpError(ecu.receive({ timeoutMs: GUARD_MS }), 'N_TIMEOUT_Cr');
  });

  it('fails a reception with N_WRONG_SN on a sequence gap', async () => {
    const { a, ecu } = await pair();
    const flowControl = nextFrame(a, 0x7e8);
    await raw(a, 0x7e0, [0x10, 20, 1, 2, 3, 4, 5, 6]);
    await flowControl;
    await raw(a, 0x7e0, [0x22, 7, 8, 9, 10, 11, 12, 13]);
    await expectIsoTpError(ecu.receive({ timeoutMs: GUARD_MS }), 'N_WRONG_SN');
  });

  it('reports N_UNEXP_PDU when a new message interrupts one, and keeps the new one', async () => {
    const { a, ecu } = await pair();
    const flowControl = nextFrame(a, 0x7e8);
    await raw(a, 0x7e0, [0x10, 20, 1, 2, 3, 4, 5, 6]);
    await flowControl;
    await raw(a, 0x7e0, [0x02, 0x3e, 0x00]);
    await expectIsoTpError(ecu.receive({ timeoutMs: GUARD_MS }), 'N_UNEXP_PDU');
    assert.deepEqual([...(await ecu.receive({ timeoutMs: GUARD_MS }))!], [0x3e, 0x00]);
  });

  it('waits through FC.WAIT frames, and gives up after N_WFTmax of them', async () => {
    const { b, tester } = await pair({ maxWaitFrames: 2 }, null);
    const peer = async (waits: number): Promise<CanFrame[]> => {
      const first = await nextFrame(b, 0x7e0);
      for (let i = 0; i < waits; i++) await raw(b, 0x7e8, [0x31, 0, 0]);
      if (waits <= 2) {
        const got: CanFrame[] = [first];
        const rest = new Promise<void>((resolve) => {
          const detach = b.attach((m) => {
            if (m.can?.id !== 0x7e0) return;
            got.push(m as CanFrame);
            if (got.length === 3) {
              detach();
              resolve();
            }
          });
        });
        await raw(b, 0x7e8, [0x30, 0, 0]);
        await rest;
        return got;
      }
      return [first];
    };
    const [frames] = await Promise.all([peer(2), tester.send(payload(18))]);
    assert.equal(frames.length, 3, 'first frame and two consecutive frames after the waits');
    await Promise.all([peer(3), expectIsoTpError(tester.send(payload(18)), 'N_WFT_OVRN')]);
  });

  it('refuses a message longer than maxMessageLength with FC.OVFLW, which the sender reports', async () => {
    const { tester, frames } = await pair({}, { maxMessageLength: 100 });
    await expectIsoTpError(tester.send(payload(200)), 'N_BUFFER_OVFLW');
    assert.deepEqual([...from(frames, 0x7e8)[0]!.data.subarray(0, 3)], [0x32, 0, 0]);
  });

  it('ignores frames on other ids, remote frames and reserved PCI types', async () => {
    const { a, ecu } = await pair();
    await raw(a, 0x123, [0x02, 0xaa, 0xbb]);
    await a.send(canFrame({ id: 0x7e0, remote: true, dlc: 8 }));
    await raw(a, 0x7e0, [0x70, 1, 2]);
    await raw(a, 0x7e0, [0x21, 1, 2, 3]);
    await raw(a, 0x7e0, [0x01, 0x99]);
    assert.deepEqual([...(await ecu.receive({ timeoutMs: GUARD_MS }))!], [0x99]);
  });

  it('uses extended ids when asked, and the same transport over extended ids', async () => {
    const { tester, ecu, frames } = await pair({ txId: 0x18da01f1, rxId: 0x18daf101 }, { txId: 0x18daf101, rxId: 0x18da01f1 });
    await tester.send(payload(30));
    assert.deepEqual(await ecu.receive({ timeoutMs: GUARD_MS }), payload(30));
    assert.ok(frames.every((frame) => frame.can.extended));
  });

  it('close() fails a transfer under way and releases its timers', async () => {
    const { a } = await pair();
    const lonely = new IsoTpTransport(a, { txId: 0x700, rxId: 0x708 });
    const sending = lonely.send(payload(20));
    await new Promise((resolve) => setImmediate(resolve));
    lonely.close();
    await expectIsoTpError(sending, 'N_ERROR');
    assert.equal(await lonely.receive({ timeoutMs: 10 }), undefined);
  });

  it('rejects a TX_DL that the bus cannot carry', async () => {
    const { a } = await pair();
    assert.throws(() => new IsoTpTransport(a, { txId: 1, rxId: 2, txDataLength: 64 }), /classic CAN/);
    assert.throws(() => new IsoTpTransport(a, { txId: 1, rxId: 2, fd: true, txDataLength: 10 }), /CAN FD length/);
  });
});
