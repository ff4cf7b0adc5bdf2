import { AssertionError } from 'node:assert';
import path from 'node:path';
import { Dbc, DbcError, type DbcMessage, type DbcSignal, type DecodedMessage, type DecodedSignal, type EncodeOptions, type SignalInput } from '../can/dbc/index.js';
import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import type { CanFrame } from '../can/frame.js';
import { KisoError, describeError } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';

export interface CanAuxiliaryConfig {
  /** The DBC file (kiso's key); relative paths resolve against the YAML's folder. */
  dbc?: string;
  /** pykiso's name for the same key. */
  dbc_file?: string;
  /** Send physical values outside the DBC's [min|max] instead of refusing them. */
  allow_out_of_range?: boolean;
}

/** A decoded signal with where and when it was received. */
export interface ReceivedSignal extends DecodedSignal {
  message: string;
  timestamp?: number;
}

/** A physical range, both ends included; either end may be left out. */
export interface SignalRange {
  min?: number;
  max?: number;
}

/**
 * What a signal must be: a physical value, a value-table label, a range, or
 * a test on the physical value. (Functions do not cross processes: with
 * processing: true, use the other forms.)
 */
export type SignalExpectation = number | string | SignalRange | ((value: number, signal: ReceivedSignal) => boolean);

/** Which frame of a message: a test, or the values some of its signals must have. */
export type MessageCondition = ((message: DecodedMessage) => boolean) | Readonly<Record<string, number | string | SignalRange>>;

export interface WaitOptions {
  /** Give up after this long (default 1000 ms); then an AssertionError says what was seen. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Also accept the value already received before the call (default: only frames that arrive after it). */
  includeLatest?: boolean;
}

export interface PeriodicOptions extends EncodeOptions {
  /** Cycle time; default: the message's GenMsgCycleTime from the DBC. */
  cycleMs?: number;
}

/** A message kiso keeps sending until it is stopped. */
export interface PeriodicMessage {
  readonly message: string;
  readonly cycleMs: number;
  /** Frames sent so far. */
  readonly sent: number;
  /** Cycles skipped because the previous frame was still being sent, or failed. */
  readonly missed: number;
  /** Replaces some signal values from the next cycle on. */
  update(values: Readonly<Record<string, SignalInput>>): void;
  /** Replaces all signal values from the next cycle on (the others go back to their initial value; e.g. another multiplexed group). */
  replace(values: Readonly<Record<string, SignalInput>>): void;
  stop(): void;
}

export interface CanAuxiliaryStats {
  /** CAN frames received. */
  frames: number;
  /** Frames decoded with the DBC. */
  decoded: number;
  /** Frames with an id the DBC does not describe. */
  unknown: number;
  /** Frames shorter than their DBC message. */
  short: number;
}

export const DEFAULT_WAIT_MS = 1000;

function describeRange(range: SignalRange, unit: string): string {
  const u = unit ? ` ${unit}` : '';
  if (range.min !== undefined && range.max !== undefined) return `${range.min}..${range.max}${u}`;
  return range.min !== undefined ? `>= ${range.min}${u}` : `<= ${range.max}${u}`;
}

interface Waiter {
  check(decoded: DecodedMessage): boolean;
  cancel(error: Error): void;
}

/**
 * A running periodic message. Its internals are ES private fields, so the
 * handle crosses a process boundary (processing: true) as a plain snapshot
 * { message, cycleMs, sent, missed }; there, stopPeriodic(name) and
 * setSignals() control it.
 */
class Periodic implements PeriodicMessage {
  readonly message: string;
  sent = 0;
  missed = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;
  #ticks = 0;
  readonly #started = performance.now();
  #frame: CanFrame;
  #values: Record<string, SignalInput>;
  readonly #owner: CanAuxiliary<CanAuxiliaryConfig>;
  readonly #options: EncodeOptions;

  constructor(
    owner: CanAuxiliary<CanAuxiliaryConfig>,
    message: DbcMessage,
    values: Record<string, SignalInput>,
    readonly cycleMs: number,
    options: EncodeOptions,
  ) {
    this.message = message.name;
    this.#owner = owner;
    this.#options = options;
    this.#values = values;
    this.#frame = owner.encode(message.name, values, options);
  }

  start(): void {
    this.#tick();
  }

  update(values: Readonly<Record<string, SignalInput>>): void {
    this.replace({ ...this.#values, ...values });
  }

  replace(values: Readonly<Record<string, SignalInput>>): void {
    // Encoded now, so a bad value fails at the caller, not in a timer.
    this.#frame = this.#owner.encode(this.message, values, this.#options);
    this.#values = { ...values };
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ticks = -1;
    this.#owner.forgetPeriodic(this);
  }

  #tick(): void {
    if (this.#ticks < 0) return;
    this.#ticks++;
    if (this.#inFlight) this.missed++;
    else {
      this.#inFlight = true;
      this.#owner
        .sendFrame(this.#frame)
        .then(() => this.sent++)
        .catch((error: unknown) => {
          if (this.#ticks < 0) return; // stopped meanwhile: the connector closing is no failure
          this.missed++;
          this.#owner.periodicFailed(this, error);
        })
        .finally(() => {
          this.#inFlight = false;
        });
    }
    // Scheduled against the start time, so the period does not drift.
    const next = this.#started + this.#ticks * this.cycleMs - performance.now();
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next));
  }
}

/**
 * pykiso's CanAuxiliary, with the DBC doing the byte work: send messages by
 * name with physical signal values, decode every received frame into
 * signals, wait for a signal to reach a value, read the latest value of any
 * signal, and keep messages going out periodically while the test runs.
 */
export class CanAuxiliary<Config extends CanAuxiliaryConfig = CanAuxiliaryConfig> extends Auxiliary<Config> {
  static override connectorRoles = ['com'] as const;

  readonly dbc: Dbc;
  readonly stats: CanAuxiliaryStats = { frames: 0, decoded: 0, unknown: 0, short: 0 };
  private readonly latest = new Map<string, DecodedMessage>();
  private readonly waiters = new Set<Waiter>();
  private readonly periodics = new Map<string, Periodic>();
  private readonly lastSent = new Map<string, Record<string, SignalInput>>();
  private warnedPeriodic = new Set<string>();

  constructor(config: Config, context: AuxiliaryContext) {
    super(config, context);
    const file = config.dbc ?? config.dbc_file;
    if (!file || (config.dbc && config.dbc_file)) {
      throw new KisoError('KISO_CONFIG_INVALID', `auxiliary "${context.name}": give the DBC file as ${file ? 'either "dbc" or "dbc_file", not both' : '"dbc" (or pykiso\'s "dbc_file")'}`);
    }
    const resolved = path.resolve(context.baseDir, file);
    try {
      this.dbc = Dbc.load(resolved, path.relative(process.cwd(), resolved) || resolved);
    } catch (error) {
      if (error instanceof DbcError) throw new KisoError('KISO_CONFIG_INVALID', `auxiliary "${context.name}": ${error.message}`, { cause: error });
      throw error;
    }
  }

  // ---- sending -------------------------------------------------------------

  /** The frame for a message (unset signals at their initial value), without sending it. */
  encode(messageName: string, values: Readonly<Record<string, SignalInput>> = {}, options: EncodeOptions = {}): CanFrame {
    return this.dbc.encode(messageName, values, { allowOutOfRange: this.config.allow_out_of_range, ...options });
  }

  /** Sends one message with the given signal values; the others at their initial value. Returns the frame sent. */
  async sendMessage(messageName: string, values: Readonly<Record<string, SignalInput>> = {}, options: EncodeOptions = {}): Promise<CanFrame> {
    this.ensureRunning('sendMessage');
    const frame = this.encode(messageName, values, options);
    await this.sendFrame(frame);
    this.lastSent.set(messageName, { ...values });
    return frame;
  }

  /**
   * Sets signals by name (`EngineSpeed`, or `EngineData.EngineSpeed` when
   * the name is in several messages). A periodic message picks the values up
   * from its next cycle; any other message is sent once, with the values last
   * set for its other signals.
   */
  async setSignals(values: Readonly<Record<string, SignalInput>>, options: EncodeOptions = {}): Promise<void> {
    this.ensureRunning('setSignals');
    const byMessage = new Map<string, Record<string, SignalInput>>();
    for (const [name, value] of Object.entries(values)) {
      const signal = this.dbc.signal(name);
      const group = byMessage.get(signal.messageName) ?? {};
      group[signal.name] = value;
      byMessage.set(signal.messageName, group);
    }
    for (const [messageName, group] of byMessage) {
      const periodic = this.periodics.get(messageName);
      if (periodic) {
        periodic.update(group);
        this.lastSent.set(messageName, { ...this.lastSent.get(messageName), ...group });
      } else {
        await this.sendMessage(messageName, { ...this.lastSent.get(messageName), ...group }, options);
      }
    }
  }

  async setSignal(name: string, value: SignalInput, options: EncodeOptions = {}): Promise<void> {
    await this.setSignals({ [name]: value }, options);
  }

  /** Starts sending a message every cycle (first frame at once) until stopPeriodic() or the auxiliary stops. */
  startPeriodic(messageName: string, values: Readonly<Record<string, SignalInput>> = {}, options: PeriodicOptions = {}): PeriodicMessage {
    this.ensureRunning('startPeriodic');
    return this.beginPeriodic(messageName, values, options);
  }

  /** startPeriodic() without the running check, for a subclass's onCreate() (a simulated ECU starts its messages there). */
  protected beginPeriodic(messageName: string, values: Readonly<Record<string, SignalInput>> = {}, options: PeriodicOptions = {}): PeriodicMessage {
    const message = this.dbc.message(messageName);
    const cycleMs = options.cycleMs ?? message.cycleTimeMs;
    if (cycleMs === undefined || !(cycleMs > 0)) {
      throw new KisoError('KISO_DBC_SIGNAL', `message ${messageName} has no cycle time in ${this.dbc.database.file} (GenMsgCycleTime): pass { cycleMs }`);
    }
    this.periodics.get(messageName)?.stop();
    const { cycleMs: _cycle, ...encodeOptions } = options;
    const periodic = new Periodic(this, message, { ...this.lastSent.get(messageName), ...values }, cycleMs, { allowOutOfRange: this.config.allow_out_of_range, ...encodeOptions });
    this.periodics.set(messageName, periodic);
    periodic.start();
    return periodic;
  }

  /** Stops one periodic message, or all of them. */
  stopPeriodic(messageName?: string): void {
    if (messageName === undefined) {
      for (const periodic of [...this.periodics.values()]) periodic.stop();
      return;
    }
    this.periodics.get(messageName)?.stop();
  }

  get periodicMessages(): PeriodicMessage[] {
    return [...this.periodics.values()];
  }

  // ---- receiving -----------------------------------------------------------

  /** The signals of a frame, or undefined for a frame the DBC does not describe. */
  decode(frame: Message): DecodedMessage | undefined {
    return this.dbc.decode(frame);
  }

  /** The last frame received of a message, decoded. */
  lastMessage(messageName: string): DecodedMessage | undefined {
    this.dbc.message(messageName);
    return this.latest.get(messageName);
  }

  /** The last received value of a signal, with its raw value, label, unit and time. */
  lastSignal(name: string): ReceivedSignal | undefined {
    const signal = this.dbc.signal(name);
    const message = this.latest.get(signal.messageName);
    const decoded = message?.signals[signal.name];
    return decoded && { ...decoded, message: signal.messageName, timestamp: message!.timestamp };
  }

  /** The last received physical value of a signal. */
  lastValue(name: string): number | undefined {
    return this.lastSignal(name)?.value;
  }

  /**
   * Waits until a received frame carries the signal with the expected value
   * (a physical number, compared within the signal's resolution; a label; or
   * a test function). Throws an AssertionError saying what was seen when the
   * time runs out.
   */
  async waitForSignal(name: string, expected: SignalExpectation, options: WaitOptions = {}): Promise<ReceivedSignal> {
    this.ensureRunning('waitForSignal');
    const signal = this.dbc.signal(name);
    const matches = this.expectation(signal, expected);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const pick = (decoded: DecodedMessage): ReceivedSignal | undefined => {
      if (decoded.name !== signal.messageName) return undefined;
      const value = decoded.signals[signal.name];
      if (!value) return undefined;
      const received: ReceivedSignal = { ...value, message: decoded.name, timestamp: decoded.timestamp };
      return matches(received) ? received : undefined;
    };
    if (options.includeLatest) {
      const current = this.latest.get(signal.messageName);
      const found = current && pick(current);
      if (found) return found;
    }
    return this.waitFor(pick, timeoutMs, options.signal, () => {
      const last = this.lastSignal(`${signal.messageName}.${signal.name}`);
      const wanted = typeof expected === 'function' ? 'satisfy the condition' : typeof expected === 'object' ? `reach ${describeRange(expected, signal.unit)}` : `become ${this.describeValue(signal, expected)}`;
      const seen = last ? `last value ${this.describeReceived(last)}` : this.latest.has(signal.messageName) ? `the last ${signal.messageName} frame did not carry it (multiplexed)` : `no ${signal.messageName} frame was received`;
      return `${signal.messageName}.${signal.name} did not ${wanted} within ${timeoutMs} ms; ${seen}`;
    });
  }

  /** Waits for the next frame of a message; `where` picks one by a test or by signal values (`{ DiagPage: 1 }`). */
  async waitForMessage(messageName: string, options: WaitOptions & { where?: MessageCondition } = {}): Promise<DecodedMessage> {
    this.ensureRunning('waitForMessage');
    const message = this.dbc.message(messageName);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const where = options.where;
    let test: ((decoded: DecodedMessage) => boolean) | undefined;
    if (typeof where === 'function') test = where;
    else if (where) {
      const checks = Object.entries(where).map(([name, expected]) => {
        const signal = message.signalsByName.get(name);
        if (!signal) throw new KisoError('KISO_DBC_SIGNAL', `message ${messageName} has no signal "${name}"`);
        const matches = this.expectation(signal, expected);
        return (decoded: DecodedMessage): boolean => {
          const value = decoded.signals[name];
          return value !== undefined && matches({ ...value, message: messageName, timestamp: decoded.timestamp });
        };
      });
      test = (decoded) => checks.every((check) => check(decoded));
    }
    const pick = (decoded: DecodedMessage): DecodedMessage | undefined => (decoded.name === messageName && (!test || test(decoded)) ? decoded : undefined);
    if (options.includeLatest) {
      const current = this.latest.get(messageName);
      if (current && pick(current)) return current;
    }
    return this.waitFor(pick, timeoutMs, options.signal, () => `no ${messageName} frame${options.where ? ' matching the condition' : ''} within ${timeoutMs} ms`);
  }

  /** Forgets the received values (lastSignal() is undefined until new frames come). */
  clearReceived(): void {
    this.latest.clear();
  }

  // ---- internals -----------------------------------------------------------

  /** @internal used by periodic messages */
  async sendFrame(frame: CanFrame): Promise<void> {
    await this.connector('com').send({ ...frame, timestamp: nowSeconds() });
  }

  /** @internal */
  forgetPeriodic(periodic: PeriodicMessage): void {
    if (this.periodics.get(periodic.message) === periodic) this.periodics.delete(periodic.message);
  }

  /** @internal */
  periodicFailed(periodic: PeriodicMessage, error: unknown): void {
    if (this.warnedPeriodic.has(periodic.message)) return;
    this.warnedPeriodic.add(periodic.message);
    this.log.warn({ auxiliary: this.name, message: periodic.message, err: error }, `periodic ${periodic.message} could not be sent: ${describeError(error)} (further failures are counted in "missed")`);
  }

  private waitFor<T>(pick: (decoded: DecodedMessage) => T | undefined, timeoutMs: number, signal: AbortSignal | undefined, describeFailure: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        check: (decoded) => {
          const found = pick(decoded);
          if (found === undefined) return false;
          finish();
          resolve(found);
          return true;
        },
        cancel: (error) => {
          finish();
          reject(error);
        },
      };
      const onAbort = (): void => {
        finish();
        reject(signal?.reason ?? new KisoError('KISO_ABORTED', 'the wait was aborted'));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new AssertionError({ message: describeFailure() }));
      }, timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  private expectation(signal: DbcSignal, expected: SignalExpectation): (received: ReceivedSignal) => boolean {
    if (typeof expected === 'function') return (received) => expected(received.value, received);
    if (typeof expected === 'object') {
      const { min = -Infinity, max = Infinity } = expected;
      if (typeof min !== 'number' || typeof max !== 'number' || min > max) throw new KisoError('KISO_DBC_SIGNAL', `${signal.messageName}.${signal.name}: a range needs numbers min <= max, got ${JSON.stringify(expected)}`);
      return (received) => received.value >= min && received.value <= max;
    }
    if (typeof expected === 'string') {
      const labels = signal.valueTable ? [...signal.valueTable.values()] : [];
      if (!labels.includes(expected)) {
        throw new KisoError('KISO_DBC_SIGNAL', `${signal.messageName}.${signal.name}: "${expected}" is not one of its value labels${labels.length ? ` (${labels.map((l) => `"${l}"`).join(', ')})` : ' (it has no value table: give a number)'}`);
      }
      return (received) => received.label === expected;
    }
    // Equal within half a step of the signal's resolution (floats: within rounding).
    const tolerance = signal.valueType === 'integer' ? Math.abs(signal.factor) / 2 : signal.valueType === 'float32' ? 1e-6 * Math.max(1, Math.abs(expected)) : 1e-12 * Math.max(1, Math.abs(expected));
    return (received) => Math.abs(received.value - expected) <= tolerance;
  }

  private describeValue(signal: DbcSignal, value: number | string): string {
    if (typeof value === 'string') return `"${value}"`;
    const label = signal.valueTable?.get(Math.round((value - signal.offset) / signal.factor));
    return `${value}${signal.unit ? ` ${signal.unit}` : ''}${label !== undefined ? ` ("${label}")` : ''}`;
  }

  private describeReceived(received: ReceivedSignal): string {
    const age = received.timestamp !== undefined ? `, received ${(Date.now() / 1000 - received.timestamp).toFixed(3)} s before` : '';
    return `${Number(received.value.toPrecision(12))}${received.unit ? ` ${received.unit}` : ''}${received.label !== undefined ? ` ("${received.label}")` : ''}${age}`;
  }

  protected override onMessage(message: Message): void {
    if (!message.can) return;
    this.stats.frames++;
    const decoded = this.dbc.decode(message);
    if (!decoded) {
      if (message.can && this.dbc.messageById(message.can.id, message.can.extended) && !message.can.remote && !message.can.error) this.stats.short++;
      else this.stats.unknown++;
      return;
    }
    this.stats.decoded++;
    this.latest.set(decoded.name, decoded);
    for (const waiter of [...this.waiters]) waiter.check(decoded);
  }

  protected override async onCreate(): Promise<void> {
    this.warnedPeriodic = new Set();
    for (const warning of this.dbc.database.warnings) this.log.warn({ auxiliary: this.name }, `DBC: ${warning}`);
  }

  protected override async onDelete(): Promise<void> {
    this.stopPeriodic();
    this.cancelWaits(new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" stopped while a wait was under way`));
  }

  protected override onConnectorFault(error: Error): void {
    this.stopPeriodic();
    this.cancelWaits(error);
  }

  private cancelWaits(error: Error): void {
    for (const waiter of [...this.waiters]) waiter.cancel(error);
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    const args = (data ?? {}) as { message?: string; signals?: Record<string, SignalInput>; signal?: string; value?: SignalExpectation; timeout_ms?: number; cycle_ms?: number };
    switch (command) {
      case 'send_message':
        return (await this.sendMessage(String(args.message), args.signals ?? {})).data;
      case 'set_signals':
        await this.setSignals(args.signals ?? {});
        return true;
      case 'start_periodic':
        this.startPeriodic(String(args.message), args.signals ?? {}, args.cycle_ms !== undefined ? { cycleMs: args.cycle_ms } : {});
        return true;
      case 'stop_periodic':
        this.stopPeriodic(args.message);
        return true;
      case 'wait_for_signal':
        return this.waitForSignal(String(args.signal), args.value as SignalExpectation, { timeoutMs: args.timeout_ms, signal });
      default:
        return super.executeCommand(command, data, signal);
    }
  }
}
