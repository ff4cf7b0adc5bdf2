import type { SourcePosition } from './issues.js';

/** Where each value of a loaded configuration was written (file:line:col), by its key path. Plain data: no YAML parser needed to read it. */
export type KeyPath = ReadonlyArray<string | number>;

interface SourceEntry {
  value: SourcePosition;
  key?: SourcePosition;
}

export class SourceMap {
  private entries = new Map<string, SourceEntry>();

  set(path: KeyPath, entry: SourceEntry): void {
    this.entries.set(pointer(path), entry);
  }

  /** Where the value at `path` is written; with `preferKey`, where its key is. Falls back to the nearest parent. */
  locate(path: KeyPath, preferKey = false): SourcePosition | undefined {
    for (let length = path.length; length >= 0; length--) {
      const entry = this.entries.get(pointer(path.slice(0, length)));
      if (entry) return (preferKey || length < path.length ? entry.key : undefined) ?? entry.value;
    }
    return undefined;
  }

  /** The file a value was written in (it may be an included file). */
  fileOf(path: KeyPath): string | undefined {
    return this.locate(path)?.file;
  }
}

export function pointer(path: KeyPath): string {
  return path.map((part) => String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

