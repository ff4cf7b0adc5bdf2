import { KisoError } from '../core/errors.js';
import type { Logger, LogLevel } from '../core/logging.js';
import type { StationConfig } from '../config/types.js';
import type { Reporter } from '../results/reporters/reporter.js';
import type { RunRecordReporter } from '../results/reporters/run-record.js';
import type { CaseResult, OutcomeCounts, RunResult } from '../results/outcomes.js';
import type { Prompter } from '../runner/prompts.js';
import { runStation } from '../runner/run-station.js';
import type { StrayErrors } from '../runner/run.js';
import type { Slot } from '../slots/duts.js';
import type { Tile, TileStatus } from './events.js';
import type { UiHub } from './hub.js';

export interface ServeTarget {
  config: StationConfig;
  /** The fixture slots; undefined for a station with one unit (shown as slot 1). */
  slots?: Slot[];
}

export interface RunControllerOptions {
  target: ServeTarget;
  hub: UiHub;
  log: Logger;
  logLevel: LogLevel;
  prompter: Prompter;
  /** The run record reporter of one unit (the CLI's record options: store, metadata). */
  recordFor(config: StationConfig, serial: string | undefined): Promise<RunRecordReporter | undefined>;
  /** After each run (the fleet push of the outbox); its failure is logged, never the run's. */
  afterRun?(): Promise<void>;
  /** What escaped a suite of a station run in this process: charged to the running case (fixture slots have their own). */
  strayErrors?: StrayErrors;
}

const statusOf = (outcome: RunResult['outcome'] | undefined, counts?: OutcomeCounts): TileStatus =>
  outcome === undefined ? 'error' : outcome === 'passed' ? (counts && counts.passed === 0 ? 'empty' : 'passed') : outcome;

/** Feeds one slot's tile from the runner's reporter hooks: the runner knows nothing of HTTP. */
class TileReporter implements Reporter {
  private done = 0;
  private failed = 0;
  private total = 0;

  constructor(
    private readonly hub: UiHub,
    private readonly slot: number,
  ) {}

  onRunStart(info: { caseCount: number }): void {
    this.total = info.caseCount;
    const tile = this.hub.tile(this.slot);
    if (tile) tile.total = info.caseCount;
  }

  onCaseStart(info: { suiteName: string; name: string; suiteId: number; caseId: number }): void {
    this.hub.emit({ type: 'case-start', slot: this.slot, suite: info.suiteName, case: info.name, testId: `${info.suiteId}.${info.caseId}` });
  }

  onCaseEnd(result: CaseResult): void {
    this.done++;
    if (result.outcome === 'failed' || result.outcome === 'error') this.failed++;
    this.total = Math.max(this.total, this.done);
    this.hub.emit({
      type: 'case-end',
      slot: this.slot,
      testId: `${result.suiteId}.${result.caseId}`,
      name: result.name,
      outcome: result.outcome,
      ...(result.error ? { message: result.error.message } : {}),
      done: this.done,
      total: this.total,
      failed: this.failed,
      at: Date.now(),
    });
  }
}

/**
 * Starts and aborts runs for kiso serve: one at a time, every slot at once,
 * serials from the page. Abort is Ctrl-C's: the running step ends as ERROR,
 * the rest is skipped, every report is written.
 */
export class RunController {
  private running: AbortController | undefined;
  private current: Promise<void> | undefined;

  constructor(private readonly options: RunControllerOptions) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Starts a run with these serials (slot → serial); throws KISO_USAGE when one runs already or a serial is missing. */
  start(serials: Record<string, string | undefined>): void {
    if (this.running) throw new KisoError('KISO_USAGE', 'a run is already going: abort it or wait for its end');
    const { target } = this.options;
    const slots = (target.slots ?? [{ slot: 1, serial: '', present: true, values: {}, config: target.config }]).map((slot) => {
      const entered = serials[String(slot.slot)]?.trim();
      return entered ? { ...slot, serial: entered, values: { ...slot.values, serial_number: entered } } : slot;
    });
    const missing = slots.filter((slot) => slot.present && !slot.serial && !target.config.station.serialHook);
    if (target.slots && missing.length) throw new KisoError('KISO_USAGE', `slot ${missing.map((slot) => slot.slot).join(', ')}: enter a serial number`);
    const bySerial = new Map<string, number>();
    for (const slot of slots.filter((s) => s.present && s.serial)) {
      const other = bySerial.get(slot.serial);
      if (other !== undefined) throw new KisoError('KISO_USAGE', `serial number ${slot.serial} is entered for slot ${other} and slot ${slot.slot}: every device needs its own`);
      bySerial.set(slot.serial, slot.slot);
    }
    const tiles: Tile[] = slots.map((slot) => ({ slot: slot.slot, serial: slot.present ? slot.serial : '', present: slot.present, status: slot.present ? 'running' : 'empty', done: 0, total: 0, failed: 0, ...(slot.present ? { startedAt: Date.now() } : {}), logs: [] }));
    this.options.hub.emit({ type: 'run-start', tiles, at: Date.now() });
    const controller = new AbortController();
    this.running = controller;
    this.current = this.run(slots, controller.signal)
      .catch((error: unknown) => this.options.log.error({ err: error }, `the run failed: ${(error as Error).message}`))
      .finally(() => {
        this.running = undefined;
      });
  }

  abort(): boolean {
    if (!this.running) return false;
    this.options.log.warn('run aborted from the page: stopping after the running step; reports will still be written');
    this.running.abort();
    return true;
  }

  /** The running run's end (for shutdown). */
  async settled(): Promise<void> {
    await this.current;
  }

  private async run(slots: Slot[], signal: AbortSignal): Promise<void> {
    const { target, hub, log } = this.options;
    const startedAt = Date.now();
    const totals = { passed: 0, failed: 0, error: 0, skipped: 0 };
    const finish = (slot: number, result: RunResult | undefined, record: RunRecordReporter | undefined): void => {
      if (result) for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += result.counts[key];
      hub.emit({ type: 'slot-end', slot, status: statusOf(result?.outcome, result?.counts), recordId: record?.recordFile ? record.id : undefined, at: Date.now() });
    };
    const records = new Map<number, RunRecordReporter | undefined>();
    for (const slot of slots) if (slot.present) records.set(slot.slot, await this.options.recordFor(slot.config!, slot.serial || undefined));
    if (target.slots) {
      const { runSlots } = await import('../slots/run-slots.js');
      const outcomes = await runSlots({
        configFile: target.config.file,
        slots,
        dist: 'each',
        jobs: slots.length,
        log,
        logLevel: this.options.logLevel,
        failfast: false,
        tagFilters: {},
        signal,
        prompter: this.options.prompter,
        reportersFor: (slot) => [new TileReporter(hub, slot.slot), ...[records.get(slot.slot)].filter((r): r is RunRecordReporter => r !== undefined)],
      });
      for (const outcome of outcomes) if (outcome.slot.present) finish(outcome.slot.slot, outcome.result, records.get(outcome.slot.slot));
    } else {
      const record = records.get(1);
      let result: RunResult | undefined;
      try {
        result = await runStation(target.config, { log, reporters: [new TileReporter(hub, 1), ...(record ? [record] : [])], signal, prompter: this.options.prompter, strayErrors: this.options.strayErrors });
      } finally {
        finish(1, result, record);
      }
    }
    const outcome = signal.aborted ? 'aborted' : totals.error ? 'error' : totals.failed ? 'failed' : 'passed';
    hub.emit({ type: 'run-end', summary: { outcome, ...totals, durationMs: Date.now() - startedAt } });
    await this.options.afterRun?.().catch((error: unknown) => log.warn({ err: error }, `after the run: ${(error as Error).message}`));
  }
}
