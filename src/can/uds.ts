import { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';

/**
 * A UDS (ISO 14229-1) client over any message transport (ISO-TP in
 * practice): the common services as typed methods, negative responses as
 * typed errors carrying the NRC and its name, response pending (NRC 0x78)
 * waited out with P2*, and tester present kept alive while a non-default
 * session is open.
 */

/** Service identifiers → names, as ISO 14229-1 spells them. */
export const UDS_SERVICES: Readonly<Record<number, string>> = {
  0x10: 'DiagnosticSessionControl',
  0x11: 'ECUReset',
  0x14: 'ClearDiagnosticInformation',
  0x19: 'ReadDTCInformation',
  0x22: 'ReadDataByIdentifier',
  0x23: 'ReadMemoryByAddress',
  0x24: 'ReadScalingDataByIdentifier',
  0x27: 'SecurityAccess',
  0x28: 'CommunicationControl',
  0x29: 'Authentication',
  0x2a: 'ReadDataByPeriodicIdentifier',
  0x2c: 'DynamicallyDefineDataIdentifier',
  0x2e: 'WriteDataByIdentifier',
  0x2f: 'InputOutputControlByIdentifier',
  0x31: 'RoutineControl',
  0x34: 'RequestDownload',
  0x35: 'RequestUpload',
  0x36: 'TransferData',
  0x37: 'RequestTransferExit',
  0x38: 'RequestFileTransfer',
  0x3d: 'WriteMemoryByAddress',
  0x3e: 'TesterPresent',
  0x83: 'AccessTimingParameter',
  0x84: 'SecuredDataTransmission',
  0x85: 'ControlDTCSetting',
  0x86: 'ResponseOnEvent',
  0x87: 'LinkControl',
};

/** Negative response codes → names (ISO 14229-1:2020, table A.1). */
export const NRC_NAMES: Readonly<Record<number, string>> = {
  0x10: 'generalReject',
  0x11: 'serviceNotSupported',
  0x12: 'subFunctionNotSupported',
  0x13: 'incorrectMessageLengthOrInvalidFormat',
  0x14: 'responseTooLong',
  0x21: 'busyRepeatRequest',
  0x22: 'conditionsNotCorrect',
  0x24: 'requestSequenceError',
  0x25: 'noResponseFromSubnetComponent',
  0x26: 'failurePreventsExecutionOfRequestedAction',
  0x31: 'requestOutOfRange',
  0x33: 'securityAccessDenied',
  0x34: 'authenticationRequired',
  0x35: 'invalidKey',
  0x36: 'exceededNumberOfAttempts',
  0x37: 'requiredTimeDelayNotExpired',
  0x38: 'secureDataTransmissionRequired',
  0x39: 'secureDataTransmissionNotAllowed',
  0x3a: 'secureDataVerificationFailed',
  0x50: 'certificateVerificationFailedInvalidTimePeriod',
  0x51: 'certificateVerificationFailedInvalidSignature',
  0x52: 'certificateVerificationFailedInvalidChainOfTrust',
  0x53: 'certificateVerificationFailedInvalidType',
  0x54: 'certificateVerificationFailedInvalidFormat',
  0x55: 'certificateVerificationFailedInvalidContent',
  0x56: 'certificateVerificationFailedInvalidScope',
  0x57: 'certificateVerificationFailedInvalidCertificate',
  0x58: 'ownershipVerificationFailed',
  0x59: 'challengeCalculationFailed',
  0x5a: 'settingAccessRightsFailed',
  0x5b: 'sessionKeyCreationDerivationFailed',
  0x5c: 'configurationDataUsageFailed',
  0x5d: 'deAuthenticationFailed',
  0x70: 'uploadDownloadNotAccepted',
  0x71: 'transferDataSuspended',
  0x72: 'generalProgrammingFailure',
  0x73: 'wrongBlockSequenceCounter',
  0x78: 'requestCorrectlyReceivedResponsePending',
  0x7e: 'subFunctionNotSupportedInActiveSession',
  0x7f: 'serviceNotSupportedInActiveSession',
  0x81: 'rpmTooHigh',
  0x82: 'rpmTooLow',
  0x83: 'engineIsRunning',
  0x84: 'engineIsNotRunning',
  0x85: 'engineRunTimeTooLow',
  0x86: 'temperatureTooHigh',
  0x87: 'temperatureTooLow',
  0x88: 'vehicleSpeedTooHigh',
  0x89: 'vehicleSpeedTooLow',
  0x8a: 'throttlePedalTooHigh',
  0x8b: 'throttlePedalTooLow',
  0x8c: 'transmissionRangeNotInNeutral',
  0x8d: 'transmissionRangeNotInGear',
  0x8f: 'brakeSwitchesNotClosed',
  0x90: 'shifterLeverNotInPark',
  0x91: 'torqueConverterClutchLocked',
  0x92: 'voltageTooHigh',
  0x93: 'voltageTooLow',
  0x94: 'resourceTemporarilyNotAvailable',
};

export const NRC = Object.fromEntries(Object.entries(NRC_NAMES).map(([code, name]) => [name, Number(code)])) as Readonly<Record<string, number>>;

export const NEGATIVE_RESPONSE = 0x7f;
export const RESPONSE_PENDING = 0x78;
export const SUPPRESS_POSITIVE_RESPONSE = 0x80;

export function nrcName(nrc: number): string {
  return NRC_NAMES[nrc] ?? (nrc >= 0x38 && nrc <= 0x4f ? 'reservedByExtendedDataLinkSecurityDocument' : nrc >= 0xf0 && nrc <= 0xfe ? 'vehicleManufacturerSpecificConditionsNotCorrect' : 'ISOSAEReserved');
}

export function serviceName(sid: number): string {
  return UDS_SERVICES[sid] ?? `service 0x${hex2(sid)}`;
}

const hex2 = (byte: number): string => byte.toString(16).toUpperCase().padStart(2, '0');
const hexBytes = (data: Uint8Array, max = 16): string => Array.from(data.subarray(0, max), hex2).join(' ') + (data.length > max ? ` … (${data.length} bytes)` : '');

/** The ECU answered with a negative response. */
export class UdsNegativeResponseError extends KisoError {
  readonly serviceName: string;
  readonly nrcName: string;
  constructor(
    readonly sid: number,
    readonly nrc: number,
    readonly request: Uint8Array,
  ) {
    const service = serviceName(sid);
    const name = nrcName(nrc);
    super('KISO_UDS_NEGATIVE_RESPONSE', `${service} (${hexBytes(request, 8)}) refused: ${name} (NRC 0x${hex2(nrc)})`);
    this.name = 'UdsNegativeResponseError';
    this.serviceName = service;
    this.nrcName = name;
  }
}

export class UdsNoResponseError extends KisoError {
  constructor(
    readonly sid: number,
    readonly request: Uint8Array,
    readonly waitedMs: number,
    limit: string,
  ) {
    super('KISO_UDS_NO_RESPONSE', `${serviceName(sid)} (${hexBytes(request, 8)}): no response within ${limit} = ${waitedMs} ms`);
    this.name = 'UdsNoResponseError';
  }
}

export class UdsInvalidResponseError extends KisoError {
  constructor(
    readonly request: Uint8Array,
    readonly response: Uint8Array,
    reason: string,
  ) {
    super('KISO_UDS_INVALID_RESPONSE', `${serviceName(request[0] ?? 0)} (${hexBytes(request, 8)}): ${reason}; response ${hexBytes(response)}`);
    this.name = 'UdsInvalidResponseError';
  }
}

/** What the client needs of a transport: ISO-TP, or anything that carries whole messages. */
export interface UdsTransport {
  send(payload: Uint8Array, options?: { signal?: AbortSignal }): Promise<void>;
  receive(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Uint8Array | undefined>;
  clear(): number;
}

export interface UdsClientOptions {
  /** P2client: how long to wait for a response (default 1000 ms). */
  p2Ms?: number;
  /** P2*client: how long to wait after a "response pending" (NRC 0x78) (default 5000 ms). */
  p2StarMs?: number;
  /** Tester present period while a non-default session is open (default 2000 ms, under the usual S3 of 5000 ms; 0: never). */
  testerPresentPeriodMs?: number;
  /** Ignore negative responses and wait on for a positive one until P2 ends (pykiso's discard_neg_resp; e.g. several ECUs answering). */
  discardNegativeResponses?: boolean;
  log?: Logger;
}

export interface RequestOptions {
  /** Overrides P2 for this request. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A response as it came, positive or negative. */
export interface UdsResponse {
  data: Uint8Array;
  positive: boolean;
  /** Negative responses only. */
  nrc?: number;
  nrcName?: string;
}

export type SessionType = 'default' | 'programming' | 'extended' | 'safetySystem' | number;
export type ResetType = 'hardReset' | 'keyOffOnReset' | 'softReset' | 'enableRapidPowerShutDown' | 'disableRapidPowerShutDown' | number;
export type RoutineControlType = 'start' | 'stop' | 'requestResults' | number;

const SESSIONS: Record<string, number> = { default: 0x01, programming: 0x02, extended: 0x03, safetySystem: 0x04 };
const RESETS: Record<string, number> = { hardReset: 0x01, keyOffOnReset: 0x02, softReset: 0x03, enableRapidPowerShutDown: 0x04, disableRapidPowerShutDown: 0x05 };
const ROUTINE_CONTROLS: Record<string, number> = { start: 0x01, stop: 0x02, requestResults: 0x03 };

export interface SessionInfo {
  session: number;
  /** P2server_max the ECU announced, ms. */
  p2ServerMaxMs?: number;
  /** P2*server_max the ECU announced, ms. */
  p2StarServerMaxMs?: number;
}

export interface DtcRecord {
  /** The 3-byte DTC. */
  dtc: number;
  status: number;
  /** SAE J2012 form of the 2 high bytes plus the failure type byte, e.g. "P0123-45". */
  code: string;
}

export type SecurityKeyHook = (seed: Uint8Array, level: number) => Uint8Array | readonly number[] | Promise<Uint8Array | readonly number[]>;

/** "P0123-45" for 0x012345: letter and digits from the 2 high bytes, failure type from the low byte. */
export function formatDtc(dtc: number): string {
  const high = (dtc >> 8) & 0xffff;
  const letter = 'PCBU'[(high >> 14) & 0x3]!;
  const digits = ((high >> 12) & 0x3).toString() + (high & 0x0fff).toString(16).toUpperCase().padStart(3, '0');
  return `${letter}${digits}-${hex2(dtc & 0xff)}`;
}

function toBytes(value: Uint8Array | readonly number[]): Uint8Array {
  return value instanceof Uint8Array ? value : Uint8Array.from(value);
}

function code(value: string | number, table: Record<string, number>, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0x7f) throw new RangeError(`${what} must be 0x00..0x7F, got ${value}`);
    return value;
  }
  const found = table[value];
  if (found === undefined) throw new RangeError(`unknown ${what} "${value}" (known: ${Object.keys(table).join(', ')}, or a number)`);
  return found;
}

export class UdsClient {
  readonly p2Ms: number;
  readonly p2StarMs: number;
  readonly testerPresentPeriodMs: number;
  readonly discardNegativeResponses: boolean;
  /** The session the last DiagnosticSessionControl opened (1 = default). */
  session = 1;
  private readonly log: Logger | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transport: UdsTransport,
    options: UdsClientOptions = {},
  ) {
    this.p2Ms = options.p2Ms ?? 1000;
    this.p2StarMs = options.p2StarMs ?? 5000;
    this.testerPresentPeriodMs = options.testerPresentPeriodMs ?? 2000;
    this.discardNegativeResponses = options.discardNegativeResponses ?? false;
    this.log = options.log;
  }

  /** Sends a request and returns the positive response; a negative one throws UdsNegativeResponseError. */
  async request(request: Uint8Array | readonly number[], options: RequestOptions = {}): Promise<Uint8Array> {
    const bytes = toBytes(request);
    const response = await this.exchange(bytes, options);
    if (!response.positive) throw new UdsNegativeResponseError(bytes[0]!, response.nrc!, bytes);
    return response.data;
  }

  /** Sends a request and returns the response as it came, positive or negative (pykiso's send_uds_raw). */
  requestRaw(request: Uint8Array | readonly number[], options: RequestOptions = {}): Promise<UdsResponse> {
    return this.exchange(toBytes(request), options);
  }

  /** Sends a request that expects no response (suppressPosRspMsgIndicationBit set, or functional broadcasts). */
  async send(request: Uint8Array | readonly number[], options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen();
    await this.transport.send(toBytes(request), options);
  }

  /** 0x10: opens a session; a non-default session starts the tester present keep-alive. */
  async diagnosticSessionControl(session: SessionType, options: RequestOptions = {}): Promise<SessionInfo> {
    const type = code(session, SESSIONS, 'session');
    const request = Uint8Array.of(0x10, type);
    const response = await this.request(request, options);
    if (response[1] !== type) throw new UdsInvalidResponseError(request, response, `the response echoes session 0x${hex2(response[1] ?? 0)}, not 0x${hex2(type)}`);
    this.session = type;
    if (type === SESSIONS.default) this.stopTesterPresent();
    else if (this.testerPresentPeriodMs > 0) this.startTesterPresent();
    const info: SessionInfo = { session: type };
    if (response.length >= 6) {
      info.p2ServerMaxMs = (response[2]! << 8) | response[3]!;
      info.p2StarServerMaxMs = ((response[4]! << 8) | response[5]!) * 10;
    }
    return info;
  }

  /** 0x11: resets the ECU; it comes back in the default session, so the keep-alive stops. */
  async ecuReset(type: ResetType = 'hardReset', options: RequestOptions = {}): Promise<{ resetType: number; powerDownTimeS?: number }> {
    const reset = code(type, RESETS, 'reset type');
    const request = Uint8Array.of(0x11, reset);
    const response = await this.request(request, options);
    if (response[1] !== reset) throw new UdsInvalidResponseError(request, response, `the response echoes reset type 0x${hex2(response[1] ?? 0)}`);
    this.stopTesterPresent();
    this.session = 1;
    return response.length > 2 ? { resetType: reset, powerDownTimeS: response[2]! } : { resetType: reset };
  }

  /** 0x22: the data record of one data identifier. */
  async readDataByIdentifier(did: number, options: RequestOptions = {}): Promise<Uint8Array> {
    checkDid(did);
    const request = Uint8Array.of(0x22, did >> 8, did & 0xff);
    const response = await this.request(request, options);
    const echoed = ((response[1] ?? 0) << 8) | (response[2] ?? 0);
    if (response.length < 3 || echoed !== did) throw new UdsInvalidResponseError(request, response, `the response is for DID 0x${echoed.toString(16).toUpperCase()}, not 0x${did.toString(16).toUpperCase()}`);
    return response.slice(3);
  }

  /** 0x2E: writes one data identifier. */
  async writeDataByIdentifier(did: number, data: Uint8Array | readonly number[], options: RequestOptions = {}): Promise<void> {
    checkDid(did);
    const record = toBytes(data);
    const request = new Uint8Array(3 + record.length);
    request.set([0x2e, did >> 8, did & 0xff]);
    request.set(record, 3);
    const response = await this.request(request, options);
    const echoed = ((response[1] ?? 0) << 8) | (response[2] ?? 0);
    if (echoed !== did) throw new UdsInvalidResponseError(request, response, `the response is for DID 0x${echoed.toString(16).toUpperCase()}`);
  }

  /** 0x27 requestSeed (odd level); the seed, all zero when the level is already unlocked. */
  async requestSeed(level: number, options: RequestOptions = {}): Promise<Uint8Array> {
    if (!Number.isInteger(level) || level < 1 || level > 0x7d || level % 2 === 0) throw new RangeError(`security access level must be odd, 0x01..0x7D (requestSeed), got ${level}`);
    const request = Uint8Array.of(0x27, level);
    const response = await this.request(request, options);
    if (response[1] !== level) throw new UdsInvalidResponseError(request, response, 'the response echoes another security level');
    return response.slice(2);
  }

  /** 0x27 sendKey (the even level after requestSeed's). */
  async sendKey(level: number, key: Uint8Array | readonly number[], options: RequestOptions = {}): Promise<void> {
    const keyBytes = toBytes(key);
    const request = new Uint8Array(2 + keyBytes.length);
    request.set([0x27, level + 1]);
    request.set(keyBytes, 2);
    const response = await this.request(request, options);
    if (response[1] !== level + 1) throw new UdsInvalidResponseError(request, response, 'the response echoes another security level');
  }

  /** 0x27 in full: request the seed, compute the key with `computeKey`, send it. */
  async securityAccess(level: number, computeKey: SecurityKeyHook, options: RequestOptions = {}): Promise<{ seed: Uint8Array; alreadyUnlocked: boolean }> {
    const seed = await this.requestSeed(level, options);
    if (seed.every((byte) => byte === 0)) return { seed, alreadyUnlocked: true };
    const key = await computeKey(seed, level);
    await this.sendKey(level, key, options);
    return { seed, alreadyUnlocked: false };
  }

  /** 0x31: start, stop or ask the results of a routine; returns the routine status record. */
  async routineControl(control: RoutineControlType, routineId: number, data: Uint8Array | readonly number[] = [], options: RequestOptions = {}): Promise<Uint8Array> {
    const type = code(control, ROUTINE_CONTROLS, 'routine control type');
    checkDid(routineId, 'routine identifier');
    const option = toBytes(data);
    const request = new Uint8Array(4 + option.length);
    request.set([0x31, type, routineId >> 8, routineId & 0xff]);
    request.set(option, 4);
    const response = await this.request(request, options);
    const echoed = ((response[2] ?? 0) << 8) | (response[3] ?? 0);
    if (response[1] !== type || echoed !== routineId) throw new UdsInvalidResponseError(request, response, 'the response is for another routine or control type');
    return response.slice(4);
  }

  /** 0x3E: tester present; suppressed by default (no response expected). */
  async testerPresent(options: { suppressResponse?: boolean } & RequestOptions = {}): Promise<void> {
    if (options.suppressResponse ?? true) {
      await this.send([0x3e, SUPPRESS_POSITIVE_RESPONSE], options);
      return;
    }
    await this.request([0x3e, 0x00], options);
  }

  /** 0x19 0x01: how many DTCs match a status mask. */
  async reportNumberOfDtcByStatusMask(statusMask: number, options: RequestOptions = {}): Promise<{ availabilityMask: number; format: number; count: number }> {
    const request = Uint8Array.of(0x19, 0x01, statusMask & 0xff);
    const response = await this.request(request, options);
    if (response[1] !== 0x01 || response.length < 6) throw new UdsInvalidResponseError(request, response, 'not a reportNumberOfDTCByStatusMask response');
    return { availabilityMask: response[2]!, format: response[3]!, count: (response[4]! << 8) | response[5]! };
  }

  /** 0x19 0x02: the DTCs matching a status mask. */
  async reportDtcByStatusMask(statusMask: number, options: RequestOptions = {}): Promise<{ availabilityMask: number; dtcs: DtcRecord[] }> {
    return this.dtcList(Uint8Array.of(0x19, 0x02, statusMask & 0xff), options);
  }

  /** 0x19 0x0A: every DTC the ECU supports. */
  async reportSupportedDtc(options: RequestOptions = {}): Promise<{ availabilityMask: number; dtcs: DtcRecord[] }> {
    return this.dtcList(Uint8Array.of(0x19, 0x0a), options);
  }

  /** 0x19 with any sub-function; the raw response after the sub-function byte. */
  async readDtcInformation(subFunction: number, parameters: Uint8Array | readonly number[] = [], options: RequestOptions = {}): Promise<Uint8Array> {
    const body = toBytes(parameters);
    const request = new Uint8Array(2 + body.length);
    request.set([0x19, subFunction]);
    request.set(body, 2);
    const response = await this.request(request, options);
    if (response[1] !== subFunction) throw new UdsInvalidResponseError(request, response, 'the response echoes another sub-function');
    return response.slice(2);
  }

  /** 0x14: clears DTCs (default: all groups). */
  async clearDiagnosticInformation(groupOfDtc = 0xffffff, options: RequestOptions = {}): Promise<void> {
    await this.request([0x14, (groupOfDtc >> 16) & 0xff, (groupOfDtc >> 8) & 0xff, groupOfDtc & 0xff], options);
  }

  /** Sends tester present (suppressed) every `periodMs` until stopped; restarts if already running. */
  startTesterPresent(periodMs = this.testerPresentPeriodMs): void {
    this.stopTesterPresent();
    if (periodMs <= 0) return;
    this.keepAlive = setInterval(() => {
      this.transport.send(Uint8Array.of(0x3e, SUPPRESS_POSITIVE_RESPONSE)).catch((error: unknown) => {
        this.log?.warn({ err: error }, `UDS tester present could not be sent: ${(error as Error).message}`);
      });
    }, periodMs);
  }

  stopTesterPresent(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  get testerPresentRunning(): boolean {
    return this.keepAlive !== undefined;
  }

  /** Stops the keep-alive; later requests fail. */
  close(): void {
    this.closed = true;
    this.stopTesterPresent();
  }

  // ---- internals ---------------------------------------------------------

  private async dtcList(request: Uint8Array, options: RequestOptions): Promise<{ availabilityMask: number; dtcs: DtcRecord[] }> {
    const response = await this.request(request, options);
    if (response[1] !== request[1] || response.length < 3 || (response.length - 3) % 4 !== 0) throw new UdsInvalidResponseError(request, response, 'not a list of 4-byte DTC records');
    const dtcs: DtcRecord[] = [];
    for (let at = 3; at + 4 <= response.length; at += 4) {
      const dtc = (response[at]! << 16) | (response[at + 1]! << 8) | response[at + 2]!;
      dtcs.push({ dtc, status: response[at + 3]!, code: formatDtc(dtc) });
    }
    return { availabilityMask: response[2]!, dtcs };
  }

  private checkOpen(): void {
    if (this.closed) throw new KisoError('KISO_CONNECTOR_CLOSED', 'the UDS client is closed');
  }

  /** One request at a time: sends it, then waits for its response, through any number of "response pending". */
  private exchange(request: Uint8Array, options: RequestOptions): Promise<UdsResponse> {
    const run = this.queue.then(() => this.exchangeNow(request, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchangeNow(request: Uint8Array, options: RequestOptions): Promise<UdsResponse> {
    this.checkOpen();
    if (request.length === 0) throw new RangeError('a UDS request needs at least its service identifier');
    const sid = request[0]!;
    // A late answer to an earlier request must not pass for this one.
    const stale = this.transport.clear();
    if (stale) this.log?.debug({ stale }, 'UDS: dropped responses nobody waited for');
    await this.transport.send(request, { signal: options.signal });
    let limit = options.timeoutMs ?? this.p2Ms;
    let limitName = 'P2';
    let deadline = Date.now() + limit;
    for (;;) {
      const left = deadline - Date.now();
      const response = left > 0 ? await this.transport.receive({ timeoutMs: left, signal: options.signal }) : undefined;
      if (options.signal?.aborted) throw options.signal.reason;
      if (!response) throw new UdsNoResponseError(sid, request, limit, limitName);
      if (response[0] === sid + 0x40) return { data: response, positive: true };
      if (response[0] === NEGATIVE_RESPONSE && response[1] === sid && response.length >= 3) {
        const nrc = response[2]!;
        if (nrc === RESPONSE_PENDING) {
          limit = this.p2StarMs;
          limitName = 'P2*';
          deadline = Date.now() + limit;
          continue;
        }
        if (this.discardNegativeResponses) {
          this.log?.info({ response: hexBytes(response) }, `UDS: discarded a negative response to ${serviceName(sid)} (${nrcName(nrc)}), as discard_neg_resp says; waiting on for a positive one`);
          continue;
        }
        return { data: response, positive: false, nrc, nrcName: nrcName(nrc) };
      }
      // A response to something else (tester present, an earlier request): not ours.
      this.log?.debug({ response: hexBytes(response) }, `UDS: ignored a response that does not answer ${serviceName(sid)}`);
    }
  }
}

function checkDid(did: number, what = 'data identifier'): void {
  if (!Number.isInteger(did) || did < 0 || did > 0xffff) throw new RangeError(`${what} must be 0x0000..0xFFFF, got ${did}`);
}
