import { KisoError } from '../core/errors.js';
import { StrayErrors } from './run.js';

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

/** What escaped a suite, as Node reported it. */
export type StrayKind = 'unhandled rejection' | 'uncaught exception';

/**
 * For a process that runs suites (kiso -c, a slot worker, kiso serve): what a
 * suite or auxiliary leaves behind cannot end it. An unhandled rejection or
 * uncaught exception goes to `report` and is charged to the running case; a
 * process.exit() errors that case (installExitGuard).
 */
export function catchStrayErrors(report: (error: unknown, kind: StrayKind) => void = () => {}): { strayErrors: StrayErrors; exitGuard: ExitGuard } {
  const strayErrors = new StrayErrors();
  const stray = (kind: StrayKind) => (error: unknown): void => {
    report(error, kind);
    strayErrors.push(error);
  };
  process.on('unhandledRejection', stray('unhandled rejection'));
  process.on('uncaughtException', stray('uncaught exception'));
  return { strayErrors, exitGuard: installExitGuard(strayErrors) };
}
