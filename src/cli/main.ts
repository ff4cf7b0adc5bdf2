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
    (code) => process.stdout.write('', () => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      process.exit(EXIT.failed);
    },
  );
}
