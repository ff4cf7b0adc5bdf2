import type { StationConfig } from '../config/load.js';
import type { Logger } from '../core/logging.js';
import { ReporterMux, type Reporter, type ReporterFailure } from '../results/reporters/reporter.js';
import { discoverSuiteFiles, loadSuiteFile } from './discover.js';
import { checkSelection } from './selection.js';
import type { RunResult } from '../results/outcomes.js';
import { SuiteRunner, type LoadedSuite, type OutputCapture, type RunnerOptions } from './run.js';
import { StationRuntime } from '../station/station.js';

export interface StationRunOptions extends Omit<RunnerOptions, 'configFile' | 'log' | 'capture'> {
  log: Logger;
  capture?: OutputCapture;
  reporters: Reporter[];
  /** Overrides every suite's test_filter_pattern (the file part of `-p`). */
  filePattern?: string;
  /** kiso's own options, for "did you mean" when an unknown option is no tag either. */
  knownOptions?: readonly string[];
  /** A reporter threw (a report could not be written). */
  onReporterFailure?: (failure: ReporterFailure) => void;
}

/** A station built and started, its suites loaded: ready to run them all or one unit at a time. */
export interface PreparedRun {
  station: StationRuntime;
  suites: LoadedSuite[];
  runner: SuiteRunner;
  /** Stops everything that was started; never throws. */
  stop(): Promise<void>;
}

/**
 * Builds the station, loads the suites and starts the auto_start
 * auxiliaries. If anything throws half-way, what was started is stopped.
 */
export async function prepareRun(config: StationConfig, options: StationRunOptions): Promise<PreparedRun> {
  for (const note of config.notes) options.log.info({ config: config.file }, note);
  const station = await StationRuntime.build(config, options.log);
  try {
    const suites: LoadedSuite[] = [];
    const discovered = discoverSuiteFiles(config.suites, options.filePattern);
    for (const { entry, file } of discovered) {
      try {
        suites.push({ file, suiteId: entry.suiteId, definition: await loadSuiteFile(file) });
      } catch (error) {
        options.log.error({ err: error, file }, `suite ${file} did not load`);
        suites.push({ file, suiteId: entry.suiteId, loadError: error as Error });
      }
    }
    // Before anything opens: a selection that tests nothing is exit 2, never a green run.
    checkSelection(config.suites, discovered, suites, options);
    await station.startAutoStart();
    const runner = new SuiteRunner(station, new ReporterMux(options.reporters, options.log, options.onReporterFailure), { limits: config.limits, ...options, configFile: config.file });
    return { station, suites, runner, stop: () => station.stopAll() };
  } catch (error) {
    await station.stopAll();
    throw error;
  }
}

/**
 * One run of one station config: build the station, start the auto_start
 * auxiliaries, load and run the suites, then stop everything that was
 * started, whatever happened in between.
 */
export async function runStation(config: StationConfig, options: StationRunOptions): Promise<RunResult> {
  const prepared = await prepareRun(config, options);
  try {
    return await prepared.runner.run(prepared.suites);
  } finally {
    await prepared.stop();
  }
}
