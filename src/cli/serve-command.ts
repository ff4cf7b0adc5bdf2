import path from 'node:path';
import { createLogger, formatLogLine, type LogLevel } from '../core/logging.js';
import { describeError } from '../core/errors.js';
import { RunRecordReporter } from '../results/reporters/run-record.js';
import { UiHub, logLineOf } from '../serve/hub.js';
import { RunController } from '../serve/run-controller.js';
import { buildServer, type History, type RunRow } from '../serve/server.js';
import { UiPrompter } from '../serve/ui-prompter.js';
import { catchStrayErrors } from '../runner/exit-guard.js';
import { resolveRunMetadata } from '../station/run-metadata.js';
import type { StationStore } from '../store/sqlite-store.js';
import type { RunSummary } from '../store/types.js';
import { pushToFleet, settingsFor, stationStore } from './record-options.js';
import { loadAll } from './load-stations.js';
import { EXIT, UsageError } from './usage.js';

export interface ServeFlags {
  testConfigurationFile: string[];
  duts?: string;
  port: number;
  host: string;
  store?: string;
  logLevel: LogLevel;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function row(entry: RunSummary): RunRow {
  const counts = entry.phases;
  return { id: entry.id, started_at: entry.started_at, serial_number: entry.serial_number, station: entry.station, outcome: entry.outcome, counts: `${counts.passed} passed, ${counts.failed + counts.error} failed` };
}

/** The page's history, from the station's run store. */
function storeHistory(store: StationStore): History {
  return {
    recent: async (limit) => store.list({ limit }).map(row),
    unit: async (serial) => store.list({ serial }).map(row),
    run: async (id) => {
      let record;
      try {
        record = store.read(id);
      } catch {
        return undefined;
      }
      const attachments = new Map<string, Uint8Array>();
      for (const phase of record.phases) for (const ref of phase.attachments) {
        const data = store.readAttachment(record, ref.path);
        if (data) attachments.set(ref.path, data);
      }
      return { record, attachments };
    },
  };
}

/**
 * `kiso serve -c station.yaml`: the operator's page for a station. Runs
 * start from the page (serials per slot), prompts are answered there, and
 * every run is recorded in the store as with `kiso -c`. Stops on Ctrl-C
 * (a running run is aborted first, its reports written).
 */
export async function serveCommand(flags: ServeFlags): Promise<number> {
  if (flags.testConfigurationFile.length !== 1) throw new UsageError('kiso serve needs one -c/--test-configuration-file: the station it serves');
  const token = process.env.KISO_UI_TOKEN || undefined;
  if (!LOOPBACK.has(flags.host) && !token) throw new UsageError(`--host ${flags.host} makes the station reachable from other machines: set KISO_UI_TOKEN to the access token every request must carry`);
  // Serials may be left out of the duts: the operator enters them on the page.
  const [planned] = await loadAll(flags.testConfigurationFile, flags.duts, { serialsLater: true });
  const { config, slots } = planned!;
  const hub = new UiHub({
    station: { name: config.station.name ?? path.basename(config.file).replace(/\.ya?ml$/, ''), file: config.file, fixture: Boolean(slots) },
    running: false,
    tiles: (slots ?? [{ slot: 1, serial: '', present: true }]).map((slot) => ({ slot: slot.slot, serial: slot.present ? slot.serial : '', present: slot.present, status: slot.present ? 'idle' : 'empty', done: 0, total: 0, failed: 0, logs: [] })),
    prompts: [],
  });
  const { logger, flush } = createLogger({
    level: flags.logLevel,
    console: true,
    capture: (raw) => {
      const entry = logLineOf(raw);
      if (entry) hub.emit({ type: 'log', slot: entry.slot ?? (slots ? null : 1), line: { ...entry.line, msg: formatLogLine(raw) } });
    },
  });
  // A suite's stray error or process.exit() must not end the operator's page: it errors the running case.
  const { strayErrors } = catchStrayErrors((error, kind) => logger.error({ err: error }, `${kind} (from a suite or auxiliary): ${describeError(error)}`));
  const store = stationStore(settingsFor(config, { store: flags.store }), logger);
  const prompter = new UiPrompter(hub);
  const stopping = new AbortController();
  const controller = new RunController({
    target: { config, slots },
    hub,
    log: logger,
    logLevel: flags.logLevel,
    strayErrors,
    prompter,
    // With a fleet store, each run is pushed after it ends, as with kiso -c (offline: it waits in the outbox).
    afterRun: async () => {
      const line = await pushToFleet(config, { store: flags.store }, logger);
      if (line) process.stdout.write(line);
    },
    recordFor: async (slotConfig, serial) => {
      const meta = await resolveRunMetadata(slotConfig, { serial }, logger, stopping.signal);
      return RunRecordReporter.open({ meta, store, log: logger });
    },
  });
  const app = await buildServer({ hub, controller, prompter, history: storeHistory(store), log: logger, token });
  const address = await app.listen({ port: flags.port, host: flags.host });
  process.stdout.write(`kiso serve: ${address}/ — ${path.relative(process.cwd(), config.file)}${slots ? `, ${slots.filter((s) => s.present).length} slot(s)` : ''}${token ? ' (access token required)' : ''}; Ctrl-C to stop\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('kiso serve: stopping\n');
  stopping.abort();
  controller.abort();
  try {
    await controller.settled();
  } catch (error) {
    logger.error({ err: error }, describeError(error));
  }
  await app.close();
  flush();
  return EXIT.passed;
}
