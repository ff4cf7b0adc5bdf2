import type { AttachmentRef, RunRecord } from '../results/record/types.js';
import type { Logger } from '../core/logging.js';
import { redactUrl } from './location.js';
import type { ListFilter, RunStats, RunSummary, StatsFilter } from './types.js';

/**
 * What `kiso runs` asks of a store, the station's SQLite or the fleet's
 * PostgreSQL alike. The PostgreSQL client is loaded only for a postgres://
 * store, so a station that never talks to a fleet never loads it.
 */
export interface RunQueries {
  /** The database, as it may be shown (a URL without its password). */
  readonly location: string;
  list(filter: ListFilter): Promise<RunSummary[]>;
  read(idOrPrefix: string): Promise<RunRecord>;
  /** Every attachment's bytes by its `path` in the record. */
  attachments(record: RunRecord): Promise<Map<string, Uint8Array>>;
  /** Where an attachment can be found, for people. */
  attachmentLocation(ref: AttachmentRef): string;
  stats(filter: StatsFilter): Promise<RunStats>;
  close(): Promise<void>;
}

export async function openQueries(target: { root: string } | { url: string }, log?: Logger): Promise<RunQueries> {
  if ('url' in target) {
    const { FleetStore } = await import('./pg-store.js');
    const fleet = await FleetStore.open(target.url, { log });
    return {
      location: redactUrl(target.url),
      list: (filter) => fleet.list(filter),
      read: (id) => fleet.read(id),
      attachments: (record) => fleet.attachments(record),
      attachmentLocation: (ref) => `sha1 ${ref.sha1} in the fleet store`,
      stats: (filter) => fleet.stats(filter),
      close: () => fleet.close(),
    };
  }
  const { StationStore } = await import('./sqlite-store.js');
  const store = StationStore.open(target.root, { log });
  return {
    location: store.location,
    list: async (filter) => store.list(filter),
    read: async (id) => store.read(id),
    attachments: async (record) => {
      const found = new Map<string, Uint8Array>();
      for (const ref of record.phases.flatMap((phase) => phase.attachments)) {
        const data = store.readAttachment(record, ref.path);
        if (data) found.set(ref.path, data);
      }
      return found;
    },
    attachmentLocation: (ref) => store.attachmentFile(ref.sha1),
    stats: async (filter) => store.stats(filter),
    close: async () => store.close(),
  };
}
