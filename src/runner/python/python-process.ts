import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { KisoError } from '../../core/errors.js';
import type { Logger } from '../../core/logging.js';
import { packageRoot } from '../../core/package-root.js';
import type { CommandBody, PythonEvent, PythonReply } from './protocol.js';
import { toPython } from './values.js';

/** Where kiso's Python package lives: kiso_runner.py, kiso_channel.py and the pykiso shim. */
export const PYTHON_SOURCE_DIR = path.join(packageRoot(), 'python');

export interface PythonProcessOptions {
  executable: string;
  /** Extra folders for sys.path (the station's `python.path`). */
  path: readonly string[];
  /** The station's auxiliaries, name → type, for `pykiso.auxiliaries`. */
  auxiliaries: Record<string, string>;
  /** Python logging level of the root logger (10 debug, 20 info, ...). */
  logLevel: number;
  log: Logger;
  /** Events that are no reply: calls, log lines, output, assert rows. */
  onEvent(event: Exclude<PythonEvent, PythonReply | { type: 'ready' }>): void;
}

/** Every Python process still alive; killed if kiso exits without stopping them, so none is left behind. */
const alive = new Set<ChildProcess>();
let exitHook = false;

type Pending = { resolve(reply: PythonReply): void; reject(error: Error): void };

/**
 * One Python process and its channel. Commands wait for their reply; a
 * process that dies fails the waiting command and every later one with the
 * reason (exit code or signal, and its last stderr lines).
 */
export class PythonProcess {
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private ended: KisoError | undefined;
  private readonly stderrTail: string[] = [];
  private readonly ready: Promise<void>;

  constructor(private readonly options: PythonProcessOptions) {
    const env = {
      ...process.env,
      PYTHONPATH: [PYTHON_SOURCE_DIR, ...options.path, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      KISO_AUXILIARIES: JSON.stringify(options.auxiliaries),
      KISO_PYTHON_LOG_LEVEL: String(options.logLevel),
    };
    // Its own process group: a Ctrl-C at the terminal reaches kiso, which decides what Python is told.
    this.child = spawn(options.executable, ['-u', path.join(PYTHON_SOURCE_DIR, 'kiso_runner.py')], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    alive.add(this.child);
    installExitHook();
    this.channel = this.child.stdio[3] as Duplex;
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((readyResolve = resolve), (readyReject = reject)));
    this.ready.catch(() => undefined);

    createInterface({ input: this.channel }).on('line', (line) => {
      let event: PythonEvent;
      try {
        event = JSON.parse(line) as PythonEvent;
      } catch {
        options.log.warn({ line: line.slice(0, 200) }, 'the Python process wrote a line that is not JSON; ignored');
        return;
      }
      if (event.type === 'ready') {
        options.log.debug({ python: event.python, pid: event.pid }, 'Python process ready');
        readyResolve();
      } else if (event.type === 'discovered' || event.type === 'step-done') {
        const waiter = this.pending.get(event.id);
        this.pending.delete(event.id);
        waiter?.resolve(event);
      } else options.onEvent(event);
    });
    this.channel.on('error', () => undefined); // the exit handler says what happened
    for (const [stream, level] of [[this.child.stdout!, 'info'], [this.child.stderr!, 'warn']] as const) {
      createInterface({ input: stream }).on('line', (line) => {
        if (stream === this.child.stderr) {
          this.stderrTail.push(line);
          if (this.stderrTail.length > 20) this.stderrTail.shift();
        }
        options.log[level]({ python: 'fd' }, line);
      });
    }
    this.child.on('error', (error) => this.end(new KisoError('KISO_PYTHON', `cannot start Python (${options.executable}): ${error.message}; set python.executable in the station YAML or KISO_PYTHON`), readyReject));
    this.child.on('exit', (code, signal) => {
      alive.delete(this.child);
      const tail = this.stderrTail.length ? `; its last output: ${this.stderrTail.slice(-5).join(' | ')}` : '';
      this.end(new KisoError('KISO_PYTHON', `the Python process exited ${signal ? `on ${signal}` : `with code ${code}`}${tail}`), readyReject);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why the process is gone, or undefined while it runs. */
  get exitReason(): KisoError | undefined {
    return this.ended;
  }

  /** Sends a command and waits for its reply. */
  async request(command: CommandBody): Promise<PythonReply> {
    await this.ready;
    if (this.ended) throw this.ended;
    const id = ++this.nextId;
    return new Promise<PythonReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ ...command, id });
    });
  }

  /** Answers an auxiliary call of Python. */
  reply(id: number, outcome: { ok: true; value: unknown } | { ok: false; error: string }): void {
    if (this.ended) return;
    this.write(outcome.ok ? { type: 'reply', id, ok: true, value: toPython(outcome.value) } : { type: 'reply', id, ok: false, error: outcome.error });
  }

  /** KeyboardInterrupt in the running step (a step timeout, Ctrl-C). */
  interrupt(): void {
    if (!this.ended && this.child.pid) process.kill(this.child.pid, 'SIGINT');
  }

  /** Asks Python to exit, then makes sure it did. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.ended || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.write({ type: 'exit', id: 0 });
    this.channel.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL'); // the group: a subprocess the suite started goes too
      } catch {
        this.child.kill('SIGKILL');
      }
    }
  }

  private write(message: object): void {
    this.channel.write(`${JSON.stringify(message)}\n`);
  }

  private end(reason: KisoError, rejectReady: (error: Error) => void): void {
    if (this.ended) return;
    this.ended = reason;
    rejectReady(reason);
    for (const waiter of this.pending.values()) waiter.reject(reason);
    this.pending.clear();
  }
}

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of alive) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  });
}
