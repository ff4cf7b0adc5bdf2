import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedSender } from '../../src/processing/bounded-sender.js';

describe('the host\'s bound on frames waiting for the main process', () => {
  it('sends while fewer than the bound are unwritten, then drops and counts, and sends again once the channel drains', () => {
    const written: Array<() => void> = [];
    const sent: number[] = [];
    const sender = new BoundedSender<number>((message, done) => {
      sent.push(message);
      written.push(() => done(null));
      return true;
    }, 3);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => sender.push(n, 10)), [true, true, true, false, false]);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.deepEqual(sender.stats, { inFlight: 3, droppedBatches: 2, droppedFrames: 20 });
    written.shift()!();
    assert.equal(sender.push(6, 10), true, 'one batch written: room for one more');
    assert.equal(sender.push(7, 10), false);
    for (const done of written.splice(0)) done();
    assert.deepEqual(sender.stats, { inFlight: 0, droppedBatches: 3, droppedFrames: 30 });
    assert.deepEqual(sent, [1, 2, 3, 6]);
  });

  it('a channel that throws (the main process is gone) does not count as waiting', () => {
    const sender = new BoundedSender<number>(() => {
      throw new Error('channel closed');
    }, 1);
    assert.equal(sender.push(1, 5), true);
    assert.equal(sender.stats.inFlight, 0);
  });
});
