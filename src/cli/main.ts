#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { describeError, isKisoError } from '../core/errors.js';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from '../core/log-levels.js';
import { kisoVersion } from '../core/package-root.js';
import { addRecordOptions } from './record-flags.js';
import { addRunsCommands } from './runs.js';
import { addStationsCommands } from './stations.js';
import { collect, EXIT, ExitRequest, positiveInteger, UsageError } from './usage.js';
import type { RunFlags } from './run-command.js';

export { EXIT } from './usage.js';

/** The real process.exit, taken before any suite runs: a run replaces process.exit with its guard (runner/exit-guard.ts). */
const exitProcess = process.exit.bind(process) as (code?: number) => never;

/**
 * The `kiso` command. This file declares the commands and their options;
 * each command's work is in a module of its own, imported only when that
 * command runs, so `kiso --version` or `kiso validate` loads no CAN, store,
 * report or worker code.
 */

function logLevelOption(value: string): LogLevel {
  const level = parseLogLevel(value);
  if (!level) throw new UsageError(`--log-level "${value}" is not a level: ${LOG_LEVELS.join(', ')} (or pykiso's DEBUG, INFO, WARNING, ERROR)`);
  return level;
}

/** The built-in types, registered before a command resolves any type name. */
async function builtinsRegistered(): Promise<void> {
  (await import('../builtins.js')).registerBuiltins();
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
    .option('-l, --log-path <path>', 'write the run log as NDJSON to this file (or into this folder); one per -c, or one for all', collect, [])
    .addOption(new Option('--log-level <level>', `log level of the console and the log file: ${LOG_LEVELS.join(', ')} (pykiso's DEBUG, INFO, WARNING, ERROR too, any case)`).argParser(logLevelOption).default('info'))
    .option('-v, --verbose', 'debug logs, from kiso itself too (as pykiso -v); --log-level wins when given')
    .option('--text', "pykiso's text report: the console report kiso always prints (accepted for pykiso command lines)")
    .option('--junit [file]', 'write a JUnit XML report (default reports/junit.xml; a folder: FOLDER/<station>-<time>.xml; with fixture slots one per serial number)')
    .addOption(new Option('--junit-format <format>', "default (GitLab, junitparser) or jenkins (valid against Jenkins xunit-plugin's junit-10.xsd)").choices(['default', 'jenkins']).default('default'))
    .option('--duts <file>', 'fixture slots from this file (a list of slots) instead of the station\'s duts section')
    .option('--dist <mode>', 'with fixture slots: each (every slot runs every case, the default) or load (identical devices share the cases)')
    .option('--jobs <n>', 'with fixture slots: at most N slots at once', (value) => positiveInteger(value, '--jobs'))
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText('after', '\nAny other --NAME v1,v2 is a tag filter: only cases whose tag NAME has one of the values run.\nExit codes: 0 all passed, 1 a case failed or errored, 2 usage or configuration error.')
    .action(async (flags: RunFlags & { verbose?: boolean }, command: Command) => {
      await builtinsRegistered();
      if (flags.verbose && command.getOptionValueSource('logLevel') === 'default') flags.logLevel = 'debug';
      const knownOptions = command.options.map((option) => option.long?.replace(/^--/, '')).filter((name): name is string => Boolean(name));
      setExitCode(await (await import('./run-command.js')).runCommand(flags, command.args, knownOptions));
    });
  addRecordOptions(program);
  addRunsCommands(program, setExitCode);
  addStationsCommands(program, setExitCode);

  program
    .command('validate')
    .description('check station YAML files without opening anything; exit 2 with file:line:col on errors')
    .option('-c, --test-configuration-file <file>', 'station YAML to check (repeatable)', collect, [])
    .option('--duts <file>', 'fixture slots from this file')
    .action(async (flags: { testConfigurationFile: string[]; duts?: string }) => {
      await builtinsRegistered();
      setExitCode(await (await import('./validate-command.js')).validateCommand(flags.testConfigurationFile, flags.duts));
    });

  program
    .command('dump')
    .description('print every message one connector receives (candump format for CAN, hex otherwise); opens only that connector')
    .requiredOption('-c, --test-configuration-file <file>', 'station YAML')
    .requiredOption('--connector <name>', 'the connector to listen on')
    .option('--count <n>', 'stop after N messages', (value) => positiveInteger(value, '--count'))
    .option('-L, --log', "candump's log format with timestamps (what canplayer and python-can read back)")
    .option('--pcap <file>', 'also write the CAN frames to a pcap file for Wireshark')
    .option('--log-level <level>', 'log level on stderr', logLevelOption, 'warn')
    .action(async (flags: { testConfigurationFile: string; connector: string; count?: number; log?: boolean; pcap?: string; logLevel: LogLevel }) => {
      await builtinsRegistered();
      setExitCode(await (await import('./bus-commands.js')).dumpCommand(flags));
    });

  program
    .command('send')
    .description('send messages on one connector: cansend syntax for CAN (123#DEADBEEF, 123##1AABB for FD), hex bytes otherwise')
    .requiredOption('-c, --test-configuration-file <file>', 'station YAML')
    .requiredOption('--connector <name>', 'the connector to send on')
    .argument('[messages...]', 'frames or hex payloads to send, in order')
    .option('--text <text>', 'send this text (UTF-8) instead')
    .option('--interval <ms>', 'wait this long between messages', (value) => positiveInteger(value, '--interval'), 0)
    .option('--log-level <level>', 'log level on stderr', logLevelOption, 'warn')
    .action(async (messages: string[], flags: { testConfigurationFile: string; connector: string; text?: string; interval: number; logLevel: LogLevel }) => {
      await builtinsRegistered();
      setExitCode(await (await import('./bus-commands.js')).sendCommand(messages, flags));
    });

  const trace = program
    .command('trace')
    .description('CAN logs: convert, decode with a DBC, summarize, replay (candump -L, ASC, BLF, TRC, CSV, pcap, pcapng)')
    .addHelpText('after', `\nFormats by extension: .log candump, .asc, .blf, .trc (2.1; --to trc-1.1 for 1.1), .csv (python-can's), .pcap, .pcapng.\nMalformed lines are counted, reported on stderr and skipped (--strict: exit 1).`);
  const traceModule = async () => import('./trace-commands.js');
  const formatOption = (flag: string, what: string) => new Option(`${flag} <format>`, `${what}: candump, asc, blf, trc, trc-1.1, csv, pcap, pcapng (default: by extension)`);
  trace
    .command('convert')
    .description('convert a log to another format (frames, flags, channels, directions and timestamps kept where the target format has a place for them)')
    .argument('<in>', 'the log to read')
    .argument('<out>', 'the log to write')
    .addOption(formatOption('--from', 'format of <in>'))
    .addOption(formatOption('--to', 'format of <out>'))
    .option('--strict', 'exit 1 when the input has malformed lines')
    .action(async (input: string, output: string, flags: { from?: string; to?: string; strict?: boolean }) => {
      setExitCode(await (await traceModule()).convertCommand(input, output, flags));
    });
  trace
    .command('decode')
    .description('decode a log with a DBC into CSV: one row per decoded message, or one column per signal with --signals')
    .argument('<in>', 'the log to read')
    .requiredOption('--dbc <file>', 'the DBC file')
    .option('--signals <names>', 'columns: Signal or Message.Signal names, comma-separated')
    .option('-o, --output <file>', 'write the CSV here instead of stdout')
    .option('--workers <n>', 'worker threads that parse and decode (0: none; default: one per core)', (value) => positiveInteger(value, '--workers'))
    .addOption(formatOption('--from', 'format of <in>'))
    .option('--strict', 'exit 1 when the input has malformed lines')
    .action(async (input: string, flags: { dbc: string; signals?: string; output?: string; workers?: number; from?: string; strict?: boolean }) => {
      setExitCode(await (await traceModule()).decodeCommand(input, flags));
    });
  trace
    .command('info')
    .description('what a log holds: frame count, ids with their counts and rates, kinds of frames, channels, time span')
    .argument('<in>', 'the log to read')
    .addOption(formatOption('--from', 'format of <in>'))
    .option('--json', 'print JSON')
    .option('--strict', 'exit 1 when the input has malformed lines')
    .action(async (input: string, flags: { from?: string; json?: boolean; strict?: boolean }) => {
      setExitCode(await (await traceModule()).infoCommand(input, flags));
    });
  trace
    .command('replay')
    .description("send a log's frames on a connector of a station, with their original timing (canplayer)")
    .argument('<in>', 'the log to replay')
    .requiredOption('-c, --test-configuration-file <file>', 'station YAML')
    .requiredOption('--connector <name>', 'the CAN connector to send on')
    .option('--speed <factor>', 'timing factor: 1 original, 2 twice as fast, 0 as fast as possible', (value) => {
      const speed = Number(value);
      if (!Number.isFinite(speed) || speed < 0) throw new UsageError(`--speed takes a factor >= 0, got "${value}"`);
      return speed;
    }, 1)
    .option('--loop', 'start again at the end, until Ctrl-C')
    .addOption(formatOption('--from', 'format of <in>'))
    .option('--log-level <level>', 'log level on stderr', logLevelOption, 'warn')
    .action(async (input: string, flags: { testConfigurationFile: string; connector: string; speed: number; loop?: boolean; from?: string; logLevel: LogLevel }) => {
      await builtinsRegistered();
      setExitCode(await (await traceModule()).replayCommand(input, flags));
    });

  program
    .command('serve')
    .description("the operator's web page for a station: start runs with serials per slot, watch the slots live, answer prompts, see each unit's history")
    .option('-c, --test-configuration-file <file>', 'station YAML to serve', collect, [])
    .option('--duts <file>', 'fixture slots from this file')
    .option('--port <n>', 'TCP port (0: any free port)', (value) => positiveInteger(value, '--port'), 8080)
    .option('--host <address>', 'address to listen on; any other than 127.0.0.1 needs KISO_UI_TOKEN', '127.0.0.1')
    .option('--store <path>', 'run store folder (default: $KISO_STORE, else ~/.kiso)')
    .addOption(new Option('--log-level <level>', 'log level of the console').argParser(logLevelOption).default('info'))
    .action(async (flags: import('./serve-command.js').ServeFlags) => {
      await builtinsRegistered();
      setExitCode(await (await import('./serve-command.js')).serveCommand(flags));
    });

  program
    .command('schema')
    .description('print the JSON schema of station YAML files, for editors (yaml-language-server)')
    .action(async () => {
      await builtinsRegistered();
      const { editorSchema } = await import('../config/editor-schema.js');
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
    if (isKisoError(error, 'KISO_CONFIG_INVALID') || isKisoError(error, 'KISO_USAGE') || isKisoError(error, 'KISO_SELECTION_EMPTY') || isKisoError(error, 'KISO_STATION_PROCEDURE')) {
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
    (code) => process.stdout.write('', () => exitProcess(code)),
    (error: unknown) => {
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      exitProcess(EXIT.failed);
    },
  );
}
