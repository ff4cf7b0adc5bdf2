import { AssertionError } from 'node:assert';
import { IsoTpTransport, type IsoTpOptions, type IsoTpTimeouts } from '../can/isotp.js';
import {
  UdsClient,
  type DtcRecord,
  type RequestOptions,
  type ResetType,
  type RoutineControlType,
  type SecurityKeyHook,
  type SessionInfo,
  type SessionType,
  type UdsResponse,
} from '../can/uds.js';
import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';

export interface UdsTpLayerConfig {
  /** pykiso's key: NORMAL (default) and NORMAL_FIXED send on the ids as given; EXTENDED puts n_ta (received: n_sa) and MIXED n_ae before every frame's PCI. */
  addressing_type?: 'NORMAL' | 'NORMAL_FIXED' | 'EXTENDED' | 'MIXED';
  /** pykiso: this node's address (extended addressing: received frames start with it). */
  n_sa?: number;
  /** pykiso: the peer's address (extended addressing: sent frames start with it). */
  n_ta?: number;
  /** pykiso: address extension (mixed addressing: every frame starts with it). */
  n_ae?: number;
  /** pykiso: DIAGNOSTICS, or REMOTE_DIAGNOSTICS (mixed addressing only). */
  m_type?: 'DIAGNOSTICS' | 'REMOTE_DIAGNOSTICS';
  /** pykiso: ignore negative responses and wait on for a positive one within P2. */
  discard_neg_resp?: boolean;
  /** pykiso: overwritten by request_id / response_id, as in pykiso. */
  req_id?: number;
  res_id?: number;
  fd?: boolean;
  brs?: boolean;
  tx_data_length?: number;
  /** Fill byte for unused frame bytes, or false to send classic frames as short as their data. */
  padding?: number | false;
  block_size?: number;
  st_min_ms?: number;
  max_wait_frames?: number;
  max_message_length?: number;
  n_as_ms?: number;
  n_ar_ms?: number;
  n_bs_ms?: number;
  n_br_ms?: number;
  n_cs_ms?: number;
  n_cr_ms?: number;
}

export interface UdsLayerConfig {
  /** pykiso's key: UDS over CAN is what kiso speaks. */
  transport_protocol?: 'CAN';
  p2_ms?: number;
  p2_star_ms?: number;
  /** pykiso's P2 in seconds; p2_ms wins when both are given. */
  p2_can_client?: number;
  /** pykiso's key for the server's P2; a client has no use for it. */
  p2_can_server?: number;
  tester_present_period_ms?: number;
}

export interface UdsAuxiliaryConfig {
  /** CAN id of the requests (tester → ECU). */
  request_id: number;
  /** CAN id of the responses (ECU → tester). */
  response_id: number;
  /** 29-bit ids (default: an id above 0x7FF is extended). */
  extended_id?: boolean;
  tp_layer?: UdsTpLayerConfig;
  uds_layer?: UdsLayerConfig;
  /** pykiso: an ODX file; kiso has none (the schema accepts only an empty value). */
  odx_file_path?: null;
  /** pykiso: a legacy config.ini, which pykiso no longer reads either. */
  config_ini_path?: string | null;
}

/**
 * The ISO-TP options of a UDS auxiliary's `tp_layer`, sending on `txId` and
 * receiving on `rxId`. pykiso's addressing keys: EXTENDED puts n_ta before
 * every frame sent and takes frames that start with n_sa; MIXED puts n_ae
 * before every frame both ways; NORMAL and NORMAL_FIXED use the ids alone.
 */
export function isoTpOptionsFromTpLayer(tp: UdsTpLayerConfig, ids: { txId: number; rxId: number; extendedId?: boolean }, log?: Logger): IsoTpOptions {
  const timeouts: Partial<IsoTpTimeouts> = {};
  for (const [key, name] of TIMEOUT_KEYS) {
    const value = tp[key];
    if (typeof value === 'number') timeouts[name] = value;
  }
  const addressing = tp.addressing_type ?? 'NORMAL';
  const address =
    addressing === 'EXTENDED' ? { txAddress: required(tp.n_ta, 'n_ta', addressing), rxAddress: required(tp.n_sa, 'n_sa', addressing) } : addressing === 'MIXED' ? { txAddress: required(tp.n_ae, 'n_ae', addressing), rxAddress: required(tp.n_ae, 'n_ae', addressing) } : {};
  return {
    txId: ids.txId,
    rxId: ids.rxId,
    extendedId: ids.extendedId,
    ...address,
    fd: tp.fd,
    brs: tp.brs,
    txDataLength: tp.tx_data_length,
    padding: tp.padding === false ? null : tp.padding,
    blockSize: tp.block_size,
    stMinMs: tp.st_min_ms,
    maxWaitFrames: tp.max_wait_frames,
    maxMessageLength: tp.max_message_length,
    timeouts,
    log,
  };
}

function required(value: number | undefined, key: string, addressing: string): number {
  if (value === undefined) throw new KisoError('KISO_CONFIG_INVALID', `tp_layer.${key} is needed for ${addressing} addressing`);
  return value;
}

/** pykiso writes tp_layer.req_id / res_id, and overwrites them with request_id / response_id: say so when they differ. */
export function warnOverriddenTpIds(tp: UdsTpLayerConfig, ids: { request_id: number; response_id: number }, log: Logger, name: string): void {
  for (const [key, id, wins] of [['req_id', tp.req_id, ids.request_id], ['res_id', tp.res_id, ids.response_id]] as const) {
    if (id !== undefined && id !== wins) {
      log.warn({ auxiliary: name }, `tp_layer.${key} 0x${id.toString(16)} differs from ${key === 'req_id' ? 'request_id' : 'response_id'} 0x${wins.toString(16)}, which wins (as in pykiso)`);
    }
  }
}

const TIMEOUT_KEYS: Array<[keyof UdsTpLayerConfig, keyof IsoTpTimeouts]> = [
  ['n_as_ms', 'N_As'],
  ['n_ar_ms', 'N_Ar'],
  ['n_bs_ms', 'N_Bs'],
  ['n_br_ms', 'N_Br'],
  ['n_cs_ms', 'N_Cs'],
  ['n_cr_ms', 'N_Cr'],
];

/**
 * pykiso's UdsAuxiliary on kiso's own ISO-TP: the UDS services as typed
 * methods over the `com` CAN connector, negative responses as
 * UdsNegativeResponseError (with the NRC's name), response pending handled,
 * tester present kept alive while a non-default session is open. pykiso's
 * raw verbs (sendUdsRaw, checkRawResponsePositive, softReset, ...) are here
 * too.
 */
export class UdsAuxiliary extends Auxiliary<UdsAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  /** Computes the key for a seed; used by securityAccess() when no hook is passed. */
  securityKeyHook: SecurityKeyHook | undefined;
  private transport: IsoTpTransport | undefined;
  private uds: UdsClient | undefined;

  constructor(config: UdsAuxiliaryConfig, context: AuxiliaryContext) {
    super(config, context);
  }

  /** The UDS client (for services without a method here). */
  get client(): UdsClient {
    this.ensureRunning('use the UDS client');
    if (!this.uds) throw new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" has no UDS client yet`);
    return this.uds;
  }

  /** The ISO-TP transport underneath (statistics, raw transfers). */
  get isotp(): IsoTpTransport {
    this.ensureRunning('use the ISO-TP transport');
    return this.transport!;
  }

  request(request: Uint8Array | readonly number[], options?: RequestOptions): Promise<Uint8Array> {
    return this.client.request(request, options);
  }

  requestRaw(request: Uint8Array | readonly number[], options?: RequestOptions): Promise<UdsResponse> {
    return this.client.requestRaw(request, options);
  }

  diagnosticSessionControl(session: SessionType, options?: RequestOptions): Promise<SessionInfo> {
    return this.client.diagnosticSessionControl(session, options);
  }

  ecuReset(type?: ResetType, options?: RequestOptions): Promise<{ resetType: number; powerDownTimeS?: number }> {
    return this.client.ecuReset(type, options);
  }

  readDataByIdentifier(did: number, options?: RequestOptions): Promise<Uint8Array> {
    return this.client.readDataByIdentifier(did, options);
  }

  writeDataByIdentifier(did: number, data: Uint8Array | readonly number[], options?: RequestOptions): Promise<void> {
    return this.client.writeDataByIdentifier(did, data, options);
  }

  /** Unlocks a security level: requests the seed, computes the key with `computeKey` (or `securityKeyHook`), sends it. */
  securityAccess(level: number, computeKey: SecurityKeyHook | undefined = this.securityKeyHook, options?: RequestOptions): Promise<{ seed: Uint8Array; alreadyUnlocked: boolean }> {
    if (!computeKey) throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": securityAccess needs a key function (pass one, or set securityKeyHook)`);
    return this.client.securityAccess(level, computeKey, options);
  }

  /** 0x27 requestSeed alone (odd level); with sendKey() the two steps work across processes, where a key function cannot go. */
  requestSeed(level: number, options?: RequestOptions): Promise<Uint8Array> {
    return this.client.requestSeed(level, options);
  }

  /** 0x27 sendKey for the level requestSeed() opened. */
  sendKey(level: number, key: Uint8Array | readonly number[], options?: RequestOptions): Promise<void> {
    return this.client.sendKey(level, key, options);
  }

  routineControl(control: RoutineControlType, routineId: number, data?: Uint8Array | readonly number[], options?: RequestOptions): Promise<Uint8Array> {
    return this.client.routineControl(control, routineId, data, options);
  }

  testerPresent(options?: { suppressResponse?: boolean } & RequestOptions): Promise<void> {
    return this.client.testerPresent(options);
  }

  reportNumberOfDtcByStatusMask(statusMask: number, options?: RequestOptions): Promise<{ availabilityMask: number; format: number; count: number }> {
    return this.client.reportNumberOfDtcByStatusMask(statusMask, options);
  }

  reportDtcByStatusMask(statusMask: number, options?: RequestOptions): Promise<{ availabilityMask: number; dtcs: DtcRecord[] }> {
    return this.client.reportDtcByStatusMask(statusMask, options);
  }

  reportSupportedDtc(options?: RequestOptions): Promise<{ availabilityMask: number; dtcs: DtcRecord[] }> {
    return this.client.reportSupportedDtc(options);
  }

  readDtcInformation(subFunction: number, parameters?: Uint8Array | readonly number[], options?: RequestOptions): Promise<Uint8Array> {
    return this.client.readDtcInformation(subFunction, parameters, options);
  }

  clearDiagnosticInformation(groupOfDtc?: number, options?: RequestOptions): Promise<void> {
    return this.client.clearDiagnosticInformation(groupOfDtc, options);
  }

  startTesterPresent(periodMs?: number): void {
    this.client.startTesterPresent(periodMs);
  }

  stopTesterPresent(): void {
    this.uds?.stopTesterPresent();
  }

  /** Runs `body` with tester present sent every `periodMs` (pykiso's tester_present_sender). */
  async withTesterPresent<T>(body: () => Promise<T>, periodMs?: number): Promise<T> {
    const wasRunning = this.client.testerPresentRunning;
    this.client.startTesterPresent(periodMs);
    try {
      return await body();
    } finally {
      if (!wasRunning) this.uds?.stopTesterPresent();
    }
  }

  // ---- pykiso's raw verbs ----------------------------------------------------

  /** pykiso's send_uds_raw: the response as it came, positive or negative. */
  sendUdsRaw(request: Uint8Array | readonly number[], options?: RequestOptions): Promise<UdsResponse> {
    return this.requestRaw(request, options);
  }

  /** pykiso's check_raw_response_positive: throws an AssertionError naming the NRC for a negative response. */
  checkRawResponsePositive(response: UdsResponse): true {
    if (!response.positive) throw new AssertionError({ message: `negative UDS response: ${response.nrcName} (NRC 0x${response.nrc!.toString(16).toUpperCase().padStart(2, '0')})` });
    return true;
  }

  /** pykiso's check_raw_response_negative. */
  checkRawResponseNegative(response: UdsResponse): true {
    if (response.positive) throw new AssertionError({ message: 'expected a negative UDS response, got a positive one' });
    return true;
  }

  softReset(): Promise<{ resetType: number }> {
    return this.ecuReset('softReset');
  }

  hardReset(): Promise<{ resetType: number }> {
    return this.ecuReset('hardReset');
  }

  forceEcuReset(): Promise<{ resetType: number }> {
    return this.ecuReset('keyOffOnReset');
  }

  // ---- lifecycle -------------------------------------------------------------

  protected override async onCreate(): Promise<void> {
    const { config } = this;
    const tp = config.tp_layer ?? {};
    const layer = config.uds_layer ?? {};
    warnOverriddenTpIds(tp, config, this.log, this.name);
    this.transport = new IsoTpTransport(this.connector('com'), isoTpOptionsFromTpLayer(tp, { txId: config.request_id, rxId: config.response_id, extendedId: config.extended_id }, this.log));
    this.uds = new UdsClient(this.transport, {
      p2Ms: layer.p2_ms ?? (layer.p2_can_client !== undefined ? layer.p2_can_client * 1000 : undefined),
      p2StarMs: layer.p2_star_ms,
      testerPresentPeriodMs: layer.tester_present_period_ms,
      discardNegativeResponses: tp.discard_neg_resp,
      log: this.log,
    });
  }

  protected override async onDelete(): Promise<void> {
    this.uds?.close();
    this.transport?.close();
    this.uds = undefined;
    this.transport = undefined;
  }

  protected override onConnectorFault(): void {
    this.uds?.stopTesterPresent();
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    switch (command) {
      case 'send_uds_raw':
        return this.sendUdsRaw(data as number[], { signal });
      case 'request':
        return this.request(data as number[], { signal });
      default:
        return super.executeCommand(command, data, signal);
    }
  }
}
