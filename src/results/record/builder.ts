import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import type { CheckResult } from '../checks.js';
import type { Limits } from '../limits.js';
import type { MeasuredValue, MeasurementResult } from '../measurements.js';
import { kisoVersion } from '../../core/package-root.js';
import type { CaseLogEntry, CaseResult, Outcome, RunResult } from '../outcomes.js';
import { countOutcomes } from '../outcomes.js';
import { RECORD_VERSION, type LogLevelName, type CheckRecord, type LogRecord, type MeasurementRecord, type PhaseOutcome, type PhaseRecord, type RunRecord, type RunRecordOutcome } from './types.js';

/** Names and numbers of a run, from the station YAML, the CLI flags and the serial hook. */
export interface RunMetadata {
  stationName: string;
  configFile: string;
  procedureId?: string;
  procedureName?: string;
  procedureVersion?: string;
  serialNumber?: string;
  partNumber?: string;
  revision?: string;
  batchNumber?: string;
  /** Who ran the test (TofuPilot's operated_by). */
  operatedBy?: string;
  /** Serial numbers of the sub-assemblies built into the unit. */
  subUnits?: string[];
  /** The fixture slot the unit sat in (1-based), with fixture slots. */
  slot?: number;
}

/** `20251123-103112-k3f9q2a1`: sortable by UTC start time, unique across processes by its random tail. */
export function newRunId(at = new Date()): string {
  const iso = at.toISOString();
  const random = [...randomBytes(8)].map((byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('');
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random}`;
}

/** Where a run's attachment lives, relative to its record file: a folder per phase, as two cases may attach the same name. */
export function attachmentPath(runId: string, phaseNumber: number, name: string): string {
  return `${runId}.files/${phaseNumber}/${name}`;
}

export function isoDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(3).replace(/\.?0+$/, '') || '0'}S`;
}

const PHASE_OUTCOMES: Record<Outcome, PhaseOutcome> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' };
const RUN_OUTCOMES: Record<RunResult['outcome'], RunRecordOutcome> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', aborted: 'ABORTED' };

export function levelName(level: number): LogLevelName {
  if (level >= 60) return 'CRITICAL';
  if (level >= 50) return 'ERROR';
  if (level >= 40) return 'WARNING';
  if (level >= 30) return 'INFO';
  return 'DEBUG';
}

// JSON has no NaN or Infinity: keep them as text, as OpenHTF's json_safe does.
function jsonSafe(value: MeasuredValue): MeasuredValue {
  const cell = <T>(v: T): T | string => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
  return Array.isArray(value) ? value.map((row) => row.map(cell)) : (cell(value) as MeasuredValue);
}

/** TofuPilot's lower_limit / upper_limit: the numeric bounds every limit given implies (a tolerance is nominal ± it). */
export function numericBounds(limits: Limits): { lower?: number; upper?: number } {
  const lows: number[] = [];
  const highs: number[] = [];
  if (limits.lower !== undefined) lows.push(limits.lower);
  if (limits.upper !== undefined) highs.push(limits.upper);
  if (typeof limits.equals === 'number') {
    lows.push(limits.equals);
    highs.push(limits.equals);
  }
  if (limits.within) {
    const { nominal, percent, absolute } = limits.within;
    const tolerance = percent !== undefined ? Math.abs(nominal * percent) / 100 : (absolute ?? 0);
    lows.push(nominal - tolerance);
    highs.push(nominal + tolerance);
  }
  return { ...(lows.length ? { lower: Math.max(...lows) } : {}), ...(highs.length ? { upper: Math.min(...highs) } : {}) };
}

function measurementRecord(m: MeasurementResult): MeasurementRecord {
  const out: MeasurementRecord = { name: m.name, outcome: m.outcome, validators: m.validators };
  if (m.value !== undefined) out.measured_value = jsonSafe(m.value);
  if (m.units !== undefined) out.units = m.units;
  if (m.dimensions) out.dimensions = m.dimensions;
  if (m.limits) {
    out.limits = m.limits;
    const { lower, upper } = numericBounds(m.limits);
    if (lower !== undefined) out.lower_limit = lower;
    if (upper !== undefined) out.upper_limit = upper;
  }
  if (m.limitsSource) out.limits_source = m.limitsSource;
  if (m.docstring) out.docstring = m.docstring;
  if (m.message) out.message = m.message;
  return out;
}

/** A suite file relative to the station YAML's folder (where suites live), else absolute. */
function sourceFile(file: string, stationDir: string): string {
  const relative = path.relative(stationDir, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function logRecord(entry: CaseLogEntry, stationDir: string): LogRecord {
  const site = entry.caller ? /^(.*):(\d+)$/.exec(entry.caller) : null;
  return {
    level: levelName(entry.level),
    timestamp: new Date(entry.time).toISOString(),
    message: entry.message,
    logger_name: entry.logger ?? null,
    source_file: site ? sourceFile(site[1]!, stationDir) : null,
    line_number: site ? Number(site[2]) : null,
    ...(entry.fields && Object.keys(entry.fields).length ? { fields: entry.fields } : {}),
  };
}

const CHECK_OUTCOMES = { passed: 'PASS', failed: 'FAIL', error: 'ERROR' } as const;

function checkRecord(check: CheckResult, stationDir: string): CheckRecord {
  const site = check.location ? /^(.*):(\d+)$/.exec(check.location) : null;
  const out: CheckRecord = {
    kind: check.kind,
    description: check.description,
    outcome: CHECK_OUTCOMES[check.outcome],
    timestamp: new Date(check.at).toISOString(),
    source_file: site ? sourceFile(site[1]!, stationDir) : null,
    line_number: site ? Number(site[2]) : null,
  };
  if (check.operator) out.operator = check.operator;
  if (check.expected !== undefined) out.expected = check.expected;
  if (check.actual !== undefined) out.actual = check.actual;
  if (check.steps?.length) out.steps = check.steps;
  if (check.durationMs !== undefined) out.duration_ms = check.durationMs;
  if (check.message) out.message = check.message;
  return out;
}

/** Turns the runner's results into the run record, phase by phase as cases end. */
export class RunRecordBuilder {
  readonly id: string;
  private startedAt = Date.now();
  private readonly phases: PhaseRecord[] = [];
  private readonly results: CaseResult[] = [];

  constructor(
    readonly meta: RunMetadata,
    id?: string,
  ) {
    this.id = id ?? newRunId();
  }

  start(startedAt: number): void {
    this.startedAt = startedAt;
  }

  addCase(result: CaseResult): PhaseRecord {
    const phase: PhaseRecord = {
      name: result.name,
      test_id: `${result.suiteId}.${result.caseId}`,
      suite: { id: result.suiteId, name: result.suiteName, file: result.file },
      case_id: result.caseId,
      outcome: PHASE_OUTCOMES[result.outcome],
      started_at: new Date(result.startedAt).toISOString(),
      ended_at: new Date(result.startedAt + result.durationMs).toISOString(),
      duration_ms: result.durationMs,
      attempts: result.attempts,
      tags: result.tags,
      requirements: result.requirements,
      measurements: (result.measurements ?? []).map(measurementRecord),
      attachments: (result.attachments ?? []).map((a) => ({ name: a.name, mime_type: a.mimeType, size: a.size, sha1: a.sha1, path: attachmentPath(this.id, this.phases.length + 1, a.name) })),
      logs: (result.logs ?? []).map((entry) => logRecord(entry, path.dirname(this.meta.configFile))),
    };
    if (result.error) {
      const { type, message, code, step, stack } = result.error;
      phase.error = { type, message, step, ...(code ? { code: String(code) } : {}), ...(stack ? { stack } : {}) };
    }
    if (result.prompts?.length) {
      phase.prompts = result.prompts.map((p) => ({
        message: p.message,
        kind: p.kind,
        ...(p.choices ? { choices: p.choices } : {}),
        ...(p.answer !== undefined ? { answer: p.answer } : {}),
        ...(p.error ? { error: p.error } : {}),
        asked_at: new Date(p.askedAt).toISOString(),
        ...(p.answeredAfterMs !== undefined ? { answered_after_ms: p.answeredAfterMs } : {}),
      }));
    }
    if (result.checks?.length) phase.checks = result.checks.map((check) => checkRecord(check, path.dirname(this.meta.configFile)));
    if (result.skipReason) phase.skip_reason = result.skipReason;
    this.phases.push(phase);
    this.results.push(result);
    return phase;
  }

  /** The record of the whole run. */
  finish(run: RunResult): RunRecord {
    const details = this.phases
      .filter((p) => p.outcome === 'FAIL' || p.outcome === 'ERROR')
      .map((p) => ({ code: p.error?.code ?? (p.outcome === 'FAIL' ? 'FAIL' : 'ERROR'), description: `[${p.test_id}] ${p.name}: ${p.error?.message ?? p.outcome}` }));
    if (run.outcome === 'aborted') details.unshift({ code: 'KISO_ABORTED', description: 'the run was interrupted (Ctrl-C or SIGTERM); the phases that ran are recorded' });
    return this.build(RUN_OUTCOMES[run.outcome], details, this.startedAt + run.durationMs);
  }

  /**
   * The record of a run that did not reach its end: written while it runs
   * (in case kiso is killed) and when kiso exits early (a second Ctrl-C, a crash).
   */
  incomplete(outcome: 'ERROR' | 'ABORTED', description: string): RunRecord {
    return this.build(outcome, [{ code: outcome === 'ABORTED' ? 'KISO_ABORTED' : 'KISO_RUN_INCOMPLETE', description }], Date.now());
  }

  private build(outcome: RunRecordOutcome, outcome_details: RunRecord['outcome_details'], endedAt: number): RunRecord {
    const m = this.meta;
    const durationMs = Math.max(0, endedAt - this.startedAt);
    return {
      record_version: RECORD_VERSION,
      id: this.id,
      procedure_id: m.procedureId ?? null,
      procedure_name: m.procedureName ?? null,
      procedure_version: m.procedureVersion ?? null,
      unit_under_test: {
        serial_number: m.serialNumber ?? null,
        part_number: m.partNumber ?? null,
        revision: m.revision ?? null,
        batch_number: m.batchNumber ?? null,
        sub_units: (m.subUnits ?? []).map((serial) => ({ serial_number: serial })),
      },
      operated_by: m.operatedBy ?? null,
      station: { name: m.stationName, hostname: hostname(), config_file: m.configFile, kiso_version: kisoVersion(), ...(m.slot !== undefined ? { slot: m.slot } : {}) },
      started_at: new Date(this.startedAt).toISOString(),
      ended_at: new Date(endedAt).toISOString(),
      duration: isoDuration(durationMs),
      duration_ms: durationMs,
      outcome,
      run_passed: outcome === 'PASS',
      outcome_details,
      counts: countOutcomes(this.results),
      phases: [...this.phases],
    };
  }
}
