import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canFrame } from '../../src/can/frame.js';
import { BatchPacker, packMessages, unpackMessages } from '../../src/processing/frame-pack.js';
import type { Message } from '../../src/core/message.js';

const plain = (message: Message) => ({ ...message, data: [...message.data] });

describe('packed frame batches', () => {
  it('round-trips CAN frames of every kind, plain bytes, channels and peers', () => {
    const messages: Message[] = [
      canFrame({ id: 0x123, data: [1, 2, 3], timestamp: 1700000000.123456, channel: 'can0' }),
      canFrame({ id: 0x1abcdef0, extended: true, data: [0xff] }),
      canFrame({ id: 0x7ff, remote: true, dlc: 4 }),
      canFrame({ id: 0x10, fd: true, brs: true, esi: true, data: new Uint8Array(64).fill(7) }),
      { data: Buffer.from('hello'), peer: { address: '127.0.0.1', port: 40000 }, channel: 'ü-chan' },
      { data: new Uint8Array(0) },
    ];
    const unpacked = unpackMessages(packMessages(messages));
    assert.deepEqual(unpacked.map(plain), messages.map(plain));
  });

  it('is one buffer for many frames', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => canFrame({ id: i & 0x7ff, data: [i & 0xff, i >> 8] }));
    const packed = packMessages(frames);
    assert.ok(Buffer.isBuffer(packed));
    assert.equal(unpackMessages(packed).length, 1000);
    assert.equal(unpackMessages(packed)[999]!.can!.id, 999);
  });

  it('packs message by message into the same bytes, batch after batch in one buffer', () => {
    const frames = Array.from({ length: 3000 }, (_, i) => canFrame({ id: i & 0x7ff, fd: true, data: new Uint8Array([0, 1, 8, 12, 64][i % 5]!).fill(i & 0xff), timestamp: i }));
    const packer = new BatchPacker(64);
    for (const frame of frames.slice(0, 2000)) packer.add(frame);
    assert.equal(packer.count, 2000);
    assert.deepEqual(packer.take(), packMessages(frames.slice(0, 2000)));
    assert.equal(packer.count, 0);
    assert.equal(packer.bytes, 0);
    for (const frame of frames.slice(2000)) packer.add(frame);
    const second = packer.take();
    assert.deepEqual(unpackMessages(second).map(plain), frames.slice(2000).map(plain));
  });

  it('keeps no half-packed message when one cannot be packed', () => {
    const packer = new BatchPacker();
    packer.add(canFrame({ id: 1, data: [1] }));
    assert.throws(() => packer.add({ data: new Uint8Array(70_000) }), RangeError);
    assert.equal(packer.count, 1);
    assert.deepEqual(packer.take(), packMessages([canFrame({ id: 1, data: [1] })]));
  });
});
