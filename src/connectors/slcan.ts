import { canFrame, dlcToLength, lengthToDlc, MAX_EXTENDED_ID, MAX_STANDARD_ID, type CanFrame } from '../can/frame.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds } from '../core/message.js';
import type { CanFields } from '../core/message.js';
import { CanConnector, type CanConnectorConfig } from './can-base.js';
import { SerialLink } from './serial.js';

export interface SlcanConnectorConfig extends CanConnectorConfig {
  /** The adapter's serial device (`/dev/ttyACM0`, `COM5`). */
  port: string;
  /** Serial speed between host and adapter (USB CDC adapters ignore it). */
  baudrate?: number;
  /** CAN nominal bit rate, one of SLCAN_BITRATES. */
  bitrate?: number;
  /** CAN FD data-phase bit rate (CANable 2.0 `Yn`); not sent when absent. */
  data_bitrate?: number;
  /** Open with `L` (listen only: never acknowledges or sends) instead of `O`. */
  listen_only?: boolean;
  /** Ask the adapter to stamp received frames (`Z1`). */
  timestamps?: boolean;
  /** Hardware flow control between host and adapter. */
  rtscts?: boolean;
  /** How long to wait for the adapter's answer to each command or frame. */
  answer_timeout_ms?: number;
}

/** Lawicel `Sn`: S7 is 800k on Lawicel/USBtin and 750k on CANable firmware, so both names map to it. */
export const SLCAN_BITRATES: Readonly<Record<number, string>> = {
  10_000: 'S0', 20_000: 'S1', 50_000: 'S2', 100_000: 'S3', 125_000: 'S4',
  250_000: 'S5', 500_000: 'S6', 750_000: 'S7', 800_000: 'S7', 1_000_000: 'S8',
};
/** CANable 2.0 `Yn` data bit rates. */
export const SLCAN_DATA_BITRATES: Readonly<Record<number, string>> = {
  500_000: 'Y0', 1_000_000: 'Y1', 2_000_000: 'Y2', 4_000_000: 'Y4', 5_000_000: 'Y5', 8_000_000: 'Y8',
};
export const DEFAULT_SLCAN_BITRATE = 500_000;
export const DEFAULT_ANSWER_TIMEOUT_MS = 1_000;

const CR = 0x0d;
const LF = 0x0a;
const BEL = 0x07;
/** Longest valid line: `B` + 8 id digits + DLC + 64 data bytes + 4 timestamp digits. */
const MAX_LINE = 1 + 8 + 1 + 128 + 4;
/** Adapter timestamps count milliseconds and wrap at 60 000. */
const TIMESTAMP_WRAP_MS = 60_000;

type Answer = 'ok' | 'error';

/** What a received line is: an answer to a command, a frame, or something to drop. */
export type SlcanLine =
  | { kind: 'answer'; answer: Answer }
  | { kind: 'frame'; frame: CanFrame; adapterMs?: number }
  | { kind: 'malformed'; problem: string; detail: string };

const HEX = /^[0-9A-Fa-f]*$/;

/** Encodes a frame as the slcan transmit command (without the CR). */
export function encodeSlcan(frame: CanFrame): string {
  const can = frame.can;
  if (can.error) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', 'slcan cannot transmit error frames');
  if (can.esi) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', 'slcan cannot transmit the error state indicator (ESI): the controller sets it');
  const id = can.extended ? can.id.toString(16).toUpperCase().padStart(8, '0') : can.id.toString(16).toUpperCase().padStart(3, '0');
  if (can.remote) {
    const dlc = (can as CanFields & { dlc?: number }).dlc ?? 0;
    return `${can.extended ? 'R' : 'r'}${id}${dlc}`;
  }
  const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex').toUpperCase();
  if (can.fd) {
    const kind = can.brs ? 'b' : 'd';
    return `${can.extended ? kind.toUpperCase() : kind}${id}${lengthToDlc(frame.data.length).toString(16).toUpperCase()}${data}`;
  }
  return `${can.extended ? 'T' : 't'}${id}${frame.data.length}${data}`;
}

/**
 * Parses one CR-terminated line from the adapter (without the CR): `""` is
 * an OK answer, `z`/`Z` acknowledge a transmitted frame, `t/T/r/R/d/D/b/B`
 * lines are received frames with an optional 4-digit millisecond stamp.
 */
export function parseSlcanLine(line: string): SlcanLine {
  if (line === '' || line === 'z' || line === 'Z') return { kind: 'answer', answer: 'ok' };
  const type = line[0]!;
  if (!'tTrRdDbB'.includes(type)) return { kind: 'malformed', problem: 'garbage', detail: line };
  const extended = 'TRDB'.includes(type);
  const remote = type === 'r' || type === 'R';
  const fd = 'dDbB'.includes(type);
  const brs = type === 'b' || type === 'B';
  const idLength = extended ? 8 : 3;
  if (line.length < 1 + idLength + 1) return { kind: 'malformed', problem: 'truncated frame', detail: line };
  const idText = line.slice(1, 1 + idLength);
  const dlcText = line[1 + idLength]!;
  const rest = line.slice(2 + idLength);
  if (!HEX.test(idText) || !HEX.test(dlcText) || !HEX.test(rest)) return { kind: 'malformed', problem: 'invalid hex', detail: line };
  const id = parseInt(idText, 16);
  if (id > (extended ? MAX_EXTENDED_ID : MAX_STANDARD_ID)) return { kind: 'malformed', problem: 'id out of range', detail: line };
  const dlc = parseInt(dlcText, 16);
  if (!fd && dlc > 8) return { kind: 'malformed', problem: 'wrong length', detail: line };
  const length = remote ? 0 : fd ? dlcToLength(dlc) : dlc;
  if (rest.length < 2 * length) return { kind: 'malformed', problem: 'truncated frame', detail: line };
  if (rest.length !== 2 * length && rest.length !== 2 * length + 4) return { kind: 'malformed', problem: 'wrong length', detail: line };
  const data = Buffer.from(rest.slice(0, 2 * length), 'hex');
  const frame = canFrame({ id, extended, remote, fd, brs, data, ...(remote ? { dlc } : {}) });
  if (rest.length === 2 * length + 4) {
    const adapterMs = parseInt(rest.slice(2 * length), 16);
    if (adapterMs >= TIMESTAMP_WRAP_MS) return { kind: 'malformed', problem: 'invalid timestamp', detail: line };
    return { kind: 'frame', frame, adapterMs };
  }
  return { kind: 'frame', frame };
}

/**
 * Turns the adapter's wrapping millisecond counter into epoch seconds: the
 * first stamp is pinned to the host clock, later ones keep the adapter's
 * exact spacing, unwrapped to the period nearest the host's receive time.
 */
export class AdapterClock {
  private originSeconds: number | undefined;

  toEpoch(adapterMs: number, hostSeconds: number): number {
    if (this.originSeconds === undefined) this.originSeconds = hostSeconds - adapterMs / 1000;
    const wrapSeconds = TIMESTAMP_WRAP_MS / 1000;
    const periods = Math.round((hostSeconds - this.originSeconds - adapterMs / 1000) / wrapSeconds);
    return this.originSeconds + periods * wrapSeconds + adapterMs / 1000;
  }
}

interface PendingAnswer {
  command: string;
  settle: (answer: Answer) => void;
  fail: (error: Error) => void;
}

/**
 * slcan (Lawicel ASCII protocol) over a serial port: CANable, USBtin,
 * CANUSB and similar USB-CAN adapters, plus the CANable 2.0 CAN FD
 * extension (`d/D/b/B` frames, `Yn` data bit rate).
 *
 * Open: `C` (any answer: the channel may already be closed), `Sn`, then
 * `Yn`/`Z1` when configured, then `O` (or `L`), each answer checked: BEL
 * fails the open naming the command. Every transmitted frame waits for the
 * adapter's answer (`z`/`Z`/CR), so a refused frame (bus off, channel not
 * open) fails its send. Lines that are not frames or answers are counted
 * as malformed and dropped; frames around them still arrive.
 */
export class SlcanConnector extends CanConnector<SlcanConnectorConfig> {
  private link: SerialLink | undefined;
  private line: number[] = [];
  /** After an over-long line: dropping bytes until the next CR. */
  private skipping = false;
  /** Inside a run of bytes no slcan line contains (counted once per run). */
  private noise = false;
  private pending: PendingAnswer[] = [];
  private clock = new AdapterClock();
  /** Frames are delivered only once the channel is open with our settings. */
  private receiving = false;

  private get who(): string {
    return `slcan connector "${this.name}"`;
  }

  protected override async doOpen(): Promise<void> {
    const config = this.config;
    const bitrate = config.bitrate ?? DEFAULT_SLCAN_BITRATE;
    const bitrateCommand = SLCAN_BITRATES[bitrate];
    if (!bitrateCommand) throw new KisoError('KISO_CONNECTOR_OPEN', `${this.who}: bitrate ${bitrate} has no slcan command; use one of ${Object.keys(SLCAN_BITRATES).join(', ')}`);
    const dataBitrateCommand = config.data_bitrate !== undefined ? SLCAN_DATA_BITRATES[config.data_bitrate] : undefined;
    if (config.data_bitrate !== undefined && !dataBitrateCommand) throw new KisoError('KISO_CONNECTOR_OPEN', `${this.who}: data_bitrate ${config.data_bitrate} has no slcan command; use one of ${Object.keys(SLCAN_DATA_BITRATES).join(', ')}`);
    this.line = [];
    this.skipping = false;
    this.noise = false;
    this.pending = [];
    this.clock = new AdapterClock();
    this.receiving = false;
    this.link = await SerialLink.open(
      { path: config.port, baudRate: config.baudrate ?? 115_200, rtscts: config.rtscts ?? false, lock: true },
      this.who,
      { data: (chunk) => this.onData(chunk), lost: (error) => this.onLost(error) },
    );
    try {
      // The channel may be open from an earlier session; a closed one answers C with BEL, which is fine.
      await this.command('C', { anyAnswer: true });
      await this.command(bitrateCommand);
      if (dataBitrateCommand) await this.command(dataBitrateCommand);
      if (config.timestamps) await this.command('Z1');
      await this.command(config.listen_only ? 'L' : 'O');
      this.receiving = true;
    } catch (error) {
      const link = this.link;
      this.link = undefined;
      await link.close();
      throw error;
    }
  }

  protected override async doClose(): Promise<void> {
    const link = this.link;
    if (!link) return;
    this.receiving = false;
    if (link.lostReason === undefined) {
      try {
        await this.command('C', { anyAnswer: true });
      } catch (error) {
        this.log.warn({ connector: this.name, err: error }, `${this.who}: the adapter did not confirm closing the CAN channel`);
      }
    }
    this.link = undefined;
    this.rejectPending(new KisoError('KISO_CONNECTOR_CLOSED', `${this.who} was closed while waiting for the adapter`));
    if (this.line.length > 0) this.malformed('truncated frame', { port: this.config.port, line: Buffer.from(this.line).toString('latin1') });
    this.line = [];
    await link.close();
  }

  protected override async sendFrame(frame: CanFrame): Promise<void> {
    if (this.config.listen_only) throw new KisoError('KISO_CONNECTOR_SEND', `${this.who} is listen-only (listen_only: true): it cannot send frames`);
    const line = encodeSlcan(frame);
    const answer = await this.exchange(line);
    if (answer === 'error') throw new KisoError('KISO_CONNECTOR_SEND', `${this.who}: the adapter on ${this.config.port} refused frame ${line} (answered BEL: bus off, channel not open, or frame type not supported)`);
  }

  /** Sends a configuration command and fails the open with the command's name when the adapter refuses it. */
  private async command(command: string, options: { anyAnswer?: boolean } = {}): Promise<void> {
    const answer = await this.exchange(command, 'KISO_CONNECTOR_OPEN');
    if (answer === 'error' && !options.anyAnswer) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `${this.who}: the adapter on ${this.config.port} refused command "${command}" (${describeCommand(command)}): it answered BEL (error)`);
    }
  }

  /** Writes one command line and waits for its answer; answers come back in command order. */
  private exchange(command: string, timeoutCode: 'KISO_CONNECTOR_OPEN' | 'KISO_CONNECTOR_SEND' = 'KISO_CONNECTOR_SEND'): Promise<Answer> {
    const link = this.link;
    if (!link) return Promise.reject(new KisoError('KISO_CONNECTOR_CLOSED', `${this.who} is not open`));
    const timeoutMs = this.config.answer_timeout_ms ?? DEFAULT_ANSWER_TIMEOUT_MS;
    return new Promise<Answer>((resolve, reject) => {
      const entry: PendingAnswer = {
        command,
        settle: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((candidate) => candidate !== entry);
        reject(new KisoError(timeoutCode, `${this.who}: no answer from the adapter on ${this.config.port} to "${command}" within ${timeoutMs} ms (is it an slcan adapter, is baudrate right?)`));
      }, timeoutMs);
      this.pending.push(entry);
      link.write(Buffer.from(`${command}\r`, 'latin1')).catch((error: unknown) => {
        if (!this.pending.includes(entry)) return;
        this.pending = this.pending.filter((candidate) => candidate !== entry);
        entry.fail(error as Error);
      });
    });
  }

  private onData(chunk: Buffer): void {
    for (const byte of chunk) {
      // Some adapters end lines with CR LF: an LF at the start of a line is skipped.
      if (byte === LF && this.line.length === 0) continue;
      if (byte !== BEL && byte !== CR && (byte < 0x20 || byte > 0x7e)) {
        // A byte no slcan line contains: what was collected is noise; the run counts once.
        if (!this.noise && !this.skipping) this.dropLine('garbage', [byte]);
        this.line = [];
        this.noise = true;
        continue;
      }
      this.noise = false;
      if (byte === BEL) {
        if (this.line.length > 0) this.dropLine('garbage');
        this.onAnswer('error');
      } else if (byte === CR) {
        if (this.skipping) this.skipping = false;
        else this.onLine(Buffer.from(this.line).toString('latin1'));
        this.line = [];
      } else if (!this.skipping) {
        this.line.push(byte);
        if (this.line.length > MAX_LINE) {
          this.dropLine('oversized line');
          this.skipping = true;
        }
      }
    }
  }

  private dropLine(kind: string, extra: number[] = []): void {
    this.malformed(kind, { port: this.config.port, line: Buffer.from([...this.line, ...extra]).toString('latin1').slice(0, 60) });
    this.line = [];
  }

  private onLine(text: string): void {
    const parsed = parseSlcanLine(text);
    if (parsed.kind === 'answer') return this.onAnswer(parsed.answer);
    if (parsed.kind === 'malformed') return this.malformed(parsed.problem, { port: this.config.port, line: parsed.detail.slice(0, 60) });
    if (!this.receiving) return;
    const host = nowSeconds();
    parsed.frame.timestamp = this.config.timestamps && parsed.adapterMs !== undefined ? this.clock.toEpoch(parsed.adapterMs, host) : host;
    this.deliverFrame(parsed.frame);
  }

  private onAnswer(answer: Answer): void {
    const entry = this.pending.shift();
    if (!entry) return this.malformed('unexpected answer', { port: this.config.port, answer });
    entry.settle(answer);
  }

  private onLost(error: KisoError): void {
    this.receiving = false;
    this.rejectPending(error);
    this.fail(error);
  }

  private rejectPending(error: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const entry of pending) entry.fail(error);
  }
}

function describeCommand(command: string): string {
  switch (command[0]) {
    case 'S': return `set CAN bitrate ${Object.entries(SLCAN_BITRATES).filter(([, c]) => c === command).map(([rate]) => rate).join(' or ')} bit/s`;
    case 'Y': return `set CAN FD data bitrate ${Object.entries(SLCAN_DATA_BITRATES).find(([, c]) => c === command)?.[0] ?? '?'} bit/s`;
    case 'Z': return 'turn on receive timestamps';
    case 'O': return 'open the CAN channel';
    case 'L': return 'open the CAN channel listen-only';
    case 'C': return 'close the CAN channel';
    default: return 'command';
  }
}
