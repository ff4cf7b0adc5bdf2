/**
 * Bench-only probe, loaded into kiso's host processes through NODE_OPTIONS
 * (`--import`) by the soak bench, so production code carries no sampling.
 * Every KISO_PROBE_MS (default 1,000) it appends one JSON line to
 * `$KISO_PROBE_DIR/<pid>.jsonl`: what V8 and Node say the process's memory
 * is (V8's heap per space, external memory). The kernel's side (RSS,
 * glibc's heap) the bench reads from /proc itself. Only processes with an
 * IPC channel (the forked hosts) sample.
 *
 * It hooks nothing into the garbage collector, so as not to change what it
 * measures: with v8.GCProfiler running (GC callbacks), a host's native
 * memory grew several times faster, and a PerformanceObserver's 'gc'
 * entries outlive scavenges and fill the old generation.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

const dir = process.env.KISO_PROBE_DIR;
const every = Number(process.env.KISO_PROBE_MS ?? 1_000);

const MiB = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** MiB, but t_s (seconds since the probe started). */
export interface ProbeSample {
  t_s: number;
  /** V8's heap, per space: committed memory (physical). */
  v8_heap: Record<'new' | 'old' | 'code' | 'large_object' | 'other', number>;
  /** Of the V8 heap, what live and not yet collected objects use. */
  heap_used: number;
  /** Memory of Buffers and other objects outside the V8 heap (in glibc's heap); array_buffers is the ArrayBuffer part. */
  external: number;
  array_buffers: number;
}

function sample(started: number): ProbeSample {
  const memory = process.memoryUsage();
  const spaces = { new: 0, old: 0, code: 0, large_object: 0, other: 0 };
  for (const space of v8.getHeapSpaceStatistics()) {
    const name = space.space_name.replace(/_space$/, '');
    spaces[name in spaces ? (name as keyof typeof spaces) : 'other'] += space.physical_space_size;
  }
  return {
    t_s: Math.round((Date.now() - started) / 100) / 10,
    v8_heap: { new: MiB(spaces.new), old: MiB(spaces.old), code: MiB(spaces.code), large_object: MiB(spaces.large_object), other: MiB(spaces.other) },
    heap_used: MiB(memory.heapUsed),
    external: MiB(memory.external),
    array_buffers: MiB(memory.arrayBuffers),
  };
}

if (dir && process.send) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  const started = Date.now();
  setInterval(() => appendFileSync(file, `${JSON.stringify(sample(started))}\n`), every).unref();
}
