import { IsoTpTransport } from '../can/isotp.js';
import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { describeError } from '../core/errors.js';
import { isoTpOptionsFromTpLayer, warnOverriddenTpIds, type UdsTpLayerConfig } from './uds.js';

/** Bytes as pykiso's UdsCallback takes them: an integer (0x1003 = [0x10, 0x03]), a list, bytes, or text. */
export type UdsBytes = number | Uint8Array | readonly number[] | string;

/** A custom callback: the request as received and the server, which answers with sendResponse(). */
export type UdsCallbackFunction = (request: Uint8Array, aux: UdsServerAuxiliary) => void | Promise<void>;

/** pykiso's UdsCallback fields. */
export interface UdsCallbackSpec {
  /** The request to answer; a received request matches when it starts with these bytes. */
  request: UdsBytes;
  /** The full response; default: the positive response to `request` (SID + 0x40, the rest echoed). */
  response?: UdsBytes;
  /** Appended to the response. */
  response_data?: UdsBytes;
  /** response_data is zero-padded to this length. */
  data_length?: number;
  /** Called instead of sending the response. */
  callback?: UdsCallbackFunction;
}

export interface UdsServerAuxiliaryConfig {
  /** pykiso: the CAN id this server sends its responses on. */
  request_id: number;
  /** pykiso: the CAN id this server receives requests on. */
  response_id: number;
  extended_id?: boolean;
  tp_layer?: UdsTpLayerConfig;
  uds_layer?: { transport_protocol?: 'CAN'; p2_can_client?: number; p2_can_server?: number };
  odx_file_path?: null;
  config_ini_path?: string | null;
}

/** pykiso's int_to_bytes: the shortest big-endian form (0x1003 → 10 03, 0x3E00 → 3E 00). */
function intToBytes(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`UDS bytes as a number must be a whole number of 0 or more, got ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return bytes;
}

export function udsBytes(value: UdsBytes): Uint8Array {
  if (typeof value === 'number') return Uint8Array.from(intToBytes(value));
  if (typeof value === 'string') return new TextEncoder().encode(value);
  for (const byte of value) if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new RangeError(`UDS bytes must be 0..255, got ${byte}`);
  return Uint8Array.from(value);
}

/** pykiso's key of a request in `callbacks`: "0x" and upper-case hex ("0x2E0102"). */
export function formatUdsData(data: Uint8Array | readonly number[]): string {
  return `0x${Buffer.from(Uint8Array.from(data)).toString('hex').toUpperCase()}`;
}

/** pykiso's UdsCallback: a request, the response it gets, and how often it came. */
export class UdsCallback {
  static readonly POSITIVE_RESPONSE_OFFSET = 0x40;
  readonly request: Uint8Array;
  readonly response: Uint8Array;
  readonly callback: UdsCallbackFunction | undefined;
  /** How many requests this callback answered (pykiso's call_count). */
  callCount = 0;

  constructor(spec: UdsCallbackSpec) {
    this.request = udsBytes(spec.request);
    if (this.request.length === 0) throw new RangeError('a UDS callback needs a request of at least one byte (its service identifier)');
    const base = spec.response !== undefined ? [...udsBytes(spec.response)] : [(this.request[0]! + UdsCallback.POSITIVE_RESPONSE_OFFSET) & 0xff, ...this.request.subarray(1)];
    if (spec.response_data !== undefined) {
      const data = udsBytes(spec.response_data);
      base.push(...data);
      if (spec.data_length !== undefined) for (let i = data.length; i < spec.data_length; i++) base.push(0);
    }
    this.response = Uint8Array.from(base);
    this.callback = spec.callback;
  }

  /** The key pykiso files it under in `callbacks`. */
  get key(): string {
    return formatUdsData(this.request);
  }

  matches(request: Uint8Array): boolean {
    return request.length >= this.request.length && this.request.every((byte, i) => request[i] === byte);
  }
}

/**
 * pykiso's UdsServerAuxiliary: the ECU side of UDS. It receives requests on
 * `response_id` and answers on `request_id` (pykiso's naming, seen from the
 * tester) through kiso's ISO-TP, by the callbacks a suite registers: the
 * first registered request that a received request starts with answers it,
 * with its response or its callback function. A request no callback matches
 * is logged and left unanswered, as in pykiso. Callback functions stay in
 * the process that registered them: with `processing: true` register
 * responses (bytes), not functions.
 */
export class UdsServerAuxiliary extends Auxiliary<UdsServerAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  private transport: IsoTpTransport | undefined;
  private readonly registered = new Map<string, UdsCallback>();
  private serving: Promise<void> | undefined;
  /** Every request received, in order. */
  readonly requests: Uint8Array[] = [];

  constructor(config: UdsServerAuxiliaryConfig, context: AuxiliaryContext) {
    super(config, context);
  }

  /** The registered callbacks by pykiso's key ("0x1003"). */
  get callbacks(): Record<string, UdsCallback> {
    return Object.fromEntries(this.registered);
  }

  /**
   * pykiso's register_callback: `registerCallback(0x1003, 0x50031234)`,
   * `registerCallback(0x220102, undefined, 'DATA', 6)`,
   * `registerCallback(0x1101, undefined, undefined, undefined, fn)`, or one
   * UdsCallback / its fields. Registering a request again replaces it.
   */
  registerCallback(request: UdsBytes | UdsCallback | UdsCallbackSpec, response?: UdsBytes, responseData?: UdsBytes, dataLength?: number, callback?: UdsCallbackFunction): UdsCallback {
    const entry =
      request instanceof UdsCallback
        ? request
        : typeof request === 'object' && !(request instanceof Uint8Array) && !Array.isArray(request) && 'request' in request
          ? new UdsCallback(request as UdsCallbackSpec)
          : new UdsCallback({ request: request as UdsBytes, response, response_data: responseData, data_length: dataLength, callback });
    this.registered.set(entry.key, entry);
    return entry;
  }

  /** pykiso's unregister_callback: by key ("0x1003"), number (0x1003) or bytes. An unknown one is logged. */
  unregisterCallback(request: string | UdsBytes): boolean {
    const key = typeof request === 'string' && /^0x[0-9a-f]*$/i.test(request) ? `0x${request.slice(2).toUpperCase()}` : formatUdsData(udsBytes(request));
    const removed = this.registered.delete(key);
    if (!removed) this.log.error({ auxiliary: this.name }, `could not unregister callback ${key}: no such callback registered`);
    return removed;
  }

  /** How often the callback of `request` answered (0 when none is registered); works across processes. */
  callCount(request: string | UdsBytes): number {
    const key = typeof request === 'string' && /^0x[0-9a-f]*$/i.test(request) ? `0x${request.slice(2).toUpperCase()}` : formatUdsData(udsBytes(request));
    return this.registered.get(key)?.callCount ?? 0;
  }

  /** The requests received so far, as pykiso keys ("0x1003"); works across processes. */
  receivedRequests(): string[] {
    return this.requests.map((request) => formatUdsData(request));
  }

  /** pykiso's send_response: sends one UDS response (ISO-TP segmented as needed) on request_id. */
  async sendResponse(response: UdsBytes): Promise<void> {
    this.ensureRunning('send a UDS response');
    await this.transport!.send(udsBytes(response));
  }

  // ---- lifecycle -------------------------------------------------------------

  protected override async onCreate(): Promise<void> {
    const { config } = this;
    const tp = config.tp_layer ?? {};
    warnOverriddenTpIds(tp, config, this.log, this.name);
    this.transport = new IsoTpTransport(this.connector('com'), isoTpOptionsFromTpLayer(tp, { txId: config.request_id, rxId: config.response_id, extendedId: config.extended_id }, this.log));
    this.serving = this.serve(this.transport);
  }

  protected override async onDelete(): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    transport?.close();
    await this.serving;
    this.serving = undefined;
  }

  private async serve(transport: IsoTpTransport): Promise<void> {
    while (!transport.isClosed) {
      let request: Uint8Array | undefined;
      try {
        request = await transport.receive();
      } catch (error) {
        if (transport.isClosed) return;
        this.log.warn({ auxiliary: this.name, err: error }, `UDS server: a request was lost: ${describeError(error)}`);
        continue;
      }
      if (!request || request.length === 0) continue;
      this.requests.push(request);
      await this.dispatch(request);
    }
  }

  private async dispatch(request: Uint8Array): Promise<void> {
    const entry = [...this.registered.values()].find((candidate) => candidate.matches(request));
    if (!entry) {
      this.log.warn({ auxiliary: this.name }, `UDS server: unregistered request received: ${formatUdsData(request)}`);
      return;
    }
    entry.callCount++;
    try {
      if (entry.callback) await entry.callback(request, this);
      else await this.transport?.send(entry.response);
    } catch (error) {
      if (!this.transport) return; // closed meanwhile
      this.log.error({ auxiliary: this.name, err: error }, `UDS server: the callback of ${entry.key} failed: ${describeError(error)}`);
    }
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    switch (command) {
      case 'send_response':
        await this.sendResponse(data as number[]);
        return true;
      default:
        return super.executeCommand(command, data, signal);
    }
  }
}
