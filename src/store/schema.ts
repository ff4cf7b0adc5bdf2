import type { ListFilter, StatsFilter } from './types.js';

/**
 * The store's schema and queries, one text for SQLite and PostgreSQL: the
 * same tables, indexes and SQL, with the few type names that differ filled
 * in per dialect. Migrations are numbered; a store applies the ones it lacks
 * when it opens and records each in `schema_migrations`.
 */

export type Dialect = 'sqlite' | 'postgres';

// Run ids compare byte by byte on both (PostgreSQL's default collation would not), so id order and prefixes agree.
const TYPES: Record<Dialect, { id: string; real: string; big: string; blob: string; now: string }> = {
  sqlite: { id: 'TEXT', real: 'REAL', big: 'INTEGER', blob: 'BLOB', now: "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))" },
  postgres: { id: 'TEXT COLLATE "C"', real: 'DOUBLE PRECISION', big: 'BIGINT', blob: 'BYTEA', now: "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))" },
};

export interface Migration {
  version: number;
  description: string;
  statements: (dialect: Dialect) => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'runs, units, phases, measurements, logs, attachments, stations',
    statements: (dialect) => {
      const t = TYPES[dialect];
      const common = [
        `CREATE TABLE runs (
          id ${t.id} PRIMARY KEY,
          started_at TEXT NOT NULL,
          started_ms ${t.big} NOT NULL,
          duration_ms ${t.real} NOT NULL,
          outcome TEXT NOT NULL,
          serial_number TEXT,
          part_number TEXT,
          revision TEXT,
          batch_number TEXT,
          procedure_id TEXT,
          procedure_version TEXT,
          station TEXT NOT NULL,
          passed INTEGER NOT NULL,
          failed INTEGER NOT NULL,
          errors INTEGER NOT NULL,
          skipped INTEGER NOT NULL,
          total INTEGER NOT NULL,
          complete INTEGER NOT NULL,
          record TEXT NOT NULL,
          received_at TEXT NOT NULL DEFAULT ${t.now},
          received_by TEXT
        )`,
        'CREATE INDEX runs_by_serial ON runs (serial_number, started_ms DESC, id DESC)',
        'CREATE INDEX runs_by_procedure ON runs (procedure_id, outcome, started_ms DESC, id DESC)',
        'CREATE INDEX runs_by_part ON runs (part_number, started_ms DESC, id DESC)',
        'CREATE INDEX runs_by_outcome ON runs (outcome, started_ms DESC, id DESC)',
        'CREATE INDEX runs_by_station ON runs (station, started_ms DESC, id DESC)',
        'CREATE INDEX runs_by_time ON runs (started_ms DESC, id DESC)',
        `CREATE TABLE units (
          serial_number TEXT PRIMARY KEY,
          part_number TEXT,
          revision TEXT,
          batch_number TEXT,
          first_run_at TEXT NOT NULL,
          last_run_at TEXT NOT NULL
        )`,
        `CREATE TABLE phases (
          run_id ${t.id} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          idx INTEGER NOT NULL,
          test_id TEXT NOT NULL,
          name TEXT NOT NULL,
          outcome TEXT NOT NULL,
          started_at TEXT NOT NULL,
          duration_ms ${t.real} NOT NULL,
          PRIMARY KEY (run_id, idx)
        )`,
        `CREATE TABLE measurements (
          run_id ${t.id} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          phase_idx INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          name TEXT NOT NULL,
          outcome TEXT NOT NULL,
          value_num ${t.real},
          value_text TEXT,
          units TEXT,
          lower_limit ${t.real},
          upper_limit ${t.real},
          procedure_id TEXT,
          station TEXT NOT NULL,
          started_ms ${t.big} NOT NULL,
          PRIMARY KEY (run_id, phase_idx, idx)
        )`,
        'CREATE INDEX measurements_by_name ON measurements (name, outcome)',
        'CREATE INDEX measurements_by_procedure ON measurements (procedure_id, started_ms)',
        `CREATE TABLE logs (
          run_id ${t.id} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          phase_idx INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          level TEXT NOT NULL,
          timestamp TEXT NOT NULL,
          message TEXT NOT NULL,
          logger_name TEXT,
          source_file TEXT,
          line_number INTEGER,
          PRIMARY KEY (run_id, phase_idx, idx)
        )`,
        `CREATE TABLE attachments (
          run_id ${t.id} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
          phase_idx INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          name TEXT NOT NULL,
          mime_type TEXT NOT NULL,
          size INTEGER NOT NULL,
          sha1 TEXT NOT NULL,
          path TEXT NOT NULL,
          PRIMARY KEY (run_id, phase_idx, idx)
        )`,
        'CREATE INDEX attachments_by_sha1 ON attachments (sha1)',
        `CREATE TABLE stations (
          name TEXT PRIMARY KEY,
          created_at TEXT NOT NULL DEFAULT ${t.now}
        )`,
        `CREATE TABLE station_procedures (
          station TEXT NOT NULL REFERENCES stations (name) ON DELETE CASCADE,
          procedure_id TEXT NOT NULL,
          PRIMARY KEY (station, procedure_id)
        )`,
      ];
      // The station keeps its attachments as files beside the database; the fleet keeps their bytes.
      // The outbox (runs waiting for the fleet) and local settings exist on the station only.
      const own =
        dialect === 'postgres'
          ? [`CREATE TABLE attachment_blobs (sha1 TEXT PRIMARY KEY, size INTEGER NOT NULL, data ${t.blob} NOT NULL)`]
          : [
              `CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL UNIQUE,
                queued_at TEXT NOT NULL DEFAULT ${t.now},
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
              )`,
              'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
            ];
      return [...common, ...own];
    },
  },
  {
    version: 2,
    description: 'serial numbers match whatever their case (as TofuPilot matches them)',
    statements: () => ['CREATE INDEX runs_by_serial_nocase ON runs (lower(serial_number), started_ms DESC, id DESC)'],
  },
  {
    version: 3,
    description: 'statistics: measurement aggregates per procedure, station, measurement and UTC day; a covering index for yield',
    statements: (dialect) => {
      const t = TYPES[dialect];
      return [
        // Yield and runs per station read this index alone, never the runs' records.
        'CREATE INDEX runs_for_stats ON runs (complete, procedure_id, serial_number, started_ms, id, outcome, station)',
        // Key columns are never NULL (a NULL in a primary key never conflicts): `nulls` says which are
        // (1 procedure_id, 2 units, 4 lower_limit, 8 upper_limit), and those hold '' or 0.
        `CREATE TABLE measurement_days (
          procedure_id TEXT NOT NULL,
          day ${t.big} NOT NULL,
          station TEXT NOT NULL,
          name TEXT NOT NULL,
          units TEXT NOT NULL,
          lower_limit ${t.real} NOT NULL,
          upper_limit ${t.real} NOT NULL,
          nulls INTEGER NOT NULL,
          n ${t.big} NOT NULL,
          total ${t.real} NOT NULL,
          squares ${t.real} NOT NULL,
          min_value ${t.real},
          max_value ${t.real},
          failures ${t.big} NOT NULL,
          PRIMARY KEY (procedure_id, day, station, name, units, lower_limit, upper_limit, nulls)
        )`,
        `INSERT INTO measurement_days (${MEASUREMENT_DAY_COLUMNS}) ${measurementDaysSelect('1 = 1')}`,
      ];
    },
  },
];

export const DAY_MS = 86_400_000;

/** The UTC day of an instant, as the epoch ms of its midnight (before 1970 too). */
export const dayOf = (ms: number): number => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);

export const MEASUREMENT_DAY_COLUMNS = 'procedure_id, day, station, name, units, lower_limit, upper_limit, nulls, n, total, squares, min_value, max_value, failures';

/** The aggregates of the measurement rows `where` selects, exactly (the migration's backfill; a run replaced). */
export function measurementDaysSelect(where: string): string {
  return `SELECT coalesce(procedure_id, ''), started_ms - (((started_ms % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}), station, name, coalesce(units, ''),
      coalesce(lower_limit, 0), coalesce(upper_limit, 0),
      (CASE WHEN procedure_id IS NULL THEN 1 ELSE 0 END) + (CASE WHEN units IS NULL THEN 2 ELSE 0 END) + (CASE WHEN lower_limit IS NULL THEN 4 ELSE 0 END) + (CASE WHEN upper_limit IS NULL THEN 8 ELSE 0 END),
      count(value_num), coalesce(sum(value_num), 0), coalesce(sum(value_num * value_num), 0), min(value_num), max(value_num),
      sum(CASE WHEN outcome = 'FAIL' OR outcome = 'ERROR' THEN 1 ELSE 0 END)
    FROM measurements WHERE ${where}
    GROUP BY coalesce(procedure_id, ''), started_ms - (((started_ms % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}), station, name, coalesce(units, ''), coalesce(lower_limit, 0), coalesce(upper_limit, 0),
      (CASE WHEN procedure_id IS NULL THEN 1 ELSE 0 END) + (CASE WHEN units IS NULL THEN 2 ELSE 0 END) + (CASE WHEN lower_limit IS NULL THEN 4 ELSE 0 END) + (CASE WHEN upper_limit IS NULL THEN 8 ELSE 0 END)`;
}

/** Adds `rows` aggregate rows (MEASUREMENT_DAY_COLUMNS each) to what the table holds. */
export function addMeasurementDaysSql(rows: number): string {
  const tuple = `(${MEASUREMENT_DAY_COLUMNS.split(', ').map(() => '?').join(', ')})`;
  const old = 'measurement_days';
  const least = (c: string, op: string): string => `${c} = CASE WHEN excluded.${c} IS NULL THEN ${old}.${c} WHEN ${old}.${c} IS NULL OR excluded.${c} ${op} ${old}.${c} THEN excluded.${c} ELSE ${old}.${c} END`;
  return `INSERT INTO measurement_days (${MEASUREMENT_DAY_COLUMNS}) VALUES ${Array(rows).fill(tuple).join(', ')}
    ON CONFLICT (procedure_id, day, station, name, units, lower_limit, upper_limit, nulls) DO UPDATE SET
      n = ${old}.n + excluded.n, total = ${old}.total + excluded.total, squares = ${old}.squares + excluded.squares,
      ${least('min_value', '<')}, ${least('max_value', '>')}, failures = ${old}.failures + excluded.failures`;
}

/**
 * Recomputes the aggregates of one procedure on one day from the measurement rows, exactly: after a run
 * that was already there is replaced (its old values cannot be taken back out of a min or max).
 * Two statements, each with params [procedure or null, day start, day end].
 */
export const RECOMPUTE_MEASUREMENT_DAY = {
  remove: 'DELETE FROM measurement_days WHERE procedure_id = coalesce(?, \'\') AND (nulls & 1) = ? AND day = ?',
  insert: `INSERT INTO measurement_days (${MEASUREMENT_DAY_COLUMNS}) ${measurementDaysSelect('procedure_id IS NOT DISTINCT FROM ? AND started_ms >= ? AND started_ms < ?')}`,
};

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const MIGRATIONS_TABLE = (dialect: Dialect): string =>
  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT ${TYPES[dialect].now})`;

export interface Query {
  sql: string;
  params: Array<string | number>;
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...`. Queries here never hold a literal `?`. */
export function forDialect(sql: string, dialect: Dialect): string {
  if (dialect === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const SUMMARY_COLUMNS = 'id, started_at, duration_ms, outcome, serial_number, part_number, revision, batch_number, procedure_id, procedure_version, station, passed, failed, errors, skipped, total';

/** `kiso runs list`: complete runs, every filter given, newest first, from an index. */
export function listQuery(filter: ListFilter): Query {
  const where = ['complete = 1'];
  const params: Array<string | number> = [];
  const add = (clause: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('lower(serial_number) = lower(?)', filter.serial); // sn-a-17 finds SN-A-17; the record keeps its spelling
  add('procedure_id = ?', filter.procedure);
  add('part_number = ?', filter.partNumber);
  add('outcome = ?', filter.outcome);
  add('station = ?', filter.station);
  add('started_ms >= ?', filter.since);
  add('started_ms < ?', filter.until);
  let sql = `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY started_ms DESC, id DESC`;
  if (filter.limit) {
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return { sql, params };
}

function statsWhere(filter: StatsFilter, complete: boolean): { where: string; params: Array<string | number> } {
  const where = complete ? ['complete = 1'] : ['1 = 1'];
  const params: Array<string | number> = [];
  const add = (clause: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('procedure_id = ?', filter.procedure);
  add('station = ?', filter.station);
  add('started_ms >= ?', filter.since);
  add('started_ms < ?', filter.until);
  return { where: where.join(' AND '), params };
}

/** Whether the per-day aggregates answer a filter: its times, if any, fall on UTC midnights. */
export function aggregatesAnswer(filter: StatsFilter): boolean {
  const onDay = (ms: number | undefined): boolean => ms === undefined || (Number.isSafeInteger(ms) && dayOf(ms) === ms);
  return onDay(filter.since) && onDay(filter.until);
}

/** The measurement figures from the per-day aggregates: the same rows as the exact query, without reading every measurement. */
function measurementsFromDays(filter: StatsFilter): Query {
  const where = ['1 = 1'];
  const params: Array<string | number> = [];
  const add = (clause: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('procedure_id = ? AND (nulls & 1) = 0', filter.procedure);
  add('station = ?', filter.station);
  add('day >= ?', filter.since);
  add('day < ?', filter.until);
  return {
    sql: `SELECT name, units, lower_limit, upper_limit, sum(n) AS n, sum(total) AS total, sum(squares) AS squares,
        min(min_value) AS min_value, max(max_value) AS max_value, sum(failures) AS failures
      FROM (SELECT name, CASE WHEN (nulls & 2) = 0 THEN units END AS units, CASE WHEN (nulls & 4) = 0 THEN lower_limit END AS lower_limit,
          CASE WHEN (nulls & 8) = 0 THEN upper_limit END AS upper_limit, n, total, squares, min_value, max_value, failures
        FROM measurement_days WHERE ${where.join(' AND ')}) AS days
      GROUP BY name, units, lower_limit, upper_limit ORDER BY name, units, lower_limit, upper_limit`,
    params,
  };
}

/**
 * The statistics queries of `kiso runs stats`: yield per procedure, runs per station, numeric measurements.
 * Measurements come from the per-day aggregates when they answer the filter, else from every row (`exact`).
 */
export function statsQueries(filter: StatsFilter, options: { exact?: boolean } = {}): { yield: Query; stations: Query; measurements: Query } {
  const runs = statsWhere(filter, true);
  // Measurement rows exist for complete runs only (a run in progress is the record alone).
  const measurements = statsWhere(filter, false);
  const fromDays = !options.exact && aggregatesAnswer(filter);
  return {
    yield: {
      sql: `WITH r AS (SELECT procedure_id, serial_number, outcome, started_ms, id FROM runs WHERE ${runs.where}),
        ranked AS (
          SELECT procedure_id, serial_number, outcome,
            row_number() OVER (PARTITION BY procedure_id, serial_number ORDER BY started_ms, id) AS first_rank,
            row_number() OVER (PARTITION BY procedure_id, serial_number ORDER BY started_ms DESC, id DESC) AS last_rank
          FROM r WHERE serial_number IS NOT NULL),
        units AS (
          SELECT procedure_id,
            sum(CASE WHEN first_rank = 1 THEN 1 ELSE 0 END) AS units,
            sum(CASE WHEN first_rank = 1 AND outcome = 'PASS' THEN 1 ELSE 0 END) AS first_pass,
            sum(CASE WHEN last_rank = 1 AND outcome = 'PASS' THEN 1 ELSE 0 END) AS final_pass
          FROM ranked GROUP BY procedure_id),
        totals AS (
          SELECT procedure_id, count(*) AS runs, sum(CASE WHEN outcome = 'PASS' THEN 1 ELSE 0 END) AS passed_runs
          FROM r GROUP BY procedure_id)
        SELECT totals.procedure_id, totals.runs, totals.passed_runs, units.units, units.first_pass, units.final_pass
        FROM totals LEFT JOIN units ON units.procedure_id = totals.procedure_id OR (units.procedure_id IS NULL AND totals.procedure_id IS NULL)
        ORDER BY totals.procedure_id`,
      params: runs.params,
    },
    stations: {
      sql: `SELECT station, count(*) AS runs, sum(CASE WHEN outcome = 'PASS' THEN 1 ELSE 0 END) AS passed_runs FROM runs WHERE ${runs.where} GROUP BY station ORDER BY station`,
      params: runs.params,
    },
    measurements: fromDays ? measurementsFromDays(filter) : {
      sql: `SELECT name, units, lower_limit, upper_limit, count(value_num) AS n, sum(value_num) AS total, sum(value_num * value_num) AS squares,
          min(value_num) AS min_value, max(value_num) AS max_value,
          sum(CASE WHEN outcome = 'FAIL' OR outcome = 'ERROR' THEN 1 ELSE 0 END) AS failures
        FROM measurements WHERE ${measurements.where}
        GROUP BY name, units, lower_limit, upper_limit ORDER BY name, units, lower_limit, upper_limit`,
      params: measurements.params,
    },
  };
}

const RUN_WRITE_COLUMNS = 'id, started_at, started_ms, duration_ms, outcome, serial_number, part_number, revision, batch_number, procedure_id, procedure_version, station, passed, failed, errors, skipped, total, complete, record';
const RUN_UPDATES = RUN_WRITE_COLUMNS.split(', ')
  .filter((column) => column !== 'id')
  .map((column) => `${column} = excluded.${column}`)
  .join(', ');

/** Inserts or replaces a run's row; `rows` runs of 19 values each (RUN_COLUMNS, complete, record). */
export function upsertRunsSql(rows: number, extraColumns = ''): string {
  const width = 19 + (extraColumns ? extraColumns.split(',').length : 0);
  const values = Array.from({ length: rows }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');
  const extra = extraColumns ? `, ${extraColumns}` : '';
  const extraUpdates = extraColumns ? `, ${extraColumns.split(',').map((c) => `${c.trim()} = excluded.${c.trim()}`).join(', ')}` : '';
  return `INSERT INTO runs (${RUN_WRITE_COLUMNS}${extra}) VALUES ${values} ON CONFLICT (id) DO UPDATE SET ${RUN_UPDATES}${extraUpdates}`;
}

/** A unit's row: first and last run times, and the part, revision and batch of its latest run. */
export function upsertUnitsSql(rows: number): string {
  const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ');
  return `INSERT INTO units (serial_number, part_number, revision, batch_number, first_run_at, last_run_at) VALUES ${values}
    ON CONFLICT (serial_number) DO UPDATE SET
      part_number = CASE WHEN excluded.last_run_at >= units.last_run_at THEN excluded.part_number ELSE units.part_number END,
      revision = CASE WHEN excluded.last_run_at >= units.last_run_at THEN excluded.revision ELSE units.revision END,
      batch_number = CASE WHEN excluded.last_run_at >= units.last_run_at THEN excluded.batch_number ELSE units.batch_number END,
      first_run_at = CASE WHEN excluded.first_run_at < units.first_run_at THEN excluded.first_run_at ELSE units.first_run_at END,
      last_run_at = CASE WHEN excluded.last_run_at > units.last_run_at THEN excluded.last_run_at ELSE units.last_run_at END`;
}

export function insertRowsSql(table: string, columns: readonly string[], rows: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`;
}

export const CHILD_TABLES = ['phases', 'measurements', 'logs', 'attachments'] as const;
