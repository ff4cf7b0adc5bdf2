import path from 'node:path';
import type { SuiteEntry } from '../../config/types.js';
import { KisoError, describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logging.js';
import { markRecorded } from '../../results/checks.js';
import type { LoadedSuite } from '../run.js';
import { defineSuite, type CaseContext, type SuiteContext, type TestCaseDefinition } from '../suite-api.js';
import { callAuxiliary } from './aux-calls.js';
import type { PromptKind } from '../prompts.js';
import type { CommandBody, Discovered, PythonCase, PythonClassRef, PythonError, PythonEvent, PythonSuiteClass, StepDone } from './protocol.js';
import { PythonProcess } from './python-process.js';
import { fromPython } from './values.js';

/** The station's `python:` settings. */
export interface PythonSettings {
  executable: string;
  /** Extra sys.path folders. */
  path: string[];
}

/**
 * pykiso has no step timeouts for BasicTest; kiso's 60 s would cut long
 * Python tests short. A step without define_test_parameters timeouts gets this.
 */
export const PYTHON_DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;
/** After a timeout's KeyboardInterrupt, how long Python has to finish the step before it is killed. */
const INTERRUPT_GRACE_MS = 5000;

const PY_LEVELS: Array<[number, 'debug' | 'info' | 'warn' | 'error' | 'fatal']> = [[50, 'fatal'], [40, 'error'], [30, 'warn'], [20, 'info'], [0, 'debug']];
const levelOf = (pythonLevel: number) => PY_LEVELS.find(([at]) => pythonLevel >= at)![1];

export interface PythonSuitesOptions {
  settings: PythonSettings;
  /** Auxiliary name → kiso type name, for `pykiso.auxiliaries` and the call adapters. */
  auxiliaries: Record<string, string>;
  log: Logger;
  /** The level of kiso's log, as Python's root logger level. */
  logLevel: number;
}

interface RunningStep {
  ctx: SuiteContext | CaseContext;
  /** Aborted when the step ends: what the step's calls still wait for (a receive) stops. */
  calls: AbortController;
  failedRows: number;
}

/**
 * The pykiso Python suites of one station run: one Python process for them
 * all, started at the first Python suite. Each suite folder becomes one kiso
 * suite (pykiso's rule: a folder and its test_suite_id are one suite), its
 * BasicTestSuiteSetup/Teardown the suite's setup and teardown, each test
 * method a case. A process that dies fails the steps that needed it; the next
 * suite gets a new one.
 */
export class PythonSuites {
  private process: PythonProcess | undefined;
  private step: RunningStep | undefined;
  /** The suite the current process serves since it last died (a crash ends only that suite). */
  private processSuite: string | undefined;

  constructor(private readonly options: PythonSuitesOptions) {}

  /**
   * Imports the folder's files in Python and makes them one suite; an import
   * error is the suite's load error. `claimed`: the suite ids other entries
   * of the station give this same folder (their classes are theirs).
   */
  async load(entry: SuiteEntry, files: string[], claimed: number[] = []): Promise<LoadedSuite> {
    const file = files.length === 1 ? files[0]! : entry.suiteDir;
    let found: Discovered;
    try {
      found = (await this.ensure(entry.suiteDir).request({ type: 'discover', suite_id: entry.suiteId, suite_dir: entry.suiteDir, files, claimed })) as Discovered;
    } catch (error) {
      return { file, suiteId: entry.suiteId, loadError: error as Error };
    }
    if (found.errors.length) {
      const message = found.errors.map((e) => `${e.file}${e.line ? `:${e.line}` : ''}: ${e.type}: ${e.message}`).join('; ');
      const loadError = new KisoError('KISO_SUITE_LOAD', `cannot load Python suite ${message}`);
      loadError.stack = found.errors.map((e) => e.traceback ?? '').join('\n\n');
      return { file, suiteId: entry.suiteId, loadError };
    }
    for (const ignored of found.ignored) this.options.log.debug({ suite: entry.suiteDir }, `${ignored.class} has suite_id ${ignored.suite_id}, which another entry of the station gives this folder: it runs there`);
    // A setup or teardown of this suite's id (or none) is the kiso suite's; one of another id is, as in
    // pykiso, a test of its own at the start (setups) or the end (teardowns), whose failure skips the cases of its id.
    const own = (c: PythonSuiteClass): boolean => !c.suite_id || c.suite_id === entry.suiteId;
    const bySuite = (a: PythonSuiteClass, b: PythonSuiteClass): number => a.suite_id - b.suite_id;
    const setups = found.setups.filter(own);
    const teardowns = found.teardowns.filter(own);
    const foreignSetups = found.setups.filter((c) => !own(c)).sort(bySuite);
    const foreignTeardowns = found.teardowns.filter((c) => !own(c)).sort(bySuite);
    if (!found.cases.length && !foreignSetups.length && !foreignTeardowns.length) {
      const loadError = new KisoError('KISO_SUITE_INVALID', `${path.relative(process.cwd(), entry.suiteDir) || '.'}: no pykiso test case with suite_id ${entry.suiteId} (decorate a pykiso.BasicTest subclass with @pykiso.define_test_parameters(suite_id=${entry.suiteId}, case_id=...))`);
      return { file, suiteId: entry.suiteId, loadError };
    }
    const cases = [...found.cases].sort((a, b) => (a.case_id || Infinity) - (b.case_id || Infinity));
    const failedSuiteSetups = new Set<number>();
    const setupTimeout = suiteStepsTimeout(setups, 'setup');
    const teardownTimeout = suiteStepsTimeout(teardowns, 'teardown');
    const definition = defineSuite({
      name: path.basename(entry.suiteDir),
      ...(setupTimeout || teardownTimeout ? { timeout: { ...(setupTimeout ? { setup: setupTimeout } : {}), ...(teardownTimeout ? { teardown: teardownTimeout } : {}) } } : {}),
      setup: setups.length ? (ctx) => this.suiteSteps(ctx, entry, setups, 'setup') : undefined,
      teardown: teardowns.length ? (ctx) => this.suiteSteps(ctx, entry, teardowns, 'teardown') : undefined,
      cases: [
        ...foreignSetups.map((ref) => this.suiteClassCase(entry, ref, 'setup', failedSuiteSetups)),
        ...cases.map((testCase, index) => this.caseDefinition(entry, testCase, index, failedSuiteSetups)),
        ...foreignTeardowns.map((ref) => this.suiteClassCase(entry, ref, 'teardown', failedSuiteSetups)),
      ],
    });
    return { file, suiteId: entry.suiteId, definition };
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
  }

  private caseDefinition(entry: SuiteEntry, testCase: PythonCase, index: number, failedSuiteSetups: ReadonlySet<number>): TestCaseDefinition {
    const command = (step: 'setup' | 'run' | 'teardown'): Extract<CommandBody, { type: 'case-step' }> => ({
      type: 'case-step',
      step,
      suite_dir: entry.suiteDir,
      file: testCase.file,
      class: testCase.class,
      method: testCase.method,
    });
    const ms = (step: 'setup' | 'run' | 'teardown'): number => stepTimeoutMs(testCase.timeouts[step], testCase.remote, testCase.auxiliaries.length);
    return {
      id: testCase.case_id || index + 1,
      name: `${testCase.name}.${testCase.method}`,
      auxiliaries: testCase.auxiliaries,
      tags: testCase.tags,
      requirements: testCase.requirements,
      skip: testCase.skip ?? undefined,
      timeout: { setup: ms('setup'), run: ms('run'), teardown: ms('teardown') },
      patternNames: { suite: testCase.name, case: testCase.method },
      assertionsFailInAnyStep: true,
      setup: (ctx) => {
        // pykiso's BasicTestSuite: a failed suite setup of suite id N skips the folder's cases of suite id N.
        if (testCase.suite_id && failedSuiteSetups.has(testCase.suite_id)) ctx.skip(`Suite Setup failed for test suite ${testCase.suite_id}`);
        return this.runStep(ctx, entry.suiteDir, command('setup'));
      },
      run: (ctx) => this.runStep(ctx, entry.suiteDir, command('run')),
      teardown: (ctx) => this.runStep(ctx, entry.suiteDir, command('teardown')),
    };
  }

  /** A suite setup or teardown class of another suite id: a case of its own (case id 0), as pykiso reports it. */
  private suiteClassCase(entry: SuiteEntry, ref: PythonSuiteClass, step: 'setup' | 'teardown', failedSuiteSetups: Set<number>): TestCaseDefinition {
    const method = step === 'setup' ? 'test_suite_setUp' : 'test_suite_tearDown';
    return {
      id: 0,
      name: `${ref.name}.${method}`,
      auxiliaries: ref.auxiliaries,
      timeout: { run: stepTimeoutMs(ref.timeouts[step], ref.remote, ref.auxiliaries.length) },
      patternNames: { suite: ref.name, case: method },
      assertionsFailInAnyStep: true,
      run: async (ctx) => {
        if (step === 'teardown' && failedSuiteSetups.has(ref.suite_id)) ctx.skip(`Suite Setup failed for test suite ${ref.suite_id}`);
        try {
          await this.runStep(ctx, entry.suiteDir, { type: 'suite-step', step, suite_dir: entry.suiteDir, file: ref.file, class: ref.class });
        } catch (error) {
          if (step === 'setup') failedSuiteSetups.add(ref.suite_id);
          throw error;
        }
      },
    };
  }

  private async suiteSteps(ctx: SuiteContext, entry: SuiteEntry, classes: PythonClassRef[], step: 'setup' | 'teardown'): Promise<void> {
    for (const ref of classes) await this.runStep(ctx, entry.suiteDir, { type: 'suite-step', step, suite_dir: entry.suiteDir, file: ref.file, class: ref.class });
  }

  /** Runs one step in Python and turns its outcome into kiso's: an assert is a failure, any other exception an error, skipTest a skip. */
  private async runStep(ctx: SuiteContext | CaseContext, suiteDir: string, command: Extract<CommandBody, { type: 'suite-step' | 'case-step' }>): Promise<void> {
    const python = this.ensure(suiteDir);
    const step: RunningStep = { ctx, calls: new AbortController(), failedRows: 0 };
    this.step = step;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      python.interrupt();
      killTimer = setTimeout(() => {
        this.options.log.warn({ pid: python.pid }, `the Python process did not stop its step ${INTERRUPT_GRACE_MS} ms after the interrupt: killed`);
        python.kill();
      }, INTERRUPT_GRACE_MS);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let done: StepDone;
    try {
      done = (await python.request(command)) as StepDone;
    } finally {
      clearTimeout(killTimer);
      ctx.signal.removeEventListener('abort', onAbort);
      step.calls.abort();
      if (this.step === step) this.step = undefined;
    }
    if (done.outcome === 'passed') return;
    if (done.outcome === 'skipped') {
      if ('skip' in ctx) ctx.skip(done.reason);
      throw new KisoError('KISO_SUITE_INVALID', `skipTest in a suite ${command.step}: ${done.reason}`);
    }
    const error = pythonError(done.error, done.outcome === 'failed');
    if (done.outcome === 'failed' && 'check' in ctx && ctx.check) {
      // An assert* of pykiso's API sent its own row; a bare `assert` or self.fail() did not: add it here, with its line.
      if (step.failedRows === 0) ctx.check.record({ kind: 'assertion', description: done.error.message.split('\n')[0]!, passed: false, operator: 'assert', location: done.error.file ? `${done.error.file}:${done.error.line}` : undefined });
      markRecorded(error);
    }
    throw error;
  }

  private ensure(suiteDir: string): PythonProcess {
    if (this.process && this.process.exitReason && this.processSuite !== suiteDir) this.process = undefined;
    this.processSuite = suiteDir;
    this.process ??= new PythonProcess({
      executable: this.options.settings.executable,
      path: this.options.settings.path,
      auxiliaries: this.options.auxiliaries,
      logLevel: this.options.logLevel,
      log: this.options.log.child({ python: true }),
      onEvent: (event) => this.onEvent(event),
    });
    return this.process;
  }

  private onEvent(event: Exclude<PythonEvent, { type: 'ready' | 'discovered' | 'step-done' }>): void {
    const step = this.step;
    const log = step?.ctx.log ?? this.options.log;
    switch (event.type) {
      case 'log':
        log[levelOf(event.level)]({ name: event.logger, caller: `${event.file}:${event.line}` }, event.message); // name: the run record's logger_name
        return;
      case 'output':
        log[event.stream === 'stderr' ? 'warn' : 'info']({ python: event.stream }, event.text);
        return;
      case 'check': {
        const ctx = step?.ctx as CaseContext | undefined;
        if (!event.passed && step) step.failedRows++;
        if (!ctx?.check) {
          log[event.passed ? 'info' : 'warn'](`${event.operator} ${event.passed ? 'passed' : 'failed'}: ${event.description}`);
          return;
        }
        ctx.check.record({
          kind: 'assertion', // Python judged it: a failed assert raised, or a sub-test fails the test at its end
          description: event.description,
          passed: event.passed,
          operator: event.operator,
          expected: event.expected ?? undefined,
          actual: event.actual ?? undefined,
          location: `${event.file}:${event.line}`,
          step: event.table,
        });
        return;
      }
      case 'call':
        void this.answer(event);
        return;
    }
  }

  /** kiso's own services to Python suites: pykiso.prompt → ctx.prompt. */
  private async kisoCall(step: RunningStep, method: string, kwargs: Record<string, unknown>): Promise<unknown> {
    if (method !== 'prompt') throw new KisoError('KISO_AUX_COMMAND', `kiso offers Python no call "${method}"`);
    const timeout = kwargs.timeout_in_s;
    return step.ctx.prompt({
      message: String(kwargs.message ?? ''),
      kind: (kwargs.kind as PromptKind | undefined) ?? 'confirm',
      choices: (kwargs.choices as string[] | null) ?? undefined,
      timeoutMs: typeof timeout === 'number' ? timeout * 1000 : undefined,
    });
  }

  private async answer(call: Extract<PythonEvent, { type: 'call' }>): Promise<void> {
    const python = this.process;
    const step = this.step;
    if (!python) return;
    try {
      if (!step) throw new KisoError('KISO_AUX_NOT_IN_CASE', `${call.aux}.${call.method}() was called outside a test step (at import time?): call auxiliaries in setUp, test methods or tearDown`);
      if (call.aux === KISO_CALLS) return python.reply(call.id, { ok: true, value: await this.kisoCall(step, call.method, fromPython(call.kwargs) as Record<string, unknown>) });
      const typeName = this.options.auxiliaries[call.aux];
      if (!typeName) throw new KisoError('KISO_AUX_NOT_IN_CASE', `the station has no auxiliary named "${call.aux}"`);
      const aux = step.ctx.aux<Record<string, unknown>>(call.aux);
      const value = await callAuxiliary(aux, typeName, call.method, fromPython(call.args) as unknown[], fromPython(call.kwargs) as Record<string, unknown>, step.calls.signal);
      python.reply(call.id, { ok: true, value });
    } catch (error) {
      const code = (error as { code?: string }).code;
      python.reply(call.id, { ok: false, error: `${code ? `${code}: ` : ''}${describeError(error)}` });
    }
  }
}

/** The pseudo-auxiliary of kiso's own calls from Python (pykiso.prompt). */
const KISO_CALLS = '__kiso__';

/**
 * The most a remote step (RemoteTest, RemoteTestSuiteSetup/Teardown) takes
 * besides its report wait, per DUT auxiliary: the command's ACK (5 s, sent
 * twice), then two ABORTs (10 s each) with a restart and its PING after
 * each; kiso's step timeout leaves it that and a margin, so pykiso's own
 * waits decide the outcome.
 */
export const REMOTE_STEP_OVERHEAD_MS = (2 * 5 + 2 * (10 + 2) + 10) * 1000;
const REMOTE_DEFAULT_RESPONSE_S = 10;

function stepTimeoutMs(seconds: number | undefined, remote: boolean, auxiliaryCount: number): number {
  if (!remote) return seconds ? seconds * 1000 : PYTHON_DEFAULT_TIMEOUT_MS;
  return ((seconds || REMOTE_DEFAULT_RESPONSE_S) * 1000 + REMOTE_STEP_OVERHEAD_MS) * Math.max(1, auxiliaryCount);
}

/** The kiso suite setup (teardown) runs these classes one after another: with a remote one, their bounds added up. */
function suiteStepsTimeout(classes: readonly PythonSuiteClass[], step: 'setup' | 'teardown'): number | undefined {
  if (!classes.some((c) => c.remote)) return undefined;
  return classes.reduce((sum, c) => sum + stepTimeoutMs(c.timeouts[step], c.remote, c.auxiliaries.length), 0);
}

/** A Python exception as the error kiso reports: its message with the suite line, its traceback as the stack. */
function pythonError(error: PythonError, failed: boolean): Error {
  const where = error.file ? ` (${path.basename(error.file)}:${error.line})` : '';
  const out = new Error(`${error.message}${where}`);
  out.name = failed ? 'AssertionError' : error.type;
  out.stack = error.traceback ?? `${error.type}: ${error.message}`;
  return out;
}
