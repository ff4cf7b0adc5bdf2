import pg from 'pg';
import { describeError, KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { RunRecord } from '../results/record/types.js';
import { redactUrl } from './location.js';
import { ATTACHMENT_COLUMNS, LOG_COLUMNS, MEASUREMENT_COLUMNS, measurementDayRows, PHASE_COLUMNS, recordRows, runValues, summaryOf, type Cell, type RecordRows } from './rows.js';
import { addMeasurementDaysSql, CHILD_TABLES, DAY_MS, dayOf, forDialect, insertRowsSql, MEASUREMENT_DAY_COLUMNS, RECOMPUTE_MEASUREMENT_DAY, listQuery, MIGRATIONS, MIGRATIONS_TABLE, statsQueries, upsertRunsSql, upsertUnitsSql, type Query } from './schema.js';
import { statsFromRows } from './stats.js';
import type { ListFilter, RunStats, RunSummary, StationEntry, StatsFilter } from './types.js';

/**
 * The fleet store: one PostgreSQL database every station pushes its runs
 * into, with the station store's schema (schema.ts) and queries. Pushing is
 * idempotent by run id: a run pushed twice (a sync cut off after the fleet
 * committed, before the station heard it) replaces itself, so the fleet
 * holds each run once. Attachments travel as bytes, stored once per SHA-1.
 *
 * Errors never carry the password: every message kiso builds names the URL
 * redacted, and the password's text is cut from whatever the driver says.
 */

/** PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMS = 30_000;
/** Any number: the advisory lock that keeps two stations from migrating the schema at once. */
const MIGRATION_LOCK = 741_852_963;

/** Network codes, and PostgreSQL's connection and shutdown classes (08, 57P): the fleet is not there now. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

export function unreachable(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  if (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(describeError(error));
}

export interface FleetStoreOptions {
  /** The role's password; default `$KISO_STORE_PASSWORD` (the driver also reads `$PGPASSWORD`). */
  password?: string;
  log?: Logger;
  /** Give up connecting after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface PushEntry {
  record: RunRecord;
  /** The bytes of the record's attachments, by SHA-1. */
  blobs: Map<string, Uint8Array>;
}

export class FleetStore {
  private role = '';

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
    private readonly secret: string | undefined,
  ) {}

  /** Connects, then applies the migrations the database lacks (one station at a time). */
  static async open(url: string, options: FleetStoreOptions = {}): Promise<FleetStore> {
    const env = options.env ?? process.env;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new KisoError('KISO_USAGE', `the fleet store URL ${redactUrl(url)} is not a URL: write postgres://ROLE@HOST:PORT/DATABASE`);
    }
    const password = options.password ?? (env.KISO_STORE_PASSWORD || undefined) ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
    // The driver lets the connection string win over a separate password: the password goes into the string kiso never shows.
    if (password !== undefined) parsed.password = encodeURIComponent(password);
    const pool = new pg.Pool({
      connectionString: parsed.toString(),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      max: 4,
      application_name: 'kiso',
    });
    const store = new FleetStore(pool, redactUrl(url), password);
    // A server that goes away under an idle connection must not take kiso down: the next query says so.
    pool.on('error', (error) => options.log?.warn(`fleet store ${store.location}: ${store.scrub(describeError(error))}`));
    try {
      await store.migrate();
      store.role = String(((await pool.query('SELECT current_user AS role')).rows[0] as { role: string }).role);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw store.error('cannot open', error);
    }
    return store;
  }

  /** Cuts the password out of a driver message, whatever its form. */
  private scrub(message: string): string {
    if (!this.secret) return message;
    return message.split(this.secret).join('***').split(encodeURIComponent(this.secret)).join('***');
  }

  private error(what: string, error: unknown): KisoError {
    if (error instanceof KisoError) return error;
    if (/client password must be a string/.test(describeError(error))) {
      return new KisoError('KISO_STORE', `fleet store ${this.location}: ${what}: the server asks for a password and none was given: set KISO_STORE_PASSWORD (or PGPASSWORD) for the role of the URL`);
    }
    return new KisoError(unreachable(error) ? 'KISO_STORE_UNREACHABLE' : 'KISO_STORE', `fleet store ${this.location}: ${what}: ${this.scrub(describeError(error)) || (error as { code?: string }).code || 'connection failed'}`);
  }

  private async query(query: Query | string, params: Cell[] = []): Promise<Array<Record<string, unknown>>> {
    const sql = typeof query === 'string' ? query : query.sql;
    const values = typeof query === 'string' ? params : query.params;
    try {
      return (await this.pool.query(forDialect(sql, 'postgres'), values)).rows as Array<Record<string, unknown>>;
    } catch (error) {
      throw this.error('query failed', error);
    }
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.error('cannot connect', error);
    }
    // A server that dies mid-transaction makes the client emit 'error' besides failing the query: the query's failure says it.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.error('transaction failed', error);
    } finally {
      client.off('error', ignore);
      client.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(MIGRATIONS_TABLE('postgres'));
      const applied = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => Number(r.version)));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        for (const sql of migration.statements('postgres')) await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
      }
    });
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.query('SELECT max(version) AS v FROM schema_migrations'))[0]!.v);
  }

  /** Rows in as few statements as the parameter limit allows. */
  private static async insertMany(client: pg.PoolClient, table: string, columns: readonly string[], rows: Cell[][]): Promise<void> {
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      await client.query(forDialect(insertRowsSql(table, columns, chunk.length), 'postgres'), chunk.flat());
    }
  }

  /**
   * Pushes runs in one transaction, in the order given: each replaces any
   * earlier copy of itself (idempotent by run id), with its unit and its
   * attachments' bytes.
   */
  async push(entries: PushEntry[]): Promise<void> {
    if (!entries.length) return;
    const all: Array<{ rows: RecordRows; json: string }> = entries.map((entry) => ({ rows: recordRows(entry.record), json: JSON.stringify(entry.record) }));
    const ids = all.map((entry) => entry.rows.run.id);
    const blobs = new Map<string, Uint8Array>();
    for (const entry of entries) for (const [sha1, data] of entry.blobs) blobs.set(sha1, data);
    // One row per unit: its first run, and the part, revision and batch of its latest.
    const units = new Map<string, Cell[]>();
    for (const { rows } of all) {
      const run = rows.run;
      if (!run.serial_number) continue;
      const seen = units.get(run.serial_number);
      if (!seen) units.set(run.serial_number, [run.serial_number, run.part_number, run.revision, run.batch_number, run.started_at, run.started_at]);
      else {
        if (run.started_at < String(seen[4])) seen[4] = run.started_at;
        if (run.started_at >= String(seen[5])) units.set(run.serial_number, [run.serial_number, run.part_number, run.revision, run.batch_number, seen[4]!, run.started_at]);
      }
    }
    await this.transaction(async (client) => {
      // Runs the fleet has already (pushed again): the aggregates of their (procedure, day), old and new, are recomputed below.
      const before = (await client.query('SELECT id, procedure_id, started_ms FROM runs WHERE id = ANY($1) AND complete = 1 FOR UPDATE', [ids])).rows as Array<{ id: string; procedure_id: string | null; started_ms: string }>;
      const recompute = new Map<string, [string | null, number]>();
      const again = new Set(before.map((row) => row.id));
      const mark = (procedure: string | null, ms: number): void => void recompute.set(JSON.stringify([procedure, dayOf(ms)]), [procedure, dayOf(ms)]);
      for (const row of before) mark(row.procedure_id, Number(row.started_ms));
      for (const { rows } of all) if (again.has(rows.run.id)) mark(rows.run.procedure_id, rows.run.started_ms);
      for (const table of CHILD_TABLES) await client.query(`DELETE FROM ${table} WHERE run_id = ANY($1)`, [ids]);
      const runWidth = 20;
      const perStatement = Math.floor(MAX_PARAMS / runWidth);
      for (let start = 0; start < all.length; start += perStatement) {
        const chunk = all.slice(start, start + perStatement);
        await client.query(forDialect(upsertRunsSql(chunk.length, 'received_by'), 'postgres'), chunk.flatMap((entry) => [...runValues(entry.rows.run), 1, entry.json, this.role]));
      }
      const unitRows = [...units.values()];
      for (let start = 0; start < unitRows.length; start += 5000) {
        const chunk = unitRows.slice(start, start + 5000);
        await client.query(forDialect(upsertUnitsSql(chunk.length), 'postgres'), chunk.flat());
      }
      await FleetStore.insertMany(client, 'phases', PHASE_COLUMNS, all.flatMap((entry) => entry.rows.phases));
      await FleetStore.insertMany(client, 'measurements', MEASUREMENT_COLUMNS, all.flatMap((entry) => entry.rows.measurements));
      await FleetStore.insertMany(client, 'logs', LOG_COLUMNS, all.flatMap((entry) => entry.rows.logs));
      await FleetStore.insertMany(client, 'attachments', ATTACHMENT_COLUMNS, all.flatMap((entry) => entry.rows.attachments));
      if (recompute.size) {
        // Holds off other pushers' additions until this commits: they add to the recomputed rows, never into a gap.
        await client.query('LOCK TABLE measurement_days IN SHARE ROW EXCLUSIVE MODE');
        for (const [procedure, day] of recompute.values()) {
          await client.query(forDialect(RECOMPUTE_MEASUREMENT_DAY.remove, 'postgres'), [procedure, procedure === null ? 1 : 0, day]);
          await client.query(forDialect(RECOMPUTE_MEASUREMENT_DAY.insert, 'postgres'), [procedure, day, day + DAY_MS]);
        }
      }
      const days = measurementDayRows(all.flatMap((entry) => entry.rows.measurements), (procedure, day) => recompute.has(JSON.stringify([procedure, day])));
      const daysPerStatement = Math.floor(MAX_PARAMS / MEASUREMENT_DAY_COLUMNS.split(', ').length);
      for (let start = 0; start < days.length; start += daysPerStatement) {
        const chunk = days.slice(start, start + daysPerStatement);
        await client.query(forDialect(addMeasurementDaysSql(chunk.length), 'postgres'), chunk.flat());
      }
      if (blobs.size) {
        const present = new Set((await client.query('SELECT sha1 FROM attachment_blobs WHERE sha1 = ANY($1)', [[...blobs.keys()]])).rows.map((r: { sha1: string }) => r.sha1));
        for (const [sha1, data] of blobs) {
          if (!present.has(sha1)) await client.query('INSERT INTO attachment_blobs (sha1, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha1) DO NOTHING', [sha1, data.length, Buffer.from(data)]);
        }
      }
    });
  }

  async list(filter: ListFilter = {}): Promise<RunSummary[]> {
    return (await this.query(listQuery(filter))).map(summaryOf);
  }

  async count(): Promise<number> {
    return Number((await this.query('SELECT count(*) AS n FROM runs WHERE complete = 1'))[0]!.n);
  }

  async resolveId(idOrPrefix: string): Promise<string> {
    if ((await this.query('SELECT 1 FROM runs WHERE id = ?', [idOrPrefix])).length) return idOrPrefix;
    if (!/^\d{8}-\d{2,6}/.test(idOrPrefix)) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.location} (give the id kiso printed, e.g. 20251123-103112-k3f9q2a1, or its first characters)`);
    const matches = (await this.query('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6', [idOrPrefix, `${idOrPrefix}\u{10FFFF}`])).map((r) => String(r.id));
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.location}`);
    throw new KisoError('KISO_STORE', `"${idOrPrefix}" matches ${matches.length > 5 ? 'more than 5' : matches.length} runs (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', ...' : ''}): give more of the id`);
  }

  async read(idOrPrefix: string): Promise<RunRecord> {
    const id = await this.resolveId(idOrPrefix);
    return JSON.parse(String((await this.query('SELECT record FROM runs WHERE id = ?', [id]))[0]!.record)) as RunRecord;
  }

  /** Which station pushed a run, with which role, and when the fleet got it. */
  async receipt(id: string): Promise<{ station: string; received_by: string | null; received_at: string } | undefined> {
    const row = (await this.query('SELECT station, received_by, received_at FROM runs WHERE id = ?', [id]))[0];
    return row ? { station: String(row.station), received_by: (row.received_by as string | null) ?? null, received_at: String(row.received_at) } : undefined;
  }

  async attachments(record: RunRecord): Promise<Map<string, Uint8Array>> {
    const refs = record.phases.flatMap((phase) => phase.attachments);
    const found = new Map<string, Uint8Array>();
    if (!refs.length) return found;
    const rows = await this.query('SELECT sha1, data FROM attachment_blobs WHERE sha1 = ANY(?)', [[...new Set(refs.map((r) => r.sha1))]] as unknown as Cell[]);
    const bySha = new Map(rows.map((r) => [String(r.sha1), r.data as Buffer]));
    for (const ref of refs) {
      const data = bySha.get(ref.sha1);
      if (data) found.set(ref.path, data);
    }
    return found;
  }

  /** `exact` reads every measurement row even where the per-day aggregates answer (tests compare both). */
  async stats(filter: StatsFilter = {}, options: { exact?: boolean } = {}): Promise<RunStats> {
    const queries = statsQueries(filter, options);
    const [yieldRows, stationRows, measurementRows] = await Promise.all([this.query(queries.yield), this.query(queries.stations), this.query(queries.measurements)]);
    return statsFromRows(filter, yieldRows, stationRows, measurementRows);
  }

  // ---- stations ------------------------------------------------------------------------------

  async stations(): Promise<StationEntry[]> {
    const rows = await this.query('SELECT stations.name, station_procedures.procedure_id FROM stations LEFT JOIN station_procedures ON station_procedures.station = stations.name ORDER BY stations.name, station_procedures.procedure_id');
    const byName = new Map<string, string[]>();
    for (const row of rows) {
      const list = byName.get(String(row.name)) ?? [];
      if (row.procedure_id !== null) list.push(String(row.procedure_id));
      byName.set(String(row.name), list);
    }
    return [...byName].map(([name, procedures]) => ({ name, procedures }));
  }

  /** The procedures linked to a station; undefined when the fleet does not know the station. */
  async stationProcedures(name: string): Promise<string[] | undefined> {
    return (await this.stations()).find((station) => station.name === name)?.procedures;
  }

  async addStation(name: string, procedures: string[]): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('INSERT INTO stations (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
      for (const procedure of procedures) await client.query('INSERT INTO station_procedures (station, procedure_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, procedure]);
    });
  }

  async unlinkProcedures(name: string, procedures: string[]): Promise<void> {
    await this.query('DELETE FROM station_procedures WHERE station = ? AND procedure_id = ANY(?)', [name, procedures] as unknown as Cell[]);
  }

  async removeStation(name: string): Promise<void> {
    await this.query('DELETE FROM stations WHERE name = ?', [name]);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
