import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { KisoError, describeError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { ReceiveQueue } from '../core/receive-queue.js';
import {
  AckType, CommandType, MessageType, ReportType, TokenCounter,
  ackOf, decodeMessage, describeMessage, encodeMessage, messageName, tlvTagName, tlvText,
  type CommandTypeName, type TestAppMessage,
} from './testapp/message.js';

export interface DutAuxiliaryConfig {
  /** How long the device has to acknowledge the PING sent when the auxiliary starts (pykiso: 2 s). */
  ping_timeout_ms?: number;
}

/** pykiso's waits: 5 s for a command's ACK (test_app_interaction's timeout_cmd), sent twice; 10 s for a report and for an ABORT's ACK. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
export const DEFAULT_REPORT_TIMEOUT_MS = 10_000;
export const DEFAULT_ABORT_TIMEOUT_MS = 10_000;
export const DEFAULT_PING_TIMEOUT_MS = 2_000;
export const COMMAND_TRIES = 2;
const INBOX_SIZE = 10_000;

export type TestAppOutcome = 'passed' | 'failed' | 'not_implemented' | 'no_ack' | 'no_report';

/** What one TestApp step (a setup, run or teardown on the device) gave. */
export interface TestAppStepResult {
  outcome: TestAppOutcome;
  /** The command sent, e.g. TEST_CASE_RUN. */
  command: string;
  suiteId: number;
  caseId: number;
  /** The report's sub-type (TEST_PASS, TEST_FAILED, TEST_NOT_IMPLEMENTED), when one came. */
  reportType?: string;
  /** The report's TLVs as text, by tag name (FAILURE_REASON, TEST_REPORT). */
  tlvs: Record<string, string>;
  /** What the device logged (LOG messages) between the ACK and the report: their TLVs as text. */
  logs: string[];
  /** Why the step did not pass, in words. */
  reason?: string;
  /** After no ACK or no report: whether the device acknowledged the ABORT kiso then sent. */
  abortAcknowledged?: boolean;
}

export interface TestAppStepOptions {
  ackTimeoutMs?: number;
  reportTimeoutMs?: number;
  abortTimeoutMs?: number;
  /** Stops the waits (the step's timeout, Ctrl-C). */
  signal?: AbortSignal;
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/** A signal that crossed IPC (processing: true) arrives as a plain object: only a real one can stop the waits. */
const realSignal = (signal: unknown): AbortSignal | undefined => (signal instanceof AbortSignal ? signal : undefined);

/**
 * pykiso's DUTAuxiliary: drives a test app on the device under test over
 * pykiso's TestApp protocol (testapp/message.ts) on its `com` connector.
 * Starting it sends PING and waits for the ACK. A step (pykiso's
 * test_app_interaction) sends a command (TEST_CASE_SETUP, _RUN,
 * _TEARDOWN, TEST_SUITE_SETUP, ...) with the case's ids, waits for its ACK
 * (5 s, the command sent twice), then for the REPORT; messages received are
 * acknowledged, LOG messages kept. No ACK or no report: ABORT is sent (twice,
 * restarting the auxiliary after each unanswered one), as pykiso's
 * cleanup_and_skip does.
 */
export class DUTAuxiliary extends Auxiliary<DutAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  private readonly tokens = new TokenCounter();
  private readonly inbox: ReceiveQueue<TestAppMessage>;

  constructor(config: DutAuxiliaryConfig, context: AuxiliaryContext) {
    super(config ?? {}, context);
    this.inbox = new ReceiveQueue<TestAppMessage>(INBOX_SIZE, (dropped) => {
      if (dropped === 1 || dropped % 1000 === 0) this.log.warn({ auxiliary: this.name, dropped }, `DUT auxiliary "${this.name}": ${dropped} unread TestApp messages dropped`);
    });
  }

  /**
   * Runs one TestApp step: `command` with the suite and case ids, then its
   * ACK and REPORT. Never throws for what the device does (or does not) do:
   * the outcome says it.
   */
  async testAppStep(command: CommandTypeName | number, suiteId: number, caseId: number, options: TestAppStepOptions = {}): Promise<TestAppStepResult> {
    this.ensureRunning('testAppStep');
    const subType = typeof command === 'number' ? command : CommandType[command];
    if (subType === undefined || !Object.values(CommandType).includes(subType as never)) {
      throw new KisoError('KISO_AUX_COMMAND', `DUT auxiliary "${this.name}": unknown TestApp command ${JSON.stringify(command)} (one of ${Object.keys(CommandType).join(', ')})`);
    }
    options = { ...options, signal: realSignal(options.signal) };
    const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const reportTimeoutMs = options.reportTimeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
    const message: TestAppMessage = { type: MessageType.COMMAND, subType, token: this.tokens.take(), suiteId, caseId };
    const name = messageName(message).replace(/^COMMAND /, '');
    const result: TestAppStepResult = { outcome: 'passed', command: name, suiteId, caseId, tlvs: {}, logs: [] };
    this.dropStale();

    const early: TestAppMessage[] = [];
    const acked = await this.sendUntilAcknowledged(message, ackTimeoutMs, COMMAND_TRIES, early, options.signal);
    if (!acked) {
      result.outcome = 'no_ack';
      result.reason = `no response received from the DUT (${this.name}) for ${name} of suite ${suiteId} case ${caseId}: no ACK within ${seconds(ackTimeoutMs)}, command sent ${COMMAND_TRIES} times`;
      this.log.error({ auxiliary: this.name }, result.reason);
      result.abortAcknowledged = await this.abort(options.abortTimeoutMs, options.signal);
      return result;
    }
    const report = await this.waitForReport(reportTimeoutMs, early, result.logs, options.signal);
    if (!report) {
      result.outcome = 'no_report';
      result.reason = `no report received from the DUT (${this.name}) for ${name} of suite ${suiteId} case ${caseId} within ${seconds(reportTimeoutMs)}`;
      this.log.error({ auxiliary: this.name }, result.reason);
      result.abortAcknowledged = await this.abort(options.abortTimeoutMs, options.signal);
      return result;
    }
    result.reportType = messageName(report).replace(/^REPORT /, '');
    for (const tlv of report.tlvs ?? []) result.tlvs[tlvTagName(tlv.tag)] = tlvText(tlv);
    if (report.suiteId !== suiteId || report.caseId !== caseId) this.log.warn({ auxiliary: this.name }, `DUT auxiliary "${this.name}": the report to ${name} ${suiteId}/${caseId} names suite ${report.suiteId} case ${report.caseId}`);
    if (report.subType === ReportType.TEST_PASS) {
      this.log.info({ auxiliary: this.name }, `report with verdict PASS for ${name} ${suiteId}/${caseId}`);
    } else if (report.subType === ReportType.TEST_NOT_IMPLEMENTED) {
      result.outcome = 'not_implemented';
      result.reason = `the DUT reports ${name} of suite ${suiteId} case ${caseId} not implemented`;
      this.log.warn({ auxiliary: this.name }, result.reason);
    } else {
      result.outcome = 'failed';
      const why = result.tlvs.FAILURE_REASON ?? result.tlvs.TEST_REPORT;
      result.reason = `the DUT reports ${name} of suite ${suiteId} case ${caseId} FAILED${why ? `: ${why}` : ''}`;
      this.log.error({ auxiliary: this.name }, result.reason);
    }
    return result;
  }

  /** pykiso's send_ping_command: PING, and whether it was acknowledged in time. */
  async ping(timeoutMs = this.config.ping_timeout_ms ?? DEFAULT_PING_TIMEOUT_MS, signal?: AbortSignal): Promise<boolean> {
    signal = realSignal(signal);
    this.inbox.clear();
    return this.sendUntilAcknowledged({ type: MessageType.COMMAND, subType: CommandType.PING, token: this.tokens.take(), suiteId: 0, caseId: 0 }, timeoutMs, 1, [], signal);
  }

  /**
   * pykiso's send_abort_command: ABORT, twice at most; after each one not
   * acknowledged in time the auxiliary restarts (a new connection, PING
   * included), as pykiso's restart_aux does. Whether an ABORT was acknowledged.
   */
  async abort(timeoutMs = DEFAULT_ABORT_TIMEOUT_MS, signal?: AbortSignal): Promise<boolean> {
    signal = realSignal(signal);
    for (let attempt = 1; attempt <= COMMAND_TRIES; attempt++) {
      if (signal?.aborted) return false;
      const message: TestAppMessage = { type: MessageType.COMMAND, subType: CommandType.ABORT, token: this.tokens.take(), suiteId: 0, caseId: 0 };
      if (await this.sendUntilAcknowledged(message, timeoutMs, 1, [], signal)) {
        this.log.info({ auxiliary: this.name }, `the DUT acknowledged ABORT`);
        return true;
      }
      this.log.error({ auxiliary: this.name }, `the DUT did not acknowledge ABORT within ${seconds(timeoutMs)} (attempt ${attempt} of ${COMMAND_TRIES}): restarting "${this.name}"`);
      if (signal?.aborted) return false;
      try {
        await this.deleteInstance();
        await this.createInstance();
      } catch (error) {
        this.log.error({ auxiliary: this.name }, `DUT auxiliary "${this.name}" did not restart: ${describeError(error)}`);
        return false;
      }
    }
    return false;
  }

  protected override async onCreate(): Promise<void> {
    this.inbox.recover();
    this.inbox.clear();
    const timeoutMs = this.config.ping_timeout_ms ?? DEFAULT_PING_TIMEOUT_MS;
    if (!(await this.ping(timeoutMs))) {
      throw new KisoError('KISO_AUX_COMMAND', `DUT auxiliary "${this.name}": the device did not acknowledge PING within ${seconds(timeoutMs)} (is its test app, or a SimulatedAuxiliary, listening where connector "${this.connector('com').name}" sends?)`);
    }
    this.log.debug({ auxiliary: this.name }, 'the DUT acknowledged PING');
  }

  protected override async onDelete(): Promise<void> {
    this.inbox.cancelWaiters();
  }

  protected override onConnectorFault(error: Error): void {
    this.inbox.fail(error);
  }

  protected override onMessage(raw: Message): void {
    let message: TestAppMessage;
    try {
      message = decodeMessage(raw.data);
    } catch (error) {
      this.log.warn({ auxiliary: this.name }, `DUT auxiliary "${this.name}" dropped a frame: ${describeError(error)}`);
      return;
    }
    // pykiso acknowledges everything the device sends but ACKs.
    if (message.type !== MessageType.ACK) {
      this.connector('com').send(encodeMessage(ackOf(message, AckType.ACK))).catch((error: unknown) => {
        this.log.warn({ auxiliary: this.name }, `DUT auxiliary "${this.name}" could not acknowledge ${describeMessage(message)}: ${describeError(error)}`);
      });
    }
    this.inbox.push(message);
  }

  protected override async executeCommand(command: string, data: unknown, signal: AbortSignal): Promise<unknown> {
    switch (command) {
      case 'ping':
        return this.ping(typeof data === 'number' ? data : undefined, signal);
      case 'abort':
        return this.abort(typeof data === 'number' ? data : undefined, signal);
      default: {
        const step = data as { suiteId?: number; caseId?: number } | undefined;
        if (command in CommandType) return this.testAppStep(command as CommandTypeName, step?.suiteId ?? 0, step?.caseId ?? 0, { signal });
        return super.executeCommand(command, data, signal);
      }
    }
  }

  /** Messages still queued from an earlier step are not this step's answers: dropped, and said so. */
  private dropStale(): void {
    for (const stale of this.inbox.drain()) {
      if (stale.type === MessageType.ACK) continue;
      this.log.warn({ auxiliary: this.name }, `DUT auxiliary "${this.name}": dropped ${describeMessage(stale)}, received after its step ended`);
    }
  }

  /** Sends `message` up to `tries` times, each waiting `timeoutMs` for the ACK with its token; reports and logs meanwhile go to `early`. */
  private async sendUntilAcknowledged(message: TestAppMessage, timeoutMs: number, tries: number, early: TestAppMessage[], signal?: AbortSignal): Promise<boolean> {
    const bytes = encodeMessage(message);
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (signal?.aborted) return false;
      this.log.debug({ auxiliary: this.name }, `send ${describeMessage(message)}${attempt > 1 ? ` (attempt ${attempt} of ${tries})` : ''}`);
      try {
        await this.connector('com').send(bytes);
      } catch (error) {
        this.log.error({ auxiliary: this.name }, `DUT auxiliary "${this.name}" could not send ${messageName(message)}: ${describeError(error)}`);
        continue;
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) break;
        const received = await this.inbox.shift(left, signal);
        if (!received) break;
        if (received.type === MessageType.ACK) {
          if (received.token === message.token) {
            if (received.subType === AckType.NACK) {
              this.log.warn({ auxiliary: this.name }, `the DUT refused (NACK) ${describeMessage(message)}`);
              break;
            }
            return true;
          }
          this.log.debug({ auxiliary: this.name }, `an ACK with token ${received.token} does not answer ${describeMessage(message)}`);
          continue;
        }
        early.push(received);
      }
      if (!signal?.aborted) this.log.warn({ auxiliary: this.name }, `no ACK from the DUT for ${describeMessage(message)} within ${seconds(timeoutMs)}${attempt < tries ? ': sending it again' : ''}`);
    }
    return false;
  }

  /** The next REPORT within `timeoutMs` (messages received early first); LOG messages on the way are logged and kept in `logs`. */
  private async waitForReport(timeoutMs: number, early: TestAppMessage[], logs: string[], signal?: AbortSignal): Promise<TestAppMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let received = early.shift();
      if (!received) {
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return undefined;
        received = await this.inbox.shift(left, signal);
        if (!received) return undefined;
      }
      if (received.type === MessageType.REPORT) return received;
      if (received.type === MessageType.LOG) {
        const text = (received.tlvs ?? []).map(tlvText).join(' ') || describeMessage(received);
        logs.push(text);
        this.log.debug({ auxiliary: this.name }, `DUT log: ${text}`);
        continue;
      }
      this.log.debug({ auxiliary: this.name }, `while waiting for a report: ${describeMessage(received)}`);
    }
  }
}
