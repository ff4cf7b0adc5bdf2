import { Writable } from 'node:stream';
import { pino, type Logger, type StreamEntry } from 'pino';
import type { LogLevel } from './log-levels.js';

export type { Logger };

export { LOG_LEVELS, type LogLevel } from './log-levels.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// `caller` (file:line, added to suite log lines for the run record) would only clutter the console.
const HIDDEN_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'v', 'caller']);

/** What replaces a secret's value in every log line. */
export const REDACTED = '[redacted]';

/**
 * Whether a key names a secret, whatever its spelling: case, `-` and `_`
 * do not count (`API_KEY`, `api-key`, `apiKey`, `apikey`), and so is any key
 * that contains password, passwd, passphrase, secret, credential,
 * authorization or cookie, or ends in token or in a kind of key (`key`,
 * `api_key`, `private_key`, `access_key`, ...).
 */
const SECRET_KEY = /^(?:key|pwd|auth|.*(?:password|passwd|passphrase|secret|credential|authori[sz]ation|cookie|token|apikey|privatekey|accesskey|secretkey|sessionkey|authkey|signingkey|encryptionkey))$|(?:password|passwd|secret|credential|authori[sz]ation)/;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_\s]/g, ''));
}

/** A copy of `value` with the value of every secret-named key replaced, at any depth, in objects and arrays. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = isSecretKey(key) ? REDACTED : redactSecrets(item, depth + 1);
  return copy;
}

/** A cheap first look: a line with no key that could name a secret is written as it is. */
const MAYBE_SECRET = /"[^"]*(?:key|pwd|auth|pass|secret|credential|cookie|token)[^"]*"\s*:/i;

/** One serialized log line with its secrets redacted (what every kiso logger writes, to every stream). */
export function redactLine(line: string): string {
  if (!MAYBE_SECRET.test(line)) return line;
  const newline = line.endsWith('\n') ? '\n' : '';
  try {
    return `${JSON.stringify(redactSecrets(JSON.parse(line)))}${newline}`;
  } catch {
    return line;
  }
}

/**
 * The pino options every kiso logger (main process, host processes, slot
 * workers) takes: secrets are redacted from the serialized line, so the
 * console, the NDJSON file, JUnit's system-out and the run record all get
 * the same redacted line, whatever the depth or spelling of the key.
 */
export const REDACTION = { hooks: { streamWrite: redactLine } } as const;

/** What pino writes in place of a redacted value. */
export const REDACTION_CENSOR = '[redacted]';

const SECRET_KEYS = new Set(['password', 'api_key', 'apikey', 'token', 'secret', 'key']);

/**
 * A log line's fields as a report keeps them: keys named like secrets and
 * values pino redacted are dropped whole, at any depth (pino's paths reach
 * two levels), so a record or an export never carries one.
 */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (value === REDACTION_CENSOR) return undefined;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1)).filter((item) => item !== undefined);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEYS.has(key.toLowerCase())) continue;
    const kept = withoutSecrets(item, depth + 1);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

/** Turns one pino NDJSON line into the human line the console shows. */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toISOString().slice(11, 23);
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const source = entry.name ? ` [${String(entry.name)}]` : '';
  const extras = Object.entries(entry)
    .filter(([key]) => !HIDDEN_KEYS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)}${source} ${String(entry.msg ?? '')}${extras ? ` ${extras}` : ''}`;
}

/** A stream that hands each formatted log line to a callback. */
export class LineSink extends Writable {
  constructor(private readonly onLine: (rawJson: string) => void) {
    super({ decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (const line of text.split('\n')) if (line) this.onLine(line);
    done();
  }
}

export interface LoggerOptions {
  level: LogLevel;
  /** NDJSON file of the whole run. */
  file?: string;
  /** Human-readable lines on stderr. */
  console?: boolean;
  /** Receives every line at or above `level`, e.g. to put it in the running case's output. */
  capture?: (rawJson: string) => void;
}

export interface KisoLogger {
  logger: Logger;
  /** Writes what is buffered; call before exit. */
  flush(): void;
}

export function createLogger(options: LoggerOptions): KisoLogger {
  const streams: StreamEntry[] = [];
  let fileStream: ReturnType<typeof pino.destination> | undefined;
  if (options.file) {
    fileStream = pino.destination({ dest: options.file, mkdir: true, sync: true });
    streams.push({ level: 'trace', stream: fileStream });
  }
  if (options.console) {
    streams.push({ level: 'trace', stream: new LineSink((line) => process.stderr.write(`${formatLogLine(line)}\n`)) });
  }
  if (options.capture) streams.push({ level: 'trace', stream: new LineSink(options.capture) });
  const logger = pino(
    { level: options.level, base: undefined, ...REDACTION },
    streams.length > 0 ? pino.multistream(streams) : pino.destination({ dest: '/dev/null', sync: true }),
  );
  return {
    logger,
    flush: () => fileStream?.flushSync(),
  };
}

export { silentLogger } from './silent-logger.js';
