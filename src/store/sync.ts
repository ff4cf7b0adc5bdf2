import { existsSync, readFileSync } from 'node:fs';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { RunRecord } from '../results/record/types.js';
import type { FleetStore, PushEntry } from './pg-store.js';
import type { StationStore } from './sqlite-store.js';

/**
 * The outbox, from the station to the fleet. Every run the station commits
 * while a fleet store is configured is queued in the same transaction as the
 * run itself. A sync pushes the queue oldest first, a batch per fleet
 * transaction, and takes a batch out of the queue only once the fleet has
 * committed it. Cut off in between (the fleet went away, kiso was killed),
 * the batch is pushed again next time, and the fleet's upsert by run id
 * keeps one copy: nothing lost, nothing doubled, in order.
 */

export interface SyncResult {
  pushed: number;
  /** Runs still in the outbox. */
  waiting: number;
  /** Why the sync stopped before the outbox was empty (the fleet is unreachable...). */
  error?: string;
}

export interface SyncOptions {
  /** Runs per fleet transaction (default 200). */
  batch?: number;
  log?: Logger;
  connectTimeoutMs?: number;
  /** Stop after this many runs; default all. */
  maxRuns?: number;
  /** Called before each batch is pushed (1, 2, ...): tests cut the fleet off mid-sync here. */
  beforeBatch?: (batch: number) => void | Promise<void>;
}

function entryOf(store: StationStore, recordJson: string): PushEntry {
  const record = JSON.parse(recordJson) as RunRecord;
  const blobs = new Map<string, Uint8Array>();
  for (const ref of record.phases.flatMap((phase) => phase.attachments)) {
    const file = store.attachmentFile(ref.sha1);
    if (existsSync(file)) blobs.set(ref.sha1, readFileSync(file));
  }
  return { record, blobs };
}

/** Pushes the outbox to the fleet (an open FleetStore, or its URL: opened and closed here). */
export async function syncOutbox(store: StationStore, fleet: FleetStore | string, options: SyncOptions = {}): Promise<SyncResult> {
  let pushed = 0;
  // Nothing waiting: nothing to connect for.
  if (store.outboxSize() === 0) return { pushed, waiting: 0 };
  let target: FleetStore;
  if (typeof fleet === 'string') {
    const { FleetStore } = await import('./pg-store.js');
    try {
      target = await FleetStore.open(fleet, { log: options.log, connectTimeoutMs: options.connectTimeoutMs });
    } catch (error) {
      return { pushed, waiting: store.outboxSize(), error: describeError(error) };
    }
  } else {
    target = fleet;
  }
  try {
    const batch = options.batch ?? 200;
    for (let number = 1; ; number++) {
      const room = options.maxRuns === undefined ? batch : Math.min(batch, options.maxRuns - pushed);
      if (room <= 0) break;
      const waiting = store.pending(room);
      if (!waiting.length) break;
      await options.beforeBatch?.(number);
      try {
        await target.push(waiting.map((entry) => entryOf(store, entry.record)));
      } catch (error) {
        const message = describeError(error);
        store.deliveryFailed(waiting[0]!.seq, message);
        options.log?.warn({ waiting: store.outboxSize() }, `fleet store ${target.location}: push failed, the runs stay in the outbox: ${message}`);
        return { pushed, waiting: store.outboxSize(), error: message };
      }
      store.delivered(waiting.map((entry) => entry.seq));
      pushed += waiting.length;
      options.log?.debug({ pushed }, `pushed ${waiting.length} runs to ${target.location}`);
    }
    return { pushed, waiting: store.outboxSize() };
  } finally {
    if (typeof fleet === 'string') await target.close();
  }
}
