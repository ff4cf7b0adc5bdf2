import path from 'node:path';
import { ConfigError } from '../config/issues.js';
import { loadStationConfig, type StationConfig } from '../config/load.js';
import { loadSlots, type Slot } from '../slots/duts.js';
import { EXIT, ExitRequest, UsageError } from './usage.js';

/** A station to run: its config, and its fixture slots when it has some. */
export interface PlannedRun {
  config: StationConfig;
  slots?: Slot[];
}

/** Loads every station file before anything opens; all their config errors at once, then exit 2. */
export async function loadAll(files: readonly string[], dutsFile?: string, options: { serialsLater?: boolean } = {}): Promise<PlannedRun[]> {
  const planned: PlannedRun[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      const slots = await loadSlots(file, { dutsFile, serialsLater: options.serialsLater });
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
