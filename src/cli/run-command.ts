import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StationConfig } from '../config/load.js';
import { describeError } from '../core/errors.js';
import { createLogger, formatLogLine, type Logger, type LogLevel } from '../core/logging.js';
import { ConsoleReporter } from '../results/reporters/console.js';
import { JunitReporter, type JunitFormat } from '../results/reporters/junit.js';
import type { Reporter, ReporterFailure } from '../results/reporters/reporter.js';
import { OutputCapture } from '../runner/run.js';
import { runStation } from '../runner/run-station.js';
import { catchStrayErrors } from '../runner/exit-guard.js';
import type { Slot } from '../slots/duts.js';
import { settledLeftovers, snapshotHandles } from './leftover-handles.js';
import { loadAll } from './load-stations.js';
import { checkLinks, openRunRecord, pushToFleet, recordSummary } from './record-options.js';
import type { RecordFlags } from './record-flags.js';
import { NO_OPERATOR, type Prompter } from '../runner/prompts.js';
import { TtyPrompter } from './tty-prompter.js';
import { suggest } from '../core/suggest.js';
import { EXIT, UsageError } from './usage.js';

/** `kiso -c station.yaml`: load every station, run each (or its fixture slots), write the reports. */

/**
 * pykiso's tag filters: every option kiso does not know, `--variant a,b` or
 * `--variant=a,b`. Whether each really is a tag is decided once the suites
 * are loaded (runner/selection.ts); an option with no value is no tag.
 */
export function parseTagFilters(args: readonly string[], knownOptions: readonly string[] = []): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument "${token}" (tag filters are written --NAME value1,value2)`);
    let name = token.slice(2);
    let value: string | undefined;
    const equals = name.indexOf('=');
    if (equals >= 0) {
      value = name.slice(equals + 1);
      name = name.slice(0, equals);
    } else {
      value = args[i + 1];
      if (value === undefined || value.startsWith('-')) {
        const hints = suggest(name, knownOptions).map((option) => `--${option}`);
        throw new UsageError(`unknown option --${name}${hints.length ? ` (did you mean ${hints.join(' or ')}?)` : ''}; a tag filter is written --${name} value1,value2`);
      }
      i++;
    }
    if (!/^[A-Za-z][\w-]*$/.test(name)) throw new UsageError(`"--${name}" is not a valid tag name`);
    filters[name] = [...(filters[name] ?? []), ...value.split(',').map((v) => v.trim()).filter(Boolean)];
  }
  return filters;
}

/** A case or suite name pattern of `-p`: `*` and `?` as in file names. */
const namePattern = (glob: string): RegExp => new RegExp(`^${glob.replace(/[.+^$()|[\]{}\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/**
 * `-p 'test_udp*.ts'` selects files; `-p 'test_udp.ts::echo*'` also selects
 * cases by name; pykiso's `-p 'test_file.py::TestClass::test_run'` selects
 * suite and case names too.
 */
export function parsePattern(pattern: string | undefined): { filePattern?: string; suitePattern?: RegExp; casePattern?: RegExp } {
  if (!pattern) return {};
  const parts = pattern.split('::');
  if (parts.length > 3) throw new UsageError(`-p '${pattern}': write FILE, FILE::CASE or FILE::SUITE::CASE`);
  const [filePart, ...names] = parts;
  const casePart = names.at(-1);
  const suitePart = names.length === 2 ? names[0] : undefined;
  return { filePattern: filePart || undefined, suitePattern: suitePart ? namePattern(suitePart) : undefined, casePattern: casePart ? namePattern(casePart) : undefined };
}

function logFileFor(logPath: string | undefined, startedAt: Date): string | undefined {
  if (!logPath) return undefined;
  const isFolder = logPath.endsWith('/') || (existsSync(logPath) && statSync(logPath).isDirectory());
  return isFolder ? path.join(logPath, `kiso-${startedAt.toISOString().replace(/[:.]/g, '-')}.ndjson`) : logPath;
}

/**
 * Where --junit writes: a file as given (one per station when several run),
 * or, when the option names an existing folder, pykiso's
 * `FOLDER/<station>-<timestamp>.xml`.
 */
function junitFileFor(option: string | boolean | undefined, config: StationConfig, configCount: number, startedAt: Date): string | undefined {
  if (!option) return undefined;
  const station = path.basename(config.file).replace(/\.ya?ml$/, '');
  if (typeof option === 'string' && (option.endsWith('/') || (existsSync(option) && statSync(option).isDirectory()))) {
    return path.resolve(option, `${station}-${startedAt.toISOString().replace(/[:.]/g, '-')}.xml`);
  }
  const base = typeof option === 'string' ? option : path.join('reports', 'junit.xml');
  if (configCount === 1) return path.resolve(base);
  const ext = path.extname(base) || '.xml';
  return path.resolve(`${base.slice(0, base.length - path.extname(base).length)}-${station}${ext}`);
}

/** pykiso's one `-l` per `-c`: one path for every station, or one each, in order. */
function logPathsFor(logPaths: readonly string[], configCount: number): Array<string | undefined> {
  if (logPaths.length <= 1) return Array.from({ length: configCount }, () => logPaths[0]);
  if (logPaths.length !== configCount) throw new UsageError(`${logPaths.length} -l/--log-path for ${configCount} -c/--test-configuration-file: give one for all, or one per -c`);
  return [...logPaths];
}

export interface RunFlags extends RecordFlags {
  testConfigurationFile: string[];
  duts?: string;
  dist?: string;
  jobs?: number;
  pattern?: string;
  failfast?: boolean;
  logPath: string[];
  logLevel: LogLevel;
  junit?: string | boolean;
  junitFormat?: JunitFormat;
}

export async function runCommand(flags: RunFlags, extraArgs: string[], knownOptions: readonly string[] = []): Promise<number> {
  if (flags.testConfigurationFile.length === 0) throw new UsageError('missing -c/--test-configuration-file: which station YAML should kiso run?');
  const tagFilters = parseTagFilters(extraArgs, knownOptions);
  const { filePattern, suitePattern, casePattern } = parsePattern(flags.pattern);
  const logPaths = logPathsFor(flags.logPath, flags.testConfigurationFile.length);
  const baseline = snapshotHandles();
  const planned = await loadAll(flags.testConfigurationFile, flags.duts);
  const configs = planned.map((run) => run.config);
  if (flags.dist && !planned.some((run) => run.slots)) throw new UsageError('--dist needs fixture slots: a duts section in the station file, or --duts FILE');

  const capture = new OutputCapture();
  const startedAt = new Date();
  const openLog = (logPath: string | undefined) => createLogger({ level: flags.logLevel, file: logFileFor(logPath, startedAt), console: true, capture: (line) => capture.pushJson(line, formatLogLine) });
  let { logger, flush } = openLog(logPaths[0]);
  // A station may run only the procedures linked to it: refused here, before anything opens.
  if (flags.record !== false) for (const config of configs) await checkLinks(config, flags, logger);
  // A suite's stray error must not take the run down: log it, charge it to the running case, go on.
  // Only kiso ends the run: a process.exit() from a suite errors the running case instead.
  // The guard stays until kiso exits (main.ts keeps the real exit): a timer a suite left behind cannot turn the exit code into 0.
  const { strayErrors, exitGuard } = catchStrayErrors((error, kind) => logger.error({ err: error }, `${kind} (from a suite or auxiliary): ${describeError(error)}`));
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`kiso: ${signal} again: exiting now\n`);
      exitGuard.exit(EXIT.failed);
    }
    process.stderr.write(`\nkiso: ${signal}: stopping after the running step; reports will still be written (press again to exit at once)\n`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The terminal or SSH session closed: the same orderly stop, so the reports are still written.
  process.on('SIGHUP', onSignal);

  // A report that could not be written fails the run: nobody may read a green exit as "reports are there".
  const reportFailures = new Map<string, string>();
  const onReporterFailure = (failure: ReporterFailure): void => {
    // Its first failure says why; the later hooks usually repeat it.
    if (!reportFailures.has(failure.reporter)) reportFailures.set(failure.reporter, `${failure.reporter} (${failure.hook}): ${describeError(failure.error)}`);
  };
  // Operator prompts are asked at the terminal; without one (CI) a prompt is an ERROR, never a hang.
  const prompter = process.stdin.isTTY ? new TtyPrompter() : NO_OPERATOR;
  const selection = { tagFilters, filePattern, suitePattern, casePattern, knownOptions, onReporterFailure, prompter };
  let exitCode: number = EXIT.passed;
  for (const [index, { config, slots }] of planned.entries()) {
    if (interrupt.signal.aborted) break;
    if (index > 0 && logPaths[index] !== logPaths[index - 1]) {
      flush();
      ({ logger, flush } = openLog(logPaths[index]));
    }
    if (slots) {
      const passed = await runFixture(config, slots, flags, { ...selection, logger, signal: interrupt.signal, configCount: configs.length, startedAt });
      if (!passed) exitCode = EXIT.failed;
      process.stdout.write(await pushToFleet(config, flags, logger));
      if (flags.failfast && !passed) break;
      continue;
    }
    const reporters: Reporter[] = [new ConsoleReporter()];
    const junit = junitFileFor(flags.junit, config, configs.length, startedAt);
    // The record reporter writes the record of what ran even if kiso dies mid-run (from the 'exit' event).
    const record = await openRunRecord(config, flags, configs.length, logger, interrupt.signal);
    if (junit) reporters.push(new JunitReporter(junit, { format: flags.junitFormat, stationDir: path.dirname(config.file), runId: record?.id, serialNumber: record?.builder.meta.serialNumber ?? flags.serial }));
    if (record) reporters.push(record);
    const result = await runStation(config, { ...selection, log: logger, capture, strayErrors, reporters, failfast: flags.failfast, signal: interrupt.signal });
    if (result.outcome !== 'passed') exitCode = EXIT.failed;
    if (result.outcome === 'passed' && result.counts.passed === 0) {
      process.stderr.write(`kiso: ${path.relative(process.cwd(), config.file)}: no case was executed (${result.counts.skipped} skipped): a run that tests nothing does not pass\n`);
      exitCode = EXIT.failed;
    }
    if (junit) process.stdout.write(`JUnit report: ${path.relative(process.cwd(), junit)}\n`);
    process.stdout.write(recordSummary(record, flags, config, configs.length));
    process.stdout.write(await pushToFleet(config, flags, logger));
    if (flags.failfast && result.outcome !== 'passed') break;
  }
  if (reportFailures.size) {
    process.stderr.write(`kiso: ${reportFailures.size} report(s) could not be written:\n${[...reportFailures.values()].map((line) => `  ${line}`).join('\n')}\n`);
    if (exitCode === EXIT.passed) exitCode = EXIT.failed;
  }

  const leftovers = await settledLeftovers(baseline);
  if (leftovers.length) {
    logger.warn({ handles: leftovers }, `still open after the run: ${leftovers.join(', ')} — a suite or auxiliary did not close them; kiso exits anyway`);
  }
  flush();
  return exitCode;
}

/** A station with fixture slots: every device at once, one worker process each, then the station summary. */
async function runFixture(
  config: StationConfig,
  slots: Slot[],
  flags: RunFlags,
  context: {
    logger: Logger;
    tagFilters: Record<string, string[]>;
    filePattern?: string;
    suitePattern?: RegExp;
    casePattern?: RegExp;
    knownOptions: readonly string[];
    onReporterFailure: (failure: ReporterFailure) => void;
    prompter: Prompter;
    signal: AbortSignal;
    configCount: number;
    startedAt: Date;
  },
): Promise<boolean> {
  const startedAt = Date.now();
  const { assertDistribution, runSlots } = await import('../slots/run-slots.js');
  const { formatStationSummary } = await import('../slots/summary.js');
  const dist = assertDistribution(flags.dist ?? 'each');
  const present = slots.filter((slot) => slot.present);
  if (flags.subUnit?.length) throw new UsageError('--sub-unit names the sub-assemblies of one unit: it cannot apply to every slot of a fixture');
  process.stdout.write(`Fixture: ${present.length} device(s) in ${slots.length} slot(s), --dist ${dist}, up to ${flags.jobs ?? present.length} at once\n`);
  const junitFiles = new Map<number, string>();
  const records = new Map<number, Awaited<ReturnType<typeof openRunRecord>>>();
  for (const slot of present) {
    const base = junitFileFor(flags.junit, config, context.configCount, context.startedAt);
    if (base) junitFiles.set(slot.slot, withSuffix(base, slot.serial));
    records.set(slot.slot, await openRunRecord(slot.config!, { ...flags, serial: slot.serial, slot: slot.slot, ...slotReportFiles(flags, slot.serial) }, 1, context.logger, context.signal));
  }
  const outcomes = await runSlots({
    configFile: config.file,
    slots,
    dist,
    jobs: flags.jobs ?? present.length,
    log: context.logger,
    logLevel: flags.logLevel,
    failfast: flags.failfast ?? false,
    tagFilters: context.tagFilters,
    filePattern: context.filePattern,
    suitePattern: context.suitePattern,
    casePattern: context.casePattern,
    knownOptions: context.knownOptions,
    onReporterFailure: context.onReporterFailure,
    prompter: context.prompter,
    signal: context.signal,
    reportersFor: (slot) => {
      const reporters: Reporter[] = [new ConsoleReporter({ prefix: `[slot ${slot.slot} ${slot.serial}] `, summary: false })];
      const junit = junitFiles.get(slot.slot);
      const record = records.get(slot.slot);
      if (junit) reporters.push(new JunitReporter(junit, { format: flags.junitFormat, stationDir: path.dirname(config.file), runId: record?.id, serialNumber: slot.serial, slot: slot.slot }));
      if (record) reporters.push(record);
      return reporters;
    },
  });
  process.stdout.write(formatStationSummary(outcomes, Date.now() - startedAt));
  for (const slot of present) {
    const junit = junitFiles.get(slot.slot);
    if (junit) process.stdout.write(`JUnit report (slot ${slot.slot}): ${path.relative(process.cwd(), junit)}\n`);
    const record = records.get(slot.slot);
    if (record) process.stdout.write(recordSummary(record, slotReportFiles(flags, slot.serial), slot.config!, 1));
  }
  const tested = outcomes.filter((outcome) => outcome.status !== 'empty');
  // A fixture whose devices executed nothing (every case skipped) tested nothing: no green run.
  if (tested.length && tested.every((outcome) => outcome.status === 'passed' && (outcome.result?.counts.passed ?? 0) === 0)) {
    const skipped = tested.reduce((sum, outcome) => sum + (outcome.result?.counts.skipped ?? 0), 0);
    process.stderr.write(`kiso: ${path.relative(process.cwd(), config.file)}: no case was executed on any device (${skipped} skipped): a run that tests nothing does not pass\n`);
    return false;
  }
  return outcomes.every((outcome) => outcome.status === 'passed' || outcome.status === 'empty');
}

/** A fixture slot's own HTML and step report files: the unit's serial added to each name. */
function slotReportFiles(flags: RecordFlags, serial: string): Pick<RecordFlags, 'html' | 'stepReport'> {
  return { html: flags.html ? withSuffix(flags.html, serial) : undefined, stepReport: flags.stepReport ? withSuffix(flags.stepReport, serial) : undefined };
}

/** `reports/junit.xml` + `SN-0001` → `reports/junit-SN-0001.xml`. */
function withSuffix(file: string, suffix: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${suffix.replace(/[^\w.-]/g, '_')}${ext}`;
}

