import type { Logger } from '../../core/logging.js';
import type { CaseResult, RunResult, SuiteResult } from '../outcomes.js';

export interface RunStartInfo {
  configFile: string;
  suiteCount: number;
  caseCount: number;
  startedAt: number;
}

export interface SuiteStartInfo {
  id: number;
  name: string;
  file: string;
  caseCount: number;
}

export interface CaseStartInfo {
  /** Absolute path of the suite file. */
  file: string;
  suiteId: number;
  suiteName: string;
  caseId: number;
  name: string;
  attempt: number;
}

/** A reporter is a set of optional hooks; kiso awaits each one. */
export interface Reporter {
  onRunStart?(info: RunStartInfo): void | Promise<void>;
  onSuiteStart?(info: SuiteStartInfo): void | Promise<void>;
  onCaseStart?(info: CaseStartInfo): void | Promise<void>;
  onCaseEnd?(result: CaseResult): void | Promise<void>;
  onSuiteEnd?(result: SuiteResult): void | Promise<void>;
  onRunEnd?(result: RunResult): void | Promise<void>;
}

type Hook = keyof Reporter;

/** A reporter that threw: the CLI turns it into a non-zero exit (a report that was not written is no green run). */
export interface ReporterFailure {
  reporter: string;
  hook: Hook;
  error: unknown;
}

/** Feeds every reporter; one reporter's failure is logged and never stops the others or the run. */
export class ReporterMux implements Required<Reporter> {
  constructor(
    private readonly reporters: Reporter[],
    private readonly log: Logger,
    private readonly onFailure?: (failure: ReporterFailure) => void,
  ) {}


  private async call<H extends Hook>(hook: H, argument: Parameters<NonNullable<Reporter[H]>>[0]): Promise<void> {
    for (const reporter of this.reporters) {
      const fn = reporter[hook] as ((arg: typeof argument) => void | Promise<void>) | undefined;
      if (!fn) continue;
      try {
        const maybe = fn.call(reporter, argument);
        if (maybe) await maybe;
      } catch (error) {
        const name = reporter.constructor?.name ?? '?';
        this.log.error({ err: error, hook, reporter: name }, `reporter ${name} failed in ${hook}`);
        this.onFailure?.({ reporter: name, hook, error });
      }
    }
  }

  onRunStart(info: RunStartInfo): Promise<void> { return this.call('onRunStart', info); }
  onSuiteStart(info: SuiteStartInfo): Promise<void> { return this.call('onSuiteStart', info); }
  onCaseStart(info: CaseStartInfo): Promise<void> { return this.call('onCaseStart', info); }
  onCaseEnd(result: CaseResult): Promise<void> { return this.call('onCaseEnd', result); }
  onSuiteEnd(result: SuiteResult): Promise<void> { return this.call('onSuiteEnd', result); }
  onRunEnd(result: RunResult): Promise<void> { return this.call('onRunEnd', result); }
}
