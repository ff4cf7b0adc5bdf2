import type { AuxiliaryState, CommandReport, RunCommandOptions } from '../core/auxiliary.js';
import type { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import { HostProcess } from './host-process.js';
import { reviveError } from './host-process.js';
import type { HostEvent, HostSpec } from './protocol.js';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Writes a host's pino line into the main log, so it reaches the file, the console and the running case. */
export function relayLogLine(log: Logger, line: string, extra: Record<string, unknown> = { host: true }): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.info(extra, line);
    return;
  }
  const { level, time: _time, msg, ...fields } = entry;
  const method = LEVELS[level as number] ?? 'info';
  log[method]({ ...fields, ...extra }, String(msg ?? ''));
}

/** Names probed by kiso or by libraries (await, JSON, inspect) that must not turn into remote calls. */
const LOCAL_ONLY = new Set(['then', 'toJSON', 'bindStation', 'constructor', 'inspect', 'asymmetricMatch', 'nodeType', '$$typeof']);

/**
 * The main process's stand-in for an auxiliary that runs in its own process
 * (`processing: true`). It has the auxiliary's verbs, and every other method
 * the hosted type has (send, receive, ...) through `asTyped()`: each call
 * crosses IPC and resolves with the host's answer. State, lock and fault are
 * mirrored from the host's events, so they read synchronously. If the host
 * dies, calls reject with KISO_AUX_CRASHED naming the auxiliary and the
 * signal or exit code; the next start spawns a fresh host.
 */
export class RemoteAuxiliary {
  readonly name: string;
  readonly config: Record<string, unknown>;
  protected readonly host: HostProcess;
  private mirrored: { state: AuxiliaryState; locked: boolean; fault?: Error } = { state: 'idle', locked: false };

  constructor(
    spec: HostSpec,
    protected readonly log: Logger,
  ) {
    this.name = spec.auxiliary.name;
    this.config = spec.auxiliary.config;
    this.host = new HostProcess(spec, log, {
      onEvent: (event) => this.onHostEvent(event),
      onCrash: (error) => this.onCrash(error),
    });
  }

  get state(): AuxiliaryState {
    return this.mirrored.state;
  }

  get isRunning(): boolean {
    return this.mirrored.state === 'running';
  }

  get isLocked(): boolean {
    return this.mirrored.locked;
  }

  get fault(): Error | undefined {
    return this.mirrored.fault;
  }

  /** Process id of the host, while it runs. */
  get pid(): number | undefined {
    return this.host.pid;
  }

  async createInstance(): Promise<void> {
    if (this.host.state !== 'ready') {
      await this.host.start();
      this.mirrored = { state: 'idle', locked: false };
    }
    await this.call('createInstance');
  }

  async deleteInstance(): Promise<void> {
    try {
      if (this.host.state === 'ready') await this.call('deleteInstance');
    } finally {
      await this.host.stop();
      this.mirrored = { state: 'stopped', locked: false };
    }
  }

  stop(): Promise<void> {
    return this.deleteInstance();
  }

  suspend(): Promise<void> {
    return this.call('suspend') as Promise<void>;
  }

  resume(): Promise<void> {
    return this.call('resume') as Promise<void>;
  }

  lockIt(timeoutMs?: number): Promise<void> {
    return this.call('lockIt', timeoutMs) as Promise<void>;
  }

  unlockIt(): Promise<void> {
    return this.call('unlockIt') as Promise<void>;
  }

  runCommand(command: string, data?: unknown, options?: RunCommandOptions): Promise<CommandReport | undefined> {
    return this.call('runCommand', command, data, options) as Promise<CommandReport | undefined>;
  }

  abortCommand(): Promise<void> {
    return this.call('abortCommand') as Promise<void>;
  }

  waitAndGetReport(options?: { timeoutMs?: number }): Promise<CommandReport | undefined> {
    return this.call('waitAndGetReport', options) as Promise<CommandReport | undefined>;
  }

  /** Calls any method of the hosted auxiliary. */
  call(method: string, ...args: unknown[]): Promise<unknown> {
    // An AbortSignal cannot cross processes; the host's own timeouts bound the call.
    const portable = args.map((arg) => (arg && typeof arg === 'object' && 'signal' in arg ? { ...(arg as object), signal: undefined } : arg));
    return this.host.call(method, portable);
  }

  /**
   * This stub seen as the hosted type: known members are the stub's own,
   * any other method name calls the hosted auxiliary. This is what suites get
   * from `ctx.aux()`, so the same test code runs with and without processing.
   */
  asTyped(): this {
    return new Proxy(this, {
      get: (target, property, receiver) => {
        if (typeof property === 'symbol' || property in target) return Reflect.get(target, property, receiver);
        if (LOCAL_ONLY.has(property)) return undefined;
        return (...args: unknown[]) => target.call(property, ...args);
      },
    });
  }

  protected onHostEvent(event: Exclude<HostEvent, { type: 'result' | 'ready' | 'init-failed' }>): void {
    switch (event.type) {
      case 'state':
        this.mirrored = { state: event.state, locked: event.locked, ...(event.fault ? { fault: reviveError(event.fault) } : {}) };
        return;
      case 'log':
        relayLogLine(this.log, event.line);
        return;
      case 'frames':
      case 'frames-ack':
        this.onFrames(event);
        return;
    }
  }

  /** Proxies override this; a plain hosted auxiliary sends no frames. */
  protected onFrames(_event: Extract<HostEvent, { type: 'frames' | 'frames-ack' }>): void {}

  protected onCrash(error: KisoError): void {
    // Keep the state so the runner sees a running-but-faulted auxiliary and restarts it before its next case.
    this.mirrored = { ...this.mirrored, locked: false, fault: error };
  }
}
