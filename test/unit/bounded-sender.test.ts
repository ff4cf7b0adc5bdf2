import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedSender } from '../../src/processing/bounded-sender.js';

describe('the host\'s bound on frame bytes waiting for the main process', () => {
  it('sends while the bytes unwritten stay within the bound, then drops and counts, and sends again once the channel drains', () => {
    const written: Array<() => void> = [];
    const sent: number[] = [];
    const sender = new BoundedSender<number>((message, done) => {
      sent.push(message);
      written.push(() => done(null));
      return true;
    }, 300);
    // 100 bytes each: three fit, the fourth and fifth would pass 300.
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => sender.push(n, 10, 100)), [true, true, true, false, false]);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.deepEqual(sender.stats, { inFlight: 3, bytesInFlight: 300, droppedBatches: 2, droppedFrames: 20 });
    written.shift()!();
    assert.equal(sender.push(6, 10, 100), true, 'one batch written: room for another of its size');
    assert.equal(sender.push(7, 1, 1), false, 'not even a byte more');
    for (const done of written.splice(0)) done();
    assert.deepEqual(sender.stats, { inFlight: 0, bytesInFlight: 0, droppedBatches: 3, droppedFrames: 21 });
    assert.deepEqual(sent, [1, 2, 3, 6]);
  });

  it('many small batches cost nothing while their bytes fit: a burst is not a backlog', () => {
    const sender = new BoundedSender<number>(() => true, 64 * 1024);
    for (let i = 0; i < 2000; i++) assert.equal(sender.push(i, 1, 24), true);
    assert.deepEqual(sender.stats, { inFlight: 2000, bytesInFlight: 48000, droppedBatches: 0, droppedFrames: 0 });
  });

  it('a batch larger than the bound still leaves when nothing waits', () => {
    const sender = new BoundedSender<number>(() => true, 1024);
    assert.equal(sender.push(1, 100, 4096), true);
    assert.equal(sender.push(2, 1, 24), false);
  });

  it('a channel that throws (the main process is gone) does not count as waiting', () => {
    const sender = new BoundedSender<number>(() => {
      throw new Error('channel closed');
    }, 1024);
    assert.equal(sender.push(1, 5, 100), true);
    assert.deepEqual(sender.stats, { inFlight: 0, bytesInFlight: 0, droppedBatches: 0, droppedFrames: 0 });
  });
});
