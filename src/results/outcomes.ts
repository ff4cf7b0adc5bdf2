import type { Attachment } from './attachments.js';
import type { CheckResult } from './checks.js';
import type { MeasurementResult } from './measurements.js';

/** What a run produces; every reporter reads these shapes. */
export type Outcome = 'passed' | 'failed' | 'error' | 'skipped';
export type RunOutcome = 'passed' | 'failed' | 'error' | 'aborted';
export type Step = 'setup' | 'run' | 'teardown' | 'load';

export interface CaseError {
  message: string;
  /** `AssertionError`, `KisoError`, ... */
  type: string;
  code?: string;
  stack?: string;
  /** The step that failed. */
  step: Step;
}

export interface CaseResult {
  suiteId: number;
  suiteName: string;
  caseId: number;
  name: string;
  file: string;
  outcome: Outcome;
  /** Epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  attempts: number;
  error?: CaseError;
  skipReason?: string;
  tags: Record<string, string[]>;
  requirements: string[];
  /** Log lines written while the case ran (console-formatted). */
  output: string[];
  /** The case's measurements, judged (last attempt). */
  measurements?: MeasurementResult[];
  /** What ctx.check / ctx.step recorded and the assertion that ended the case (last attempt): the step report's rows. */
  checks?: CheckResult[];
  /** The operator prompts the case asked, with their answers (last attempt). */
  prompts?: CasePrompt[];
  /** Files the case attached (last attempt). */
  attachments?: Attachment[];
  /** The same log lines as `output`, structured, for the run record. */
  logs?: CaseLogEntry[];
}

/** An operator prompt and its answer, as a case result keeps it. */
export interface CasePrompt {
  message: string;
  kind: 'confirm' | 'text' | 'number' | 'choice';
  choices?: string[];
  answer?: boolean | string | number;
  /** Why there is no answer (no operator, timeout, interrupted). */
  error?: string;
  /** Epoch ms. */
  askedAt: number;
  answeredAfterMs?: number;
}

/** One log line of a case, as the run record keeps it. */
export interface CaseLogEntry {
  /** pino's level number (30 = info). */
  level: number;
  /** Epoch milliseconds. */
  time: number;
  message: string;
  /** Logger name or the suite/case it was bound to. */
  logger?: string;
  /** `file:line` of the suite code that logged it. */
  caller?: string;
  /** The line's own fields (`ctx.log.info({ version: '1.3.9' }, ...)`), secrets removed. */
  fields?: Record<string, unknown>;
}

export interface SuiteResult {
  id: number;
  name: string;
  file: string;
  startedAt: number;
  durationMs: number;
  cases: CaseResult[];
}

export interface OutcomeCounts {
  passed: number;
  failed: number;
  error: number;
  skipped: number;
  total: number;
}

export interface RunResult {
  configFile: string;
  startedAt: number;
  durationMs: number;
  suites: SuiteResult[];
  outcome: RunOutcome;
  counts: OutcomeCounts;
}

export function countOutcomes(cases: Iterable<CaseResult>): OutcomeCounts {
  const counts: OutcomeCounts = { passed: 0, failed: 0, error: 0, skipped: 0, total: 0 };
  for (const result of cases) {
    counts[result.outcome]++;
    counts.total++;
  }
  return counts;
}
