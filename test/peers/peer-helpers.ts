import assert from 'node:assert/strict';
import { after } from 'node:test';
import { settledLeftovers, snapshotHandles } from '../../src/cli/leftover-handles.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Connector } from '../../src/core/connector.js';
import type { Message } from '../../src/core/message.js';

/**
 * Real peers for serial-based connectors: a socat pseudo-terminal pair, and
 * Python (pyserial) programs on the far end, driven by JSON lines.
 * Waits are bounded only to turn a hang into a failure.
 */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_DIR = fileURLToPath(new URL('./python/', import.meta.url));

/** Why the peer tests cannot run here, or undefined when they can. */
export function peersMissing(): string | undefined {
  const socat = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (socat.error || socat.status !== 0) return 'socat is not installed (Debian package socat)';
  const python = spawnSync(PYTHON, ['-c', 'import serial'], { stdio: 'ignore' });
  if (python.error || python.status !== 0) return `${PYTHON} cannot import serial (Debian package python3-serial)`;
  return undefined;
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (a guard, not a timing assertion). */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** A socat pty pair: bytes written on `a` come out of `b` and back. */
export class PtyPair {
  private constructor(
    readonly a: string,
    readonly b: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PtyPair> {
    const dir = mkdtempSync(join(tmpdir(), 'kiso-pty-'));
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (log += text));
    const pair = new PtyPair(a, b, child, dir);
    try {
      await waitUntil(() => (existsSync(a) && existsSync(b) && log.includes('starting data transfer loop')) || child.exitCode !== null, 'socat to create the pty pair');
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode}): ${log}`);
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills socat: both ptys vanish as an unplugged adapter would. */
  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type PeerEvent = Record<string, unknown>;

/** A Python program on the far end, commanded with JSON lines on stdin, reporting JSON lines on stdout. */
export class PythonPeer {
  readonly events: PeerEvent[] = [];
  private stderr = '';
  private constructor(private readonly child: ChildProcess) {}

  static async start(script: string, args: string[]): Promise<PythonPeer> {
    const child = spawn(PYTHON, ['-u', join(PYTHON_DIR, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PythonPeer(child);
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (peer.stderr += text));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        peer.events.push(JSON.parse(line) as PeerEvent);
      } catch {
        peer.events.push({ unparsed: line });
      }
    });
    try {
      const first = await peer.next((event) => 'ready' in event || 'error' in event, 'the peer to start');
      if ('error' in first) throw new Error(`peer ${script} failed to start: ${String(first.error)}`);
    } catch (error) {
      await peer.stop();
      throw error;
    }
    return peer;
  }

  /** Waits for the first not yet consumed event matching `match` and consumes it. */
  async next(match: (event: PeerEvent) => boolean, what: string, timeoutMs = 20_000): Promise<PeerEvent> {
    let found = -1;
    await waitUntil(() => {
      found = this.events.findIndex(match);
      return found >= 0 || this.child.exitCode !== null;
    }, `${what} (peer stderr: ${this.stderr.trim() || 'empty'})`, timeoutMs);
    if (found < 0) throw new Error(`peer exited (${this.child.exitCode}) while waiting for ${what}: ${this.stderr}`);
    return this.events.splice(found, 1)[0]!;
  }

  /** Sends a command; resolves with the answer `{ok: op}` (or throws on `{error}`). */
  async request(command: PeerEvent, timeoutMs = 30_000): Promise<PeerEvent> {
    this.send(command);
    const answer = await this.next((event) => event.ok === command.op || 'error' in event, `the peer's answer to ${String(command.op)}`, timeoutMs);
    if ('error' in answer) throw new Error(`peer error: ${String(answer.error)}`);
    return answer;
  }

  send(command: PeerEvent): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.stdin!.writable) this.child.stdin!.end(`${JSON.stringify({ op: 'exit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 2_000);
    await exited(this.child);
    clearTimeout(timer);
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
  }
}

/** Records everything a connector delivers. */
export function collect(connector: Connector<any>): Message[] {
  const received: Message[] = [];
  connector.attach((message) => received.push(message));
  return received;
}

/** Cleanups run in reverse order by the test file's after() hook. */
export class Cleanups {
  private readonly tasks: Array<() => Promise<void> | void> = [];
  add(task: () => Promise<void> | void): void {
    this.tasks.push(task);
  }
  async run(): Promise<void> {
    for (const task of this.tasks.reverse()) {
      try {
        await task();
      } catch (error) {
        console.error('cleanup failed:', error);
      }
    }
    this.tasks.length = 0;
  }
}


/**
 * The common start of a peer test file: says once why its tests skip when a
 * peer is missing, and after the file checks that every port, child process
 * and timer its tests opened is closed again.
 */
export function peerTestFile(label: string): { skip: string | false; cleanups: Cleanups } {
  const missing = peersMissing();
  if (missing) console.log(`${label} peer tests skipped: ${missing}`);
  const baseline = snapshotHandles();
  const cleanups = new Cleanups();
  after(async () => {
    await cleanups.run();
    assert.deepEqual(await settledLeftovers(baseline, 50), []);
  });
  return { skip: missing ?? false, cleanups };
}
