import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../../core/errors.js';
import type { Logger } from '../../core/logging.js';
import type { Attachment } from '../attachments.js';
import { RunRecordBuilder, type RunMetadata } from '../record/builder.js';
import type { renderHtml } from '../record/html.js';
import type { renderStepReport } from '../record/step-report.js';
import type { RunRecord } from '../record/types.js';
import type { CaseResult, RunResult } from '../outcomes.js';
import type { Reporter, RunStartInfo } from './reporter.js';

/** Where records go: the run store implements it (results sit below the store). */
export interface RecordSink {
  writeRecord(record: RunRecord, durable?: boolean): string;
  writeAttachment(runId: string, relativePath: string, data: Uint8Array): string;
  commit(record: RunRecord): string;
}

/** A running record is rewritten at most this often, and after every suite: enough for a killed run to leave a trace. */
const PARTIAL_WRITE_INTERVAL_MS = 1000;

/** Records still open; one 'exit' listener for all of them (a fixture with many slots has one record each). */
const open = new Set<RunRecordReporter>();
let exitHookInstalled = false;

function closeAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const reporter of [...open]) {
      try {
        reporter.close('kiso exited before the run ended; the phases that ran are recorded');
      } catch (error) {
        process.stderr.write(`kiso: could not write the run record ${reporter.id} on exit: ${describeError(error)}\n`);
      }
    }
  });
}

/** What writes --html and --step-report: loaded only when a run asks for them (RunRecordReporter.open). */
export interface ReportRenderers {
  html?: { render: typeof renderHtml; embedLimit: number };
  stepReport?: typeof renderStepReport;
}

export interface RunRecordReporterOptions {
  meta: RunMetadata;
  /** Where records go; none with --no-record. */
  store?: RecordSink;
  /** `--html FILE`. */
  htmlFile?: string;
  /** `--step-report FILE`. */
  stepReportFile?: string;
  /** The run's interrupt: an early exit after it is ABORTED, any other early exit is ERROR. */
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * Writes the run record to the store, the HTML report and the step report. Nothing is lost on
 * the way out: attachments are stored as each case ends, the record is
 * rewritten as phases end, and a process exit before the run's end (a second
 * Ctrl-C, a crash) still writes the record of what ran, synchronously, from
 * the 'exit' event.
 */
export class RunRecordReporter implements Reporter {
  readonly builder: RunRecordBuilder;
  /** Where the committed record is (the store's database), once the run is over. */
  recordFile: string | undefined;
  record: RunRecord | undefined;
  private finished = false;
  private lastPartialWrite = 0;
  /** Attachment bytes by stored path, for the HTML report. */
  private readonly attachments = new Map<string, Uint8Array>();
  /** Where each attachment was stored (absolute), by its record path. */
  private readonly storedFiles = new Map<string, string>();

  /** A reporter with the renderers its report files need, imported here: a run without them loads no HTML code. */
  static async open(options: RunRecordReporterOptions): Promise<RunRecordReporter> {
    const renderers: ReportRenderers = {};
    if (options.htmlFile) {
      const { EMBED_LIMIT, renderHtml } = await import('../record/html.js');
      renderers.html = { render: renderHtml, embedLimit: EMBED_LIMIT };
    }
    if (options.stepReportFile) renderers.stepReport = (await import('../record/step-report.js')).renderStepReport;
    return new RunRecordReporter(options, renderers);
  }

  private constructor(
    private readonly options: RunRecordReporterOptions,
    private readonly renderers: ReportRenderers,
  ) {
    this.builder = new RunRecordBuilder(options.meta);
  }

  get id(): string {
    return this.builder.id;
  }

  onRunStart(info: RunStartInfo): void {
    this.builder.start(info.startedAt);
    open.add(this);
    closeAllOnExit();
    this.writePartial(true);
  }

  onCaseEnd(result: CaseResult): void {
    const phase = this.builder.addCase(result);
    (result.attachments ?? []).forEach((attachment, index) => this.keep(phase.attachments[index]!.path, attachment));
    this.writePartial(false);
  }

  onSuiteEnd(): void {
    this.writePartial(true);
  }

  onRunEnd(run: RunResult): void {
    this.finish(this.builder.finish(run));
  }

  /** Writes the record of what ran if the run did not end (called from the CLI's cleanup and on process exit). */
  close(reason: string): void {
    if (this.finished) return;
    const outcome = this.options.signal?.aborted ? 'ABORTED' : 'ERROR';
    this.finish(this.builder.incomplete(outcome, reason));
  }

  private keep(storedPath: string, attachment: Attachment): void {
    try {
      const file = this.options.store?.writeAttachment(this.id, storedPath, attachment.data);
      if (file) this.storedFiles.set(storedPath, file);
    } catch (error) {
      this.options.log?.error({ err: error }, `cannot store attachment ${attachment.name}: ${describeError(error)}`);
    }
    if (this.renderers.html && attachment.data.length <= this.renderers.html.embedLimit) this.attachments.set(storedPath, attachment.data);
  }

  private writePartial(force: boolean): void {
    if (!this.options.store || this.finished) return;
    const now = Date.now();
    if (!force && now - this.lastPartialWrite < PARTIAL_WRITE_INTERVAL_MS) return;
    this.lastPartialWrite = now;
    this.options.store.writeRecord(this.builder.incomplete('ERROR', 'the run had not ended when this record was written (kiso was killed, or is still running)'));
  }

  private finish(record: RunRecord): void {
    this.finished = true;
    this.record = record;
    open.delete(this);
    if (this.options.store) this.recordFile = this.options.store.commit(record);
    if (this.options.htmlFile && this.renderers.html) {
      mkdirSync(path.dirname(this.options.htmlFile), { recursive: true });
      writeFileSync(this.options.htmlFile, this.renderers.html.render(record, (_phase, ref) => this.attachments.get(ref.path), { htmlFile: this.options.htmlFile, attachmentFile: (ref) => this.storedFiles.get(ref.path) }));
    }
    if (this.options.stepReportFile && this.renderers.stepReport) {
      mkdirSync(path.dirname(this.options.stepReportFile), { recursive: true });
      writeFileSync(this.options.stepReportFile, this.renderers.stepReport(record));
    }
  }
}
