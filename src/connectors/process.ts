import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Connector } from '../core/connector.js';
import { describeError, KisoError, type ErrorCode } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';
import { commandOf, type ProcessStream } from './process-message.js';
import { requireBytes } from './socket-common.js';

export interface ProcessConnectorConfig {
  /** The program to run: a name looked up in PATH, or a path (a relative one resolves against the YAML's folder). */
  executable?: string;
  /** Its arguments (the schema's default, [], is filled in). */
  args?: string[];
  /** Run `executable` and `args`, joined by spaces, through /bin/sh -c. */
  shell?: boolean;
  /** Read stdout / stderr as messages; when false the stream goes to kiso's own. */
  pipe_stdout?: boolean;
  pipe_stderr?: boolean;
  /** Write sent messages to stdin; when false the process reads nothing (stdin is /dev/null). */
  pipe_stdin?: boolean;
  /** Text mode: one message per line (\r\n read as \n), decoded with `encoding` and delivered as UTF-8. Binary mode: every chunk read as it came. */
  text?: boolean;
  /** Working folder of the process (the schema resolves it against the YAML's folder; default: the YAML's folder). */
  cwd?: string;
  /** The process's whole environment (as Python's Popen env); default: kiso's own. */
  env?: Record<string, string | number | boolean> | null;
  /** Text mode's encoding on the process side (Python's names); default utf-8. */
  encoding?: string | null;
  /** kiso's addition: start the process when the connector opens (pykiso starts it only on a start message). */
  start_on_open?: boolean;
  /** kiso's addition: how long a process has after SIGTERM before SIGKILL (pykiso waits 5 s). */
  terminate_timeout_ms?: number;
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

export const DEFAULT_TERMINATE_TIMEOUT_MS = 5_000;
/** A text-mode line longer than this is delivered in pieces of this many characters, so a stream without newlines stays bounded. */
export const MAX_LINE_CHARS = 1 << 20;

/** Python's codec names that the schema accepts, as Node's encodings. */
const ENCODINGS: Record<string, BufferEncoding> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'latin-1': 'latin1',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  ascii: 'ascii',
  'utf-16-le': 'utf16le',
  'utf-16le': 'utf16le',
  utf16le: 'utf16le',
};

export function nodeEncoding(name: string | null | undefined): BufferEncoding {
  if (name === null || name === undefined) return 'utf8';
  const encoding = ENCODINGS[name.toLowerCase()];
  if (!encoding) throw new KisoError('KISO_CONNECTOR_OPEN', `unknown encoding "${name}" (known: ${Object.keys(ENCODINGS).join(', ')})`);
  return encoding;
}

/**
 * Cuts decoded text into lines as Python's text mode reads them: "\r\n" and
 * a lone "\r" end a line as "\n" does, and each line keeps its "\n". What
 * follows the last newline waits for more (`flush()` at the end of the
 * stream hands it over); a line that grows past `maxChars` is handed over
 * in pieces.
 */
export class LineSplitter {
  private pending = '';
  private heldCr = false;

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(text: string): string[] {
    let input = (this.heldCr ? '\r' : '') + text;
    this.heldCr = input.endsWith('\r');
    if (this.heldCr) input = input.slice(0, -1); // it may be the first half of \r\n
    this.pending += input.replace(/\r\n?/g, '\n');
    const lines: string[] = [];
    let start = 0;
    for (let end = this.pending.indexOf('\n'); end !== -1; end = this.pending.indexOf('\n', start)) {
      lines.push(this.pending.slice(start, end + 1));
      start = end + 1;
    }
    this.pending = this.pending.slice(start);
    while (this.pending.length >= this.maxChars) {
      lines.push(this.pending.slice(0, this.maxChars));
      this.pending = this.pending.slice(this.maxChars);
    }
    return lines;
  }

  flush(): string[] {
    const rest = this.pending + (this.heldCr ? '\n' : '');
    this.pending = '';
    this.heldCr = false;
    return rest ? [rest] : [];
  }
}

/** Python's returncode: the exit code, or minus the signal number for a process a signal ended. */
export function returnCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
  return number !== undefined ? -number : -1;
}

// Process groups still alive, killed if kiso exits without closing its connectors (an uncaught error, process.exit).
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

const GROUPS = process.platform !== 'win32';

/** Signals a process group (its leader's pid); false when none of it is left. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(GROUPS ? -pid : pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the whole group is gone
  }
}

/** How long close() waits for a killed group's last members to be reaped, before it lets them go (a zombie nobody reaps). */
const GROUP_REAP_WAIT_MS = 2_000;

/** Resolves once no process of the group is left (SIGKILL was sent), or after GROUP_REAP_WAIT_MS. */
async function groupGone(pid: number): Promise<void> {
  const deadline = Date.now() + GROUP_REAP_WAIT_MS;
  while (signalGroup(pid, 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

interface Run {
  child: ChildProcess;
  pid: number;
  /** What was started, for messages. */
  label: string;
  exited: Promise<void>;
  hasExited: boolean;
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** Nothing of its group is left: its pid may belong to someone else by now, so it is never signalled again. */
  groupGone: boolean;
}

/**
 * pykiso's CCProcess: a local process as a connector. The process starts on
 * a start message (`processCommand({ command: 'start', executable, args })`,
 * pykiso's `{"command": "start", ...}` dict) or, with `start_on_open`, when
 * the connector opens. What it writes on stdout and stderr (when piped) is
 * delivered as messages whose `channel` names the stream, in text mode one
 * message per line; when it has exited and both streams are drained, one
 * message on channel 'exit' carries its return code (see
 * `process-message.ts`). Other messages sent are written to its stdin.
 *
 * The process leads a process group of its own: `close()` (and a stop
 * message) sends SIGTERM to the whole group, SIGKILL after
 * `terminate_timeout_ms`, and SIGKILL again to whatever of the group is
 * left once the leader is gone, so no child or grandchild outlives the
 * connector. If kiso exits without closing it, an exit hook kills the
 * group. (A descendant that leaves the group with setsid is out of reach,
 * as it is for any supervisor.)
 */
export class ProcessConnector extends Connector<ProcessConnectorConfig> {
  private run: Run | undefined;
  private closing = false;

  /** The pid of the process (and id of its process group) while one was started; undefined before. */
  get pid(): number | undefined {
    return this.run?.pid;
  }

  /** True from a start until the process has exited. */
  get running(): boolean {
    return this.run !== undefined && !this.run.hasExited;
  }

  /** The return code of the last process once it exited (minus the signal number when a signal ended it). */
  get exitCode(): number | undefined {
    return this.run?.exitCode;
  }

  protected override async doOpen(): Promise<void> {
    this.closing = false;
    // Checked here too, for a connector built without the schema (a unit test, a user's code).
    nodeEncoding(this.config.encoding);
    if (this.config.start_on_open) await this.start(undefined, undefined, 'KISO_CONNECTOR_OPEN');
  }

  protected override async doClose(): Promise<void> {
    this.closing = true;
    const run = this.run;
    if (run) await this.terminate(run);
  }

  protected override async doSend(message: Message): Promise<void> {
    const command = commandOf(message);
    if (command !== undefined) return this.runCommand(command, message as unknown as Record<string, unknown>);
    const data = requireBytes(this.name, message);
    if (!this.config.pipe_stdin) {
      throw new KisoError('KISO_CONNECTOR_SEND', `process connector "${this.name}": cannot write to stdin, pipe_stdin is false (set pipe_stdin: true to send to the process)`);
    }
    const run = this.run;
    if (!run || run.hasExited) {
      const why = !run ? 'no process was started (send a start command, or set start_on_open)' : `the process ${run.label} exited with ${run.exitCode}`;
      throw new KisoError('KISO_CONNECTOR_SEND', `process connector "${this.name}": cannot write to stdin: ${why}`);
    }
    const stdin = run.child.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) {
      throw new KisoError('KISO_CONNECTOR_SEND', `process connector "${this.name}": the stdin of ${run.label} is closed`);
    }
    const encoding = nodeEncoding(this.config.encoding);
    const bytes = this.textMode && encoding !== 'utf8' ? Buffer.from(Buffer.from(data).toString('utf8'), encoding) : data;
    await new Promise<void>((resolve, reject) => {
      stdin.write(bytes, (error) => {
        if (!error) return resolve();
        reject(new KisoError('KISO_CONNECTOR_SEND', `process connector "${this.name}": cannot write to the stdin of ${run.label}: ${describeError(error)}`, { cause: error }));
      });
    });
  }

  /**
   * Starts the process: `executable` and `args` default to the config's.
   * Rejects when one is still running (as pykiso) and when it cannot be
   * started (no such file, not executable), naming it.
   */
  async start(executable?: string, args?: string[], code: ErrorCode = 'KISO_CONNECTOR_SEND'): Promise<void> {
    if (this.run && !this.run.hasExited) {
      throw new KisoError(code, `process connector "${this.name}": the process ${this.run.label} (pid ${this.run.pid}) is still running; stop it or wait for its exit before starting another`);
    }
    const program = executable ?? this.config.executable;
    if (program === undefined || program === '') {
      throw new KisoError(code, `process connector "${this.name}": no executable to start (give one in the start command or in config.executable)`);
    }
    const argv = args ?? this.config.args ?? [];
    // What is left of the previous process's group (a grandchild in the background) goes first.
    if (this.run) await this.terminate(this.run);
    this.run = undefined;

    // A relative path resolves against the YAML's folder; a bare name is looked up in PATH; a shell command line is the shell's.
    const file = !this.config.shell && !path.isAbsolute(program) && /[/\\]/.test(program) ? path.resolve(this.baseDir, program) : program;
    const label = `"${[program, ...argv].join(' ')}"`;
    const child = spawn(file, argv, {
      shell: this.config.shell ?? false,
      cwd: this.config.cwd ?? this.baseDir,
      env: this.config.env ? Object.fromEntries(Object.entries(this.config.env).map(([key, value]) => [key, String(value)])) : process.env,
      stdio: [this.config.pipe_stdin ? 'pipe' : 'ignore', this.config.pipe_stdout ?? true ? 'pipe' : 'inherit', this.config.pipe_stderr ? 'pipe' : 'inherit'],
      detached: GROUPS,
      windowsHide: true,
    });
    await new Promise<void>((resolve, reject) => {
      const onSpawn = (): void => {
        child.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        child.off('spawn', onSpawn);
        reject(new KisoError(code, `process connector "${this.name}" cannot start ${label}: ${describeError(error)}`, { cause: error }));
      };
      child.once('spawn', onSpawn);
      child.once('error', onError);
    });
    const pid = child.pid!;
    if (GROUPS) trackGroup(pid);
    let markExited!: () => void;
    const run: Run = { child, pid, label, hasExited: false, groupGone: false, exited: new Promise((resolve) => (markExited = resolve)) };
    this.run = run;
    child.on('error', (error) => this.log.warn({ connector: this.name, err: error }, `process ${label}: ${describeError(error)}`));
    child.once('exit', (exitCode, signal) => {
      run.hasExited = true;
      run.exitCode = returnCode(exitCode, signal);
      if (signal) run.signal = signal;
      markExited();
    });
    // A write to a process that has exited fails in its callback (EPIPE); the stream's own error event must not crash kiso.
    child.stdin?.on('error', (error) => this.log.debug({ connector: this.name, err: error }, `stdin of ${label}: ${describeError(error)}`));
    if (child.stdout) this.read(child.stdout, 'stdout', run);
    if (child.stderr) this.read(child.stderr, 'stderr', run);
    // 'close' comes once the process has exited and both pipes are drained: pykiso's ProcessExit.
    child.once('close', (exitCode, signal) => {
      if (GROUPS && !run.groupGone && !signalGroup(pid, 0)) {
        run.groupGone = true;
        liveGroups.delete(pid);
      }
      const value = returnCode(exitCode, signal);
      this.emit(run, 'exit', Buffer.from(signal ? `exit ${value} ${signal}` : `exit ${value}`, 'utf8'));
    });
    this.log.debug({ connector: this.name, pid }, `process ${label} started`);
  }

  /** Ends the process and its group (SIGTERM, SIGKILL after terminate_timeout_ms); resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.run) await this.terminate(this.run);
  }

  private get textMode(): boolean {
    return this.config.text ?? true;
  }

  private runCommand(command: unknown, message: Record<string, unknown>): Promise<void> {
    switch (command) {
      case 'start': {
        const { executable, args } = message;
        if (executable !== undefined && executable !== null && typeof executable !== 'string') {
          throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `process connector "${this.name}": the start command's executable must be a string, got ${JSON.stringify(executable)}`);
        }
        if (args !== undefined && args !== null && !(Array.isArray(args) && args.every((arg) => typeof arg === 'string'))) {
          throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `process connector "${this.name}": the start command's args must be a list of strings, got ${JSON.stringify(args)}`);
        }
        return this.start(executable ?? undefined, (args as string[] | null | undefined) ?? undefined);
      }
      case 'stop':
        return this.stop();
      default:
        throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `process connector "${this.name}": unknown command ${JSON.stringify(command)} (known: start, stop)`);
    }
  }

  private read(stream: Readable, name: ProcessStream, run: Run): void {
    if (!this.textMode) {
      stream.on('data', (chunk: Buffer) => this.emit(run, name, chunk));
      return;
    }
    const decoder = new StringDecoder(nodeEncoding(this.config.encoding));
    const lines = new LineSplitter();
    const deliverLines = (texts: string[]): void => {
      for (const line of texts) this.emit(run, name, Buffer.from(line, 'utf8'));
    };
    stream.on('data', (chunk: Buffer) => deliverLines(lines.push(decoder.write(chunk))));
    stream.once('end', () => deliverLines([...lines.push(decoder.end()), ...lines.flush()]));
  }

  private emit(run: Run, channel: ProcessStream | 'exit', data: Uint8Array): void {
    // Output of a process this connector no longer owns (closing, or replaced) goes nowhere.
    if (this.closing || this.run !== run) return;
    this.deliver({ data, channel, timestamp: nowSeconds() });
  }

  private async terminate(run: Run): Promise<void> {
    const { pid, child } = run;
    if (!run.hasExited && !run.groupGone) {
      if (GROUPS) signalGroup(pid, 'SIGTERM');
      else child.kill('SIGTERM');
      const timeoutMs = this.config.terminate_timeout_ms ?? DEFAULT_TERMINATE_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([run.exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
      clearTimeout(timer);
      if (gaveUp) {
        this.log.warn({ connector: this.name, pid }, `process ${run.label} did not end ${timeoutMs} ms after SIGTERM: SIGKILL`);
        if (GROUPS) signalGroup(pid, 'SIGKILL');
        else child.kill('SIGKILL');
        await run.exited;
      }
    }
    // The leader is gone; what is left of its group (children it started) goes too.
    if (GROUPS && !run.groupGone) {
      if (signalGroup(pid, 'SIGKILL')) await groupGone(pid);
      run.groupGone = true;
      liveGroups.delete(pid);
    }
    if (this.closing) {
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
  }
}
