import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canFrame } from '../../src/can/frame.js';
import { packMessages, unpackMessages } from '../../src/processing/frame-pack.js';
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
});
