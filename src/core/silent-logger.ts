import type { Logger } from 'pino';

const noop = (): void => undefined;

/**
 * A logger that drops everything, without loading pino: for `kiso validate`
 * (which builds a station only to check it), unit tests and library use.
 * Every logging method is a no-op and `child()` returns the same logger.
 */
export function silentLogger(): Logger {
  const logger: Logger = new Proxy({ level: 'silent' } as object, {
    get(target, key) {
      if (key in target) return (target as Record<PropertyKey, unknown>)[key];
      if (key === 'child') return () => logger;
      if (key === 'isLevelEnabled') return () => false;
      if (key === 'bindings') return () => ({});
      if (typeof key === 'symbol' || key === 'then' || key === 'toJSON') return undefined;
      return noop;
    },
  }) as Logger;
  return logger;
}
