import type { StationConfig } from './config/load.js';
import type { Logger } from './logging.js';
import { ReporterMux, type Reporter } from './reporters/reporter.js';
import { discoverSuiteFiles, loadSuiteFile } from './runner/discover.js';
import type { RunResult } from './runner/results.js';
import { SuiteRunner, type LoadedSuite, type OutputCapture, type RunnerOptions } from './runner/run.js';
import { StationRuntime } from './station.js';

export interface StationRunOptions extends Omit<RunnerOptions, 'configFile' | 'log' | 'capture'> {
  log: Logger;
  capture?: OutputCapture;
  reporters: Reporter[];
  /** Overrides every suite's test_filter_pattern (the file part of `-p`). */
  filePattern?: string;
}

/**
 * One run of one station config: build the station, start the auto_start
 * auxiliaries, load and run the suites, then stop everything that was
 * started, whatever happened in between.
 */
export async function runStation(config: StationConfig, options: StationRunOptions): Promise<RunResult> {
  for (const note of config.notes) options.log.info({ config: config.file }, note);
  const station = await StationRuntime.build(config, options.log);
  const mux = new ReporterMux(options.reporters, options.log);
  try {
    const loaded: LoadedSuite[] = [];
    for (const { entry, file } of discoverSuiteFiles(config.suites, options.filePattern)) {
      try {
        loaded.push({ file, suiteId: entry.suiteId, definition: await loadSuiteFile(file) });
      } catch (error) {
        options.log.error({ err: error, file }, `suite ${file} did not load`);
        loaded.push({ file, suiteId: entry.suiteId, loadError: error as Error });
      }
    }
    if (loaded.length === 0) options.log.warn({ config: config.file }, 'no suite file matched: nothing to run');
    await station.startAutoStart();
    const runner = new SuiteRunner(station, mux, { limits: config.limits, ...options, configFile: config.file });
    return await runner.run(loaded);
  } finally {
    await station.stopAll();
  }
}
