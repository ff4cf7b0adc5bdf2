import type { RunRecord } from '../results/record/types.js';
import { dayOf } from './schema.js';
import type { RunSummary } from './types.js';

/**
 * A run record taken apart into the rows of the store's tables, the same for
 * SQLite and PostgreSQL. The record itself is kept whole beside them (the
 * exchange format, what `kiso runs show --json` and `export` give back);
 * the rows are what queries and statistics read.
 */

export type Cell = string | number | null;

export interface RunRow {
  id: string;
  started_at: string;
  started_ms: number;
  duration_ms: number;
  outcome: string;
  serial_number: string | null;
  part_number: string | null;
  revision: string | null;
  batch_number: string | null;
  procedure_id: string | null;
  procedure_version: string | null;
  station: string;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  total: number;
}

export const RUN_COLUMNS = ['id', 'started_at', 'started_ms', 'duration_ms', 'outcome', 'serial_number', 'part_number', 'revision', 'batch_number', 'procedure_id', 'procedure_version', 'station', 'passed', 'failed', 'errors', 'skipped', 'total'] as const;
export const PHASE_COLUMNS = ['run_id', 'idx', 'test_id', 'name', 'outcome', 'started_at', 'duration_ms'] as const;
export const MEASUREMENT_COLUMNS = ['run_id', 'phase_idx', 'idx', 'name', 'outcome', 'value_num', 'value_text', 'units', 'lower_limit', 'upper_limit', 'procedure_id', 'station', 'started_ms'] as const;
export const LOG_COLUMNS = ['run_id', 'phase_idx', 'idx', 'level', 'timestamp', 'message', 'logger_name', 'source_file', 'line_number'] as const;
export const ATTACHMENT_COLUMNS = ['run_id', 'phase_idx', 'idx', 'name', 'mime_type', 'size', 'sha1', 'path'] as const;

export interface RecordRows {
  run: RunRow;
  phases: Cell[][];
  measurements: Cell[][];
  logs: Cell[][];
  attachments: Cell[][];
}

/** A record as `kiso runs list` shows it: what every store's list returns. */
export function summaryOfRecord(record: RunRecord): RunSummary {
  const unit = record.unit_under_test;
  return {
    id: record.id,
    started_at: record.started_at,
    duration_ms: record.duration_ms,
    outcome: record.outcome,
    serial_number: unit.serial_number,
    part_number: unit.part_number,
    revision: unit.revision,
    batch_number: unit.batch_number,
    procedure_id: record.procedure_id,
    procedure_version: record.procedure_version,
    station: record.station.name,
    phases: record.counts,
  };
}

export function runRow(record: RunRecord): RunRow {
  const { phases, ...summary } = summaryOfRecord(record);
  return { ...summary, started_ms: Date.parse(record.started_at), passed: phases.passed, failed: phases.failed, errors: phases.error, skipped: phases.skipped, total: phases.total };
}

export function runValues(row: RunRow): Cell[] {
  return RUN_COLUMNS.map((column) => row[column]);
}

/** A measured value as a number (for statistics) and as text (for anything else); a curve stays in the record only. */
function valueCells(value: unknown): [number | null, string | null] {
  if (typeof value === 'number') return Number.isFinite(value) ? [value, null] : [null, String(value)];
  if (typeof value === 'string' || typeof value === 'boolean') return [null, String(value)];
  return [null, null];
}

export function recordRows(record: RunRecord): RecordRows {
  const run = runRow(record);
  const phases: Cell[][] = [];
  const measurements: Cell[][] = [];
  const logs: Cell[][] = [];
  const attachments: Cell[][] = [];
  record.phases.forEach((phase, p) => {
    phases.push([record.id, p, phase.test_id, phase.name, phase.outcome, phase.started_at, phase.duration_ms]);
    phase.measurements.forEach((m, i) => {
      const [num, text] = valueCells(m.measured_value);
      const lower = typeof m.limits?.lower === 'number' ? m.limits.lower : null;
      const upper = typeof m.limits?.upper === 'number' ? m.limits.upper : null;
      measurements.push([record.id, p, i, m.name, m.outcome, num, text, m.units ?? null, lower, upper, run.procedure_id, run.station, run.started_ms]);
    });
    phase.logs.forEach((l, i) => logs.push([record.id, p, i, l.level, l.timestamp, l.message, l.logger_name, l.source_file, l.line_number]));
    phase.attachments.forEach((a, i) => attachments.push([record.id, p, i, a.name, a.mime_type, a.size, a.sha1, a.path]));
  });
  return { run, phases, measurements, logs, attachments };
}

/** A row of the runs table back into the summary `kiso runs list` prints. */
export function summaryOf(row: Record<string, unknown>): RunSummary {
  return {
    id: String(row.id),
    started_at: String(row.started_at),
    duration_ms: Number(row.duration_ms),
    outcome: row.outcome as RunSummary['outcome'],
    serial_number: (row.serial_number as string | null) ?? null,
    part_number: (row.part_number as string | null) ?? null,
    revision: (row.revision as string | null) ?? null,
    batch_number: (row.batch_number as string | null) ?? null,
    procedure_id: (row.procedure_id as string | null) ?? null,
    procedure_version: (row.procedure_version as string | null) ?? null,
    station: String(row.station),
    phases: { passed: Number(row.passed), failed: Number(row.failed), error: Number(row.errors), skipped: Number(row.skipped), total: Number(row.total) },
  };
}

/**
 * A run's measurement rows as additions to the per-day aggregates (MEASUREMENT_DAY_COLUMNS each), one per
 * procedure, UTC day, station, name, units and limits; `skip` leaves out the (procedure, day) pairs
 * recomputed instead.
 */
export function measurementDayRows(measurements: Cell[][], skip?: (procedure: string | null, day: number) => boolean): Cell[][] {
  const byKey = new Map<string, Cell[]>();
  for (const m of measurements) {
    const [, , , name, outcome, value, , units, lower, upper, procedure, station, startedMs] = m as [string, number, number, string, string, number | null, string | null, string | null, number | null, number | null, string | null, string, number];
    const day = dayOf(startedMs);
    if (skip?.(procedure, day)) continue;
    const nulls = (procedure === null ? 1 : 0) + (units === null ? 2 : 0) + (lower === null ? 4 : 0) + (upper === null ? 8 : 0);
    const key = JSON.stringify([procedure, day, station, name, units, lower, upper]);
    let row = byKey.get(key);
    if (!row) {
      row = [procedure ?? '', day, station, name, units ?? '', lower ?? 0, upper ?? 0, nulls, 0, 0, 0, null, null, 0];
      byKey.set(key, row);
    }
    if (value !== null) {
      row[8] = (row[8] as number) + 1;
      row[9] = (row[9] as number) + value;
      row[10] = (row[10] as number) + value * value;
      if (row[11] === null || value < (row[11] as number)) row[11] = value;
      if (row[12] === null || value > (row[12] as number)) row[12] = value;
    }
    if (outcome === 'FAIL' || outcome === 'ERROR') row[13] = (row[13] as number) + 1;
  }
  // In key order, so concurrent writers lock the rows they share in the same order.
  return [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, row]) => row);
}
