import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KisoError } from '../core/errors.js';
import { forkChild, sendToChild } from '../processing/child-process.js';
import { relayLogLine } from '../processing/remote-auxiliary.js';
import type { Logger, LogLevel } from '../core/logging.js';
import { ReporterMux, type Reporter, type ReporterFailure } from '../results/reporters/reporter.js';
import { countOutcomes, type CaseResult, type RunOutcome, type RunResult, type SuiteResult } from '../results/outcomes.js';
import type { LoadedSuite } from '../runner/run.js';
import { NO_OPERATOR, type Prompter } from '../runner/prompts.js';
import { serializeError } from '../processing/protocol.js';
import { toPortable } from '../config/portable.js';
import type { Slot } from './duts.js';
import { caseIdsOf, loadPlan, planUnits } from './plan.js';
import type { Distribution, SlotEvent, SlotJob, SlotRequest, WorkUnit } from './protocol.js';

export interface SlotRunOptions {
  configFile: string;
  slots: readonly Slot[];
  dist: Distribution;
  /** Most slots running at once. */
  jobs: number;
  log: Logger;
  logLevel: LogLevel;
  failfast: boolean;
  tagFilters: Record<string, string[]>;
  filePattern?: string;
  suitePattern?: RegExp;
  casePattern?: RegExp;
  /** kiso's own options, for "did you mean" when an unknown option is no tag either. */
  knownOptions?: readonly string[];
  /** A slot's reporter threw (a report could not be written). */
  onReporterFailure?: (failure: ReporterFailure) => void;
  signal: AbortSignal;
  /** The reporters of one slot (console with its prefix, its JUnit file, its run record, ...). */
  reportersFor(slot: Slot): Reporter[];
  /** Who answers the slots' ctx.prompt (the terminal, kiso serve); none: a prompt is an ERROR. */
  prompter?: Prompter;
}

export type SlotStatus = RunOutcome | 'empty' | 'not run';

export interface SlotOutcome {
  slot: Slot;
  status: SlotStatus;
  result?: RunResult;
  /** Why the worker died, when it did. */
  crash?: string;
}

function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { file: here.replace(/run-slots\.ts$/, 'worker-main.ts'), execArgv: ['--import', 'tsx'] };
  const file = here.replace(/run-slots\.js$/, 'worker-main.js');
  if (!existsSync(file)) throw new Error(`slot worker entry ${file} is missing: rebuild kiso`);
  return { file, execArgv: [] };
}

const key = (file: string, suiteId: number, caseId: number): string => `${suiteId}|${caseId}|${file}`;

/** One slot's run as the main process follows it. */
class SlotRun {
  readonly mux: ReporterMux;
  readonly suites: SuiteResult[] = [];
  readonly reported = new Set<string>();
  startedAt = Date.now();
  running?: { file: string; suiteId: number; caseId: number; name: string; suiteName: string };
  unit?: WorkUnit;
  crash?: string;
  child?: ChildProcess;

  constructor(
    readonly slot: Slot,
    reporters: Reporter[],
    log: Logger,
    onReporterFailure?: (failure: ReporterFailure) => void,
  ) {
    this.mux = new ReporterMux(reporters, log, onReporterFailure);
  }

  /** Error entries for cases a dead worker did not report, told to the slot's reporters like real ones. */
  async fill(cases: Array<{ suite: LoadedSuite; caseId: number; name: string }>, reason: string): Promise<void> {
    const bySuite = new Map<string, CaseResult[]>();
    for (const { suite, caseId, name } of cases) {
      if (this.reported.has(key(suite.file, suite.suiteId, caseId))) continue;
      const wasRunning = this.running && this.running.file === suite.file && this.running.caseId === caseId;
      const suiteName = suite.definition?.name ?? path.basename(suite.file).replace(/\.[cm]?[jt]sx?$/, '');
      const result: CaseResult = {
        suiteId: suite.suiteId,
        suiteName,
        caseId,
        name,
        file: suite.file,
        outcome: 'error',
        startedAt: Date.now(),
        durationMs: 0,
        attempts: wasRunning ? 1 : 0,
        error: { message: wasRunning ? `${reason} while this case ran` : `not run: ${reason}`, type: 'KisoError', code: 'KISO_AUX_CRASHED', step: 'run' },
        tags: {},
        requirements: [],
        output: [],
      };
      this.reported.add(key(suite.file, suite.suiteId, caseId));
      const list = bySuite.get(suite.file) ?? [];
      list.push(result);
      bySuite.set(suite.file, list);
    }
    for (const [file, cases] of bySuite) {
      const first = cases[0]!;
      for (const result of cases) await this.mux.onCaseEnd(result);
      const suite: SuiteResult = { id: first.suiteId, name: first.suiteName, file, startedAt: Date.now(), durationMs: 0, cases };
      this.suites.push(suite);
      await this.mux.onSuiteEnd(suite);
    }
  }

  result(aborted: boolean): RunResult {
    const counts = countOutcomes(this.suites.flatMap((suite) => suite.cases));
    const outcome: RunOutcome = aborted ? 'aborted' : counts.error > 0 || this.crash ? 'error' : counts.failed > 0 ? 'failed' : 'passed';
    return { configFile: this.slot.config!.file, startedAt: this.startedAt, durationMs: Date.now() - this.startedAt, suites: this.suites, outcome, counts };
  }
}

/**
 * Runs a station's fixture slots at once, each in its own worker process
 * (a native fault in one device's driver cannot take the others down).
 * `each`: every slot runs every selected case on its own device. `load`:
 * identical devices share the case list, an idle slot takes the next unit.
 * A slot whose worker dies fails that slot's cases only (with `load`, the
 * unit it was running is ERROR and the rest goes to the other slots); every
 * slot's reports are still written.
 */
export async function runSlots(options: SlotRunOptions): Promise<SlotOutcome[]> {
  const present = options.slots.filter((slot) => slot.present);
  const outcomes = new Map<number, SlotOutcome>();
  for (const slot of options.slots) if (!slot.present) outcomes.set(slot.slot, { slot, status: 'empty' });
  if (present.length === 0) return options.slots.map((slot) => outcomes.get(slot.slot)!);

  const entry = workerEntry();
  const spawnWorker = (): ChildProcess => {
    // A worker's failure is told by its 'exit' (its slot's cases ERROR).
    const child: ChildProcess = forkChild(entry.file, entry.execArgv, (error) => options.log.debug({ err: error, pid: child.pid }, `slot worker ${child.pid}: ${error.message}`));
    return child;
  };
  // Workers boot (node, kiso, TypeScript support) while this process loads the plan: on a
  // small machine that start-up is most of what parallel slots cost over one device.
  const spares = Array.from({ length: Math.max(1, Math.min(options.jobs, present.length)) }, spawnWorker);
  let plan: Awaited<ReturnType<typeof loadPlan>>;
  try {
    plan = await loadPlan(present[0]!.config!, options);
  } catch (error) {
    for (const spare of spares) spare.kill();
    throw error;
  }
  const allCases = plan.flatMap((suite) => caseIdsOf(suite).map((caseId, index) => ({ suite, caseId, name: suite.definition?.cases[index]?.name ?? 'load suite' })));
  const units = options.dist === 'load' ? planUnits(plan) : [];
  const waiting = [...present];
  const runs: SlotRun[] = [];

  const startSlot = (slot: Slot): Promise<void> =>
    new Promise((resolve) => {
      const run = new SlotRun(slot, options.reportersFor(slot), options.log, options.onReporterFailure);
      runs.push(run);
      const slotLog = options.log.child({ slot: slot.slot, serial: slot.serial });
      const child = spares.pop() ?? spawnWorker();
      run.child = child;
      let finished = false;
      let queue: Promise<void> = Promise.resolve();
      const send = (request: SlotRequest): void => {
        // The worker may be ending (a prompt withdrawn as it exits): a message it can no longer take is dropped.
        sendToChild(child, request, (error) => slotLog.debug({ err: error, request: request.type }, `slot ${slot.slot}: the worker is gone, ${request.type} not delivered`));
      };
      const prompts = new Map<number, AbortController>();
      const onAbort = (): void => send({ type: 'stop' });
      options.signal.addEventListener('abort', onAbort, { once: true });
      const handle = async (event: SlotEvent): Promise<void> => {
        switch (event.type) {
          case 'run-start':
            run.startedAt = event.info.startedAt;
            await run.mux.onRunStart({ ...event.info, caseCount: options.dist === 'each' ? event.info.caseCount : 0 });
            return;
          case 'suite-start':
            return run.mux.onSuiteStart(event.info);
          case 'case-start':
            run.running = { file: event.info.file, suiteId: event.info.suiteId, caseId: event.info.caseId, name: event.info.name, suiteName: event.info.suiteName };
            return run.mux.onCaseStart(event.info);
          case 'case-end':
            run.reported.add(key(event.result.file, event.result.suiteId, event.result.caseId));
            run.running = undefined;
            return run.mux.onCaseEnd(event.result);
          case 'suite-end':
            run.suites.push(event.result);
            return run.mux.onSuiteEnd(event.result);
          case 'run-end':
            return; // the main process writes the slot's final result itself, crash or not
          case 'next': {
            const unit = options.signal.aborted ? undefined : units.shift();
            run.unit = unit;
            send({ type: 'unit', unit: unit ?? null });
            return;
          }
          case 'prompt': {
            // Not awaited: the slot's other events (its log lines) keep flowing while the operator thinks.
            const withdrawn = new AbortController();
            prompts.set(event.id, withdrawn);
            const signal = AbortSignal.any([withdrawn.signal, options.signal]);
            (options.prompter ?? NO_OPERATOR).ask(event.request, event.origin, signal).then(
              (answer) => send({ type: 'prompt-answer', id: event.id, answer }),
              (error: unknown) => send({ type: 'prompt-answer', id: event.id, error: serializeError(error) }),
            ).finally(() => prompts.delete(event.id));
            return;
          }
          case 'prompt-cancel':
            prompts.get(event.id)?.abort();
            return;
          case 'failed':
            run.crash = `the worker of slot ${slot.slot} (${slot.serial}) failed: ${event.error.message}`;
            slotLog.error({ err: event.error }, run.crash);
            return;
          case 'log':
            relayLogLine(options.log, event.line, {}); // the worker's lines carry slot and serial already
            return;
          case 'done':
            finished = true;
            return;
        }
      };
      // Events are handled in order, one at a time, even when reporters await.
      child.on('message', (event: SlotEvent) => {
        queue = queue.then(() => handle(event)).catch((error: unknown) => slotLog.error({ err: error }, 'slot event failed'));
      });
      child.on('exit', (code, signal) => {
        queue = queue.then(async () => {
          options.signal.removeEventListener('abort', onAbort);
          for (const withdrawn of prompts.values()) withdrawn.abort(); // a dead worker's prompts have no one to answer to
          if (!finished && !run.crash) {
            run.crash = `the worker of slot ${slot.slot} (${slot.serial}, pid ${child.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`;
            slotLog.error({ code, signal }, run.crash);
          }
          if (run.crash) {
            if (options.dist === 'each') await run.fill(allCases, run.crash);
            else if (run.unit) {
              const unit = run.unit;
              await run.fill(allCases.filter(({ suite, caseId }) => suite.file === unit.file && suite.suiteId === unit.suiteId && unit.caseIds.includes(caseId)), run.crash);
            }
          }
          const result = run.result(options.signal.aborted);
          await run.mux.onRunEnd(result);
          outcomes.set(slot.slot, { slot, status: result.outcome, result, crash: run.crash });
          resolve();
        });
      });
      const job: SlotJob = {
        config: toPortable(slot.config!),
        slot: slot.slot,
        serial: slot.serial,
        values: slot.values,
        dist: options.dist,
        logLevel: options.logLevel,
        failfast: options.failfast,
        tagFilters: options.tagFilters,
        filePattern: options.filePattern,
        suitePattern: options.suitePattern?.source,
        casePattern: options.casePattern?.source,
      };
      send({ type: 'start', job });
    });

  // A pool of `jobs` workers: when one slot is done, the next waiting slot starts
  // (with --dist load, only while units are left).
  const lanes = Array.from({ length: Math.max(1, Math.min(options.jobs, present.length)) }, async () => {
    for (let slot = waiting.shift(); slot; slot = waiting.shift()) {
      if (options.signal.aborted || (options.dist === 'load' && units.length === 0 && runs.length > 0)) {
        outcomes.set(slot.slot, { slot, status: 'not run' });
        continue;
      }
      await startSlot(slot);
    }
  });
  await Promise.all(lanes);
  for (const spare of spares) spare.kill(); // not needed after all (interrupted, or no work left)
  if (units.length > 0) {
    // Every worker died before the list was done: what is left is nobody's, say so.
    options.log.error({ units: units.length }, `${units.length} work unit(s) were not run: every slot's worker stopped`);
  }
  return options.slots.map((slot) => outcomes.get(slot.slot) ?? { slot, status: 'not run' });
}

export function assertDistribution(value: string): Distribution {
  if (value !== 'each' && value !== 'load') throw new KisoError('KISO_USAGE', `--dist is each or load, got "${value}"`);
  return value;
}
