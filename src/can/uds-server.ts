import type { Logger } from '../core/logging.js';
import { NRC, RESPONSE_PENDING, SUPPRESS_POSITIVE_RESPONSE, type DtcRecord, type UdsTransport } from './uds.js';

/**
 * A small UDS server (the ECU side): sessions with an S3 timeout, ECU reset,
 * data identifiers, security access with a seed/key pair, routines, DTCs,
 * tester present, and "response pending" on demand. It plays the ECU in
 * kiso's example station and tests; `onRequest` lets a simulator answer
 * anything itself.
 */
export interface UdsServerOptions {
  /** Readable data identifiers: bytes, or a function read at each request. */
  dids?: Record<number, Uint8Array | (() => Uint8Array)>;
  /** Identifiers that WriteDataByIdentifier may change (default: none). */
  writableDids?: readonly number[];
  /** Identifiers that need an unlocked security level to read or write. */
  protectedDids?: readonly number[];
  /** Sessions the server accepts (default 1, 2, 3). */
  sessions?: readonly number[];
  /** The seed for a level (default: 4 fixed bytes). */
  seed?: (level: number) => Uint8Array;
  /** The key the tester must send for a seed (default: each seed byte XOR 0xA5). */
  expectedKey?: (seed: Uint8Array, level: number) => Uint8Array;
  /** Routines: the status record returned for a control type (1 start, 2 stop, 3 results). */
  routines?: Record<number, (control: number, data: Uint8Array) => Uint8Array>;
  dtcs?: DtcRecord[];
  /** "response pending" (NRC 0x78) sent this many times before the answer, per service id. */
  responsePending?: Record<number, number>;
  /** S3server: back to the default session after this long without a request (default 5000 ms). */
  s3Ms?: number;
  /** Announced in the DiagnosticSessionControl response. */
  p2ServerMaxMs?: number;
  p2StarServerMaxMs?: number;
  /** Answers a request itself (return the response bytes), or undefined to let the server answer. */
  onRequest?: (request: Uint8Array) => Uint8Array | undefined;
  log?: Logger;
}

const DEFAULT_SEED = (): Uint8Array => Uint8Array.of(0x12, 0x34, 0x56, 0x78);
/** The default key: each seed byte XOR 0xA5 (what `xorKey` computes on the tester side). */
export function xorKey(seed: Uint8Array): Uint8Array {
  return seed.map((byte) => byte ^ 0xa5);
}

export class UdsServer {
  session = 1;
  unlockedLevel: number | undefined;
  /** Every request received, in order. */
  readonly requests: Uint8Array[] = [];
  private pendingSeedLevel: number | undefined;
  private readonly stopping = new AbortController();
  private s3Timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly dids: Map<number, Uint8Array | (() => Uint8Array)>;

  constructor(
    private readonly transport: UdsTransport,
    private readonly options: UdsServerOptions = {},
  ) {
    this.dids = new Map(Object.entries(options.dids ?? {}).map(([did, value]) => [Number(did), value]));
  }

  /** Starts answering requests until stop(). */
  start(): void {
    this.running ??= this.serve();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.s3Timer);
    await this.running;
  }

  /** Current value of a data identifier. */
  did(did: number): Uint8Array | undefined {
    const value = this.dids.get(did);
    return typeof value === 'function' ? value() : value;
  }

  private async serve(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let request: Uint8Array | undefined;
      try {
        request = await this.transport.receive({ signal: this.stopping.signal });
      } catch (error) {
        this.options.log?.warn({ err: error }, `UDS server: a request was lost: ${(error as Error).message}`);
        continue;
      }
      if (!request || request.length === 0) continue;
      this.requests.push(request);
      this.touchSession();
      const response = this.answer(request);
      if (!response) continue;
      try {
        for (let i = 0; i < (this.options.responsePending?.[request[0]!] ?? 0); i++) await this.transport.send(Uint8Array.of(0x7f, request[0]!, RESPONSE_PENDING));
        await this.transport.send(response);
      } catch (error) {
        if (!this.stopping.signal.aborted) this.options.log?.warn({ err: error }, `UDS server: could not answer: ${(error as Error).message}`);
      }
    }
  }

  private touchSession(): void {
    clearTimeout(this.s3Timer);
    if (this.session === 1) return;
    this.s3Timer = setTimeout(() => {
      this.session = 1;
      this.unlockedLevel = undefined;
    }, this.options.s3Ms ?? 5000);
  }

  /** The response to one request, or undefined when none is due (suppressed positive response). */
  answer(request: Uint8Array): Uint8Array | undefined {
    const custom = this.options.onRequest?.(request);
    if (custom) return custom;
    const sid = request[0]!;
    const negative = (nrc: number): Uint8Array => Uint8Array.of(0x7f, sid, nrc);
    const sub = request[1] ?? 0;
    const suppress = (sub & SUPPRESS_POSITIVE_RESPONSE) !== 0;
    const positive = (...body: number[]): Uint8Array | undefined => (suppress ? undefined : Uint8Array.of(sid + 0x40, ...body));
    switch (sid) {
      case 0x10: {
        if (request.length !== 2) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        const session = sub & 0x7f;
        if (!(this.options.sessions ?? [1, 2, 3]).includes(session)) return negative(NRC.subFunctionNotSupported!);
        this.session = session;
        this.unlockedLevel = undefined;
        this.touchSession();
        const p2 = this.options.p2ServerMaxMs ?? 50;
        const p2Star = Math.round((this.options.p2StarServerMaxMs ?? 5000) / 10);
        return positive(session, p2 >> 8, p2 & 0xff, p2Star >> 8, p2Star & 0xff);
      }
      case 0x11: {
        if (request.length !== 2) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        const type = sub & 0x7f;
        if (type < 1 || type > 3) return negative(NRC.subFunctionNotSupported!);
        this.session = 1;
        this.unlockedLevel = undefined;
        clearTimeout(this.s3Timer);
        return positive(type);
      }
      case 0x3e:
        if (request.length !== 2) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        if ((sub & 0x7f) !== 0) return negative(NRC.subFunctionNotSupported!);
        return positive(0);
      case 0x22: {
        if (request.length < 3 || (request.length - 1) % 2 !== 0) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        const body: number[] = [];
        for (let at = 1; at < request.length; at += 2) {
          const did = (request[at]! << 8) | request[at + 1]!;
          const value = this.did(did);
          if (!value) return negative(NRC.requestOutOfRange!);
          if (this.options.protectedDids?.includes(did) && this.unlockedLevel === undefined) return negative(NRC.securityAccessDenied!);
          body.push(did >> 8, did & 0xff, ...value);
        }
        return Uint8Array.of(0x62, ...body);
      }
      case 0x2e: {
        if (request.length < 4) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        const did = (request[1]! << 8) | request[2]!;
        if (!(this.options.writableDids ?? []).includes(did)) return negative(NRC.requestOutOfRange!);
        if (this.session === 1) return negative(NRC.serviceNotSupportedInActiveSession!);
        if (this.options.protectedDids?.includes(did) && this.unlockedLevel === undefined) return negative(NRC.securityAccessDenied!);
        this.dids.set(did, request.slice(3));
        return Uint8Array.of(0x6e, did >> 8, did & 0xff);
      }
      case 0x27: {
        const level = sub & 0x7f;
        if (this.session === 1) return negative(NRC.serviceNotSupportedInActiveSession!);
        if (level % 2 === 1) {
          if (request.length !== 2) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
          if (this.unlockedLevel === level) return positive(level, 0, 0, 0, 0);
          this.pendingSeedLevel = level;
          return positive(level, ...(this.options.seed ?? DEFAULT_SEED)(level));
        }
        if (this.pendingSeedLevel !== level - 1) return negative(NRC.requestSequenceError!);
        const seedLevel = this.pendingSeedLevel;
        this.pendingSeedLevel = undefined;
        const expected = (this.options.expectedKey ?? xorKey)((this.options.seed ?? DEFAULT_SEED)(seedLevel), seedLevel);
        const key = request.slice(2);
        if (key.length !== expected.length || key.some((byte, i) => byte !== expected[i])) return negative(NRC.invalidKey!);
        this.unlockedLevel = seedLevel;
        return positive(level);
      }
      case 0x31: {
        if (request.length < 4) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        const control = sub & 0x7f;
        const id = (request[2]! << 8) | request[3]!;
        const routine = this.options.routines?.[id];
        if (!routine) return negative(NRC.requestOutOfRange!);
        if (control < 1 || control > 3) return negative(NRC.subFunctionNotSupported!);
        return suppress ? undefined : Uint8Array.of(0x71, control, id >> 8, id & 0xff, ...routine(control, request.slice(4)));
      }
      case 0x19: {
        const dtcs = this.options.dtcs ?? [];
        const mask = request[2] ?? 0xff;
        const type = sub & 0x7f;
        if (type === 0x01) {
          const count = dtcs.filter((d) => (d.status & mask) !== 0).length;
          return positive(type, 0xff, 0x01, count >> 8, count & 0xff);
        }
        if (type === 0x02 || type === 0x0a) {
          const list = type === 0x02 ? dtcs.filter((d) => (d.status & mask) !== 0) : dtcs;
          return positive(type, 0xff, ...list.flatMap((d) => [(d.dtc >> 16) & 0xff, (d.dtc >> 8) & 0xff, d.dtc & 0xff, d.status]));
        }
        return negative(NRC.subFunctionNotSupported!);
      }
      case 0x14:
        if (request.length !== 4) return negative(NRC.incorrectMessageLengthOrInvalidFormat!);
        this.options.dtcs?.splice(0);
        return Uint8Array.of(0x54);
      default:
        return negative(NRC.serviceNotSupported!);
    }
  }
}
