import { KisoError } from '../core/errors.js';
import type { StrayErrors } from './run.js';

/**
 * While suites run, kiso alone decides when the process ends. A suite or a
 * user auxiliary that calls `process.exit()` would otherwise end kiso with
 * its own exit code (0 included) before a single report is written. The
 * guard turns that call into an error: it is charged to the running case
 * (through the stray errors, even if the caller catches it) and thrown, so
 * the code after the call does not run either. The run goes on, every report
 * is written, and the run exits 1 because that case errored.
 */
export interface ExitGuard {
  /** The real `process.exit`, for kiso's own exits (a second Ctrl-C). */
  readonly exit: (code?: number) => never;
  /** Puts the real `process.exit` back. */
  release(): void;
}

export function installExitGuard(strayErrors: StrayErrors): ExitGuard {
  const realExit = process.exit;
  const guarded = ((code?: number | string | null) => {
    const error = new KisoError('KISO_ABORTED', `process.exit(${code ?? ''}) was called while the run was on: a suite or an auxiliary may not end kiso (the running case errors, the run goes on and writes its reports)`);
    strayErrors.push(error);
    throw error;
  }) as typeof process.exit;
  process.exit = guarded;
  return {
    exit: (code?: number) => realExit.call(process, code),
    release() {
      if (process.exit === guarded) process.exit = realExit;
    },
  };
}
