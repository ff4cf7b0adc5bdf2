/**
 * The log levels, without pino: the CLI lists them in its options before it
 * knows whether the command will log at all (`kiso --version` must not load pino).
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pykiso's level names (DEBUG, INFO, WARNING, ERROR, CRITICAL) and kiso's, in any case. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const name = value.trim().toLowerCase();
  const aliases: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal' };
  return aliases[name] ?? (LOG_LEVELS as readonly string[]).find((level) => level === name) as LogLevel | undefined;
}
