/**
 * The log levels, without pino: the CLI lists them in its options before it
 * knows whether the command will log at all (`kiso --version` must not load pino).
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
