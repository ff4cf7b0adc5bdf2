import path from 'node:path';
import { selectedByTags } from './tags.js';
import type { AuxiliaryHandle } from '../core/auxiliary.js';
import { KisoError, describeError, isKisoError } from '../core/errors.js';
import { withoutSecrets, type Logger } from '../core/logging.js';
import type { ReporterMux } from '../results/reporters/reporter.js';
import { CaseEvidence } from '../results/case-evidence.js';
import { resolveDeclarations, unknownLimitCases, type LimitsTable } from '../results/limits-table.js';
import { measurementVerdict, type ResolvedDeclaration } from '../results/measurements.js';
import { withCallerSite } from './caller-site.js';
import { NO_OPERATOR, normalizePrompt, type PromptAnswer, type Prompter, type PromptRequest } from './prompts.js';
import type { CaseContext, CaseInfo, DefinedSuite, StepTimeouts, SuiteContext, SuiteInfo, TestCaseDefinition } from './suite-api.js';
import { countOutcomes, type CaseError, type CaseLogEntry, type CaseResult, type Outcome, type RunOutcome, type RunResult, type Step, type SuiteResult } from '../results/outcomes.js';

/** What the runner needs of a station: the local StationRuntime or a worker's stand-in. */
export interface AuxiliaryProvider {
  auxiliary(name: string): AuxiliaryHandle;
  start(names: Iterable<string>): Promise<void>;
}

/** What pino and kiso's own child loggers put on every line; the rest of a line is the caller's fields. */
const LOG_LINE_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v', 'name', 'suite', 'case', 'caller', 'slot', 'serial', 'python', 'auxiliary', 'connector']);

/** Collects the log lines of the running case for its JUnit system-out. */
export class OutputCapture {
  current: string[] | undefined;
  /** The running case's lines, structured, for the run record. */
  logs: CaseLogEntry[] | undefined;
  /** One raw pino line: formatted into `current`, structured into `logs`. */
  pushJson(raw: string, format: (raw: string) => string): void {
    if (!this.current) return;
    this.current.push(format(raw));
    if (!this.logs) return;
    try {
      const entry = JSON.parse(raw) as { level?: number; time?: number; msg?: unknown; name?: string; suite?: string; case?: string; caller?: string } & Record<string, unknown>;
      const logger = entry.name ?? (entry.case ? `${entry.suite} › ${entry.case}` : entry.suite);
      const fields = withoutSecrets(Object.fromEntries(Object.entries(entry).filter(([key]) => !LOG_LINE_KEYS.has(key)))) as Record<string, unknown>;
      this.logs.push({ level: entry.level ?? 30, time: entry.time ?? Date.now(), message: String(entry.msg ?? ''), logger, caller: entry.caller, ...(Object.keys(fields).length ? { fields } : {}) });
    } catch {
      this.logs.push({ level: 30, time: Date.now(), message: raw.trimEnd() });
    }
  }
}

/**
 * Errors thrown outside any awaited chain (a timer callback, an un-awaited
 * promise) while a case runs. The CLI feeds it from process events; the
 * runner charges them to the running case instead of letting them kill the run.
 */
export class StrayErrors {
  private pending: unknown[] = [];
  push(error: unknown): void {
    this.pending.push(error);
  }
  take(): unknown[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}

export interface LoadedSuite {
  file: string;
  suiteId: number;
  definition?: DefinedSuite;
  loadError?: Error;
}

export const DEFAULT_TIMEOUTS: Required<StepTimeouts> = { setup: 30_000, run: 60_000, teardown: 30_000 };

export interface RunnerOptions {
  configFile: string;
  log: Logger;
  capture?: OutputCapture;
  failfast?: boolean;
  /** `--variant a,b` → { variant: ['a', 'b'] }: run only the cases whose tag has one of the values. */
  tagFilters?: Readonly<Record<string, readonly string[]>>;
  /** Only cases whose name matches (from `-p file::case`). */
  casePattern?: RegExp;
  /** Only suites whose name matches (from pykiso's `-p file::Suite::case`). */
  suitePattern?: RegExp;
  defaultTimeouts?: StepTimeouts;
  strayErrors?: StrayErrors;
  /** The fixture slot's values, for `ctx.dut`. */
  dut?: Readonly<Record<string, unknown>>;
  /** Aborts the run (Ctrl-C): the running step ends as ERROR, the rest is skipped, reports still written. */
  signal?: AbortSignal;
  /** The station's limits file: replaces the limits the suites declare. */
  limits?: LimitsTable;
  /** Who answers ctx.prompt: the terminal, kiso serve's page, or nobody (the default: a prompt is an ERROR). */
  prompter?: Prompter;
}

type Tags = Record<string, string[]>;

function normalizeTags(...sources: Array<Readonly<Record<string, string | readonly string[]>> | undefined>): Tags {
  const tags: Tags = {};
  for (const source of sources) {
    for (const [name, value] of Object.entries(source ?? {})) tags[name] = typeof value === 'string' ? [value] : [...value];
  }
  return tags;
}

function resolveTimeouts(...layers: Array<number | StepTimeouts | undefined>): Required<StepTimeouts> {
  const result = { ...DEFAULT_TIMEOUTS };
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (typeof layer === 'number') Object.assign(result, { setup: layer, run: layer, teardown: layer });
    else Object.assign(result, Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)));
  }
  return result;
}

/** What ctx.skip() throws: the case ends as SKIP with this reason. */
export class CaseSkipped extends Error {
  override name = 'CaseSkipped';
}

export function isAssertionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'AssertionError' || (error as { code?: unknown }).code === 'ERR_ASSERTION' || error.constructor?.name === 'AssertionError';
}

function toCaseError(error: unknown, step: Step): CaseError {
  if (error instanceof Error) {
    return { message: error.message, type: error.name, code: (error as { code?: string }).code, stack: error.stack, step };
  }
  return { message: describeError(error), type: typeof error, step };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Runs one step with its timeout. A synchronous step needs no timer; an async
 * one races a timer and the run's abort signal. On timeout the step's signal
 * aborts so waits inside it can stop; the step's promise is left to settle.
 * A step that blocked the event loop cannot be aborted (no timer fires while
 * it runs): one that ended past its timeout, whichever way, is a timeout too.
 */
async function runStep<C>(fn: ((ctx: C) => unknown) | undefined, ctx: C, timeoutMs: number, controller: AbortController, label: string, runSignal?: AbortSignal): Promise<void> {
  if (!fn) return;
  const started = performance.now();
  try {
    await raceStep(fn, ctx, timeoutMs, controller, label, runSignal);
  } catch (error) {
    if (isKisoError(error, 'KISO_TIMEOUT') || isKisoError(error, 'KISO_ABORTED')) throw error;
    throw overrun(label, started, timeoutMs, error) ?? error;
  }
  const late = overrun(label, started, timeoutMs);
  if (late) throw late;
}

/** The timeout error of a step that ended after its timeout (a blocked event loop kept the timer from firing), else undefined. */
function overrun(label: string, started: number, timeoutMs: number, cause?: unknown): KisoError | undefined {
  const ranMs = Math.round(performance.now() - started);
  if (ranMs <= timeoutMs) return undefined;
  return new KisoError('KISO_TIMEOUT', `${label} ran ${ranMs} ms, past its timeout of ${timeoutMs} ms (it blocked the event loop, so it could not be stopped in time)`, cause === undefined ? undefined : { cause });
}

async function raceStep<C>(fn: (ctx: C) => unknown, ctx: C, timeoutMs: number, controller: AbortController, label: string, runSignal?: AbortSignal): Promise<void> {
  const result = fn(ctx);
  if (!isThenable(result)) return;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    // Reject before aborting: abort listeners may settle the step in the same tick, and the timeout must win.
    timer = setTimeout(() => {
      const error = new KisoError('KISO_TIMEOUT', `${label} timed out after ${timeoutMs} ms`);
      reject(error);
      controller.abort(error);
    }, timeoutMs);
    if (runSignal) {
      onAbort = () => {
        const error = new KisoError('KISO_ABORTED', `${label} was interrupted`);
        reject(error);
        controller.abort(error);
      };
      if (runSignal.aborted) onAbort();
      else runSignal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    await Promise.race([result, guard]);
  } finally {
    clearTimeout(timer);
    if (onAbort) runSignal?.removeEventListener('abort', onAbort);
  }
}

export class SuiteRunner {
  private stopReason: string | undefined;

  constructor(
    private readonly station: AuxiliaryProvider,
    private readonly reporter: ReporterMux,
    private readonly options: RunnerOptions,
  ) {}

  async run(suites: readonly LoadedSuite[]): Promise<RunResult> {
    const startedAt = Date.now();
    const caseCount = suites.reduce((sum, suite) => sum + (suite.definition?.cases.length ?? 1), 0);
    await this.reporter.onRunStart({ configFile: this.options.configFile, suiteCount: suites.length, caseCount, startedAt });
    const loadedSuites = suites.filter((s) => s.definition).map((s) => ({ name: this.suiteName(s), caseNames: s.definition!.cases.map((c) => c.name) }));
    for (const warning of unknownLimitCases(this.options.limits, loadedSuites)) this.options.log.warn(warning);
    const results: SuiteResult[] = [];
    for (const suite of suites) results.push(await this.runSuite(suite));
    return this.finishRun(startedAt, results);
  }

  /**
   * Runs suites handed out one at a time until `next` has none left (fixture
   * slots sharing one case list, `--dist load`), with the same run start and
   * end hooks as `run()`.
   */
  async runQueue(next: () => Promise<LoadedSuite | undefined>, expectedCases: number): Promise<RunResult> {
    const startedAt = Date.now();
    await this.reporter.onRunStart({ configFile: this.options.configFile, suiteCount: 0, caseCount: expectedCases, startedAt });
    const results: SuiteResult[] = [];
    for (let suite = await next(); suite && !this.options.signal?.aborted; suite = await next()) results.push(await this.runSuite(suite));
    return this.finishRun(startedAt, results);
  }

  private async finishRun(startedAt: number, results: SuiteResult[]): Promise<RunResult> {
    const counts = countOutcomes(results.flatMap((suite) => suite.cases));
    const outcome: RunOutcome = this.options.signal?.aborted ? 'aborted' : counts.error > 0 ? 'error' : counts.failed > 0 ? 'failed' : 'passed';
    const run: RunResult = { configFile: this.options.configFile, startedAt, durationMs: Date.now() - startedAt, suites: results, outcome, counts };
    await this.reporter.onRunEnd(run);
    return run;
  }

  private async runSuite(loaded: LoadedSuite): Promise<SuiteResult> {
    const definition = loaded.definition;
    const info: SuiteInfo = { id: loaded.suiteId, name: this.suiteName(loaded), file: loaded.file };
    const startedAt = Date.now();
    await this.reporter.onSuiteStart({ id: info.id, name: info.name, file: info.file, caseCount: definition?.cases.length ?? 1 });
    const cases: CaseResult[] = [];
    const finish = async (): Promise<SuiteResult> => {
      const result: SuiteResult = { id: info.id, name: info.name, file: info.file, startedAt, durationMs: Date.now() - startedAt, cases };
      await this.reporter.onSuiteEnd(result);
      return result;
    };

    if (!definition) {
      const result = this.pseudoCase(info, 0, 'load suite', 'error', startedAt, toCaseError(loaded.loadError ?? new Error('suite did not load'), 'load'));
      await this.endCase(result, cases);
      return finish();
    }

    const state: Record<string, unknown> = {};
    const suiteTimeouts = resolveTimeouts(this.options.defaultTimeouts, definition.timeout);
    const suiteController = new AbortController();
    const suiteContext = this.makeContext(info, state, suiteController.signal) as SuiteContext;
    const plans = definition.cases.map((testCase, index) => this.plan(info, definition, testCase, index));
    const anySelected = plans.some((plan) => !plan.skipReason);

    let setupError: CaseError | undefined;
    if (anySelected && !this.stopReason) {
      try {
        await this.station.start(definition.auxiliaries ?? []);
        await runStep(definition.setup, suiteContext, suiteTimeouts.setup, suiteController, `setup of suite "${info.name}"`, this.options.signal);
      } catch (error) {
        setupError = toCaseError(error, 'setup');
        setupError.message = `suite setup failed: ${setupError.message}`;
      }
    }

    for (const plan of plans) {
      const skipReason = plan.skipReason ?? this.stopReason;
      if (skipReason) {
        await this.endCase(this.pseudoCase(info, plan.info.id, plan.info.name, 'skipped', Date.now(), undefined, skipReason, plan), cases);
        continue;
      }
      if (setupError) {
        await this.endCase(this.pseudoCase(info, plan.info.id, plan.info.name, 'error', Date.now(), setupError, undefined, plan), cases);
        continue;
      }
      await this.endCase(await this.runCase(info, plan, state), cases);
    }

    if (anySelected && definition.teardown && !setupError) {
      const teardownStart = Date.now();
      try {
        await runStep(definition.teardown, suiteContext, suiteTimeouts.teardown, new AbortController(), `teardown of suite "${info.name}"`);
      } catch (error) {
        const failure = toCaseError(error, 'teardown');
        failure.message = `suite teardown failed: ${failure.message}`;
        await this.endCase(this.pseudoCase(info, 0, 'suite teardown', 'error', teardownStart, failure), cases);
      }
    }
    return finish();
  }

  private suiteName(loaded: LoadedSuite): string {
    return loaded.definition?.name ?? path.basename(loaded.file).replace(/\.[cm]?[jt]sx?$/, '');
  }

  private plan(suite: SuiteInfo, definition: DefinedSuite, testCase: TestCaseDefinition, index: number): CasePlan {
    const tags = normalizeTags(definition.tags, testCase.tags);
    const info: CaseInfo = { id: testCase.id ?? index + 1, name: testCase.name, attempt: 1, tags, requirements: [...(testCase.requirements ?? [])] };
    let skipReason: string | undefined;
    if (testCase.skip) skipReason = typeof testCase.skip === 'string' ? testCase.skip : 'marked skip';
    if (!skipReason) {
      const byTags = selectedByTags(tags, this.options.tagFilters);
      if (!byTags.selected) skipReason = byTags.reason;
    }
    if (!skipReason && !matchesPattern(this.options, suite.name, testCase)) skipReason = `not selected by --pattern`;
    return {
      testCase,
      info,
      skipReason,
      timeouts: resolveTimeouts(this.options.defaultTimeouts, definition.timeout, testCase.timeout),
      retries: testCase.retries ?? definition.retries ?? 0,
      auxiliaries: [...(testCase.auxiliaries ?? [])],
      suite,
      measurements: resolveDeclarations(this.options.limits, suite.name, testCase.name, testCase.measurements),
    };
  }

  private async runCase(suite: SuiteInfo, plan: CasePlan, state: Record<string, unknown>): Promise<CaseResult> {
    const output: string[] = [];
    const logs: CaseLogEntry[] = [];
    const startedAt = Date.now();
    let outcome: Outcome = 'passed';
    let failure: CaseError | undefined;
    let evidence: Pick<CaseResult, 'measurements' | 'attachments' | 'checks' | 'skipReason' | 'prompts'> = {};
    let attempt = 0;
    if (this.options.capture) {
      this.options.capture.current = output;
      this.options.capture.logs = logs;
    }
    try {
      for (;;) {
        attempt++;
        const caseInfo = attempt === 1 ? plan.info : { ...plan.info, attempt };
        await this.reporter.onCaseStart({ file: suite.file, suiteId: suite.id, suiteName: suite.name, caseId: caseInfo.id, name: caseInfo.name, attempt });
        ({ outcome, failure, ...evidence } = await this.attempt(suite, plan, caseInfo, state));
        if (outcome === 'passed' || outcome === 'skipped' || attempt > plan.retries || this.options.signal?.aborted) break;
        this.options.log.info({ case: plan.info.name, attempt }, `case "${plan.info.name}" ${outcome}; retrying (${attempt}/${plan.retries})`);
      }
    } finally {
      if (this.options.capture) {
        this.options.capture.current = undefined;
        this.options.capture.logs = undefined;
      }
    }
    return {
      suiteId: suite.id,
      suiteName: suite.name,
      caseId: plan.info.id,
      name: plan.info.name,
      file: suite.file,
      outcome,
      startedAt,
      durationMs: Date.now() - startedAt,
      attempts: attempt,
      error: failure,
      tags: plan.info.tags as Tags,
      requirements: [...plan.info.requirements],
      output,
      ...evidence,
      logs,
    };
  }

  private async attempt(suite: SuiteInfo, plan: CasePlan, caseInfo: CaseInfo, state: Record<string, unknown>): Promise<{ outcome: Outcome; failure?: CaseError } & Pick<CaseResult, 'measurements' | 'attachments' | 'checks' | 'skipReason' | 'prompts'>> {
    const controller = new AbortController();
    const evidence = new CaseEvidence(plan.measurements);
    const ctx = this.makeContext(suite, state, controller.signal, caseInfo, evidence) as CaseContext;
    const label = `case "${caseInfo.name}"`;
    this.options.strayErrors?.take(); // what escaped before this case is logged already, and not this case's doing
    let outcome: Outcome = 'passed';
    let failure: CaseError | undefined;
    let skipReason: string | undefined;
    const record = (error: unknown, step: Step): void => {
      if (outcome !== 'passed') return;
      if (error instanceof CaseSkipped && step !== 'teardown') {
        outcome = 'skipped';
        skipReason = error.message;
        return;
      }
      const assertion = isAssertionError(error);
      if (assertion) evidence.checks.assertion(error as Error);
      outcome = assertion && (step === 'run' || plan.testCase.assertionsFailInAnyStep) ? 'failed' : 'error';
      failure = toCaseError(error, step);
    };
    try {
      if (plan.auxiliaries.length) await this.station.start(plan.auxiliaries);
      await runStep(plan.testCase.setup, ctx, plan.timeouts.setup, controller, `setup of ${label}`, this.options.signal);
    } catch (error) {
      record(error, 'setup');
    }
    if (outcome === 'passed') {
      try {
        await runStep(plan.testCase.run, ctx, plan.timeouts.run, controller, label, this.options.signal);
      } catch (error) {
        record(error, 'run');
      }
    }
    try {
      // Teardown runs whatever happened before, with a fresh signal: a timed-out run must still clean up.
      const teardownController = new AbortController();
      const teardownCtx = this.makeContext(suite, state, teardownController.signal, caseInfo, evidence) as CaseContext;
      await runStep(plan.testCase.teardown, teardownCtx, plan.timeouts.teardown, teardownController, `teardown of ${label}`);
    } catch (error) {
      record(error, 'teardown');
    }
    if (this.options.strayErrors) {
      // Node reports an unhandled rejection only after the microtasks drain: give it that turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const stray of this.options.strayErrors?.take() ?? []) {
      const error = new KisoError('KISO_ABORTED', `an error escaped the case (thrown in a callback or an un-awaited promise while it ran): ${describeError(stray)}`, { cause: stray });
      if (stray instanceof Error && stray.stack) error.stack = stray.stack;
      record(error, 'run');
    }
    // Checks and measurements are judged once the case is done: a failed one never stopped the others from being recorded.
    const { measurements, attachments, checks, prompts } = evidence.results();
    const checkVerdict = checks && evidence.checks.verdict();
    if (checkVerdict && outcome === 'passed') {
      outcome = 'failed';
      failure = { message: checkVerdict, type: 'CheckFailure', step: 'run' };
    }
    const verdict = measurementVerdict(measurements ?? []);
    if (verdict && outcome === 'passed') {
      outcome = verdict.outcome;
      failure = { message: verdict.message, type: 'MeasurementFailure', step: 'run' };
    }
    return { outcome, failure, measurements, attachments, checks, skipReason, prompts };
  }

  private makeContext(suite: SuiteInfo, state: Record<string, unknown>, signal: AbortSignal, caseInfo?: CaseInfo, evidence?: CaseEvidence): SuiteContext | CaseContext {
    const station = this.station;
    const baseLog = this.options.log;
    let log: Logger | undefined;
    return {
      suite,
      case: caseInfo,
      state,
      signal,
      dut: this.options.dut,
      aux: <T>(name: string) => station.auxiliary(name) as unknown as T,
      get log() {
        log ??= withCallerSite(baseLog.child(caseInfo ? { suite: suite.name, case: caseInfo.name } : { suite: suite.name }));
        return log;
      },
      get measurements() {
        return evidence?.measurements;
      },
      measure: evidence?.measure.bind(evidence),
      get check() {
        return evidence?.checks.api();
      },
      get step() {
        return evidence?.checks.stepApi(isAssertionError);
      },
      attach: evidence?.attach.bind(evidence),
      skip(reason?: string): never {
        throw new CaseSkipped(reason || 'skipped by the case');
      },
      prompt: (request: PromptRequest | string) => this.prompt(request, suite, caseInfo, signal, evidence),
    } as CaseContext;
  }

  /** ctx.prompt: asks the prompter, within the prompt's timeout and the step's signal; the answer (or why none) is recorded. */
  private async prompt(request: PromptRequest | string, suite: SuiteInfo, caseInfo: CaseInfo | undefined, stepSignal: AbortSignal, evidence: CaseEvidence | undefined): Promise<PromptAnswer> {
    const prompt = normalizePrompt(request);
    const entry: NonNullable<CaseResult['prompts']>[number] = { message: prompt.message, kind: prompt.kind, askedAt: Date.now(), ...(prompt.choices ? { choices: [...prompt.choices] } : {}) };
    evidence?.prompts.push(entry);
    const dut = this.options.dut;
    const origin = { suite: suite.name, case: caseInfo?.name, slot: dut?.slot as number | undefined, serial: dut?.serial_number as string | undefined };
    const signals = [stepSignal, ...(prompt.timeoutMs ? [AbortSignal.timeout(prompt.timeoutMs)] : [])];
    const signal = AbortSignal.any(signals);
    const log = this.options.log.child({ suite: suite.name, ...(caseInfo ? { case: caseInfo.name } : {}) });
    log.info({ prompt: prompt.message, kind: prompt.kind }, `operator prompt: ${prompt.message}`);
    try {
      const answer = await new Promise<PromptAnswer>((resolve, reject) => {
        const onAbort = (): void => {
          const timedOut = !stepSignal.aborted;
          reject(timedOut ? new KisoError('KISO_TIMEOUT', `no answer to prompt "${prompt.message}" within ${prompt.timeoutMs} ms`) : new KisoError('KISO_ABORTED', `prompt "${prompt.message}" was not answered: the step ended`));
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        (this.options.prompter ?? NO_OPERATOR).ask(prompt, origin, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
      entry.answer = answer;
      entry.answeredAfterMs = Date.now() - entry.askedAt;
      log.info({ prompt: prompt.message, answer }, `operator answered: ${String(answer)}`);
      return answer;
    } catch (error) {
      entry.error = describeError(error);
      throw error;
    }
  }

  private pseudoCase(suite: SuiteInfo, caseId: number, name: string, outcome: Outcome, startedAt: number, error?: CaseError, skipReason?: string, plan?: CasePlan): CaseResult {
    return {
      suiteId: suite.id,
      suiteName: suite.name,
      caseId,
      name,
      file: suite.file,
      outcome,
      startedAt,
      durationMs: Date.now() - startedAt,
      attempts: 0,
      error,
      skipReason,
      tags: (plan?.info.tags as Tags) ?? {},
      requirements: [...(plan?.info.requirements ?? [])],
      output: [],
      measurements: plan ? CaseEvidence.notRun(plan.measurements) : undefined,
    };
  }

  private async endCase(result: CaseResult, cases: CaseResult[]): Promise<void> {
    cases.push(result);
    if (this.options.signal?.aborted && !this.stopReason) this.stopReason = 'run interrupted';
    if (this.options.failfast && !this.stopReason && (result.outcome === 'failed' || result.outcome === 'error')) {
      this.stopReason = `not run: --failfast stopped the run after "${result.name}" ${result.outcome === 'failed' ? 'failed' : 'errored'}`;
    }
    await this.reporter.onCaseEnd(result);
  }
}

/** `-p FILE::SUITE::CASE`: the names match, or the case's own pattern names do (a Python test's class and method). */
export function matchesPattern(patterns: Pick<RunnerOptions, 'suitePattern' | 'casePattern'>, suiteName: string, testCase: Pick<TestCaseDefinition, 'name' | 'patternNames'>): boolean {
  const { suitePattern, casePattern } = patterns;
  const alias = testCase.patternNames;
  if (suitePattern && !suitePattern.test(suiteName) && !(alias && suitePattern.test(alias.suite))) return false;
  if (casePattern && !casePattern.test(testCase.name) && !(alias && casePattern.test(alias.case))) return false;
  return true;
}

interface CasePlan {
  testCase: TestCaseDefinition;
  info: CaseInfo;
  skipReason?: string;
  timeouts: Required<StepTimeouts>;
  retries: number;
  auxiliaries: string[];
  suite: SuiteInfo;
  /** The case's measurements with the limits file applied. */
  measurements: ResolvedDeclaration[];
}
