import type { RunRecord } from '../results/record/types.js';

/**
 * What every store answers, the station's SQLite and the fleet's PostgreSQL
 * alike: the same summaries, filters and statistics, so `kiso runs` reads
 * the same whichever it queries.
 */

/** One run as `kiso runs list` shows and filters it. */
export interface RunSummary {
  id: string;
  started_at: string;
  duration_ms: number;
  outcome: RunRecord['outcome'];
  serial_number: string | null;
  part_number: string | null;
  revision: string | null;
  batch_number: string | null;
  procedure_id: string | null;
  procedure_version: string | null;
  station: string;
  phases: RunRecord['counts'];
}

export interface ListFilter {
  serial?: string;
  procedure?: string;
  partNumber?: string;
  outcome?: string;
  station?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** Newest first; at most this many (0 or undefined: all). */
  limit?: number;
}

export interface StatsFilter {
  procedure?: string;
  station?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

/** Yield of one procedure: units whose first run passed, units whose last run passed. */
export interface YieldFigures {
  procedure_id: string | null;
  runs: number;
  passed_runs: number;
  /** Units (serial numbers) with at least one run. */
  units: number;
  /** Share of units whose first run passed (0..1; null without units). */
  first_pass_yield: number | null;
  /** Share of units whose last run passed. */
  final_yield: number | null;
}

export interface StationFigures {
  station: string;
  runs: number;
  passed_runs: number;
}

/** One numeric measurement (by name, units and limits) over the runs selected. */
export interface MeasurementFigures {
  name: string;
  units: string | null;
  lower: number | null;
  upper: number | null;
  /** Numeric values counted. */
  count: number;
  mean: number | null;
  /** Sample standard deviation (n - 1). */
  std: number | null;
  min: number | null;
  max: number | null;
  /** Process capability against the limits: min(USL - mean, mean - LSL) / 3σ; one-sided with one limit; null without limits or spread. */
  cpk: number | null;
  /** Measurements of this name that did not pass (FAIL or ERROR), numeric or not. */
  failures: number;
}

export interface ParetoEntry {
  name: string;
  failures: number;
  /** Share of all measurement failures (0..1). */
  share: number;
  /** Running share, for the Pareto line. */
  cumulative: number;
}

export interface RunStats {
  filter: { procedure: string | null; station: string | null; since: string | null; until: string | null };
  runs: number;
  passed_runs: number;
  /** Overall, then one row per procedure. */
  yield: YieldFigures;
  procedures: YieldFigures[];
  stations: StationFigures[];
  measurements: MeasurementFigures[];
  pareto: ParetoEntry[];
}

/** A station as the fleet knows it: the procedures it may run. */
export interface StationEntry {
  name: string;
  procedures: string[];
}
