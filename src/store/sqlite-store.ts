import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describeError, KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { RunRecord } from '../results/record/types.js';
import { ATTACHMENT_COLUMNS, LOG_COLUMNS, MEASUREMENT_COLUMNS, measurementDayRows, PHASE_COLUMNS, recordRows, runValues, summaryOf, type Cell, type RecordRows } from './rows.js';
import { addMeasurementDaysSql, CHILD_TABLES, DAY_MS, dayOf, insertRowsSql, RECOMPUTE_MEASUREMENT_DAY, listQuery, MIGRATIONS, MIGRATIONS_TABLE, statsQueries, upsertRunsSql, upsertUnitsSql } from './schema.js';
import { migrateFileStore } from './migrate-files.js';
import { statsFromRows } from './stats.js';
import type { ListFilter, RunStats, RunSummary, StatsFilter } from './types.js';

/**
 * The station's store: one SQLite database (`kiso.db`, WAL mode) in the
 * store folder, attachments as files beside it named by their SHA-1
 * (`attachments/ab/ab12...`). A run is one transaction: its row, its unit,
 * its phases, measurements, logs and attachment references, and, when a
 * fleet store is configured, its place in the outbox. Several kiso
 * processes write the same store at once: SQLite serialises the writers
 * (each waits for the other's transaction, up to BUSY_TIMEOUT_MS).
 *
 * A run in progress is its record alone (`complete = 0`, rewritten as phases
 * end); the commit at its end writes the rows that queries read.
 */

export const DB_FILE = 'kiso.db';
/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

export interface StationStoreOptions {
  /** Queue every committed run for the fleet store. */
  outbox?: boolean;
  /** Migrate a file store (records/, index/) found in the folder when the database is new. Default true. */
  migrateFiles?: boolean;
  log?: Logger;
}

export interface OutboxEntry {
  seq: number;
  run_id: string;
  attempts: number;
  last_error: string | null;
}

function writeAtomic(file: string, data: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/** Runs `work` again while another process holds the database (SQLITE_BUSY), up to BUSY_TIMEOUT_MS. */
function whenNotBusy<T>(work: () => T): T {
  const until = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() > until) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export function sha1Of(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

export class StationStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private outboxEnabled: boolean;

  private constructor(readonly root: string, db: Database.Database, options: StationStoreOptions) {
    this.file = path.join(root, DB_FILE);
    this.db = db;
    this.outboxEnabled = options.outbox ?? false;
  }

  /** Opens (creating when needed) the store in `root`, applies missing migrations, migrates a file store found there. */
  static open(root: string, options: StationStoreOptions = {}): StationStore {
    let db: Database.Database;
    try {
      mkdirSync(root, { recursive: true });
      db = new Database(path.join(root, DB_FILE), { timeout: BUSY_TIMEOUT_MS });
      // Switching a new database to WAL takes it whole, and SQLite answers a second process doing the same at that
      // moment with SQLITE_BUSY at once, without waiting: wait and try again.
      whenNotBusy(() => db.pragma('journal_mode = WAL'));
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // Statistics group millions of measurement rows: sort in memory, with a cache that holds the working set.
      db.pragma('temp_store = MEMORY');
      db.pragma('cache_size = -65536');
    } catch (error) {
      throw new KisoError('KISO_STORE', `cannot open the station store ${path.join(root, DB_FILE)}: ${describeError(error)}`, { cause: error });
    }
    const store = new StationStore(root, db, options);
    try {
      whenNotBusy(() => store.migrateSchema());
      if (options.migrateFiles !== false) store.migrateFileStoreOnce(options.log);
    } catch (error) {
      db.close();
      throw error instanceof KisoError ? error : new KisoError('KISO_STORE', `cannot prepare the station store ${store.file}: ${describeError(error)}`, { cause: error });
    }
    return store;
  }

  get location(): string {
    return this.file;
  }

  /** Queue committed runs for the fleet from now on. */
  enableOutbox(): void {
    this.outboxEnabled = true;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private migrateSchema(): void {
    this.db.exec(MIGRATIONS_TABLE('sqlite'));
    this.db
      .transaction(() => {
        const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          for (const sql of migration.statements('sqlite')) this.db.exec(sql);
          this.db.prepare('INSERT INTO schema_migrations (version, description) VALUES (?, ?)').run(migration.version, migration.description);
        }
      })
      .immediate();
  }

  schemaVersion(): number {
    return (this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  meta(key: string): string | undefined {
    return (this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** The first open of a folder that holds a file store imports it (`kiso runs migrate` does it again on demand). */
  private migrateFileStoreOnce(log: Logger | undefined): void {
    if (!existsSync(path.join(this.root, 'records')) || this.meta('file_store_migrated_at')) return;
    const report = migrateFileStore(this, this.root, log);
    log?.info(report, `migrated the file store in ${this.root} into ${this.file}`);
  }

  // ---- writing -------------------------------------------------------------------------------

  /** The path of an attachment's stored copy: named by its SHA-1, beside the database. */
  attachmentFile(sha1: string): string {
    return path.join(this.root, 'attachments', sha1.slice(0, 2), sha1);
  }

  /** Stores an attachment's bytes (content-addressed, so the same file twice is stored once). Returns where. */
  writeAttachment(_runId: string, _relativePath: string, data: Uint8Array): string {
    const file = this.attachmentFile(sha1Of(data));
    if (!existsSync(file)) writeAtomic(file, data);
    return file;
  }

  /** A run in progress: its record, rewritten as phases end, invisible to queries until committed. */
  writeRecord(record: RunRecord, _durable?: boolean): string {
    const rows = recordRows(record);
    this.db
      .transaction(() => {
        // Never turn a committed run back into a partial one (a late partial write after the commit).
        const existing = this.statement('SELECT complete FROM runs WHERE id = ?').get(record.id) as { complete: number } | undefined;
        if (existing?.complete) return;
        this.statement(upsertRunsSql(1)).run(...runValues(rows.run), 0, JSON.stringify(record));
      })
      .immediate();
    return this.file;
  }

  /** The final record of a run, with every row queries read, in one transaction; queued for the fleet when one is configured. */
  commit(record: RunRecord): string {
    const rows = recordRows(record);
    this.db.transaction(() => this.commitRows(rows, JSON.stringify(record), this.outboxEnabled)).immediate();
    return this.file;
  }

  /** Commits several records in one transaction (migration, tests, bench fill). */
  commitMany(records: RunRecord[], options: { complete?: (record: RunRecord) => boolean } = {}): void {
    this.db
      .transaction(() => {
        for (const record of records) {
          const complete = options.complete ? options.complete(record) : true;
          if (complete) this.commitRows(recordRows(record), JSON.stringify(record), this.outboxEnabled);
          else this.statement(upsertRunsSql(1)).run(...runValues(recordRows(record).run), 0, JSON.stringify(record));
        }
      })
      .immediate();
  }

  hasRun(id: string): boolean {
    return this.statement('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
  }

  private commitRows(rows: RecordRows, recordJson: string, queue: boolean): void {
    const id = rows.run.id;
    // A committed run written again: its old measurements leave the aggregates of its (procedure, day), recomputed below.
    const before = this.statement('SELECT procedure_id, started_ms FROM runs WHERE id = ? AND complete = 1').get(id) as { procedure_id: string | null; started_ms: number } | undefined;
    const recompute = new Map<string, [string | null, number]>();
    if (before) {
      for (const [procedure, ms] of [[before.procedure_id, Number(before.started_ms)], [rows.run.procedure_id, rows.run.started_ms]] as const) recompute.set(JSON.stringify([procedure, dayOf(ms)]), [procedure, dayOf(ms)]);
    }
    for (const table of CHILD_TABLES) this.statement(`DELETE FROM ${table} WHERE run_id = ?`).run(id);
    this.statement(upsertRunsSql(1)).run(...runValues(rows.run), 1, recordJson);
    if (rows.run.serial_number) this.statement(upsertUnitsSql(1)).run(rows.run.serial_number, rows.run.part_number, rows.run.revision, rows.run.batch_number, rows.run.started_at, rows.run.started_at);
    const insert = (table: string, columns: readonly string[], list: Cell[][]): void => {
      const statement = this.statement(insertRowsSql(table, columns, 1));
      for (const values of list) statement.run(...values);
    };
    insert('phases', PHASE_COLUMNS, rows.phases);
    insert('measurements', MEASUREMENT_COLUMNS, rows.measurements);
    insert('logs', LOG_COLUMNS, rows.logs);
    insert('attachments', ATTACHMENT_COLUMNS, rows.attachments);
    const add = this.statement(addMeasurementDaysSql(1));
    for (const values of measurementDayRows(rows.measurements, (procedure, day) => recompute.has(JSON.stringify([procedure, day])))) add.run(...values);
    for (const [procedure, day] of recompute.values()) {
      this.statement(RECOMPUTE_MEASUREMENT_DAY.remove).run(procedure, procedure === null ? 1 : 0, day);
      this.statement(RECOMPUTE_MEASUREMENT_DAY.insert).run(procedure, day, day + DAY_MS);
    }
    if (queue) this.statement('INSERT INTO outbox (run_id) VALUES (?) ON CONFLICT (run_id) DO NOTHING').run(id);
  }

  /**
   * Commits the runs left in progress (their kiso was killed before the run
   * ended), as their last record says: ERROR, KISO_RUN_INCOMPLETE. Run it
   * while no kiso runs. Returns how many.
   */
  reindex(): number {
    const left = this.db.prepare('SELECT record FROM runs WHERE complete = 0').all() as Array<{ record: string }>;
    this.commitMany(left.map((row) => JSON.parse(row.record) as RunRecord));
    return left.length;
  }

  // ---- reading -------------------------------------------------------------------------------

  list(filter: ListFilter = {}): RunSummary[] {
    const query = listQuery(filter);
    return (this.statement(query.sql).all(...query.params) as Array<Record<string, unknown>>).map(summaryOf);
  }

  count(): number {
    return (this.statement('SELECT count(*) AS n FROM runs WHERE complete = 1').get() as { n: number }).n;
  }

  /** A run by id, or by an unambiguous prefix of at least the date and time (`20251123-1031`). */
  resolveId(idOrPrefix: string): string {
    if (this.statement('SELECT 1 FROM runs WHERE id = ?').get(idOrPrefix)) return idOrPrefix;
    if (!/^\d{8}-\d{2,6}/.test(idOrPrefix)) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.file} (give the id kiso printed, e.g. 20251123-103112-k3f9q2a1, or its first characters)`);
    const matches = (this.statement('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6').all(idOrPrefix, `${idOrPrefix}\u{10FFFF}`) as Array<{ id: string }>).map((r) => r.id);
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.file}`);
    throw new KisoError('KISO_STORE', `"${idOrPrefix}" matches ${matches.length > 5 ? 'more than 5' : matches.length} runs (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', ...' : ''}): give more of the id`);
  }

  read(idOrPrefix: string): RunRecord {
    const id = this.resolveId(idOrPrefix);
    return JSON.parse((this.statement('SELECT record FROM runs WHERE id = ?').get(id) as { record: string }).record) as RunRecord;
  }

  /** The bytes of an attachment of a record, by its `path` in the record. */
  readAttachment(record: RunRecord, relativePath: string): Buffer | undefined {
    const ref = record.phases.flatMap((phase) => phase.attachments).find((a) => a.path === relativePath);
    if (!ref) return undefined;
    const file = this.attachmentFile(ref.sha1);
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  /** `exact` reads every measurement row even where the per-day aggregates answer (tests compare both). */
  stats(filter: StatsFilter = {}, options: { exact?: boolean } = {}): RunStats {
    const queries = statsQueries(filter, options);
    const all = (q: { sql: string; params: Array<string | number> }): Array<Record<string, unknown>> => this.statement(q.sql).all(...q.params) as Array<Record<string, unknown>>;
    return statsFromRows(filter, all(queries.yield), all(queries.stations), all(queries.measurements));
  }

  // ---- the outbox ----------------------------------------------------------------------------

  /** Runs waiting for the fleet, oldest first. */
  pending(limit: number): Array<OutboxEntry & { record: string }> {
    return this.statement('SELECT outbox.seq, outbox.run_id, outbox.attempts, outbox.last_error, runs.record FROM outbox JOIN runs ON runs.id = outbox.run_id ORDER BY outbox.seq LIMIT ?').all(limit) as Array<OutboxEntry & { record: string }>;
  }

  outboxSize(): number {
    return (this.statement('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** The fleet has these runs: out of the outbox. */
  delivered(seqs: number[]): void {
    const remove = this.statement('DELETE FROM outbox WHERE seq = ?');
    this.db.transaction(() => seqs.forEach((seq) => remove.run(seq))).immediate();
  }

  /** A push failed: counted and said on the oldest waiting run. */
  deliveryFailed(seq: number, error: string): void {
    this.statement('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?').run(error.slice(0, 500), seq);
  }

  /** Puts every committed run the outbox does not hold yet into it (`kiso runs sync --all`). Returns how many. */
  queueAll(): number {
    return this.db.prepare('INSERT INTO outbox (run_id) SELECT id FROM runs WHERE complete = 1 AND id NOT IN (SELECT run_id FROM outbox) ORDER BY started_ms, id ON CONFLICT (run_id) DO NOTHING').run().changes;
  }

  // ---- stations (the fleet's list, as last fetched) ------------------------------------------

  /** The procedures the fleet linked to this station, as last fetched; undefined when never fetched. */
  cachedStationProcedures(station: string): string[] | undefined {
    const known = this.meta(`station_fetched:${station}`);
    if (!known) return undefined;
    return (this.statement('SELECT procedure_id FROM station_procedures WHERE station = ? ORDER BY procedure_id').all(station) as Array<{ procedure_id: string }>).map((r) => r.procedure_id);
  }

  cacheStationProcedures(station: string, procedures: string[]): void {
    this.db
      .transaction(() => {
        this.statement('INSERT INTO stations (name) VALUES (?) ON CONFLICT (name) DO NOTHING').run(station);
        this.statement('DELETE FROM station_procedures WHERE station = ?').run(station);
        for (const procedure of procedures) this.statement('INSERT INTO station_procedures (station, procedure_id) VALUES (?, ?)').run(station, procedure);
        this.setMeta(`station_fetched:${station}`, new Date().toISOString());
      })
      .immediate();
  }

  close(): void {
    this.db.close();
  }
}
