import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canFrame } from '../../src/can/frame.js';
import { FrameBatcher } from '../../src/processing/frame-batcher.js';
import { unpackMessages } from '../../src/processing/frame-pack.js';

type Sent = { key: string; ids: number[]; count: number };

function recorder(maxMessages?: number, maxBytes?: number): { batcher: FrameBatcher<string>; sent: Sent[] } {
  const sent: Sent[] = [];
  const batcher = new FrameBatcher<string>((key, batch, count) => sent.push({ key, ids: unpackMessages(batch).map((m) => m.can!.id), count }), maxMessages, maxBytes);
  return { batcher, sent };
}

const frame = (id: number, bytes = 8) => canFrame({ id, fd: bytes > 8, data: new Uint8Array(bytes) });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('frame batches', () => {
  it('leave on the next event-loop turn as one batch', async () => {
    const { batcher, sent } = recorder();
    for (let id = 0; id < 5; id++) batcher.push('bus', frame(id));
    assert.equal(sent.length, 0);
    await nextTurn();
    assert.deepEqual(sent, [{ key: 'bus', ids: [0, 1, 2, 3, 4], count: 5 }]);
  });

  it('leave at once on a change of sender, in order', async () => {
    const { batcher, sent } = recorder();
    batcher.push('a', frame(1));
    batcher.push('b', frame(2));
    batcher.push('a', frame(3));
    await nextTurn();
    assert.deepEqual(sent, [
      { key: 'a', ids: [1], count: 1 },
      { key: 'b', ids: [2], count: 1 },
      { key: 'a', ids: [3], count: 1 },
    ]);
  });

  it('leave at once at the message bound and at the byte bound', async () => {
    // A classic frame packs into 24 bytes, a 64-byte CAN FD one into 80.
    const { batcher, sent } = recorder(4, 150);
    for (let id = 1; id <= 5; id++) batcher.push('bus', frame(id));
    batcher.push('bus', frame(6, 64));
    batcher.push('bus', frame(7, 64));
    batcher.push('bus', frame(8));
    assert.deepEqual(sent, [
      { key: 'bus', ids: [1, 2, 3, 4], count: 4 },
      { key: 'bus', ids: [5, 6, 7], count: 3 },
    ]);
    await nextTurn();
    assert.deepEqual(sent.at(-1), { key: 'bus', ids: [8], count: 1 });
  });

  it('drop what waits when discarded', async () => {
    const { batcher, sent } = recorder();
    batcher.push('bus', frame(1));
    batcher.discard();
    await nextTurn();
    batcher.push('bus', frame(2));
    await nextTurn();
    assert.deepEqual(sent, [{ key: 'bus', ids: [2], count: 1 }]);
  });

  it('are views of one reused buffer, not a buffer each', async () => {
    const buffers = new Set<ArrayBufferLike>();
    const batcher = new FrameBatcher<string>((_key, batch) => buffers.add(batch.buffer));
    for (let id = 0; id < 10; id++) {
      batcher.push('bus', frame(id));
      await nextTurn();
    }
    assert.equal(buffers.size, 1);
  });
});
