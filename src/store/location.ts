import { homedir } from 'node:os';
import path from 'node:path';
import { KisoError } from '../core/errors.js';

/**
 * Where runs go. The station store is a folder (the SQLite database and the
 * attachments beside it); the fleet store is a PostgreSQL URL. A run always
 * goes to the station store first; with a fleet store it is then pushed
 * there (the outbox keeps it until the fleet has it).
 *
 * The fleet credential: the URL names the role (`postgres://bench_1@db/kiso`);
 * its password comes from `KISO_STORE_PASSWORD` (or PostgreSQL's own
 * `PGPASSWORD`), never from a file kiso writes. A password written into the
 * URL works too, but kiso never prints it: every URL it shows is redacted.
 */

export interface StoreSettings {
  /** The station store's folder. */
  localRoot: string;
  /** The fleet store, when one is configured. */
  fleetUrl?: string;
}

/** `$KISO_STORE`, else `~/.kiso`: one store per station machine, whatever folder kiso runs from. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KISO_STORE ? path.resolve(env.KISO_STORE) : path.join(homedir(), '.kiso');
}

export function isStoreUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** A URL fit for a log or an error: its password replaced by `***`, whatever else it holds. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass|secret|token/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    // Not parseable: drop anything between "://user:" and "@" by hand.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/**
 * The store of a run or a `kiso runs` command: the `--store` flag (a folder
 * or a postgres:// URL), else `$KISO_STORE` / `$KISO_STORE_URL`, else the
 * station YAML's `store:`, else `~/.kiso`.
 */
export function storeSettings(options: { flag?: string; yaml?: string; env?: NodeJS.ProcessEnv }): StoreSettings {
  const env = options.env ?? process.env;
  const flag = options.flag?.trim();
  const yaml = options.yaml?.trim();
  if (flag === '') throw new KisoError('KISO_USAGE', '--store is empty: give a folder or a postgres:// URL');
  const fleetUrl = [flag, env.KISO_STORE_URL || undefined, yaml].find((value) => value !== undefined && isStoreUrl(value));
  const localFlag = flag !== undefined && !isStoreUrl(flag) ? flag : undefined;
  const localYaml = yaml !== undefined && !isStoreUrl(yaml) ? yaml : undefined;
  const localRoot = localFlag ? path.resolve(localFlag) : env.KISO_STORE ? path.resolve(env.KISO_STORE) : localYaml ? path.resolve(localYaml) : defaultStoreRoot(env);
  if (env.KISO_STORE_URL && !isStoreUrl(env.KISO_STORE_URL)) throw new KisoError('KISO_USAGE', `KISO_STORE_URL must be a postgres:// URL, got ${redactUrl(env.KISO_STORE_URL)}`);
  return fleetUrl ? { localRoot, fleetUrl } : { localRoot };
}
