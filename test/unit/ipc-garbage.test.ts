import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpcGarbageBound } from '../../src/processing/ipc-garbage.js';

describe("the bound on IPC serialization's garbage", () => {
  it('asks for a major GC once every `every` frame batches', () => {
    let collections = 0;
    const bound = new IpcGarbageBound(3, () => collections++);
    for (let batch = 0; batch < 10; batch++) bound.count();
    assert.equal(collections, 3);
  });

  it('runs in a process without --expose-gc too (it then collects nothing)', () => {
    assert.doesNotThrow(() => new IpcGarbageBound(1).count());
  });
});
