import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import { forkChild, sendToChild } from './child-process.js';
import type { HostEvent, HostRequest, HostSpec, SerializedError } from './protocol.js';

/** How long a host gets to stop after `shutdown`, then after SIGTERM, before SIGKILL. */
export const STOP_GRACE_MS = 3_000;
export const KILL_GRACE_MS = 1_000;

export type HostState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'crashed';

export function reviveError(serialized: SerializedError): Error {
  const error = serialized.code?.startsWith('KISO_') ? new KisoError(serialized.code as never, serialized.message) : new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.code) (error as { code?: string }).code = serialized.code;
  if (serialized.stack) error.stack = serialized.stack;
  if (serialized.fields) Object.assign(error, serialized.fields);
  return error;
}

/**
 * A host's young generation (V8's new space, two semi-spaces) has one size
 * for the host's whole life. V8's own starts at 1 MiB semi-spaces and doubles
 * them, up to 16 MiB, each time enough objects have survived its scavenges
 * since the last doubling: on a full bus that came at unpredictable times
 * (14 to 75 s in), each doubling a step in the host's RSS (new space 7 →
 * 13.5 → 26.6 MiB; issue 17, `npm run bench -- soak` shows it per space).
 * 4 MiB: frames die young (FrameBatcher packs them as they arrive), so the
 * proxy bench's host spends the same CPU per frame as with V8's 16 MiB
 * (with Message objects waiting in batches, 4 MiB cost it 2.5 times that).
 */
export const HOST_SEMI_SPACE_MIB = 4;
/** --expose-gc: the host bounds what IPC serialization leaves behind with major GCs of its own (ipc-garbage.ts). */
const HOST_V8_FLAGS = [`--min-semi-space-size=${HOST_SEMI_SPACE_MIB}`, `--max-semi-space-size=${HOST_SEMI_SPACE_MIB}`, '--expose-gc'];

function hostEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { file: here.replace(/host-process\.ts$/, 'host-main.ts'), execArgv: ['--import', 'tsx', ...HOST_V8_FLAGS] };
  const file = here.replace(/host-process\.js$/, 'host-main.js');
  if (!existsSync(file)) throw new Error(`host entry ${file} is missing: rebuild kiso`);
  return { file, execArgv: HOST_V8_FLAGS };
}

export interface HostHandlers {
  /** Events that are not replies: state, frames, frame acks, log lines. */
  onEvent(event: Exclude<HostEvent, { type: 'result' | 'ready' | 'init-failed' }>): void;
  /** The process ended without being asked to. */
  onCrash(error: KisoError): void;
}

/**
 * One auxiliary host process, from the main side: start (fork, build the
 * hosted auxiliary), typed calls with replies, frames, and stop with
 * escalation (shutdown → SIGTERM → SIGKILL). An exit nobody asked for
 * rejects every pending call with KISO_AUX_CRASHED naming the auxiliary and
 * the exit code or signal.
 */
export class HostProcess {
  private child?: ChildProcess;
  private currentState: HostState = 'idle';
  private nextId = 1;
  private pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; method: string }>();
  private exited?: Promise<void>;
  crashError?: KisoError;

  constructor(
    private readonly spec: HostSpec,
    private readonly log: Logger,
    private readonly handlers: HostHandlers,
  ) {}

  get state(): HostState {
    return this.currentState;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private get auxName(): string {
    return this.spec.auxiliary.name;
  }

  async start(): Promise<void> {
    if (this.currentState === 'ready' || this.currentState === 'starting') return;
    this.currentState = 'starting';
    this.crashError = undefined;
    const { file, execArgv } = hostEntry();
    const child = forkChild(file, execArgv, (error) => this.log.debug({ auxiliary: this.auxName, err: error }, `process of auxiliary ${this.auxName}: ${error.message}`));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('exit', (code, signal) => this.onExit(code, signal));
    child.on('message', (event: HostEvent) => this.onMessage(event));
    await new Promise<void>((resolve, reject) => {
      const onEvent = (event: HostEvent): void => {
        if (event.type === 'ready') done(() => resolve());
        else if (event.type === 'init-failed') done(() => reject(new KisoError('KISO_CONNECTOR_OPEN', `auxiliary "${this.auxName}" could not be built in its process: ${event.error.message}`)));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => done(() => reject(this.exitError(code, signal, 'while starting')));
      const done = (settle: () => void): void => {
        child.off('message', onEvent);
        child.off('exit', onExit);
        settle();
      };
      child.on('message', onEvent);
      child.once('exit', onExit);
      this.send({ type: 'init', spec: this.spec });
    }).catch(async (error: unknown) => {
      await this.kill();
      throw error;
    });
    this.currentState = 'ready';
    this.log.debug({ auxiliary: this.auxName, pid: child.pid }, `auxiliary ${this.auxName} runs in process ${child.pid}`);
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.currentState !== 'ready') {
      return Promise.reject(this.crashError ?? new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.auxName}" has no running process (it is ${this.currentState}): cannot ${method}()`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.send({ type: 'call', id, method, args });
    });
  }

  /** Sends to the host; after it died there is no one to tell (its crash, from the exit, fails what waits on it). */
  send(request: HostRequest): void {
    if (!this.child) return;
    sendToChild(this.child, request, (error) => this.log.debug({ auxiliary: this.auxName, err: error }, `could not write to the process of auxiliary ${this.auxName}: ${error.message}`));
  }

  /** Asks the host to stop; escalates to SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.currentState === 'stopped' || this.currentState === 'crashed' || this.currentState === 'idle') return;
    this.currentState = 'stopping';
    this.send({ type: 'shutdown' });
    if (await this.waitExit(STOP_GRACE_MS)) return;
    this.log.warn({ auxiliary: this.auxName, pid: child.pid }, `process of auxiliary ${this.auxName} did not stop in ${STOP_GRACE_MS} ms: SIGTERM`);
    child.kill('SIGTERM');
    if (await this.waitExit(KILL_GRACE_MS)) return;
    child.kill('SIGKILL');
    await this.waitExit(KILL_GRACE_MS);
  }

  private async kill(): Promise<void> {
    this.currentState = 'stopping';
    this.child?.kill('SIGKILL');
    await this.waitExit(KILL_GRACE_MS);
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (!this.exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return exited;
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null, when = ''): KisoError {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    return new KisoError('KISO_AUX_CRASHED', `the process of auxiliary "${this.auxName}" (pid ${this.child?.pid}) ${how}${when ? ` ${when}` : ''}`);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const expected = this.currentState === 'stopping';
    this.currentState = expected ? 'stopped' : 'crashed';
    const error = expected ? new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.auxName}" stopped`) : this.exitError(code, signal);
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    if (!expected) {
      this.crashError = error;
      this.log.error({ auxiliary: this.auxName, code, signal }, error.message);
      this.handlers.onCrash(error);
    }
  }

  private onMessage(event: HostEvent): void {
    switch (event.type) {
      case 'result': {
        this.handlers.onEvent({ type: 'state', ...event.after });
        const call = this.pending.get(event.id);
        if (!call) return;
        this.pending.delete(event.id);
        if (event.ok) call.resolve(event.value);
        else call.reject(reviveError(event.error));
        return;
      }
      case 'ready':
      case 'init-failed':
        return; // handled by start()
      case 'state':
      case 'frames':
      case 'frames-ack':
      case 'log':
        this.handlers.onEvent(event);
        return;
      default: {
        const unknown: never = event;
        this.log.error({ auxiliary: this.auxName, event: unknown }, 'unknown IPC event from a host process');
      }
    }
  }
}
