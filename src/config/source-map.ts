import type { SourcePosition } from './issues.js';

/** Where each value of a loaded configuration was written (file:line:col), by its key path. Plain data: no YAML parser needed to read it. */
export type KeyPath = ReadonlyArray<string | number>;

interface SourceEntry {
  value: SourcePosition;
  key?: SourcePosition;
}

/** A value that came from the environment: how the YAML wrote it (`ENV{TOKEN}`, `Bearer ENV{TOKEN}`) and what it became. */
export interface EnvOrigin {
  path: KeyPath;
  written: string;
  value: unknown;
}

export class SourceMap {
  private entries = new Map<string, SourceEntry>();
  private envOrigins = new Map<string, EnvOrigin>();

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

  /** Records that the value at `path` was substituted from ENV{...}: messages show `written`, never the value. */
  setEnvOrigin(path: KeyPath, written: string, value: unknown): void {
    this.envOrigins.set(pointer(path), { path, written, value });
  }

  /** How the YAML wrote the value at `path` when it came from the environment, else undefined. */
  envWritten(path: KeyPath): string | undefined {
    return this.envOrigins.get(pointer(path))?.written;
  }

  /**
   * A message with every environment value it could show replaced by how
   * the YAML wrote it: a value under `path` wherever it appears, and any
   * longer value (a token, a password) in any message.
   */
  maskEnv(path: KeyPath, message: string): string {
    let masked = message;
    for (const origin of this.envOrigins.values()) {
      if (origin.value === undefined || origin.value === null) continue;
      const text = String(origin.value);
      if (text === '' || text === origin.written) continue;
      const concerned = origin.path.length <= path.length && origin.path.every((part, i) => path[i] === part);
      if (!concerned && text.length < 6) continue;
      masked = masked.split(text).join(origin.written);
    }
    return masked;
  }

  /** The file a value was written in (it may be an included file). */
  fileOf(path: KeyPath): string | undefined {
    return this.locate(path)?.file;
  }
}

export function pointer(path: KeyPath): string {
  return path.map((part) => String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

