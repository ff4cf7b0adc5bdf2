import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { canFrame, type CanFrame } from '../can/frame.js';
import { KisoError, describeError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { CanConnector, type CanConnectorConfig } from './can-base.js';

export interface PythonCanConnectorConfig extends CanConnectorConfig {
  /** python-can interface name: pcan, vector, kvaser, socketcan, udp_multicast, ... */
  interface: string;
  /** python-can's channel (PCAN_USBBUS1, 0, ...); YAML integers pass through as integers. */
  channel?: string;
  /** Nominal bit rate in bit/s, for interfaces that set it themselves. */
  bitrate?: number;
  /** Open the bus in CAN FD mode; defaults to is_fd. */
  fd?: boolean;
  /** CAN FD data-phase bit rate in bit/s. */
  data_bitrate?: number;
  receive_own_messages?: boolean;
  /** Further keyword arguments for python-can's Bus (interface-specific: app_name, serial, ...). */
  bus_kwargs?: Record<string, unknown>;
  /** Python interpreter with python-can; a relative path resolves against the YAML folder. */
  python?: string;
}

/** What the bridge opens: `can.Bus(interface=..., channel=..., **kwargs)` (the bridge's first line). */
export interface BridgeBus {
  interface: string;
  /** python-can's channel; null leaves it to the interface. */
  channel: string | number | number[] | null;
  /** Keyword arguments for can.Bus; a string `state` becomes python-can's BusState of that name. */
  kwargs: Record<string, unknown>;
  /** Vector only: look the serial number up (the lowest one connected), pykiso's `serial: AUTO`. */
  vector_serial_auto?: boolean;
  /** Log records of a python logger that start with one of these texts are dropped (pykiso's bus_error_warning_filter). */
  drop_log_prefixes?: Record<string, string[]>;
}

/** The config keys of every connector that runs through the bridge. */
export interface PythonCanBridgeConfig extends CanConnectorConfig {
  python?: string;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
/** Opening some adapters (Vector, Kvaser) takes seconds; this only guards against a hung driver. */
const OPEN_TIMEOUT_MS = 30_000;
/** bus.shutdown() time before the bridge is killed. */
const CLOSE_TIMEOUT_MS = 5_000;
const STDERR_TAIL = 4_000;

/** Bridge line flags (python-can-bridge.py). */
const FLAG = { extended: 1, remote: 2, fd: 4, brs: 8, esi: 16, error: 32 } as const;

export function bridgeScriptPath(): string {
  return path.join(packageRoot(), 'src', 'connectors', 'python-can-bridge.py');
}

/** A frame as the bridge's `S`/`F` fields: `<id hex> <flags hex> <dlc> <data hex>`. */
export function encodeFrameFields(frame: CanFrame): string {
  const { can } = frame;
  const flags = (can.extended ? FLAG.extended : 0) | (can.remote ? FLAG.remote : 0) | (can.fd ? FLAG.fd : 0) | (can.brs ? FLAG.brs : 0) | (can.esi ? FLAG.esi : 0) | (can.error ? FLAG.error : 0);
  const dlc = can.remote ? ((can as typeof can & { dlc?: number }).dlc ?? 0) : frame.data.length;
  const data = can.remote ? '' : Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex');
  return `${can.id.toString(16)} ${flags.toString(16)} ${dlc} ${data}`;
}

/** Parses an `F <timestamp> <id> <flags> <dlc> <data>` line; throws on anything malformed. */
export function decodeFrameLine(line: string, channel: string): CanFrame {
  const parts = line.split(' ');
  if (parts.length < 5 || parts.length > 6) throw new Error(`expected 6 fields, got ${parts.length}`);
  const [, timestampText, idText, flagsText, dlcText, dataText = ''] = parts as [string, string, string, string, string, string?];
  const timestamp = Number(timestampText);
  const id = Number.parseInt(idText, 16);
  const flags = Number.parseInt(flagsText, 16);
  const dlc = Number(dlcText);
  if (!Number.isFinite(timestamp) || !/^[0-9a-f]+$/i.test(idText) || !/^[0-9a-f]+$/i.test(flagsText) || !Number.isInteger(dlc) || !/^([0-9a-f]{2})*$/i.test(dataText)) {
    throw new Error('a field is not a number or not hex');
  }
  const remote = (flags & FLAG.remote) !== 0;
  return canFrame({
    id,
    extended: (flags & FLAG.extended) !== 0,
    remote,
    fd: (flags & FLAG.fd) !== 0,
    brs: (flags & FLAG.brs) !== 0,
    esi: (flags & FLAG.esi) !== 0,
    error: (flags & FLAG.error) !== 0,
    data: Buffer.from(dataText, 'hex'),
    ...(remote ? { dlc } : {}),
    timestamp,
    channel,
  });
}

interface PendingSend {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A CAN bus through python-can, for adapters kiso has no native backend for
 * (PCAN, Vector, Kvaser, ...). kiso runs `python-can-bridge.py` under
 * `python` and exchanges one text line per frame with it over stdio (the
 * protocol is described atop the script).
 *
 * Every send is acknowledged by the bridge once python-can's `bus.send()`
 * returned, so a refused frame rejects its own `send()`; sends pipeline, so
 * throughput is bound by python-can, not by the round trip. The bridge exits
 * when its stdin closes, so it never outlives kiso; if it dies while open the
 * connector reports it through onError with its exit code and stderr.
 */
export class PythonCanConnector<Config extends PythonCanBridgeConfig = PythonCanConnectorConfig> extends CanConnector<Config> {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending = new Map<number, PendingSend>();
  private nextSeq = 1;
  private closing = false;
  private stderrTail = '';
  private fatalMessage: string | undefined;
  private exited: Promise<void> = Promise.resolve();

  private get label(): string {
    const bus = this.bridgeBus();
    const channel = bus.channel === null ? '' : ` channel ${String(bus.channel)}`;
    return `python-can connector "${this.name}" (interface ${bus.interface}${channel})`;
  }

  /** The channel name received frames carry (set when the bus opens). */
  private channelName = '';

  /** The bridge's process id, while open. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The keyword arguments python-can's Bus receives; only keys the YAML sets. */
  busKwargs(): Record<string, unknown> {
    const config = this.config as unknown as PythonCanConnectorConfig;
    const { bitrate, data_bitrate, receive_own_messages, can_filters, bus_kwargs } = config;
    const fd = config.fd ?? (config.is_fd ? true : undefined);
    return {
      ...(bitrate !== undefined ? { bitrate } : {}),
      ...(fd !== undefined ? { fd } : {}),
      ...(data_bitrate !== undefined ? { data_bitrate } : {}),
      ...(receive_own_messages !== undefined ? { receive_own_messages } : {}),
      ...(can_filters && can_filters.length > 0 ? { can_filters } : {}),
      ...bus_kwargs,
    };
  }

  /** What the bridge opens; the pykiso-keyed types (CCPCanCan, CCVectorCan) translate their own keys here. */
  bridgeBus(): BridgeBus {
    const config = this.config as unknown as PythonCanConnectorConfig;
    return { interface: config.interface, channel: config.channel ?? null, kwargs: this.busKwargs() };
  }

  private pythonPath(): string {
    const python = this.config.python ?? DEFAULT_PYTHON;
    return python.includes('/') || python.includes('\\') ? path.resolve(this.baseDir, python) : python;
  }

  protected override async doOpen(): Promise<void> {
    const script = bridgeScriptPath();
    if (!existsSync(script)) throw new KisoError('KISO_CONNECTOR_OPEN', `${this.label}: the bridge script ${script} is missing from the kiso package (reinstall kiso)`);
    const python = this.pythonPath();
    const bus = this.bridgeBus();
    this.channelName = String(bus.channel ?? bus.interface);
    this.closing = false;
    this.stderrTail = '';
    this.fatalMessage = undefined;
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8' }, windowsHide: true });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdin.on('error', () => {
      // EPIPE after the bridge died: its 'close' reports it.
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => this.onStderr(text));

    const opened = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new KisoError('KISO_CONNECTOR_OPEN', `${this.label}: python-can did not open the bus within ${OPEN_TIMEOUT_MS / 1000} s (driver hung?)${this.stderrText()}`)), OPEN_TIMEOUT_MS);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        child.off('error', onSpawnError);
        child.off('close', onEarlyClose);
        if (error) reject(error);
        else resolve();
      };
      const onSpawnError = (error: Error) => finish(new KisoError('KISO_CONNECTOR_OPEN', `${this.label}: cannot start Python "${python}": ${describeError(error)}${(error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (set `python` to an interpreter that has python-can)' : ''}`, { cause: error }));
      const onEarlyClose = (code: number | null, signal: NodeJS.Signals | null) => finish(new KisoError('KISO_CONNECTOR_OPEN', `${this.label}: the python-can bridge exited (${exitText(code, signal)}) before the bus opened${this.stderrText()}`));
      child.once('error', onSpawnError);
      child.once('close', onEarlyClose);
      this.readLines(child, finish);
    });
    child.stdin.write(`${JSON.stringify(bus)}\n`);
    try {
      await opened;
    } catch (error) {
      this.child = undefined;
      await this.stopChild(child);
      throw error;
    }
    child.on('close', (code, signal) => this.onExit(code, signal));
  }

  protected override async doClose(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.closing = true;
    if (child) await this.stopChild(child);
    this.rejectPending(new KisoError('KISO_CONNECTOR_CLOSED', `${this.label} was closed before the bridge confirmed the frame`));
  }

  protected override async sendFrame(frame: CanFrame): Promise<void> {
    const child = this.child;
    if (!child) throw new KisoError('KISO_CONNECTOR_CLOSED', `${this.label}: the python-can bridge is gone (it failed earlier): close and reopen the connector`);
    const seq = this.nextSeq++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(seq, { resolve, reject }));
    child.stdin.write(`S ${seq} ${encodeFrameFields(frame)}\n`);
    await done;
  }

  /** Splits stdout into lines; `opening` settles the open handshake. */
  private readLines(child: ChildProcessWithoutNullStreams, opening: (error?: Error) => void): void {
    let rest = '';
    let open = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!open) {
          const result = this.handshake(line);
          if (result === undefined) continue;
          open = result === true;
          opening(result === true ? undefined : result);
          continue;
        }
        this.onLine(line);
      }
    });
  }

  /** true once opened, an error if the bus could not open, undefined for lines to skip. */
  private handshake(line: string): true | Error | undefined {
    const message = parseJson(line);
    if (message?.event === 'opened') {
      this.log.debug({ connector: this.name, channel_info: message.channel_info, python_can: message.python_can }, 'python-can bus opened');
      return true;
    }
    if (message?.event === 'error') {
      const hint = message.stage === 'import' ? ` (install python-can for it, e.g. Debian's python3-can, or set \`python\`)` : '';
      const type = typeof message.type === 'string' && message.stage === 'open' ? `${message.type}: ` : '';
      return new KisoError('KISO_CONNECTOR_OPEN', `${this.label}: ${message.stage === 'open' ? 'python-can cannot open the bus: ' : ''}${type}${String(message.message)}${hint}`);
    }
    if (message?.event === 'log') {
      this.log.warn({ connector: this.name }, String(message.message));
      return undefined;
    }
    this.malformed('unreadable line from the python-can bridge', { line: line.slice(0, 120) });
    return undefined;
  }

  private onLine(line: string): void {
    switch (line.charCodeAt(0)) {
      case 70: // F
        this.onFrameLine(line);
        return;
      case 65: // A
        this.settle(line, undefined);
        return;
      case 78: // N
        this.settle(line, line);
        return;
      case 123: // {
        this.onEvent(line);
        return;
      default:
        if (line.trim() !== '') this.malformed('unreadable line from the python-can bridge', { line: line.slice(0, 120) });
    }
  }

  private onFrameLine(line: string): void {
    let frame: CanFrame;
    try {
      frame = decodeFrameLine(line, this.channelName);
    } catch (error) {
      this.malformed('invalid frame from the python-can bridge', { line: line.slice(0, 120), problem: describeError(error) });
      return;
    }
    if (frame.can.error) this.deliver(frame);
    else this.deliverFrame(frame);
  }

  /** `A <seq>` or `N <seq> <JSON message>`. */
  private settle(line: string, refusal: string | undefined): void {
    const space = line.indexOf(' ', 2);
    const seq = Number(space < 0 ? line.slice(2) : line.slice(2, space));
    const pending = this.pending.get(seq);
    if (!pending) {
      this.malformed('acknowledgement of an unknown frame from the python-can bridge', { line: line.slice(0, 120) });
      return;
    }
    this.pending.delete(seq);
    if (refusal === undefined) {
      pending.resolve();
      return;
    }
    const reason = space < 0 ? undefined : parseJson(line.slice(space + 1));
    pending.reject(new KisoError('KISO_CONNECTOR_SEND', `${this.label}: python-can refused the frame: ${typeof reason === 'string' ? reason : line.slice(space + 1)}`));
  }

  private onEvent(line: string): void {
    const message = parseJson(line);
    switch (message?.event) {
      case 'rx_error':
        this.malformed('python-can receive error', { type: message.type, message: message.message });
        return;
      case 'fatal':
        this.fatalMessage = `${String(message.type)}: ${String(message.message)}`;
        return;
      case 'log':
        this.log.warn({ connector: this.name }, `python-can bridge: ${String(message.message)}`);
        return;
      case 'closed':
        if (message.shutdown_error) this.log.warn({ connector: this.name }, `python-can bus.shutdown() failed: ${String(message.shutdown_error)}`);
        return;
      default:
        this.malformed('unreadable line from the python-can bridge', { line: line.slice(0, 120) });
    }
  }

  private onStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
    for (const line of text.split('\n')) if (line.trim()) this.log.warn({ connector: this.name }, `python-can: ${line}`);
  }

  private stderrText(): string {
    const tail = this.stderrTail.trim();
    return tail ? `; its stderr ends with:\n${tail}` : '';
  }

  /** The bridge ended while the connector was open: everything waiting fails, the owner hears of it. */
  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closing) return;
    this.child = undefined;
    const cause = this.fatalMessage ? `python-can kept failing to receive (${this.fatalMessage}), ` : '';
    const error = new KisoError('KISO_CONNECTOR_CLOSED', `${this.label}: the python-can bridge died: ${cause}${exitText(code, signal)}${this.stderrText()}`);
    this.rejectPending(new KisoError('KISO_CONNECTOR_SEND', error.message));
    this.fail(error);
  }

  private rejectPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reject(error);
  }

  /** Asks the bridge to shut the bus down (close command, then EOF); kills it if it does not exit in time. */
  private async stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      if (child.stdin.writable) child.stdin.end('C\n');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.log.warn({ connector: this.name, pid: child.pid }, `the python-can bridge did not shut down within ${CLOSE_TIMEOUT_MS / 1000} s: killed`);
          child.kill('SIGKILL');
          resolve();
        }, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
    } else {
      child.stdin.destroy();
    }
    // 'close' comes once the process exited and its pipes are drained: no handle stays open.
    if (child.pid !== undefined) await this.exited;
    else {
      child.stdout.destroy();
      child.stderr.destroy();
    }
  }
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
