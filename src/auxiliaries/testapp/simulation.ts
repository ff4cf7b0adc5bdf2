import { CommandType, MessageType, ReportType, LogType, TlvTag, ackOf, tlvValue, type TestAppMessage, type TokenCounter } from './message.js';

/**
 * pykiso's virtual DUT (simulated_auxiliary/simulation.py, scenario.py,
 * response_templates.py): for each (test suite id, test case id) a
 * playbook, one entry per command received: what the device answers, or
 * null for nothing (communication lost). A playbook starts over when the ids
 * of the commands change, and cycles when it runs out; ABORT (ids 0/0)
 * plays the current playbook's next entry, PING is always acknowledged and
 * plays nothing.
 */
export type Response =
  | 'ack'
  | 'ack_with_report_ok'
  | 'ack_with_report_nok'
  | 'ack_with_report_not_implemented'
  | 'ack_with_logs_and_report_ok'
  | 'ack_with_logs_and_report_nok'
  | 'default';

export interface Scenario {
  /** pykiso's handler name, for logs. */
  name: string;
  steps: ReadonlyArray<Response | null>;
}

const OK: Response = 'ack_with_report_ok';
const NOK: Response = 'ack_with_report_nok';
const NOT_IMPLEMENTED: Response = 'ack_with_report_not_implemented';

/** pykiso's Simulation.map_context, by "suite/case". */
export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map<string, Scenario>([
  ['0/0', { name: 'handle_ping_pong', steps: ['ack'] }],
  ['1/1', { name: 'handle_successful', steps: [OK, OK, OK] }],
  // test case setup
  ['1/2', { name: 'handle_failed_report_setup', steps: [NOK, OK, OK] }],
  ['1/3', { name: 'handle_not_implemented_report_setup', steps: [NOT_IMPLEMENTED, OK, OK] }],
  ['1/4', { name: 'handle_lost_communication_during_setup_ack', steps: [null, null, 'ack', OK, OK] }],
  ['1/5', { name: 'handle_lost_communication_during_setup_report', steps: ['ack', null, null, OK, OK] }],
  // test case run
  ['1/6', { name: 'handle_failed_report_run', steps: [OK, NOK, OK] }],
  ['1/7', { name: 'handle_not_implemented_report_run', steps: [OK, NOT_IMPLEMENTED, OK] }],
  ['1/8', { name: 'handle_lost_communication_during_run_ack', steps: [OK, null, null, 'ack', OK] }],
  ['1/9', { name: 'handle_lost_communication_during_run_report', steps: [OK, 'ack', null, null, OK] }],
  ['1/14', { name: 'handle_successful', steps: [OK, OK, OK] }],
  ['1/15', { name: 'handle_successful_report_run_with_log', steps: [OK, 'ack_with_logs_and_report_ok', OK] }],
  ['1/16', { name: 'handle_failed_report_run_with_log', steps: [OK, 'ack_with_logs_and_report_nok', OK] }],
  // test case teardown
  ['1/10', { name: 'handle_failed_report_teardown', steps: [OK, OK, NOK] }],
  ['1/11', { name: 'handle_not_implemented_report_teardown', steps: [OK, OK, NOT_IMPLEMENTED] }],
  ['1/12', { name: 'handle_lost_communication_during_teardown_ack', steps: [OK, OK, null, null, 'ack'] }],
  ['1/13', { name: 'handle_lost_communication_during_teardown_report', steps: [OK, OK, 'ack', null, null] }],
  // test suite setup
  ['2/0', { name: 'handle_failed_report_setup', steps: [NOK] }],
  ['3/0', { name: 'handle_not_implemented_report_setup', steps: [NOT_IMPLEMENTED] }],
  ['4/0', { name: 'handle_lost_communication_during_setup_ack', steps: [null, null, 'ack'] }],
  ['5/0', { name: 'handle_lost_communication_during_setup_report', steps: ['ack', null, null] }],
  // test suite teardown
  ['6/0', { name: 'handle_failed_report_teardown', steps: [NOK] }],
  ['7/0', { name: 'handle_not_implemented_report_teardown', steps: [NOT_IMPLEMENTED] }],
  ['8/0', { name: 'handle_lost_communication_during_teardown_ack', steps: [null, null, 'ack'] }],
  ['9/0', { name: 'handle_lost_communication_during_teardown_report', steps: ['ack', null, null] }],
]);

/** Any other ids: pykiso's handle_default_response. */
export const DEFAULT_SCENARIO: Scenario = { name: 'handle_default_response', steps: ['default'] };

export function scenarioFor(suiteId: number, caseId: number): Scenario {
  return SCENARIOS.get(`${suiteId}/${caseId}`) ?? DEFAULT_SCENARIO;
}

/** pykiso's ResponseTemplates.reasons_list; pykiso picks one at random, kiso takes them in turn. */
export const FAILURE_REASONS = ['Component busy, could not run', 'fatal error occur, could not run', 'Overvoltage situation happen, could not run'] as const;

/** The messages a response template sends back for `command`. */
export function responseMessages(response: Response, command: TestAppMessage, tokens: TokenCounter, nextReason: () => string): TestAppMessage[] {
  const ids = { suiteId: command.suiteId, caseId: command.caseId };
  const report = (subType: number, reason?: string): TestAppMessage => ({
    type: MessageType.REPORT, subType, token: tokens.take(), ...ids,
    ...(reason ? { tlvs: [{ tag: TlvTag.FAILURE_REASON, value: tlvValue(reason) }] } : {}),
  });
  // pykiso's log messages carry nothing; kiso's say what they are, so a test sees the log TLVs reach it.
  const logs = (): TestAppMessage[] => [1, 2].map((n) => ({
    type: MessageType.LOG, subType: LogType.RESERVED, token: tokens.take(), ...ids,
    tlvs: [{ tag: TlvTag.TEST_REPORT, value: tlvValue(`log ${n} of 2 of the simulated DUT, suite ${command.suiteId} case ${command.caseId}`) }],
  }));
  const ack = ackOf(command);
  switch (response) {
    case 'ack':
      return [ack];
    case 'ack_with_report_ok':
      return [ack, report(ReportType.TEST_PASS)];
    case 'ack_with_report_nok':
      return [ack, report(ReportType.TEST_FAILED, nextReason())];
    case 'ack_with_report_not_implemented':
      return [ack, report(ReportType.TEST_NOT_IMPLEMENTED)];
    case 'ack_with_logs_and_report_ok':
      return [ack, ...logs(), report(ReportType.TEST_PASS)];
    case 'ack_with_logs_and_report_nok':
      return [ack, ...logs(), report(ReportType.TEST_FAILED, nextReason())];
    case 'default':
      // A setup, run or teardown command gets a passing report; PING and ABORT only an ACK.
      return command.subType === CommandType.PING || command.subType === CommandType.ABORT ? [ack] : [ack, report(ReportType.TEST_PASS)];
  }
}

/** The playbook state of one simulated DUT. */
export class Playbook {
  private ids: string | undefined;
  private scenario: Scenario = DEFAULT_SCENARIO;
  private position = 0;

  /** The entry to play for this command (null: answer nothing), and the scenario it comes from. */
  next(command: TestAppMessage): { response: Response | null; scenario: Scenario; step: number } {
    const ids = `${command.suiteId}/${command.caseId}`;
    if (command.subType !== CommandType.ABORT && ids !== this.ids) {
      this.ids = ids;
      this.scenario = scenarioFor(command.suiteId, command.caseId);
      this.position = 0;
    }
    const step = this.position % this.scenario.steps.length;
    this.position++;
    return { response: this.scenario.steps[step]!, scenario: this.scenario, step: step + 1 };
  }
}
