import type { Logger } from '../core/logging.js';
import type { Auxiliary } from '../core/auxiliary.js';
import type { AttachmentContent } from '../results/attachments.js';
import type { CheckApi, StepApi } from '../results/checks.js';
import type { PromptAnswer, PromptRequest } from './prompts.js';
import type { CaseMeasurements, MeasuredValue, MeasurementDeclaration } from '../results/measurements.js';

/**
 * The API test authors write suites with. A suite file default-exports
 * `defineSuite({...})`; kiso finds it through `test_suite_list`.
 *
 *   export default defineSuite({
 *     name: 'UDP echo',
 *     auxiliaries: ['client'],
 *     cases: [{ id: 1, name: 'echo', async run(ctx) { ... } }],
 *   });
 */

/** Timeouts in milliseconds; a number sets all three steps. */
export interface StepTimeouts {
  setup?: number;
  run?: number;
  teardown?: number;
}

export interface SuiteInfo {
  /** pykiso's test_suite_id, from the YAML. */
  id: number;
  name: string;
  /** Absolute path of the suite file. */
  file: string;
}

export interface CaseInfo {
  id: number;
  name: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  tags: Readonly<Record<string, readonly string[]>>;
  requirements: readonly string[];
}

export interface SuiteContext {
  readonly suite: SuiteInfo;
  /**
   * The auxiliary named `name` in the YAML, typed as you say:
   * `ctx.aux<CommunicationAuxiliary>('aux1')`.
   */
  aux<T = Auxiliary>(name: string): T;
  /** Log lines land in the run's log and in the JUnit system-out of the running case. */
  readonly log: Logger;
  /** Aborted when the step times out or the run is interrupted: pass it to waits. */
  readonly signal: AbortSignal;
  /** Shared by the suite's setup, its cases and its teardown. */
  readonly state: Record<string, unknown>;
  /**
   * The fixture slot this run tests, when the station has `duts:`: its
   * `slot`, `serial_number` and its own values (what `${dut.NAME}` reads in
   * the YAML). Undefined for a station without slots.
   */
  readonly dut: Readonly<Record<string, unknown>> | undefined;
  /**
   * Asks the operator and waits for the answer: `await ctx.prompt({ message: 'Is the LED green?' })`
   * (confirm: true/false), `kind: 'text' | 'number' | 'choice'` (with `choices`), `timeoutMs`.
   * At a terminal it asks there, under `kiso serve` on the slot's tile; with
   * no operator (CI) it throws KISO_NO_OPERATOR. Answers go in the run record.
   */
  prompt(request: PromptRequest | string): Promise<PromptAnswer>;
}

export interface CaseContext extends SuiteContext {
  readonly case: CaseInfo;
  /**
   * The case's declared measurements: `ctx.measurements.set('supply_voltage', 4.98)`,
   * `.addRow('iv_curve', [t, v, i])`. A value outside its limits does not
   * throw; the case fails when it ends, after recording the rest.
   */
  readonly measurements: Pick<CaseMeasurements, 'set' | 'addRow' | 'get' | 'has'>;
  /** Records a measurement the case did not declare (declared now, with these units and limits). */
  measure(name: string, value: MeasuredValue, options?: Omit<MeasurementDeclaration, 'name'>): void;
  /**
   * Records a check as a row of the step report (what, expected, actual,
   * outcome) and returns whether it passed: `ctx.check.equal(reply, 'OK', 'reply')`,
   * `ctx.check.within(volts, { lower: 4.75, upper: 5.25 }, 'supply')`,
   * `ctx.check(flag, 'flag set')`. A failed check does not throw; the case
   * fails when it ends. A thrown assertion (node:assert) is a row too.
   */
  readonly check: CheckApi;
  /** Groups the checks `fn` makes under one named row of the step report; returns what `fn` returns, rethrows what it throws. */
  readonly step: StepApi;
  /** Ends the case as SKIP (from its setup or run): for a device that lacks what the case tests. */
  skip(reason?: string): never;
  /** Attaches a file to the case's record: bytes, text or `{ path }` (read at once); the MIME type is guessed from the name if not given. */
  attach(name: string, content: AttachmentContent, mimeType?: string): void;
}

type Step<C> = (ctx: C) => unknown;

export interface TestCaseDefinition {
  /** pykiso's test case id; defaults to the case's position (1-based). */
  id?: number;
  name: string;
  /** Auxiliaries the case uses; kiso starts them before the case if they are not running. */
  auxiliaries?: readonly string[];
  timeout?: number | StepTimeouts;
  /** Extra attempts after a failure or error. */
  retries?: number;
  /** pykiso tags (variants): `kiso --variant nightly` runs the cases whose `variant` tag has `nightly`. */
  tags?: Readonly<Record<string, string | readonly string[]>>;
  /** Requirement ids this case verifies, carried to the reports. */
  requirements?: readonly string[];
  /** Skip the case (a string says why). */
  skip?: boolean | string;
  /**
   * Measurements the case records, e.g. `{ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 } }`.
   * One never set is UNSET and fails the case; the station's limits file can replace the limits.
   */
  measurements?: readonly MeasurementDeclaration[];
  /**
   * What `-p FILE::SUITE::CASE` also matches for this case besides the suite's
   * and case's names: a pykiso Python test's class and method.
   */
  patternNames?: { suite: string; case: string };
  /**
   * unittest's rule, for pykiso's Python tests: an assertion failing in
   * setup or teardown fails the case (FAIL) as one in run does; without it
   * kiso counts it an ERROR (the case could not be tested).
   */
  assertionsFailInAnyStep?: boolean;
  setup?: Step<CaseContext>;
  run: Step<CaseContext>;
  teardown?: Step<CaseContext>;
}

export interface SuiteDefinition {
  /** Shown in reports; defaults to the file name. */
  name?: string;
  /** Auxiliaries every case of the suite uses. */
  auxiliaries?: readonly string[];
  /** Default timeouts of the suite's steps and cases. */
  timeout?: number | StepTimeouts;
  /** Default retries of the suite's cases. */
  retries?: number;
  /** Tags every case of the suite carries. */
  tags?: Readonly<Record<string, string | readonly string[]>>;
  setup?: Step<SuiteContext>;
  teardown?: Step<SuiteContext>;
  cases: readonly TestCaseDefinition[];
}

export const SUITE_MARK = Symbol.for('kiso.suite');

export type DefinedSuite = SuiteDefinition & { readonly [SUITE_MARK]: true };

/** Declares a suite; default-export what it returns. */
export function defineSuite(definition: SuiteDefinition): DefinedSuite {
  return Object.assign({}, definition, { [SUITE_MARK]: true as const });
}

export function isDefinedSuite(value: unknown): value is DefinedSuite {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SUITE_MARK] === true;
}
