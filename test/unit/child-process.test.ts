import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { forkChild, sendToChild } from '../../src/processing/child-process.js';

const CHILD = path.resolve('test/fixtures/children/wait-for-kill.mjs');

const exitOf = (child: ChildProcess): Promise<void> => new Promise((resolve) => child.once('exit', () => resolve()));

/** The inode of the socket a process holds as `fd` (the child's end of its IPC channel is fd 3). */
const socketInode = (pid: number, fd: number): string => /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))![1]!;
const listed = (inode: string): boolean => readFileSync('/proc/net/unix', 'utf8').split('\n').some((line) => line.trim().split(/\s+/)[6] === inode);

/**
 * Kills the child and blocks this thread until the kernel has released its end of the channel
 * (gone from /proc/net/unix), so Node has not seen the death yet and a write now fails with EPIPE.
 * Not the zombie state: the socket is released a moment after it.
 */
function killAndWaitReleased(child: ChildProcess): void {
  const inode = socketInode(child.pid!, 3);
  assert.ok(listed(inode), 'the child holds its end of the channel');
  process.kill(child.pid!, 'SIGKILL');
  const until = Date.now() + 10_000;
  while (listed(inode)) {
    if (Date.now() > until) throw new Error(`the channel of child ${child.pid} was not released`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
}

/** A child of forkChild, dead but not yet reaped: its 'error' events, and its exit (not events.once: that would take 'error' for itself). */
async function justDiedChild(): Promise<{ child: ChildProcess; errorEvents: Error[]; exited: Promise<void> }> {
  const errorEvents: Error[] = [];
  const child = forkChild(CHILD, [], (error) => errorEvents.push(error));
  await once(child, 'message');
  const exited = exitOf(child);
  killAndWaitReleased(child);
  return { child, errorEvents, exited };
}

describe('child processes and their channel', () => {
  // The moment between a child's death and its exit event: the channel still says connected, a write fails with EPIPE.
  it('a message to a child that just died is dropped and reported, never an error event', async () => {
    const { child, errorEvents, exited } = await justDiedChild();
    assert.equal(child.connected, true, 'Node has not seen the death yet');
    const undelivered: Error[] = [];
    sendToChild(child, { type: 'stop' }, (error) => undelivered.push(error));
    await exited;
    assert.equal(undelivered.length, 1, 'the failed write is reported to the sender');
    assert.equal((undelivered[0] as NodeJS.ErrnoException).code, 'EPIPE');
    assert.deepEqual(errorEvents, [], 'and is no error event');
    sendToChild(child, { type: 'stop' }, (error) => undelivered.push(error));
    assert.equal(undelivered.length, 1, 'after the exit, nothing is sent and nothing reported');
  });

  it("a bare send in that moment is an 'error' event: what forkChild's listener keeps from ending kiso", async () => {
    const { child, errorEvents, exited } = await justDiedChild();
    child.send({ type: 'stop' });
    await exited;
    assert.equal((errorEvents[0] as NodeJS.ErrnoException | undefined)?.code, 'EPIPE');
  });
});
