import path from 'node:path';
import { describeError } from '../core/errors.js';
import { silentLogger } from '../core/silent-logger.js';
import { StationRuntime } from '../station/station.js';
import { loadAll } from './load-stations.js';
import { EXIT, UsageError } from './usage.js';

/** `kiso validate`: load and build each station (opening nothing); exit 2 on the first that fails. */
export async function validateCommand(files: string[], dutsFile?: string): Promise<number> {
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

