import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { KisoError } from '../core/errors.js';
import type { RunRecord } from '../results/record/types.js';
import { summaryOfRecord } from './rows.js';
import type { RunSummary } from './types.js';

/**
 * The file store kiso used before SQLite: plain files, no server. Kept to
 * read (and migrate) stores written by earlier kiso versions, and as the
 * baseline of the store benchmark.
 *
 *   records/2025-11/20251123-103112-k3f9q2a1.json        one run record
 *   records/2025-11/20251123-103112-k3f9q2a1.files/...   its attachments
 *   index/runs.ndjson                                    one line per run, every run
 *   index/serial/sn-0001.ndjson                          one line per run of that unit (named in lower case)
 *
 * A record is written to a temporary file and renamed, so a reader never sees
 * half of one. Index lines are appended with O_APPEND in one write each, which
 * the kernel keeps whole and in one piece when several kiso processes append
 * at once; the per-serial file makes a unit's history one small read however
 * big the store grows.
 */

/** One line of the index: what `kiso runs list` shows and filters on, and where the record is. */
export interface IndexEntry extends RunSummary {
  /** The record file, relative to the store. */
  file: string;
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

/**
 * Serial numbers match whatever their case, as TofuPilot matches them:
 * `sn-a-17` finds the runs of `SN-A-17`. Records keep the spelling they were given.
 */
export function serialKey(serial: string): string {
  return serial.toLowerCase();
}

/** A serial number as a file name: anything outside [A-Za-z0-9._-] is %-escaped, so no serial can name a path. */
export function serialFileName(serial: string): string {
  const safe = serial.replace(/[^A-Za-z0-9._-]/g, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return `${safe.startsWith('.') ? `%2E${safe.slice(1)}` : safe}.ndjson`;
}

function appendLine(file: string, line: string): void {
  // One write() of the whole line on an O_APPEND descriptor: concurrent appenders never interleave inside it.
  const fd = openSync(file, 'a');
  try {
    const buffer = Buffer.from(`${line}\n`, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
  } finally {
    closeSync(fd);
  }
}

function writeAtomic(file: string, data: string | Uint8Array, durable = false): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeFileSync(fd, data);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

export function indexEntry(record: RunRecord, file: string): IndexEntry {
  return { ...summaryOfRecord(record), file };
}

export class JsonFileStore {
  constructor(readonly root: string) {}

  private get indexFile(): string {
    return path.join(this.root, 'index', 'runs.ndjson');
  }

  private serialIndex(serial: string): string {
    return path.join(this.root, 'index', 'serial', serialFileName(serialKey(serial)));
  }

  /** The unit's index lines: its file, and the file a store older than case-insensitive lookup named with this exact spelling (until `kiso runs reindex`). */
  private serialLines(serial: string): string[] {
    const files = [...new Set([this.serialIndex(serial), path.join(this.root, 'index', 'serial', serialFileName(serial))])];
    return files.filter((file) => existsSync(file)).flatMap((file) => readFileSync(file, 'utf8').split('\n'));
  }

  /** records/YYYY-MM/ID.json, relative to the store: the id says where, so `show` needs no index. */
  relativeRecordPath(id: string): string {
    return path.join('records', `${id.slice(0, 4)}-${id.slice(4, 6)}`, `${id}.json`);
  }

  recordPath(id: string): string {
    return path.join(this.root, this.relativeRecordPath(id));
  }

  /** Writes (or rewrites) a record; partial records are rewritten as phases end. */
  writeRecord(record: RunRecord, durable = false): string {
    const file = this.recordPath(record.id);
    writeAtomic(file, `${JSON.stringify(record, null, 2)}\n`, durable);
    return file;
  }

  /** Stores an attachment at its record's `path` (relative to the record file). */
  writeAttachment(runId: string, relativePath: string, data: Uint8Array): string {
    const file = path.join(path.dirname(this.recordPath(runId)), relativePath);
    writeAtomic(file, data);
    return file;
  }

  /** The final record: written durably, then indexed. Returns the record file. */
  commit(record: RunRecord): string {
    const file = this.writeRecord(record, true);
    this.index(record);
    return file;
  }

  private index(record: RunRecord): void {
    mkdirSync(path.join(this.root, 'index', 'serial'), { recursive: true });
    const line = JSON.stringify(indexEntry(record, this.relativeRecordPath(record.id)));
    appendLine(this.indexFile, line);
    if (record.unit_under_test.serial_number) appendLine(this.serialIndex(record.unit_under_test.serial_number), line);
  }

  /** Runs matching every filter given, newest first. */
  list(filter: ListFilter = {}): IndexEntry[] {
    const lines = filter.serial !== undefined ? this.serialLines(filter.serial) : existsSync(this.indexFile) ? readFileSync(this.indexFile, 'utf8').split('\n') : [];
    // A cheap text test before parsing: at 100,000 runs most lines are never parsed.
    const needles = [
      filter.procedure !== undefined && `"procedure_id":${JSON.stringify(filter.procedure)}`,
      filter.partNumber !== undefined && `"part_number":${JSON.stringify(filter.partNumber)}`,
      filter.outcome !== undefined && `"outcome":${JSON.stringify(filter.outcome)}`,
    ].filter((needle): needle is string => !!needle);
    const byId = new Map<string, IndexEntry>();
    for (const line of lines) {
      if (!line || !needles.every((needle) => line.includes(needle))) continue;
      let entry: IndexEntry;
      try {
        entry = JSON.parse(line) as IndexEntry;
      } catch {
        continue; // a line cut by a power loss: the record file is still there (kiso runs reindex)
      }
      if (filter.serial !== undefined && serialKey(entry.serial_number ?? '') !== serialKey(filter.serial)) continue;
      if (filter.station !== undefined && entry.station !== filter.station) continue;
      if (filter.since !== undefined || filter.until !== undefined) {
        const at = Date.parse(entry.started_at);
        if ((filter.since !== undefined && at < filter.since) || (filter.until !== undefined && at >= filter.until)) continue;
      }
      byId.set(entry.id, entry); // a reindexed run appears twice: the last line wins
    }
    const entries = [...byId.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : a.id < b.id ? 1 : -1));
    return filter.limit ? entries.slice(0, filter.limit) : entries;
  }

  /** A run by id, or by an unambiguous prefix of at least the date and time (`20251123-1031`). */
  resolveId(idOrPrefix: string): string {
    if (existsSync(this.recordPath(idOrPrefix))) return idOrPrefix;
    if (!/^\d{8}-\d{2,6}/.test(idOrPrefix)) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.root} (give the id kiso printed, e.g. 20251123-103112-k3f9q2a1, or its first characters)`);
    const folder = path.dirname(this.recordPath(idOrPrefix));
    const matches = existsSync(folder) ? readdirSync(folder).filter((name) => name.startsWith(idOrPrefix) && name.endsWith('.json')).map((name) => name.slice(0, -5)) : [];
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new KisoError('KISO_STORE', `no run "${idOrPrefix}" in ${this.root}`);
    throw new KisoError('KISO_STORE', `"${idOrPrefix}" matches ${matches.length} runs (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', ...' : ''}): give more of the id`);
  }

  read(idOrPrefix: string): RunRecord {
    const id = this.resolveId(idOrPrefix);
    return JSON.parse(readFileSync(this.recordPath(id), 'utf8')) as RunRecord;
  }

  readAttachment(record: RunRecord, relativePath: string): Buffer | undefined {
    const file = path.join(path.dirname(this.recordPath(record.id)), relativePath);
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  /**
   * Rebuilds the index from the record files: for a run whose kiso was killed
   * (SIGKILL, power loss) after its record was written but before it was
   * indexed. Returns the number of runs indexed.
   */
  reindex(): number {
    const recordsDir = path.join(this.root, 'records');
    const records: RunRecord[] = [];
    for (const month of existsSync(recordsDir) ? readdirSync(recordsDir).sort() : []) {
      for (const name of readdirSync(path.join(recordsDir, month)).sort()) {
        if (!name.endsWith('.json')) continue;
        try {
          records.push(JSON.parse(readFileSync(path.join(recordsDir, month, name), 'utf8')) as RunRecord);
        } catch {
          // a temporary file of a run in progress, or not a record
        }
      }
    }
    const indexDir = path.join(this.root, 'index');
    const fresh = path.join(this.root, `index.${process.pid}.new`);
    mkdirSync(path.join(fresh, 'serial'), { recursive: true });
    const bySerial = new Map<string, string[]>();
    const lines = records.map((record) => {
      const line = JSON.stringify(indexEntry(record, this.relativeRecordPath(record.id)));
      const serial = record.unit_under_test.serial_number;
      if (serial) bySerial.set(serialKey(serial), [...(bySerial.get(serialKey(serial)) ?? []), line]);
      return line;
    });
    writeFileSync(path.join(fresh, 'runs.ndjson'), lines.map((line) => `${line}\n`).join(''));
    for (const [serial, serialLines] of bySerial) writeFileSync(path.join(fresh, 'serial', serialFileName(serial)), serialLines.map((line) => `${line}\n`).join(''));
    const old = path.join(this.root, `index.${process.pid}.old`);
    if (existsSync(indexDir)) renameSync(indexDir, old);
    renameSync(fresh, indexDir);
    rmSync(old, { recursive: true, force: true });
    return records.length;
  }
}
