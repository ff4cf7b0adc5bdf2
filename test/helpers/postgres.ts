import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL server of the test's own: Debian's `postgresql` package
 * (scripts/install-test-deps.sh installs it), `initdb` into a temporary
 * folder as a non-root user (`nobody` when the tests run as root), password
 * authentication (scram-sha-256) for its superuser, a free port on
 * 127.0.0.1. `stop()` ends it and removes the folder; a test process that
 * ends without calling it still ends the server (on 'exit').
 *
 * `crash()` is an immediate shutdown (SIGQUIT: no checkpoint, every
 * connection cut, as a server that dies), `start()` brings it back on the
 * same data and port.
 */

export const PG_PASSWORD = 'kiso-test-s3cret-Pw';
export const PG_ROLE = 'kiso';

export interface PgServer {
  /** postgres://kiso@127.0.0.1:PORT/DB, without the password (it goes in KISO_STORE_PASSWORD). */
  url: string;
  port: number;
  /** A fresh database on this server, for one test. */
  database(name: string): Promise<string>;
  crash(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** The command as the server's own user: `runuser -u nobody` when root (PostgreSQL refuses to run as root). */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'nobody', '--', command, ...args]] : [command, args];
}

const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
});

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts a server, or says why it cannot (the tests then skip, saying so). */
export async function startPostgres(): Promise<PgServer | { skip: string }> {
  const bin = binDir();
  if (!bin) return { skip: 'PostgreSQL is not installed (Debian package postgresql; scripts/install-test-deps.sh installs it)' };
  if (asRoot && spawnSync('runuser', ['--version']).status !== 0) return { skip: 'running as root without runuser: cannot start PostgreSQL as a non-root user' };
  const folder = mkdtempSync(path.join(tmpdir(), 'kiso-pg-'));
  const dataDir = path.join(folder, 'data');
  const pwfile = path.join(folder, 'pw');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`);
  if (asRoot) {
    chownSync(folder, NOBODY, NOBODY);
    chownSync(pwfile, NOBODY, NOBODY);
  }
  const [initCommand, initArgs] = asServerUser(path.join(bin, 'initdb'), ['-D', dataDir, '-U', PG_ROLE, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
  const init = spawnSync(initCommand, initArgs, { encoding: 'utf8', cwd: folder });
  if (init.status !== 0) {
    rmSync(folder, { recursive: true, force: true });
    return { skip: `initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split('\n').slice(-3).join(' / ')}` };
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';

  const connect = async (database = 'postgres'): Promise<pg.Client> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: PG_ROLE, password: PG_PASSWORD, database, connectionTimeoutMillis: 2000 });
    await client.connect();
    return client;
  };

  const startOnce = async (): Promise<void> => {
    const [command, args] = asServerUser(path.join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', folder, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=60']);
    child = spawn(command, args, { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    await waitFor(async () => {
      if (gone) throw new Error(`postgres exited at start:\n${log}`);
      try {
        const client = await connect();
        await client.end();
        return true;
      } catch {
        return false;
      }
    }, 'PostgreSQL to accept connections');
    const pid = postmasterPid(dataDir);
    if (pid) running.add(pid);
  };

  // After a crash, the old backends may hold the shared memory for a moment: postgres then refuses to start; try again.
  const start = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await startOnce();
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    const pid = postmasterPid(dataDir);
    if (!pid || !alive(pid)) return;
    process.kill(pid, signal);
    await waitFor(() => !alive(pid), `postgres ${pid} to stop`);
    running.delete(pid);
    // The postmaster is gone; its backends follow it at once on an immediate shutdown.
    await waitFor(() => !existsSync(path.join(dataDir, 'postmaster.pid')) || signal === 'SIGQUIT', 'postmaster.pid to go');
  };

  try {
    await start();
  } catch (error) {
    await shutdown('SIGQUIT').catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
    return { skip: `PostgreSQL did not start: ${String(error).slice(0, 500)}` };
  }

  let databases = 0;
  return {
    url: `postgres://${PG_ROLE}@127.0.0.1:${port}/postgres`,
    port,
    async database(name: string): Promise<string> {
      const db = `${name.replace(/\W/g, '_').toLowerCase()}_${++databases}`;
      const client = await connect();
      try {
        await client.query(`CREATE DATABASE ${db}`);
      } finally {
        await client.end();
      }
      return `postgres://${PG_ROLE}@127.0.0.1:${port}/${db}`;
    },
    crash: () => shutdown('SIGQUIT'),
    start,
    async stop(): Promise<void> {
      try {
        await shutdown('SIGINT');
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
