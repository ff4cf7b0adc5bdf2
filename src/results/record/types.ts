import type { Limits } from '../limits.js';
import type { Dimension, MeasuredValue, MeasurementOutcome } from '../measurements.js';

/**
 * The run record: what a station keeps of every unit it tests. Field names
 * follow TofuPilot's run (procedure_id, unit_under_test, started_at,
 * duration, phases, logs) and OpenHTF's test record (outcome_details,
 * measurements with validators), so a record converts to either with no
 * guessing. `schemas/run-record.schema.json` is the contract.
 */

export const RECORD_VERSION = 1;

export type RunRecordOutcome = 'PASS' | 'FAIL' | 'ERROR' | 'TIMEOUT' | 'ABORTED';
export type PhaseOutcome = 'PASS' | 'FAIL' | 'ERROR' | 'SKIP';
/** TofuPilot's log levels (Python's names). */
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface UnitUnderTest {
  serial_number: string | null;
  part_number: string | null;
  revision: string | null;
  batch_number: string | null;
  /** The sub-assemblies built into the unit, by serial number (TofuPilot's sub_units); absent in records from before it. */
  sub_units?: Array<{ serial_number: string }>;
}

export interface OutcomeDetail {
  code: string;
  description: string;
}

export interface MeasurementRecord {
  name: string;
  outcome: MeasurementOutcome;
  measured_value?: MeasuredValue;
  units?: string;
  dimensions?: Dimension[];
  limits?: Limits;
  /** TofuPilot's bounds, beside `limits`: the numeric range the limits imply. */
  lower_limit?: number;
  upper_limit?: number;
  limits_source?: 'code' | 'limits file';
  validators: string[];
  docstring?: string;
  /** Why the outcome is not PASS. */
  message?: string;
}

export interface AttachmentRef {
  name: string;
  mime_type: string;
  size: number;
  sha1: string;
  /** The stored copy, relative to the record file's folder. */
  path: string;
}

export interface LogRecord {
  level: LogLevelName;
  timestamp: string;
  message: string;
  logger_name: string | null;
  source_file: string | null;
  line_number: number | null;
  /** The line's structured fields (`ctx.log.info({ version: '1.3.9' }, 'firmware version')`), minus keys named like secrets; absent when it had none. */
  fields?: Record<string, unknown>;
}

export interface PromptRecord {
  message: string;
  kind: 'confirm' | 'text' | 'number' | 'choice';
  choices?: string[];
  answer?: boolean | string | number;
  error?: string;
  asked_at: string;
  answered_after_ms?: number;
}

/** One row of the step report: a check, a step grouping checks, or the assertion that ended the case. */
export interface CheckRecord {
  kind: 'check' | 'step' | 'assertion';
  description: string;
  operator?: string;
  expected?: string;
  actual?: string;
  outcome: 'PASS' | 'FAIL' | 'ERROR';
  /** Enclosing step names, outermost first. */
  steps?: string[];
  timestamp: string;
  duration_ms?: number;
  source_file: string | null;
  line_number: number | null;
  message?: string;
}

export interface PhaseRecord {
  /** The case name. */
  name: string;
  /** pykiso's `suite.case` id, e.g. "1.2". */
  test_id: string;
  suite: { id: number; name: string; file: string };
  case_id: number;
  outcome: PhaseOutcome;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  attempts: number;
  error?: { type: string; message: string; code?: string; step: string; stack?: string };
  skip_reason?: string;
  tags: Record<string, string[]>;
  requirements: string[];
  measurements: MeasurementRecord[];
  /** The operator prompts of the case and their answers; absent when it asked none. */
  prompts?: PromptRecord[];
  /** What ctx.check / ctx.step recorded; absent when the case made no check. */
  checks?: CheckRecord[];
  attachments: AttachmentRef[];
  logs: LogRecord[];
}

export interface RunRecord {
  record_version: typeof RECORD_VERSION;
  id: string;
  procedure_id: string | null;
  procedure_name: string | null;
  procedure_version: string | null;
  unit_under_test: UnitUnderTest;
  /** Who ran the test (TofuPilot's operated_by); absent in records from before it. */
  operated_by?: string | null;
  /** `slot`: the fixture slot the unit sat in (1-based), only with fixture slots. */
  station: { name: string; hostname: string; config_file: string; kiso_version: string; slot?: number };
  started_at: string;
  ended_at: string;
  /** ISO 8601 duration, e.g. PT1.234S. */
  duration: string;
  duration_ms: number;
  outcome: RunRecordOutcome;
  run_passed: boolean;
  outcome_details: OutcomeDetail[];
  counts: { passed: number; failed: number; error: number; skipped: number; total: number };
  phases: PhaseRecord[];
}
