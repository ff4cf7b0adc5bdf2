import type { Logger } from '../core/logging.js';
import { callerOf } from '../results/call-site.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * Adds `caller: "file:line"` to each line a suite logs, so the run record
 * can say where a log line came from (TofuPilot's source_file/line_number,
 * OpenHTF's source/lineno). The stack is only taken for enabled levels.
 */
export function withCallerSite(logger: Logger): Logger {
  for (const level of LEVELS) {
    const original = logger[level].bind(logger) as (...args: unknown[]) => void;
    const wrapped = function (this: unknown, ...args: unknown[]): void {
      if (!logger.isLevelEnabled(level)) return;
      const caller = callerOf(wrapped);
      if (!caller) return original(...args);
      const [first, ...rest] = args;
      if (first instanceof Error) return original({ err: first, caller }, ...(typeof rest[0] === 'string' ? rest : [first.message]));
      if (first !== null && typeof first === 'object') return original({ caller, ...(first as object) }, ...rest); // a caller given (a Python log line) wins
      return original({ caller }, ...args);
    };
    (logger as unknown as Record<string, unknown>)[level] = wrapped;
  }
  return logger;
}
