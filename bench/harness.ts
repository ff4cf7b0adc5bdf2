/**
 * What every benchmark prints: one JSON object per line, the figure next to
 * a raw baseline measured in the same run, so the ratio means something on a
 * noisy machine.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The raw figure of the same run this one compares against. */
  baseline: number | null;
  /** value / baseline. */
  ratio: number | null;
  /** Anything else worth printing (target, counts, lost frames...). */
  [extra: string]: unknown;
}

export function result(name: string, value: number, unit: string, baseline: number | null, extra: Record<string, unknown> = {}): BenchResult {
  const round = (n: number): number => Number(n.toPrecision(4));
  return { name, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio: baseline ? round(value / baseline) : null, ...extra };
}

export function print(results: BenchResult[]): void {
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
