import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/cli.js';

// Issue 17: a killed MpProxy host. The built kiso (dist/) is used, so that host processes start as in a real run.
const dist = (file: string): string => pathToFileURL(path.join(ROOT, 'dist/src', file)).href;
const { registerBuiltins } = (await import(dist('builtins.js'))) as typeof import('../../src/builtins.js');
const { loadStationConfig } = (await import(dist('config/load.js'))) as typeof import('../../src/config/load.js');
const { StationRuntime } = (await import(dist('station/station.js'))) as typeof import('../../src/station/station.js');
const { silentLogger } = (await import(dist('core/logging.js'))) as typeof import('../../src/core/logging.js');
registerBuiltins();

const STATION = path.join(ROOT, 'test/fixtures/valid/mp_crash.yaml');

interface Sender {
  send(data: string): Promise<void>;
  receive(options: { timeoutMs: number }): Promise<{ data: Uint8Array } | undefined>;
  state: string;
  fault?: Error;
}

/** Kills the process and waits, blocking the event loop, until the kernel has it as a zombie: dead, but kiso has not seen its exit yet. */
function killAndWaitDead(pid: number): void {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  for (;;) {
    let state: string;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;
    } catch {
      return; // reaped
    }
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > deadline) throw new Error(`process ${pid} still ${state} 5 s after SIGKILL`);
  }
}

/** Settles within `ms`, or says it did not. */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })),
    new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function buildStation() {
  const config = await loadStationConfig(STATION);
  return StationRuntime.build(config, silentLogger());
}

describe('an MpProxy host killed with sends in flight', () => {
  it('a send queued just before the crash, flushed after it, rejects at once with KISO_AUX_CRASHED (50 times)', async () => {
    const station = await buildStation();
    try {
      for (let trial = 1; trial <= 50; trial++) {
        await station.start(['proxy_aux', 'aux1', 'aux2']);
        const aux1 = station.auxiliary('aux1') as unknown as Sender;
        const proxy = station.auxiliary('proxy_aux') as unknown as { pid: number };
        await aux1.send('warm');
        // From the check phase: the batch of the send below then leaves on the next loop turn, after the poll phase saw the exit.
        await new Promise((resolve) => setImmediate(resolve));
        killAndWaitDead(proxy.pid);
        // The host is dead, kiso has not seen it: this send is queued, its batch leaves after the crash is handled.
        const queued = aux1.send('lost?');
        const settled = await settlesWithin(queued, 3000);
        assert.notEqual(settled, 'pending', `trial ${trial}: a send on a dead host never settled`);
        assert.equal(settled.ok, false, `trial ${trial}: a send on a dead host resolved`);
        const error = (settled as { error: Error & { code?: string } }).error;
        assert.equal(error.code, 'KISO_AUX_CRASHED', `trial ${trial}: ${error.message}`);
        assert.match(error.message, /proxy_aux.*killed by SIGKILL/, `trial ${trial}`);
        // A later send rejects at once too.
        const later = await settlesWithin(aux1.send('later'), 1000);
        assert.notEqual(later, 'pending', `trial ${trial}: a later send on a dead host never settled`);
        assert.equal(later.ok, false);
      }
    } finally {
      await station.stopAll();
    }
  });
});

describe('an MpProxy host killed between cases', () => {
  it('a case that names only the attached auxiliaries gets a fresh proxy process, and frames flow again (50 times)', async () => {
    const station = await buildStation();
    try {
      await station.start(['aux1', 'aux2']);
      for (let trial = 1; trial <= 50; trial++) {
        const aux1 = station.auxiliary('aux1') as unknown as Sender;
        const aux2 = station.auxiliary('aux2') as unknown as Sender & { clearBuffer(): void };
        const proxy = station.auxiliary('proxy_aux') as unknown as { pid: number; fault?: Error };
        const deadPid = proxy.pid;
        process.kill(deadPid, 'SIGKILL');
        const deadline = Date.now() + 5000;
        while (!proxy.fault && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.ok(proxy.fault, `trial ${trial}: the crash was not seen`);
        // The next case names aux1 and aux2 only, as mp_proxy suites do.
        await station.start(['aux1', 'aux2']);
        assert.ok(proxy.pid && proxy.pid !== deadPid, `trial ${trial}: the proxy process was not restarted (pid ${proxy.pid})`);
        assert.equal(proxy.fault, undefined);
        aux2.clearBuffer();
        await aux1.send(`hello ${trial}`);
        const got = await aux2.receive({ timeoutMs: 3000 });
        assert.equal(Buffer.from(got!.data).toString(), `hello ${trial}`, `trial ${trial}`);
      }
    } finally {
      await station.stopAll();
    }
  });
});
