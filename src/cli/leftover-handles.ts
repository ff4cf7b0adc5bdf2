/**
 * Finds what keeps the event loop alive after a run: timers, sockets or
 * servers a suite or user type left open. kiso exits anyway; this names them
 * so the author can close them (pykiso would hang on them instead).
 */
const IGNORED = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'FileHandle', 'SignalWrap', 'StatWatcher']);

export type HandleSnapshot = Map<string, number>;

export function snapshotHandles(): HandleSnapshot {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Handles open now that were not open at `baseline`, as "2 × Timeout". */
export function leftoverHandles(baseline: HandleSnapshot): string[] {
  const leftovers: string[] = [];
  for (const [type, count] of snapshotHandles()) {
    if (IGNORED.has(type)) continue;
    const extra = count - (baseline.get(type) ?? 0);
    if (extra > 0) leftovers.push(`${extra} × ${type}`);
  }
  return leftovers;
}

/**
 * Gives closing handles a few loop turns to finish closing (a closed socket
 * stays listed until libuv's close callback runs), then reports what is
 * still open.
 */
export async function settledLeftovers(baseline: HandleSnapshot, turns = 10): Promise<string[]> {
  let leftovers = leftoverHandles(baseline);
  for (let turn = 0; turn < turns && leftovers.length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, turn));
    leftovers = leftoverHandles(baseline);
  }
  return leftovers;
}
