import type { MeasurementFigures, ParetoEntry, RunStats, StatsFilter, StationFigures, YieldFigures } from './types.js';

/**
 * `kiso runs stats` from the rows of the three statistics queries
 * (schema.ts): the database sums, this file divides. Both stores feed it
 * the same rows, so SQLite and PostgreSQL give the same figures.
 */

type Row = Record<string, unknown>;

// PostgreSQL returns count() and sum() of integers as text (64-bit): every cell goes through Number.
const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** A stable order whatever the database does with NULLs: nulls last, then by text. */
function byKey<T>(key: (item: T) => Array<string | number | null>): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const x = ka[i] ?? null;
      const y = kb[i] ?? null;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
}

/**
 * Ten significant digits: the databases add in their own order, so the last
 * bits of a sum differ between SQLite and PostgreSQL; the figures must not.
 */
const round = (value: number | null): number | null => (value === null ? null : Number(value.toPrecision(10)));

/** Process capability of a normal-ish sample against its limits; one-sided with one limit. */
export function cpk(mean: number | null, std: number | null, lower: number | null, upper: number | null): number | null {
  if (mean === null || std === null || !(std > 0) || (lower === null && upper === null)) return null;
  const sides = [upper !== null ? (upper - mean) / (3 * std) : Infinity, lower !== null ? (mean - lower) / (3 * std) : Infinity];
  return Math.min(...sides);
}

function yieldOf(procedure: string | null, runs: number, passed: number, units: number, firstPass: number, finalPass: number): YieldFigures {
  return {
    procedure_id: procedure,
    runs,
    passed_runs: passed,
    units,
    first_pass_yield: units ? firstPass / units : null,
    final_yield: units ? finalPass / units : null,
  };
}

export function statsFromRows(filter: StatsFilter, yieldRows: Row[], stationRows: Row[], measurementRows: Row[]): RunStats {
  const procedures = yieldRows
    .map((r) => ({ figures: yieldOf(text(r.procedure_id), num(r.runs), num(r.passed_runs), num(r.units), num(r.first_pass), num(r.final_pass)), firstPass: num(r.first_pass), finalPass: num(r.final_pass) }))
    .sort(byKey((p) => [p.figures.procedure_id]));
  const sum = (f: (p: (typeof procedures)[number]) => number): number => procedures.reduce((total, p) => total + f(p), 0);
  const overall = yieldOf(filter.procedure ?? null, sum((p) => p.figures.runs), sum((p) => p.figures.passed_runs), sum((p) => p.figures.units), sum((p) => p.firstPass), sum((p) => p.finalPass));

  const stations: StationFigures[] = stationRows.map((r) => ({ station: String(r.station), runs: num(r.runs), passed_runs: num(r.passed_runs) })).sort(byKey((s) => [s.station]));

  const measurements: MeasurementFigures[] = measurementRows
    .map((r) => {
      const n = num(r.n);
      const total = num(r.total);
      const squares = num(r.squares);
      const mean = n ? total / n : null;
      // Sample variance from the sums; never below zero when rounding meets a constant value.
      const std = n > 1 && mean !== null ? Math.sqrt(Math.max(0, (squares - total * mean) / (n - 1))) : null;
      const lower = numOrNull(r.lower_limit);
      const upper = numOrNull(r.upper_limit);
      return { name: String(r.name), units: text(r.units), lower, upper, count: n, mean: round(mean), std: round(std), min: numOrNull(r.min_value), max: numOrNull(r.max_value), cpk: round(cpk(mean, std, lower, upper)), failures: num(r.failures) };
    })
    .sort(byKey((m) => [m.name, m.units, m.lower, m.upper]));

  const failuresByName = new Map<string, number>();
  for (const m of measurements) if (m.failures) failuresByName.set(m.name, (failuresByName.get(m.name) ?? 0) + m.failures);
  const allFailures = [...failuresByName.values()].reduce((a, b) => a + b, 0);
  let running = 0;
  const pareto: ParetoEntry[] = [...failuresByName]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([name, failures]) => {
      running += failures;
      return { name, failures, share: failures / allFailures, cumulative: running / allFailures };
    });

  return {
    filter: {
      procedure: filter.procedure ?? null,
      station: filter.station ?? null,
      since: filter.since === undefined ? null : new Date(filter.since).toISOString(),
      until: filter.until === undefined ? null : new Date(filter.until).toISOString(),
    },
    runs: overall.runs,
    passed_runs: overall.passed_runs,
    yield: overall,
    procedures: procedures.map((p) => p.figures),
    stations,
    measurements,
    pareto,
  };
}
