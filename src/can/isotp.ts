import { canFrame, fdPaddedLength, FD_LENGTHS, type CanFrame } from './frame.js';
import type { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { Message } from '../core/message.js';
import { ReceiveQueue } from '../core/receive-queue.js';

/**
 * ISO-TP (ISO 15765-2) over any kiso CAN connector: one CAN id each way,
 * with normal addressing, or extended / mixed addressing (an address byte,
 * N_TA or N_AE, before the protocol control information of every frame). Single and multi-frame messages, flow control with block
 * size and STmin in both directions, FC.WAIT, escape sequences for CAN FD
 * single frames and for messages over 4095 bytes, classic (8-byte) and
 * CAN FD (up to 64-byte) frames. Frames come in through `connector.attach()`
 * and go out through `connector.send()`, so the transport does not care
 * which bus is underneath.
 */

/**
 * The standard's timing parameters, in ms. N_As, N_Ar, N_Bs and N_Cr are
 * timeouts (ISO 15765-2 default 1000 ms each). N_Br and N_Cs are the time
 * kiso itself takes before a flow control and before each consecutive frame
 * (on top of STmin); they default to 0 (at once) and can be raised to test
 * how an ECU handles a slow peer.
 */
export interface IsoTpTimeouts {
  /** Sender: a frame must be handed to the bus within this. */
  N_As: number;
  /** Receiver: a flow control must be handed to the bus within this. */
  N_Ar: number;
  /** Sender: a flow control must arrive within this after a first frame or a block. */
  N_Bs: number;
  /** Receiver: delay before kiso sends a flow control. */
  N_Br: number;
  /** Sender: delay before each consecutive frame, on top of the peer's STmin. */
  N_Cs: number;
  /** Receiver: the next consecutive frame must arrive within this. */
  N_Cr: number;
}

export const DEFAULT_TIMEOUTS: Readonly<IsoTpTimeouts> = { N_As: 1000, N_Ar: 1000, N_Bs: 1000, N_Br: 0, N_Cs: 0, N_Cr: 1000 };

export interface IsoTpOptions {
  /** CAN id kiso sends on. */
  txId: number;
  /** CAN id kiso receives on. */
  rxId: number;
  /** 29-bit ids (default: an id above 0x7FF is extended). */
  extendedId?: boolean;
  /** Send CAN FD frames. */
  fd?: boolean;
  /** Bit-rate switch on FD frames. */
  brs?: boolean;
  /** TX_DL: longest frame kiso sends (8 for classic CAN; 8..64 for FD, default 64). */
  txDataLength?: number;
  /** Extended or mixed addressing: the first byte of every frame kiso sends (N_TA, or N_AE for mixed). */
  txAddress?: number;
  /** Extended or mixed addressing: the first byte a received frame must carry to be for kiso (its own N_SA, or N_AE for mixed). */
  rxAddress?: number;
  /** Fill byte for unused frame bytes (default 0xCC); null sends classic frames as short as their data. */
  padding?: number | null;
  /** Block size kiso asks for in its flow control (0: all frames without waiting; default 0). */
  blockSize?: number;
  /** STmin kiso asks for, in ms: 0..127, or 0.1..0.9 for 100..900 µs (default 0). */
  stMinMs?: number;
  /** N_WFTmax: FC.WAIT frames kiso accepts in a row before it gives up (default 10). */
  maxWaitFrames?: number;
  /** Longest message kiso accepts; a longer first frame gets FC.OVFLW (default 16 MiB). */
  maxMessageLength?: number;
  timeouts?: Partial<IsoTpTimeouts>;
  /** Received messages kept unread (default 1000; the oldest are dropped past it). */
  receiveQueueSize?: number;
  log?: Logger;
}

/** ISO 15765-2 N_Result values kiso reports. */
export type IsoTpResult = 'N_TIMEOUT_A' | 'N_TIMEOUT_Bs' | 'N_TIMEOUT_Cr' | 'N_WRONG_SN' | 'N_INVALID_FS' | 'N_UNEXP_PDU' | 'N_WFT_OVRN' | 'N_BUFFER_OVFLW' | 'N_ERROR';

export class IsoTpError extends KisoError {
  constructor(
    readonly result: IsoTpResult,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('KISO_ISOTP', `ISO-TP ${result}: ${message}`, options);
    this.name = 'IsoTpError';
  }
}

enum Pci {
  Single = 0,
  First = 1,
  Consecutive = 2,
  FlowControl = 3,
}

export enum FlowStatus {
  ContinueToSend = 0,
  Wait = 1,
  Overflow = 2,
}

/** STmin byte → ms (reserved values mean the longest, 127 ms, as the standard says). */
export function decodeStMin(byte: number): number {
  if (byte <= 0x7f) return byte;
  if (byte >= 0xf1 && byte <= 0xf9) return (byte - 0xf0) / 10;
  return 0x7f;
}

/** ms → STmin byte. */
export function encodeStMin(ms: number): number {
  if (ms > 0 && ms < 1) {
    const tenths = Math.round(ms * 10);
    if (tenths >= 1 && tenths <= 9) return 0xf0 + tenths;
  }
  if (!Number.isInteger(ms) || ms < 0 || ms > 127) throw new RangeError(`STmin must be 0..127 ms or 0.1..0.9 ms, got ${ms}`);
  return ms;
}

interface FlowControl {
  status: number;
  blockSize: number;
  stMinMs: number;
}

interface Reception {
  length: number;
  buffer: Uint8Array;
  received: number;
  nextSequence: number;
  framesInBlock: number;
  timer: NodeJS.Timeout | undefined;
}

interface FlowControlWait {
  frames: FlowControl[];
  wake: (() => void) | undefined;
}

export interface IsoTpStats {
  sent: number;
  received: number;
  errors: number;
}

export class IsoTpTransport {
  readonly txId: number;
  readonly rxId: number;
  readonly txExtended: boolean;
  readonly rxExtended: boolean;
  readonly fd: boolean;
  readonly txDataLength: number;
  readonly timeouts: IsoTpTimeouts;
  readonly txAddress: number | undefined;
  readonly rxAddress: number | undefined;
  readonly stats: IsoTpStats = { sent: 0, received: 0, errors: 0 };

  private readonly padding: number | null;
  private readonly brs: boolean;
  private readonly blockSize: number;
  private readonly stMinByte: number;
  private readonly maxWaitFrames: number;
  private readonly maxMessageLength: number;
  private readonly log: Logger | undefined;
  private readonly inbox: ReceiveQueue<Uint8Array | IsoTpError>;
  private readonly closing = new AbortController();
  private readonly detach: () => void;
  private readonly detachError: () => void;
  private reception: Reception | undefined;
  private flowWait: FlowControlWait | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly connector: Connector<any>,
    options: IsoTpOptions,
  ) {
    this.txId = options.txId;
    this.rxId = options.rxId;
    this.txExtended = options.extendedId ?? options.txId > 0x7ff;
    this.rxExtended = options.extendedId ?? options.rxId > 0x7ff;
    this.fd = options.fd ?? false;
    this.brs = this.fd && (options.brs ?? false);
    this.txDataLength = options.txDataLength ?? (this.fd ? 64 : 8);
    if (!this.fd && this.txDataLength !== 8) throw new RangeError(`classic CAN carries 8 bytes per frame: TX_DL must be 8, got ${this.txDataLength} (set fd for longer frames)`);
    if (this.fd && (this.txDataLength < 8 || !FD_LENGTHS.includes(this.txDataLength as (typeof FD_LENGTHS)[number]))) throw new RangeError(`TX_DL must be a CAN FD length of 8..64 (8, 12, 16, 20, 24, 32, 48, 64), got ${this.txDataLength}`);
    for (const [what, address] of [['txAddress', options.txAddress], ['rxAddress', options.rxAddress]] as const) {
      if (address !== undefined && (!Number.isInteger(address) || address < 0 || address > 0xff)) throw new RangeError(`${what} (an ISO-TP address byte) must be 0..255, got ${address}`);
    }
    this.txAddress = options.txAddress;
    this.rxAddress = options.rxAddress;
    this.padding = options.padding === undefined ? 0xcc : options.padding;
    this.blockSize = options.blockSize ?? 0;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 0 || this.blockSize > 255) throw new RangeError(`block size must be 0..255, got ${this.blockSize}`);
    this.stMinByte = encodeStMin(options.stMinMs ?? 0);
    this.maxWaitFrames = options.maxWaitFrames ?? 10;
    this.maxMessageLength = options.maxMessageLength ?? 16 * 1024 * 1024;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.log = options.log;
    this.inbox = new ReceiveQueue(options.receiveQueueSize ?? 1000);
    this.detach = connector.attach((message) => this.onFrame(message));
    this.detachError = connector.onError((error) => this.inbox.fail(error));
  }

  /**
   * Sends one message; resolves once its last frame is on the bus. Messages
   * go out one at a time in call order.
   */
  send(payload: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<void> {
    const run = this.sending.then(() => this.transmit(payload, options.signal));
    this.sending = run.catch(() => undefined);
    return run;
  }

  /** The next received message, or undefined when none comes in time; a failed reception throws its IsoTpError. */
  async receive(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
    const item = await this.inbox.shift(options.timeoutMs, options.signal);
    if (item instanceof Error) throw item;
    return item;
  }

  /** Drops unread messages; returns how many. */
  clear(): number {
    return this.inbox.clear();
  }

  /** Stops listening; a transfer under way fails, waiting receivers get undefined. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new IsoTpError('N_ERROR', 'the transport was closed'));
    this.detach();
    this.detachError();
    this.abortReception();
    this.flowWait?.wake?.();
    this.inbox.cancelWaiters();
  }

  get isClosed(): boolean {
    return this.closing.signal.aborted;
  }

  // ---- sending -----------------------------------------------------------

  private async transmit(payload: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    this.checkOpen(signal);
    const length = payload.length;
    if (length === 0) throw new IsoTpError('N_ERROR', 'cannot send an empty message');
    if (length > 0xffffffff) throw new IsoTpError('N_ERROR', `${length} bytes is longer than ISO-TP carries (4294967295)`);
    // With an address byte every frame carries one byte less.
    const dl = this.txDataLength - (this.txAddress === undefined ? 0 : 1);
    if (length <= dl - 1 && length <= 7 - (this.txAddress === undefined ? 0 : 1)) {
      await this.sendFrame(Uint8Array.of((Pci.Single << 4) | length, ...payload), 'single frame');
      this.stats.sent++;
      return;
    }
    if (this.txDataLength > 8 && length <= dl - 2) {
      await this.sendFrame(Uint8Array.of(Pci.Single << 4, length, ...payload), 'single frame');
      this.stats.sent++;
      return;
    }
    // First frame: 12-bit length, or the escape (length 0 + 32-bit length) past 4095 bytes.
    const first = new Uint8Array(dl);
    let offset: number;
    if (length <= 0xfff) {
      first[0] = (Pci.First << 4) | (length >> 8);
      first[1] = length & 0xff;
      offset = dl - 2;
      first.set(payload.subarray(0, offset), 2);
    } else {
      first[0] = Pci.First << 4;
      first[1] = 0;
      new DataView(first.buffer).setUint32(2, length);
      offset = dl - 6;
      first.set(payload.subarray(0, offset), 6);
    }
    const wait = this.armFlowControl();
    try {
      await this.sendFrame(first, 'first frame');
      let sequence = 1;
      while (offset < length) {
        const flow = await this.awaitFlowControl(wait, signal);
        const stMin = flow.stMinMs;
        let inBlock = 0;
        while (offset < length && (flow.blockSize === 0 || inBlock < flow.blockSize)) {
          // STmin separates consecutive frames; the first one after a flow control goes at once.
          const gap = (inBlock > 0 ? stMin : 0) + this.timeouts.N_Cs;
          if (gap > 0) await this.delay(gap, signal);
          const chunk = payload.subarray(offset, offset + dl - 1);
          const frame = new Uint8Array(1 + chunk.length);
          frame[0] = (Pci.Consecutive << 4) | (sequence & 0x0f);
          frame.set(chunk, 1);
          offset += chunk.length;
          sequence = (sequence + 1) & 0x0f;
          inBlock++;
          const endOfBlock = offset < length && flow.blockSize !== 0 && inBlock === flow.blockSize;
          if (endOfBlock) wait.frames.length = 0; // only a flow control after the block counts
          await this.sendFrame(frame, 'consecutive frame');
        }
      }
      this.stats.sent++;
    } finally {
      this.flowWait = undefined;
    }
  }

  private armFlowControl(): FlowControlWait {
    const wait: FlowControlWait = { frames: [], wake: undefined };
    this.flowWait = wait;
    return wait;
  }

  /** The next CTS flow control; FC.WAIT restarts N_Bs up to N_WFTmax times. */
  private async awaitFlowControl(wait: FlowControlWait, signal: AbortSignal | undefined): Promise<FlowControl> {
    let waits = 0;
    for (;;) {
      const flow = wait.frames.shift() ?? (await this.nextFlowControl(wait, signal));
      if (flow.status === FlowStatus.ContinueToSend) return flow;
      if (flow.status === FlowStatus.Wait) {
        waits++;
        if (waits > this.maxWaitFrames) throw this.error('N_WFT_OVRN', `the receiver sent more than ${this.maxWaitFrames} FC.WAIT frames in a row (N_WFTmax)`);
        continue;
      }
      if (flow.status === FlowStatus.Overflow) throw this.error('N_BUFFER_OVFLW', 'the receiver answered FC.OVFLW: the message is longer than it can take');
      throw this.error('N_INVALID_FS', `the receiver sent a flow control with the invalid flow status ${flow.status}`);
    }
  }

  private nextFlowControl(wait: FlowControlWait, signal: AbortSignal | undefined): Promise<FlowControl> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        wait.wake = undefined;
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason ?? new IsoTpError('N_ERROR', 'aborted'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(this.error('N_TIMEOUT_Bs', `no flow control from 0x${this.rxId.toString(16)} within N_Bs = ${this.timeouts.N_Bs} ms`));
      }, this.timeouts.N_Bs);
      wait.wake = () => {
        if (this.closing.signal.aborted) {
          cleanup();
          reject(this.closing.signal.reason);
          return;
        }
        const flow = wait.frames.shift();
        if (!flow) return;
        cleanup();
        resolve(flow);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands one frame to the connector within N_As (or N_Ar for a flow control). */
  private async sendFrame(data: Uint8Array, what: string, limitName: 'N_As' | 'N_Ar' = 'N_As'): Promise<void> {
    this.checkOpen(undefined);
    const frame = this.frame(data);
    const limit = this.timeouts[limitName];
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connector.send(frame),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(this.error('N_TIMEOUT_A', `the ${what} was not on the bus within ${limitName} = ${limit} ms`)), limit);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Prefixes the address byte, pads and wraps bytes in a CAN frame on the transmit id. */
  private frame(pdu: Uint8Array): CanFrame {
    let data = pdu;
    if (this.txAddress !== undefined) {
      data = new Uint8Array(pdu.length + 1);
      data[0] = this.txAddress;
      data.set(pdu, 1);
    }
    let length = data.length;
    if (data.length > 8) length = fdPaddedLength(data.length);
    else if (this.padding !== null) length = 8;
    let payload = data;
    if (length !== data.length) {
      payload = new Uint8Array(length).fill(this.padding ?? 0xcc);
      payload.set(data);
    }
    return canFrame({ id: this.txId, extended: this.txExtended, fd: this.fd, brs: this.brs, data: payload });
  }

  // ---- receiving ---------------------------------------------------------

  private onFrame(message: Message): void {
    const can = message.can;
    if (!can || can.id !== this.rxId || can.extended !== this.rxExtended || can.remote || can.error) return;
    let data = message.data;
    const frameLength = data.length;
    if (this.rxAddress !== undefined) {
      if (data[0] !== this.rxAddress) return; // addressed to someone else
      data = data.subarray(1);
    }
    if (data.length === 0) return;
    switch (data[0]! >> 4) {
      case Pci.Single:
        return this.onSingleFrame(data, frameLength);
      case Pci.First:
        return this.onFirstFrame(data, frameLength);
      case Pci.Consecutive:
        return this.onConsecutiveFrame(data);
      case Pci.FlowControl:
        return this.onFlowControl(data);
      default:
        return; // reserved PCI types are ignored, as the standard says
    }
  }

  private onSingleFrame(data: Uint8Array, frameLength: number): void {
    let length = data[0]! & 0x0f;
    let start = 1;
    if (length === 0) {
      if (frameLength <= 8) return; // SF_DL 0 in a classic-length frame is invalid: ignore
      length = data[1]!;
      start = 2;
    }
    if (length === 0 || start + length > data.length) return;
    if (this.reception) this.failReception(this.error('N_UNEXP_PDU', 'a single frame arrived in the middle of a multi-frame message; the unfinished message is dropped'));
    this.stats.received++;
    this.inbox.push(data.slice(start, start + length));
  }

  private onFirstFrame(data: Uint8Array, frameLength: number): void {
    if (frameLength < 8) return; // a first frame always fills at least 8 bytes
    let length = ((data[0]! & 0x0f) << 8) | data[1]!;
    let start = 2;
    if (length === 0) {
      if (data.length < 6) return;
      length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(2);
      start = 6;
    }
    if (length <= data.length - start) return; // would have fit a single frame: invalid
    if (this.reception) this.failReception(this.error('N_UNEXP_PDU', 'a new first frame arrived in the middle of a multi-frame message; the unfinished message is dropped'));
    if (length > this.maxMessageLength) {
      this.log?.warn({ rxId: this.rxId, length, max: this.maxMessageLength }, 'ISO-TP: refusing a message longer than maxMessageLength (FC.OVFLW)');
      void this.sendFlowControl(FlowStatus.Overflow).catch(() => undefined);
      return;
    }
    const reception: Reception = { length, buffer: new Uint8Array(length), received: 0, nextSequence: 1, framesInBlock: 0, timer: undefined };
    const chunk = data.subarray(start, start + length);
    reception.buffer.set(chunk);
    reception.received = chunk.length;
    this.reception = reception;
    void this.continueReception(reception);
  }

  private onConsecutiveFrame(data: Uint8Array): void {
    const reception = this.reception;
    if (!reception || reception.timer === undefined) return; // not expecting one (or our flow control is still going out): ignore
    const sequence = data[0]! & 0x0f;
    if (sequence !== reception.nextSequence) {
      this.failReception(this.error('N_WRONG_SN', `consecutive frame ${sequence} arrived where ${reception.nextSequence} was expected`));
      return;
    }
    const chunk = data.subarray(1, 1 + Math.min(data.length - 1, reception.length - reception.received));
    reception.buffer.set(chunk, reception.received);
    reception.received += chunk.length;
    reception.nextSequence = (reception.nextSequence + 1) & 0x0f;
    clearTimeout(reception.timer);
    reception.timer = undefined;
    if (reception.received >= reception.length) {
      this.reception = undefined;
      this.stats.received++;
      this.inbox.push(reception.buffer);
      return;
    }
    reception.framesInBlock++;
    if (this.blockSize !== 0 && reception.framesInBlock === this.blockSize) {
      reception.framesInBlock = 0;
      void this.continueReception(reception);
    } else {
      this.armConsecutiveTimer(reception);
    }
  }

  /** Sends FC.CTS (after N_Br), then waits for consecutive frames (N_Cr). */
  private async continueReception(reception: Reception): Promise<void> {
    try {
      if (this.timeouts.N_Br > 0) await this.delay(this.timeouts.N_Br, undefined);
      if (this.reception !== reception) return;
      // Armed before the flow control leaves: the sender may answer before send() resolves.
      this.armConsecutiveTimer(reception);
      await this.sendFlowControl(FlowStatus.ContinueToSend);
    } catch (error) {
      if (this.reception === reception) this.failReception(error instanceof IsoTpError ? error : this.error('N_ERROR', `flow control could not be sent: ${(error as Error).message}`, error));
    }
  }

  private armConsecutiveTimer(reception: Reception): void {
    clearTimeout(reception.timer);
    reception.timer = setTimeout(() => {
      if (this.reception === reception) this.failReception(this.error('N_TIMEOUT_Cr', `no consecutive frame from 0x${this.rxId.toString(16)} within N_Cr = ${this.timeouts.N_Cr} ms (${reception.received} of ${reception.length} bytes received)`));
    }, this.timeouts.N_Cr);
  }

  private sendFlowControl(status: FlowStatus): Promise<void> {
    return this.sendFrame(Uint8Array.of((Pci.FlowControl << 4) | status, this.blockSize, this.stMinByte), 'flow control', 'N_Ar');
  }

  private onFlowControl(data: Uint8Array): void {
    const wait = this.flowWait;
    if (!wait || data.length < 3) return;
    wait.frames.push({ status: data[0]! & 0x0f, blockSize: data[1]!, stMinMs: decodeStMin(data[2]!) });
    wait.wake?.();
  }

  private failReception(error: IsoTpError): void {
    this.abortReception();
    this.inbox.push(error);
  }

  private abortReception(): void {
    if (this.reception) clearTimeout(this.reception.timer);
    this.reception = undefined;
  }

  // ---- helpers -------------------------------------------------------------

  private error(result: IsoTpResult, message: string, cause?: unknown): IsoTpError {
    this.stats.errors++;
    const error = new IsoTpError(result, `${message} [tx 0x${this.txId.toString(16)}, rx 0x${this.rxId.toString(16)}]`, cause === undefined ? undefined : { cause });
    this.log?.debug({ err: error }, error.message);
    return error;
  }

  private checkOpen(signal: AbortSignal | undefined): void {
    if (this.closing.signal.aborted) throw this.closing.signal.reason;
    if (signal?.aborted) throw signal.reason;
  }

  private delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const signals = [this.closing.signal, ...(signal ? [signal] : [])];
      const onAbort = (event: Event): void => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', onAbort);
        reject((event.target as AbortSignal).reason);
      };
      const timer = setTimeout(() => {
        for (const s of signals) s.removeEventListener('abort', onAbort);
        resolve();
      }, Math.ceil(ms));
      for (const s of signals) {
        if (s.aborted) return onAbort({ target: s } as unknown as Event);
        s.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}
