import type { StationConfig } from '../config/load.js';
import type { Logger } from '../core/logging.js';
import { ReporterMux, type Reporter, type ReporterFailure } from '../results/reporters/reporter.js';
import { discoverSuiteFiles, loadSuiteFile } from './discover.js';
import { checkSelection } from './selection.js';
import type { RunResult } from '../results/outcomes.js';
import { SuiteRunner, type LoadedSuite, type OutputCapture, type RunnerOptions } from './run.js';
import { StationRuntime } from '../station/station.js';
import type { PythonSuites } from './python/python-suites.js';
import type { SuiteFile } from './discover.js';

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
  let python: PythonSuites | undefined;
  const stop = async (): Promise<void> => {
    await python?.stop();
    await station.stopAll();
  };
  try {
    const suites: LoadedSuite[] = [];
    const discovered = discoverSuiteFiles(config.suites, options.filePattern);
    for (const [entry, pyFiles] of pythonFolders(discovered)) {
      // Imported only for a folder of *.py suites: a TypeScript run loads none of the Python side.
      python ??= new (await import('./python/python-suites.js')).PythonSuites({ settings: config.python, auxiliaries: auxiliaryTypes(config), log: options.log, logLevel: pythonLevel(options.log.level) });
      const claimed = config.suites.filter((other) => other !== entry && other.suiteDir === entry.suiteDir).map((other) => other.suiteId);
      suites.push(await python.load(entry, pyFiles, claimed));
    }
    for (const { entry, file } of discovered) {
      if (file.endsWith('.py')) continue;
      try {
        suites.push({ file, suiteId: entry.suiteId, definition: await loadSuiteFile(file) });
      } catch (error) {
        // The case line says what and where, once; the whole error (with its cause) is for the debug log.
        options.log.debug({ err: error, file }, `suite ${file} did not load`);
        suites.push({ file, suiteId: entry.suiteId, loadError: error as Error });
      }
    }
    // Before anything opens: a selection that tests nothing is exit 2, never a green run.
    checkSelection(config.suites, discovered, suites, options);
    await station.startAutoStart();
    const runner = new SuiteRunner(station, new ReporterMux(options.reporters, options.log, options.onReporterFailure), { limits: config.limits, ...options, configFile: config.file });
    return { station, suites, runner, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The Python files of each suite folder: pykiso's rule, one folder is one suite. */
function pythonFolders(discovered: readonly SuiteFile[]): Map<SuiteFile['entry'], string[]> {
  const folders = new Map<SuiteFile['entry'], string[]>();
  for (const { entry, file } of discovered) if (file.endsWith('.py')) folders.set(entry, [...(folders.get(entry) ?? []), file]);
  return folders;
}

function auxiliaryTypes(config: StationConfig): Record<string, string> {
  return Object.fromEntries([...config.auxiliaries.values()].map((entry) => [entry.name, entry.resolved.name]));
}

/** pino's level name → Python's logging level number. */
function pythonLevel(level: string): number {
  return ({ trace: 10, debug: 10, info: 20, warn: 30, error: 40, fatal: 50, silent: 60 } as Record<string, number>)[level] ?? 20;
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
