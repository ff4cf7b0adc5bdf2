import { KisoError } from '../../core/errors.js';

/**
 * pykiso's auxiliary methods, as a Python suite calls them, on kiso's
 * auxiliaries: names, arguments (seconds → ms, keyword arguments) and return
 * shapes as pykiso has them (`receive_message` gives bytes or None,
 * `send_message` True). A method without an entry here is tried as the
 * camelCase method of kiso's auxiliary, keyword arguments as an options
 * object (`timeout_in_s` → `timeoutMs`).
 */

type Args = unknown[];
type Kwargs = Record<string, unknown>;
type AnyAux = Record<string, any>;
type Adapter = (aux: AnyAux, args: Args, kwargs: Kwargs, signal: AbortSignal) => Promise<unknown> | unknown;

/** The longest timer Node keeps (a longer one fires at once): "wait forever" for pykiso's timeout None. */
const FOREVER_MS = 2 ** 31 - 1;

/** Argument `index` or keyword `name`, else the default. */
function arg<T>(args: Args, kwargs: Kwargs, index: number, name: string, fallback: T): T {
  if (name in kwargs) return kwargs[name] as T;
  return index < args.length ? (args[index] as T) : fallback;
}

function seconds(value: unknown, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  const ms = Number(value) * 1000;
  return Number.isFinite(ms) ? Math.max(0, ms) : fallback;
}

const bytesOf = (value: unknown): Uint8Array => (value instanceof Uint8Array ? value : typeof value === 'string' ? Buffer.from(value) : Uint8Array.from(value as number[]));

const signalValues = (message: { signals?: Record<string, { value: unknown; label?: string }> } | undefined): Record<string, unknown> | null =>
  message ? Object.fromEntries(Object.entries(message.signals ?? {}).map(([name, signal]) => [name, signal.label ?? signal.value])) : null;

const COMMON: Record<string, Adapter> = {
  start: async (aux) => (await aux.createInstance(), true),
  create_instance: async (aux) => (await aux.createInstance(), true),
  stop: async (aux) => (await aux.deleteInstance(), true),
  delete_instance: async (aux) => (await aux.deleteInstance(), true),
  suspend: (aux) => aux.suspend(),
  resume: (aux) => aux.resume(),
  is_instance: (aux) => aux.isRunning,
  lock_it: async (aux, args, kwargs) => (await aux.lockIt(seconds(arg(args, kwargs, 0, 'timeout_in_s', undefined), 5000)), true),
  unlock_it: (aux) => aux.unlockIt(),
  run_command: async (aux, args, kwargs) => {
    const report = await aux.runCommand(arg(args, kwargs, 0, 'cmd_message', ''), arg(args, kwargs, 1, 'cmd_data', undefined), {
      blocking: arg(args, kwargs, 2, 'blocking', true),
      timeoutMs: seconds(arg(args, kwargs, 3, 'timeout_in_s', 0), 0) || undefined,
    });
    return report ? report.ok : true;
  },
  wait_and_get_report: async (aux, args, kwargs) => {
    const blocking = arg(args, kwargs, 0, 'blocking', false);
    const report = await aux.waitAndGetReport({ timeoutMs: blocking ? seconds(arg(args, kwargs, 1, 'timeout_in_s', 0), 0) : 0 });
    return report ? (report.ok ? report.value ?? true : report) : null;
  },
  abort_command: (aux) => aux.abortCommand(),
  queue_size: (aux) => (typeof aux.pendingCount === 'function' ? aux.pendingCount() : 0),
};

const COMMUNICATION: Record<string, Adapter> = {
  send_message: async (aux, args, kwargs) => (await aux.send(bytesOf(arg(args, kwargs, 0, 'raw_msg', new Uint8Array()))), true),
  receive_message: async (aux, args, kwargs, signal) => {
    const blocking = arg(args, kwargs, 0, 'blocking', true);
    const timeout = arg<unknown>(args, kwargs, 1, 'timeout_in_s', null);
    const message = await aux.receive({ timeoutMs: blocking ? seconds(timeout, FOREVER_MS) : 0, signal });
    return message ? Buffer.from(message.data) : null;
  },
  clear_buffer: (aux) => (aux.clearBuffer(), null),
};

const CAN: Record<string, Adapter> = {
  send_message: async (aux, args, kwargs) => (await aux.sendMessage(arg(args, kwargs, 0, 'message', ''), arg(args, kwargs, 1, 'signals', {}) ?? {}), true),
  get_last_message: (aux, args, kwargs) => signalValues(aux.lastMessage(arg(args, kwargs, 0, 'message', ''))),
  get_last_signal: (aux, args, kwargs) => signalValues(aux.lastMessage(arg(args, kwargs, 0, 'message', '')))?.[arg(args, kwargs, 1, 'signal', '')] ?? null,
  wait_for_message: async (aux, args, kwargs, signal) => {
    try {
      return signalValues(await aux.waitForMessage(arg(args, kwargs, 0, 'message', ''), { timeoutMs: seconds(arg(args, kwargs, 1, 'timeout', 0.2), 200), signal }));
    } catch (error) {
      if ((error as Error).name === 'AssertionError') return null; // pykiso: None when nothing came
      throw error;
    }
  },
  wait_to_match_message_with_signals: async (aux, args, kwargs, signal) => {
    try {
      const where = arg<Record<string, number | string>>(args, kwargs, 1, 'expected_signals', {});
      return signalValues(await aux.waitForMessage(arg(args, kwargs, 0, 'message', ''), { where, timeoutMs: seconds(arg(args, kwargs, 2, 'timeout', 0.2), 200), signal }));
    } catch (error) {
      if ((error as Error).name === 'AssertionError') return null;
      throw error;
    }
  },
  clear_buffer: (aux) => (aux.clearReceived(), null),
};

const UDS: Record<string, Adapter> = {
  send_uds_raw: async (aux, args, kwargs) => {
    const response = await aux.sendUdsRaw(bytesOf(arg(args, kwargs, 0, 'msg_to_send', [])), { timeoutMs: seconds(arg(args, kwargs, 1, 'timeout_in_s', 6), 6000) });
    return [...response.data];
  },
  check_raw_response_positive: (_aux, args, kwargs) => expectResponse(arg(args, kwargs, 0, 'resp', []), true),
  check_raw_response_negative: (_aux, args, kwargs) => expectResponse(arg(args, kwargs, 0, 'resp', []), false),
  soft_reset: async (aux) => [...bytesFromReset(await aux.softReset())],
  hard_reset: async (aux) => [...bytesFromReset(await aux.hardReset())],
  force_ecu_reset: async (aux) => [...bytesFromReset(await aux.forceEcuReset())],
  start_tester_present_sender: (aux, args, kwargs) => aux.startTesterPresent(seconds(arg(args, kwargs, 0, 'period', 4), 4000)),
  stop_tester_present_sender: (aux) => aux.stopTesterPresent(),
};

/** pykiso's check_raw_response_*: True when the response is as expected, else an error saying what it was. */
function expectResponse(response: unknown, positive: boolean): true {
  const bytes = bytesOf(response);
  const hex = (byte: number | undefined): string => `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
  if (positive && bytes[0] === 0x7f) throw new KisoError('KISO_AUX_COMMAND', `negative response ${hex(bytes[2])} to service ${hex(bytes[1])}`);
  if (!positive && bytes[0] !== 0x7f) throw new KisoError('KISO_AUX_COMMAND', `positive response ${hex(bytes[0])}, expected a negative one`);
  return true;
}

/** pykiso's DUTAuxiliary: the TestApp step RemoteTest runs (pykiso's test_app_interaction), PING and ABORT. */
const DUT: Record<string, Adapter> = {
  test_app_step: (aux, args, kwargs, signal) => aux.testAppStep(arg(args, kwargs, 0, 'command', ''), arg(args, kwargs, 1, 'suite_id', 0), arg(args, kwargs, 2, 'case_id', 0), {
    ackTimeoutMs: seconds(arg(args, kwargs, 3, 'timeout_cmd', 5), 5000),
    reportTimeoutMs: seconds(arg(args, kwargs, 4, 'timeout_resp', 10), 10_000),
    abortTimeoutMs: seconds(arg(args, kwargs, 5, 'timeout_abort', 10), 10_000),
    signal,
  }),
  send_ping_command: (aux, args, kwargs, signal) => aux.ping(seconds(arg(args, kwargs, 0, 'timeout', 2), 2000), signal),
  send_abort_command: (aux, args, kwargs, signal) => aux.abort(seconds(arg(args, kwargs, 0, 'timeout', 10), 10_000), signal),
};

/** pykiso's resets answer the response bytes: 0x51, then the reset type. */
const bytesFromReset = (reset: { resetType: number }): Uint8Array => Uint8Array.of(0x51, reset.resetType);

/** Adapters by the kiso type name an auxiliary has (its class or pykiso path). */
function adaptersFor(typeName: string): Record<string, Adapter> {
  if (typeName === 'DUTAuxiliary') return DUT;
  if (/Uds/i.test(typeName)) return UDS;
  if (/Can(Aux|Dbc)|DbcAux/i.test(typeName)) return CAN;
  if (/Communication|Proxy|Com/i.test(typeName)) return COMMUNICATION;
  return {};
}

const camel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function options(kwargs: Kwargs, signal: AbortSignal): Record<string, unknown> {
  const out: Record<string, unknown> = { signal };
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'timeout_in_s' || key === 'timeout') out.timeoutMs = seconds(value, 0);
    else out[camel(key)] = value;
  }
  return out;
}

/** Calls pykiso's `method` on kiso's auxiliary `aux` (of type `typeName`). */
export async function callAuxiliary(aux: AnyAux, typeName: string, method: string, args: Args, kwargs: Kwargs, signal: AbortSignal): Promise<unknown> {
  const adapter = adaptersFor(typeName)[method] ?? COMMON[method];
  if (adapter) return adapter(aux, args, kwargs, signal);
  const own = aux[camel(method)] ?? aux[method];
  if (typeof own === 'function') return own.apply(aux, Object.keys(kwargs).length ? [...args, options(kwargs, signal)] : args);
  if (own !== undefined && !args.length) return own;
  const alias = camel(method) === method ? '' : ` (nor as ${camel(method)})`;
  throw new KisoError('KISO_AUX_COMMAND', `${method}() is not a method kiso's ${typeName} offers to Python suites${alias}`);
}
