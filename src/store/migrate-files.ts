import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logging.js';
import type { RunRecord } from '../results/record/types.js';

/**
 * Imports a file store (what kiso wrote before SQLite: records/YYYY-MM/ID.json,
 * ID.files/ beside it, index/*.ndjson) into the station database. Nothing is
 * lost and nothing is removed: every record file becomes a run (an indexed
 * one committed, one that was never indexed — its kiso was killed — stays in
 * progress, as before, for `kiso runs reindex`), every attachment is copied
 * in by its SHA-1 and checked against it. The files stay where they are.
 * A run already in the database is left as it is, so migrating twice adds
 * nothing.
 */

/** What the migration needs of the station store (declared here: the store imports this file, not the other way). */
export interface MigrationTarget {
  hasRun(id: string): boolean;
  commitMany(records: RunRecord[], options: { complete: (record: RunRecord) => boolean }): void;
  writeAttachment(runId: string, relativePath: string, data: Uint8Array): string;
  setMeta(key: string, value: string): void;
}

export interface MigrationReport {
  /** Record files found. */
  records: number;
  /** Runs added to the database. */
  migrated: number;
  /** Of those, runs that were never indexed (kept in progress). */
  unindexed: number;
  /** Runs the database already had. */
  already: number;
  attachments: number;
  /** Attachments referenced by a record whose file is missing or does not match its SHA-1. */
  missingAttachments: string[];
  /** Files under records/ that are not readable records. */
  unreadable: string[];
}

const BATCH = 500;

function indexedIds(root: string): Set<string> {
  const file = path.join(root, 'index', 'runs.ndjson');
  const ids = new Set<string>();
  if (!existsSync(file)) return ids;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { id?: unknown };
      if (typeof entry.id === 'string') ids.add(entry.id);
    } catch {
      // a line cut by a power loss: its record file is still migrated (as unindexed)
    }
  }
  return ids;
}

export function migrateFileStore(store: MigrationTarget, root: string, log?: Logger): MigrationReport {
  const report: MigrationReport = { records: 0, migrated: 0, unindexed: 0, already: 0, attachments: 0, missingAttachments: [], unreadable: [] };
  const recordsDir = path.join(root, 'records');
  const indexed = indexedIds(root);
  let batch: RunRecord[] = [];
  const flush = (): void => {
    if (!batch.length) return;
    store.commitMany(batch, { complete: (record) => indexed.has(record.id) });
    batch = [];
  };
  for (const month of existsSync(recordsDir) ? readdirSync(recordsDir).sort() : []) {
    const monthDir = path.join(recordsDir, month);
    for (const name of readdirSync(monthDir).sort()) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(monthDir, name);
      let record: RunRecord;
      try {
        record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
        if (typeof record.id !== 'string' || !Array.isArray(record.phases)) throw new Error('not a run record');
      } catch (error) {
        report.unreadable.push(path.relative(root, file));
        log?.warn({ file, err: error }, 'not a run record: left out of the migration');
        continue;
      }
      report.records++;
      if (store.hasRun(record.id)) {
        report.already++;
        continue;
      }
      for (const attachment of record.phases.flatMap((phase) => phase.attachments)) {
        const stored = path.join(monthDir, attachment.path);
        const data = existsSync(stored) ? readFileSync(stored) : undefined;
        if (!data || createHash('sha1').update(data).digest('hex') !== attachment.sha1) {
          report.missingAttachments.push(path.relative(root, stored));
          continue;
        }
        store.writeAttachment(record.id, attachment.path, data);
        report.attachments++;
      }
      report.migrated++;
      if (!indexed.has(record.id)) report.unindexed++;
      batch.push(record);
      if (batch.length >= BATCH) flush();
    }
  }
  flush();
  store.setMeta('file_store_migrated_at', new Date().toISOString());
  return report;
}
