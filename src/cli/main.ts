#!/usr/bin/env node
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/issues.js';
import { loadStationConfig, type StationConfig } from '../config/load.js';
import { describeError, isKisoError } from '../core/errors.js';
import { createLogger, formatLogLine, LOG_LEVELS, silentLogger, type Logger, type LogLevel } from '../core/logging.js';
import { StationRuntime } from '../station/station.js';
import { kisoVersion } from '../core/package-root.js';
import { ConsoleReporter } from '../results/reporters/console.js';
import { JunitReporter } from '../results/reporters/junit.js';
import type { Reporter } from '../results/reporters/reporter.js';
import { OutputCapture, StrayErrors } from '../runner/run.js';
import { runStation } from '../runner/run-station.js';
import { editorSchema } from '../config/editor-schema.js';
import { loadSlots, type Slot } from '../slots/duts.js';
import { assertDistribution, runSlots } from '../slots/run-slots.js';
import { formatStationSummary } from '../slots/summary.js';
import { dump, isCanConnector, openConnector, parseSendArgument } from '../station/bringup.js';
import { formatMessageLine } from '../can/frame.js';
import { settledLeftovers, snapshotHandles } from './leftover-handles.js';
import { addRecordOptions, openRunRecord, recordSummary, type RecordFlags } from './record-options.js';
import { addRunsCommands } from './runs.js';
import { registerBuiltins } from '../builtins.js';

registerBuiltins();

/** Exit codes: the contract scripts and CI rely on. */
export const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** pykiso's tag filters: every option kiso does not know, `--variant a,b` or `--variant=a,b`. */
export function parseTagFilters(args: readonly string[]): Record<string, string[]> {
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
      if (value === undefined || value.startsWith('-')) throw new UsageError(`option --${name} needs values: --${name} value1,value2 (unknown options are tag filters)`);
      i++;
    }
    if (!/^[A-Za-z][\w-]*$/.test(name)) throw new UsageError(`"--${name}" is not a valid tag name`);
    filters[name] = [...(filters[name] ?? []), ...value.split(',').map((v) => v.trim()).filter(Boolean)];
  }
  return filters;
}

/** `-p 'test_udp*.ts'` selects files; `-p 'test_udp.ts::echo*'` also selects cases by name. */
export function parsePattern(pattern: string | undefined): { filePattern?: string; casePattern?: RegExp } {
  if (!pattern) return {};
  const [filePart, casePart] = pattern.split('::', 2);
  const casePattern = casePart ? new RegExp(`^${casePart.replace(/[.+^$()|[\]{}\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`) : undefined;
  return { filePattern: filePart || undefined, casePattern };
}

function logFileFor(logPath: string | undefined, startedAt: Date): string | undefined {
  if (!logPath) return undefined;
  const isFolder = logPath.endsWith('/') || (existsSync(logPath) && statSync(logPath).isDirectory());
  return isFolder ? path.join(logPath, `kiso-${startedAt.toISOString().replace(/[:.]/g, '-')}.ndjson`) : logPath;
}

function junitFileFor(option: string | boolean | undefined, config: StationConfig, configCount: number): string | undefined {
  if (!option) return undefined;
  const base = typeof option === 'string' ? option : path.join('reports', 'junit.xml');
  if (configCount === 1) return path.resolve(base);
  const ext = path.extname(base) || '.xml';
  return path.resolve(`${base.slice(0, base.length - path.extname(base).length)}-${path.basename(config.file).replace(/\.ya?ml$/, '')}${ext}`);
}

/** A station to run: its config, and its fixture slots when it has some. */
interface PlannedRun {
  config: StationConfig;
  slots?: Slot[];
}

async function loadAll(files: readonly string[], dutsFile?: string): Promise<PlannedRun[]> {
  const planned: PlannedRun[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      const slots = await loadSlots(file, { dutsFile });
      const config = slots?.find((slot) => slot.config)?.config ?? (slots ? undefined : await loadStationConfig(file));
      if (!config) throw new UsageError(`${file}: every fixture slot is empty (present: false): nothing to test`);
      planned.push({ config, slots });
    } catch (error) {
      if (error instanceof ConfigError) errors.push(`${path.relative(process.cwd(), path.resolve(file))}: ${error.message}`);
      else throw error;
    }
  }
  if (errors.length) {
    process.stderr.write(`kiso: ${errors.join('\n')}\n`);
    throw new ExitRequest(EXIT.usage);
  }
  return planned;
}

class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface RunFlags extends RecordFlags {
  testConfigurationFile: string[];
  duts?: string;
  dist?: string;
  jobs?: number;
  pattern?: string;
  failfast?: boolean;
  logPath?: string;
  logLevel: LogLevel;
  junit?: string | boolean;
}

async function runCommand(flags: RunFlags, extraArgs: string[]): Promise<number> {
  if (flags.testConfigurationFile.length === 0) throw new UsageError('missing -c/--test-configuration-file: which station YAML should kiso run?');
  const tagFilters = parseTagFilters(extraArgs);
  const { filePattern, casePattern } = parsePattern(flags.pattern);
  const baseline = snapshotHandles();
  const planned = await loadAll(flags.testConfigurationFile, flags.duts);
  const configs = planned.map((run) => run.config);
  if (flags.dist && !planned.some((run) => run.slots)) throw new UsageError('--dist needs fixture slots: a duts section in the station file, or --duts FILE');

  const capture = new OutputCapture();
  const { logger, flush } = createLogger({ level: flags.logLevel, file: logFileFor(flags.logPath, new Date()), console: true, capture: (line) => capture.pushJson(line, formatLogLine) });
  // A suite's stray error must not take the run down: log it, charge it to the running case, go on.
  const strayErrors = new StrayErrors();
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, `unhandled rejection (from a suite or auxiliary): ${describeError(reason)}`);
    strayErrors.push(reason);
  });
  process.on('uncaughtException', (error) => {
    logger.error({ err: error }, `uncaught exception (from a suite or auxiliary): ${describeError(error)}`);
    strayErrors.push(error);
  });
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`kiso: ${signal} again: exiting now\n`);
      process.exit(EXIT.failed);
    }
    process.stderr.write(`\nkiso: ${signal}: stopping after the running step; reports will still be written (press again to exit at once)\n`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let exitCode: number = EXIT.passed;
  for (const { config, slots } of planned) {
    if (interrupt.signal.aborted) break;
    if (slots) {
      const passed = await runFixture(config, slots, flags, { logger, tagFilters, filePattern, casePattern, signal: interrupt.signal, configCount: configs.length });
      if (!passed) exitCode = EXIT.failed;
      if (flags.failfast && !passed) break;
      continue;
    }
    const reporters: Reporter[] = [new ConsoleReporter()];
    const junit = junitFileFor(flags.junit, config, configs.length);
    if (junit) reporters.push(new JunitReporter(junit));
    // The record reporter writes the record of what ran even if kiso dies mid-run (from the 'exit' event).
    const record = await openRunRecord(config, flags, configs.length, logger, interrupt.signal);
    if (record) reporters.push(record);
    const result = await runStation(config, { log: logger, capture, strayErrors, reporters, failfast: flags.failfast, tagFilters, filePattern, casePattern, signal: interrupt.signal });
    if (result.outcome !== 'passed') exitCode = EXIT.failed;
    if (junit) process.stdout.write(`JUnit report: ${path.relative(process.cwd(), junit)}\n`);
    process.stdout.write(recordSummary(record, flags.html, config, configs.length));
    if (flags.failfast && result.outcome !== 'passed') break;
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
  context: { logger: Logger; tagFilters: Record<string, string[]>; filePattern?: string; casePattern?: RegExp; signal: AbortSignal; configCount: number },
): Promise<boolean> {
  const startedAt = Date.now();
  const dist = assertDistribution(flags.dist ?? 'each');
  const present = slots.filter((slot) => slot.present);
  process.stdout.write(`Fixture: ${present.length} device(s) in ${slots.length} slot(s), --dist ${dist}, up to ${flags.jobs ?? present.length} at once\n`);
  const junitFiles = new Map<number, string>();
  const records = new Map<number, Awaited<ReturnType<typeof openRunRecord>>>();
  for (const slot of present) {
    const base = junitFileFor(flags.junit, config, context.configCount);
    if (base) junitFiles.set(slot.slot, withSuffix(base, slot.serial));
    records.set(slot.slot, await openRunRecord(slot.config!, { ...flags, serial: slot.serial, html: flags.html ? withSuffix(flags.html, slot.serial) : undefined }, 1, context.logger, context.signal));
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
    casePattern: context.casePattern,
    signal: context.signal,
    reportersFor: (slot) => {
      const reporters: Reporter[] = [new ConsoleReporter({ prefix: `[slot ${slot.slot} ${slot.serial}] `, summary: false })];
      const junit = junitFiles.get(slot.slot);
      if (junit) reporters.push(new JunitReporter(junit));
      const record = records.get(slot.slot);
      if (record) reporters.push(record);
      return reporters;
    },
  });
  process.stdout.write(formatStationSummary(outcomes, Date.now() - startedAt));
  for (const slot of present) {
    const junit = junitFiles.get(slot.slot);
    if (junit) process.stdout.write(`JUnit report (slot ${slot.slot}): ${path.relative(process.cwd(), junit)}\n`);
    const record = records.get(slot.slot);
    if (record) process.stdout.write(recordSummary(record, flags.html ? withSuffix(flags.html, slot.serial) : undefined, slot.config!, 1));
  }
  return outcomes.every((outcome) => outcome.status === 'passed' || outcome.status === 'empty');
}

/** `reports/junit.xml` + `SN-0001` → `reports/junit-SN-0001.xml`. */
function withSuffix(file: string, suffix: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${suffix.replace(/[^\w.-]/g, '_')}${ext}`;
}

async function validateCommand(files: string[], dutsFile?: string): Promise<number> {
  if (files.length === 0) throw new UsageError('missing -c/--test-configuration-file');
  for (const { config, slots } of await loadAll(files, dutsFile)) {
    // Build the station too (opens nothing): types that read files of their own (a DBC) check them here.
    try {
      await (await StationRuntime.build(config, silentLogger())).stopAll();
    } catch (error) {
      process.stderr.write(`kiso: ${path.relative(process.cwd(), config.file)}: ${describeError(error)}\n`);
      return EXIT.usage;
    }
    const suites = config.suites.length;
    const fixture = slots ? `, ${slots.filter((slot) => slot.present).length} device(s) in ${slots.length} slot(s)` : '';
    process.stdout.write(`${path.relative(process.cwd(), config.file)}: OK (${config.connectors.size} connectors, ${config.auxiliaries.size} auxiliaries, ${suites} suite folder${suites === 1 ? '' : 's'}${fixture})\n`);
  }
  return EXIT.passed;
}

function positiveInteger(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${option} takes a whole number, got "${value}"`);
  return number;
}

async function dumpCommand(flags: { testConfigurationFile: string; connector: string; count?: number; log?: boolean; pcap?: string; logLevel: LogLevel }): Promise<number> {
  const [{ config }] = (await loadAll([flags.testConfigurationFile])) as [PlannedRun];
  const { logger } = createLogger({ level: flags.logLevel, console: true });
  const connector = await openConnector(config, flags.connector, logger);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`kiso dump: listening on "${flags.connector}" (${config.connectors.get(flags.connector)!.type})${flags.count !== undefined ? `, ${flags.count} message(s)` : ''}; Ctrl-C to stop\n`);
  try {
    const printed = await dump(connector, { count: flags.count, logFormat: flags.log, pcap: flags.pcap, signal: stop.signal, write: (line) => process.stdout.write(`${line}\n`) });
    process.stderr.write(`kiso dump: ${printed} message(s)${flags.pcap ? `, pcap: ${flags.pcap}` : ''}\n`);
  } finally {
    await connector.close();
  }
  return EXIT.passed;
}

async function sendCommand(messages: string[], flags: { testConfigurationFile: string; connector: string; text?: string; interval: number; logLevel: LogLevel }): Promise<number> {
  if (messages.length === 0 && flags.text === undefined) throw new UsageError('kiso send needs at least one message, e.g. kiso send -c station.yaml --connector can 123#DEADBEEF');
  const [{ config }] = (await loadAll([flags.testConfigurationFile])) as [PlannedRun];
  const { logger } = createLogger({ level: flags.logLevel, console: true });
  const connector = await openConnector(config, flags.connector, logger);
  try {
    const isCan = isCanConnector(connector);
    // Parse everything before sending anything: a typo in the third frame must not leave the first two on the bus.
    const parsed = flags.text !== undefined ? [{ data: Buffer.from(flags.text, 'utf8') }] : messages.map((text) => parseSendArgument(text, isCan));
    for (const [index, message] of parsed.entries()) {
      if (index > 0 && flags.interval > 0) await new Promise((resolve) => setTimeout(resolve, flags.interval));
      await connector.send(message);
      process.stdout.write(`${formatMessageLine(connector.wireForm(message), flags.connector)}\n`);
    }
  } finally {
    await connector.close();
  }
  return EXIT.passed;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('kiso');
  // Before any subcommand exists, so they all inherit it: commander must not exit on its own.
  program.exitOverride();
  program
    .enablePositionalOptions()
    .description('Runs test suites against embedded devices, as a YAML station configuration describes (pykiso-compatible).')
    .version(kisoVersion(), '--version', 'print the kiso version')
    .option('-c, --test-configuration-file <file>', 'station YAML to run; repeat to run several one after another', collect, [])
    .option('-p, --pattern <glob>', "suite files to run instead of each test_filter_pattern; 'file.ts::case name' also selects cases")
    .option('--failfast', 'stop at the first failed or errored case')
    .option('-l, --log-path <path>', 'write the run log as NDJSON to this file (or into this folder)')
    .addOption(new Option('--log-level <level>', 'log level of the console and the log file').choices([...LOG_LEVELS]).default('info'))
    .option('--junit [file]', 'write a JUnit XML report (default reports/junit.xml; with fixture slots one per serial number)')
    .option('--duts <file>', 'fixture slots from this file (a list of slots) instead of the station\'s duts section')
    .option('--dist <mode>', 'with fixture slots: each (every slot runs every case, the default) or load (identical devices share the cases)')
    .option('--jobs <n>', 'with fixture slots: at most N slots at once', (value) => positiveInteger(value, '--jobs'))
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText('after', '\nAny other --NAME v1,v2 is a tag filter: only cases whose tag NAME has one of the values run.\nExit codes: 0 all passed, 1 a case failed or errored, 2 usage or configuration error.')
    .action(async (flags: RunFlags, command: Command) => setExitCode(await runCommand(flags, command.args)));
  addRecordOptions(program);
  addRunsCommands(program, setExitCode);

  program
    .command('validate')
    .description('check station YAML files without opening anything; exit 2 with file:line:col on errors')
    .option('-c, --test-configuration-file <file>', 'station YAML to check (repeatable)', collect, [])
    .option('--duts <file>', 'fixture slots from this file')
    .action(async (flags: { testConfigurationFile: string[]; duts?: string }) => setExitCode(await validateCommand(flags.testConfigurationFile, flags.duts)));

  program
    .command('dump')
    .description('print every message one connector receives (candump format for CAN, hex otherwise); opens only that connector')
    .requiredOption('-c, --test-configuration-file <file>', 'station YAML')
    .requiredOption('--connector <name>', 'the connector to listen on')
    .option('--count <n>', 'stop after N messages', (value) => positiveInteger(value, '--count'))
    .option('-L, --log', "candump's log format with timestamps (what canplayer and python-can read back)")
    .option('--pcap <file>', 'also write the CAN frames to a pcap file for Wireshark')
    .option('--log-level <level>', 'log level on stderr', 'warn')
    .action(async (flags: { testConfigurationFile: string; connector: string; count?: number; log?: boolean; pcap?: string; logLevel: LogLevel }) => setExitCode(await dumpCommand(flags)));

  program
    .command('send')
    .description('send messages on one connector: cansend syntax for CAN (123#DEADBEEF, 123##1AABB for FD), hex bytes otherwise')
    .requiredOption('-c, --test-configuration-file <file>', 'station YAML')
    .requiredOption('--connector <name>', 'the connector to send on')
    .argument('[messages...]', 'frames or hex payloads to send, in order')
    .option('--text <text>', 'send this text (UTF-8) instead')
    .option('--interval <ms>', 'wait this long between messages', (value) => positiveInteger(value, '--interval'), 0)
    .option('--log-level <level>', 'log level on stderr', 'warn')
    .action(async (messages: string[], flags: { testConfigurationFile: string; connector: string; text?: string; interval: number; logLevel: LogLevel }) => setExitCode(await sendCommand(messages, flags)));

  program
    .command('schema')
    .description('print the JSON schema of station YAML files, for editors (yaml-language-server)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(editorSchema(), null, 2)}\n`);
      setExitCode(EXIT.passed);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.passed;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // 'commander.help' is help shown because something was missing (a subcommand): a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.passed : EXIT.usage;
    }
    if (error instanceof ExitRequest) return error.code;
    if (error instanceof UsageError) {
      process.stderr.write(`kiso: ${error.message}\nTry 'kiso --help'.\n`);
      return EXIT.usage;
    }
    if (isKisoError(error, 'KISO_CONFIG_INVALID') || isKisoError(error, 'KISO_USAGE')) {
      process.stderr.write(`kiso: ${error.message}\n`);
      return EXIT.usage;
    }
    if (isKisoError(error)) {
      process.stderr.write(`kiso: ${error.message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`kiso: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
  return exitCode;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv).then(
    // A pipe takes 64 KiB at once: let stdout drain (kiso schema | ...) before exiting.
    (code) => process.stdout.write('', () => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      process.exit(EXIT.failed);
    },
  );
}
