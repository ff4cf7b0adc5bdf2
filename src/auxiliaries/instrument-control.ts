import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { KisoError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { ReceiveQueue } from '../core/receive-queue.js';
import { resolveDialect, type ResolvedDialect, type ScpiFunction } from './scpi-dialects.js';

export interface InstrumentControlAuxiliaryConfig {
  /** The instrument family whose SCPI dialect the helpers use (pykiso's names: "Elektro-Automatik", "Rohde&Schwarz"); empty: default SCPI. */
  instrument?: string;
  /** Appended to every command (pykiso's write_termination, default "\n"); C escapes such as '\r\n' are decoded. */
  write_termination?: string;
  /** What ends an answer from the instrument (default "\n"); surrounding white space is trimmed from each answer. */
  read_termination?: string;
  /** Output to select on start, for instruments with several (pykiso's output_channel). */
  output_channel?: number | null;
  /** How long a query or read waits for the answer, in ms (default: the connector's receive timeout, e.g. CCSerial's `timeout`, else 2000). */
  answer_timeout_ms?: number;
  /** Pause between a setter's write and its validation query, in ms (pykiso waits 100). */
  validation_delay_ms?: number;
  /** Most unread answers kept; older ones are dropped past it. */
  receive_buffer_size?: number;
}

/** What a write returns: the validation's verdict (pykiso's status codes). */
export type WriteStatus = 'SUCCESS' | 'FAILURE' | 'NO_VALIDATION';
/** What a helper returns for a function the selected instrument does not have; nothing is sent. */
export const COMMAND_NOT_AVAILABLE = 'COMMAND_NOT_AVAILABLE';
/** A write's check: the query to send after it and the accepted answer(s); `VALUE{12.5}` accepts any number equal to 12.5. */
export type WriteValidation = readonly [query: string, expected: string | readonly string[]];

export const DEFAULT_ANSWER_TIMEOUT_MS = 2_000;
export const DEFAULT_VALIDATION_DELAY_MS = 100;
export const DEFAULT_ANSWER_BUFFER_SIZE = 1_000;
/** An answer longer than this without read_termination is dropped. */
export const MAX_ANSWER_LENGTH = 1_048_576;
/** get_all_errors on an instrument without SYST:ERR:ALL? reads SYST:ERR? at most this often. */
const MAX_ERROR_READS = 100;

/** Decodes the escapes a YAML single-quoted string keeps ('\r\n'), so both quotings mean the same bytes. */
export function decodeTermination(value: string): string {
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\' };
  return value.replace(/\\(x[0-9A-Fa-f]{2}|[nrt0\\])/g, (_, code: string) => (code.startsWith('x') ? String.fromCharCode(parseInt(code.slice(1), 16)) : escapes[code]!));
}

const VALUE_TAG = /^VALUE\{\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*\}$/;

/**
 * pykiso's validation rule: `VALUE{x}` accepts an answer whose first word is
 * the number x in any notation (12.5, 12.50, 1.25E1; units after it are
 * ignored); otherwise the answer must be one of the expected words (SCPI
 * words are case-insensitive). An empty answer never passes.
 */
export function validationPasses(answer: string, expected: string | readonly string[]): boolean {
  const accepted = typeof expected === 'string' ? [expected] : expected;
  const trimmed = answer.trim();
  if (trimmed === '' || accepted.length === 0) return false;
  const tag = VALUE_TAG.exec(accepted[0]!.trim());
  if (tag) {
    const first = trimmed.split(/[\s,]+/)[0]!;
    const value = Number(first);
    return first !== '' && Number.isFinite(value) && value === Number(tag[1]);
  }
  return accepted.some((word) => word.trim().toUpperCase() === trimmed.toUpperCase());
}

/**
 * pykiso's InstrumentControlAuxiliary: SCPI over a byte connector (CCTcpip to
 * a LAN instrument's raw socket, CCSerial to its RS-232/USB port).
 * `write`, `read` and `query` send SCPI text; the helpers (pykiso's
 * `instr_aux.helpers.*`, also callable on the auxiliary itself) speak the
 * dialect `instrument` selects and return pykiso's shapes: the answer text
 * for getters, "SUCCESS"/"FAILURE" for setters, which read the value back to
 * verify it, and "COMMAND_NOT_AVAILABLE" for what the instrument lacks.
 *
 * Unlike pykiso's send-sleep-receive, an answer is read up to
 * `read_termination`, so a slow instrument or a split TCP segment cannot cut
 * it; calls are serialized, so two queries never interleave; a query that
 * gets no answer in time is KISO_INSTRUMENT_NO_ANSWER, never an empty string.
 * On start it takes remote control (when the dialect has it) and selects
 * `output_channel`, as pykiso does.
 */
export class InstrumentControlAuxiliary extends Auxiliary<InstrumentControlAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  /** The dialect in use ('DEFAULT' or a known instrument family). */
  readonly dialect: ResolvedDialect;
  private readonly writeTermination: string;
  private readonly readTermination: string;
  private readonly answers: ReceiveQueue<string>;
  private partial = '';
  private discardingLongAnswer = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(config: InstrumentControlAuxiliaryConfig, context: AuxiliaryContext) {
    super(config, context);
    this.dialect = resolveDialect(config.instrument);
    this.writeTermination = decodeTermination(config.write_termination ?? '\n');
    this.readTermination = decodeTermination(config.read_termination ?? '\n');
    if (this.readTermination === '') throw new KisoError('KISO_CONFIG_INVALID', `auxiliary "${this.name}": read_termination must not be empty`);
    this.answers = new ReceiveQueue<string>(config.receive_buffer_size ?? DEFAULT_ANSWER_BUFFER_SIZE, (dropped) => {
      if (dropped === 1 || dropped % 1000 === 0) this.log.warn({ auxiliary: this.name, dropped }, `auxiliary "${this.name}": unread instrument answers overflow the buffer; dropping the oldest`);
    });
  }

  /** pykiso's `instr_aux.helpers`: the helper methods, which are the auxiliary's own (with processing: true call them on the auxiliary). */
  get helpers(): this {
    return this;
  }

  // ---- pykiso's verbs --------------------------------------------------

  /**
   * Sends a command. With `validation` ([query, expected]) the query is sent
   * afterwards and its answer checked: 'SUCCESS' or 'FAILURE' (also when no
   * answer comes); without it 'NO_VALIDATION'.
   */
  write(command: string, validation?: WriteValidation | null): Promise<WriteStatus> {
    return this.exclusive('write', () => this.writeNow(command, validation ?? undefined));
  }

  /** The next answer of the instrument; KISO_INSTRUMENT_NO_ANSWER when none comes in time. */
  read(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    return this.exclusive('read', () => this.nextAnswer('read()', options));
  }

  /** Sends a query and returns its answer (unread answers left from before are dropped first, so the answer is this query's). */
  query(command: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    return this.exclusive('query', () => this.queryNow(command, options));
  }

  // ---- pykiso's helpers (lib_scpi_commands), in pykiso's names ---------

  get_identification(): Promise<string> {
    return this.ask('identification');
  }

  get_status_byte(): Promise<string> {
    return this.ask('statusByte');
  }

  /** Every queued error (SYST:ERR:ALL?, or SYST:ERR? read until "0, No error" where the dialect has no ALL). */
  get_all_errors(): Promise<string> {
    const { allErrors, nextError } = this.dialect.commands;
    if (allErrors.query !== null || nextError.query === null) return this.ask('allErrors');
    return this.exclusive('get_all_errors', async () => {
      const errors: string[] = [];
      for (let i = 0; i < MAX_ERROR_READS; i++) {
        const answer = await this.queryNow(nextError.query!);
        if (/^[+]?0\s*(,|$)/.test(answer)) break;
        errors.push(answer);
      }
      return errors.length ? errors.join(',') : '0,"No error"';
    });
  }

  /** *RST; 'NO_VALIDATION' as in pykiso. */
  reset(): Promise<string> {
    return this.setWithout('reset');
  }

  self_test(): Promise<string> {
    return this.ask('selfTest');
  }

  get_remote_control_state(): Promise<string> {
    return this.ask('remoteControl');
  }

  set_remote_control_on(): Promise<string> {
    return this.set('remoteControl', 'ON', ['REMOTE', 'ON', '1']);
  }

  set_remote_control_off(): Promise<string> {
    return this.set('remoteControl', 'OFF', ['LOCAL', 'OFF', '0', 'NONE']);
  }

  get_output_channel(): Promise<string> {
    return this.ask('outputChannel');
  }

  async set_output_channel(channel: number): Promise<string> {
    return this.set('outputChannel', String(requireNumber(channel, 'channel')), String(channel));
  }

  get_output_state(): Promise<string> {
    return this.ask('output');
  }

  enable_output(): Promise<string> {
    return this.set('output', 'ON', ['ENABLE', 'ENABLED', 'ON', '1']);
  }

  disable_output(): Promise<string> {
    return this.set('output', 'OFF', ['DISABLE', 'DISABLED', 'OFF', '0']);
  }

  get_nominal_voltage(): Promise<string> {
    return this.ask('nominalVoltage');
  }

  get_nominal_current(): Promise<string> {
    return this.ask('nominalCurrent');
  }

  get_nominal_power(): Promise<string> {
    return this.ask('nominalPower');
  }

  measure_voltage(): Promise<string> {
    return this.ask('measureVoltage');
  }

  measure_current(): Promise<string> {
    return this.ask('measureCurrent');
  }

  measure_power(): Promise<string> {
    return this.ask('measurePower');
  }

  get_target_voltage(): Promise<string> {
    return this.ask('voltage');
  }

  get_target_current(): Promise<string> {
    return this.ask('current');
  }

  get_target_power(): Promise<string> {
    return this.ask('power');
  }

  set_target_voltage(value: number): Promise<string> {
    return this.setValue('voltage', value);
  }

  set_target_current(value: number): Promise<string> {
    return this.setValue('current', value);
  }

  set_target_power(value: number): Promise<string> {
    return this.setValue('power', value);
  }

  get_voltage_limit_low(): Promise<string> {
    return this.ask('voltageLimitLow');
  }

  get_voltage_limit_high(): Promise<string> {
    return this.ask('voltageLimitHigh');
  }

  get_current_limit_low(): Promise<string> {
    return this.ask('currentLimitLow');
  }

  get_current_limit_high(): Promise<string> {
    return this.ask('currentLimitHigh');
  }

  get_power_limit_high(): Promise<string> {
    return this.ask('powerLimitHigh');
  }

  set_voltage_limit_low(limit_value: number): Promise<string> {
    return this.setValue('voltageLimitLow', limit_value);
  }

  set_voltage_limit_high(limit_value: number): Promise<string> {
    return this.setValue('voltageLimitHigh', limit_value);
  }

  set_current_limit_low(limit_value: number): Promise<string> {
    return this.setValue('currentLimitLow', limit_value);
  }

  set_current_limit_high(limit_value: number): Promise<string> {
    return this.setValue('currentLimitHigh', limit_value);
  }

  set_power_limit_high(limit_value: number): Promise<string> {
    return this.setValue('powerLimitHigh', limit_value);
  }

  // ---- lifecycle -------------------------------------------------------

  protected override async onCreate(): Promise<void> {
    this.partial = '';
    this.discardingLongAnswer = false;
    this.answers.recover();
    this.answers.clear();
    if (this.dialect.note) this.log.warn({ auxiliary: this.name }, `auxiliary "${this.name}": ${this.dialect.note}`);
    // As pykiso: take remote control, then select the output channel.
    const remote = this.dialect.commands.remoteControl;
    if (remote.write !== null) {
      const status = await this.writeNow(`${remote.write} ON`, remote.query !== null ? [remote.query, ['REMOTE', 'ON', '1']] : undefined);
      if (status === 'FAILURE') this.log.warn({ auxiliary: this.name }, `auxiliary "${this.name}": the instrument did not confirm remote control (${remote.write} ON); setters may be refused`);
    }
    const channel = this.config.output_channel;
    if (channel !== undefined && channel !== null) {
      const select = this.dialect.commands.outputChannel;
      if (select.write === null) {
        throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": output_channel ${channel} is set, but ${this.dialect.name === 'DEFAULT' ? 'the default dialect' : `instrument ${this.dialect.name}`} has no output channel selection; remove output_channel`);
      }
      const status = await this.writeNow(`${select.write} ${channel}`, select.query !== null ? [select.query, String(channel)] : undefined);
      if (status === 'FAILURE') {
        throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": the instrument did not select output channel ${channel} (${select.write} ${channel}, read back with ${select.query})`);
      }
    }
  }

  protected override async onDelete(): Promise<void> {
    this.answers.cancelWaiters();
  }

  protected override onConnectorFault(error: Error): void {
    this.answers.fail(error);
  }

  protected override onMessage(message: Message): void {
    if (!(message.data instanceof Uint8Array)) return;
    let text = this.partial + Buffer.from(message.data).toString('latin1');
    for (;;) {
      const end = text.indexOf(this.readTermination);
      if (end < 0) break;
      const answer = text.slice(0, end).trim();
      text = text.slice(end + this.readTermination.length);
      if (this.discardingLongAnswer) {
        this.discardingLongAnswer = false;
        continue;
      }
      if (answer !== '') this.answers.push(answer);
    }
    if (text.length > MAX_ANSWER_LENGTH) {
      if (!this.discardingLongAnswer) this.log.warn({ auxiliary: this.name, bytes: text.length }, `auxiliary "${this.name}": the instrument sent ${text.length} bytes without read_termination; dropping them up to the next one`);
      this.discardingLongAnswer = true;
      text = '';
    }
    this.partial = text;
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    switch (command) {
      case 'write':
        return this.write(String(data));
      case 'read':
        return this.read({ signal });
      case 'query':
        return this.query(String(data), { signal });
      default:
        return super.executeCommand(command, data, signal);
    }
  }

  // ---- the SCPI exchange -----------------------------------------------

  /** Runs one exchange at a time, so answers belong to their query. */
  private exclusive<T>(verb: string, task: () => Promise<T>): Promise<T> {
    this.ensureRunning(verb);
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private get answerTimeoutMs(): number {
    return this.config.answer_timeout_ms ?? this.connector('com').defaultReceiveTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
  }

  private async send(command: string): Promise<void> {
    this.log.debug({ auxiliary: this.name, scpi: command }, 'SCPI out');
    await this.connector('com').send(Buffer.from(command + this.writeTermination, 'latin1'));
  }

  private async nextAnswer(what: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? this.answerTimeoutMs;
    const answer = await this.answers.shift(timeoutMs, options.signal);
    if (answer === undefined) {
      if (options.signal?.aborted) throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": ${what} aborted`);
      throw new KisoError('KISO_INSTRUMENT_NO_ANSWER', `auxiliary "${this.name}": no answer from the instrument to ${what} within ${timeoutMs} ms (is it connected and does it know the command? check read_termination and answer_timeout_ms)`);
    }
    this.log.debug({ auxiliary: this.name, scpi: answer }, 'SCPI in');
    return answer;
  }

  private async queryNow(command: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    const stale = this.answers.clear();
    if (stale > 0) this.log.warn({ auxiliary: this.name, dropped: stale }, `auxiliary "${this.name}": dropped ${stale} unread answer(s) before query ${command}`);
    await this.send(command);
    return this.nextAnswer(`"${command}"`, options);
  }

  private async writeNow(command: string, validation: WriteValidation | undefined): Promise<WriteStatus> {
    await this.send(command);
    if (!validation) return 'NO_VALIDATION';
    const [check, expected] = validation;
    const delay = this.config.validation_delay_ms ?? DEFAULT_VALIDATION_DELAY_MS;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    let answer: string;
    try {
      answer = await this.queryNow(check);
    } catch (error) {
      if (!(error instanceof KisoError) || error.code !== 'KISO_INSTRUMENT_NO_ANSWER') throw error;
      this.log.warn({ auxiliary: this.name, command, check }, `auxiliary "${this.name}": write "${command}" failed: no answer to the validation query "${check}"`);
      return 'FAILURE';
    }
    if (validationPasses(answer, expected)) return 'SUCCESS';
    this.log.warn({ auxiliary: this.name, command, check, answer, expected }, `auxiliary "${this.name}": write "${command}" failed: "${check}" answered "${answer}", expected ${JSON.stringify(expected)}`);
    return 'FAILURE';
  }

  /** A helper's query, or COMMAND_NOT_AVAILABLE. */
  private ask(fn: ScpiFunction): Promise<string> {
    const query = this.dialect.commands[fn].query;
    if (query === null) return this.notAvailable(fn, 'query');
    return this.query(query);
  }

  private setWithout(fn: ScpiFunction): Promise<string> {
    const header = this.dialect.commands[fn].write;
    if (header === null) return this.notAvailable(fn, 'write');
    return this.write(header);
  }

  /** A helper's setter: write "HEADER payload", then read back with the function's query. */
  private set(fn: ScpiFunction, payload: string, expected: string | readonly string[]): Promise<string> {
    const { write, query } = this.dialect.commands[fn];
    if (write === null) return this.notAvailable(fn, 'write');
    return this.write(`${write} ${payload}`, query !== null ? [query, expected] : undefined);
  }

  private async setValue(fn: ScpiFunction, value: number): Promise<string> {
    const number = requireNumber(value, 'value');
    return this.set(fn, String(number), `VALUE{${number}}`);
  }

  private async notAvailable(fn: ScpiFunction, kind: 'query' | 'write'): Promise<string> {
    this.ensureRunning(fn);
    this.log.warn({ auxiliary: this.name, function: fn }, `auxiliary "${this.name}": ${kind} ${fn} is not available on ${this.dialect.name === 'DEFAULT' ? 'the default dialect' : `instrument ${this.dialect.name}`}; nothing sent`);
    return COMMAND_NOT_AVAILABLE;
  }
}

function requireNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new KisoError('KISO_AUX_COMMAND', `${what} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}
