import { hostname } from 'node:os';
import path from 'node:path';
import type { StationConfig } from '../config/load.js';
import type { Logger } from '../core/logging.js';
import { RunRecordReporter } from '../results/reporters/run-record.js';
import { storeSettings, redactUrl, type StoreSettings } from '../store/location.js';
import { StationStore } from '../store/sqlite-store.js';
import { resolveRunMetadata } from '../station/run-metadata.js';
import type { RecordFlags } from './record-flags.js';

/** An HTML file option for one station: as given, or with the station's name added when several run. */
export function htmlFileFor(option: string | undefined, config: StationConfig, configCount: number): string | undefined {
  if (!option) return undefined;
  if (configCount === 1) return path.resolve(option);
  const ext = path.extname(option) || '.html';
  return path.resolve(`${option.slice(0, option.length - path.extname(option).length)}-${path.basename(config.file).replace(/\.ya?ml$/, '')}${ext}`);
}

/** Where a station's runs go: --store, else $KISO_STORE / $KISO_STORE_URL, else the YAML's store:, else ~/.kiso. */
export function settingsFor(config: StationConfig, flags: RecordFlags): StoreSettings {
  return storeSettings({ flag: flags.store, yaml: config.store });
}

/** One station store per folder per process: every run and fixture slot of this kiso writes through it. */
const opened = new Map<string, StationStore>();

export function stationStore(settings: StoreSettings, log?: Logger): StationStore {
  let store = opened.get(settings.localRoot);
  if (!store) {
    store = StationStore.open(settings.localRoot, { log, outbox: settings.fleetUrl !== undefined });
    opened.set(settings.localRoot, store);
  }
  if (settings.fleetUrl) store.enableOutbox();
  return store;
}

/**
 * The reporter that records one station run, its metadata resolved first:
 * the serial hook (a barcode scan) runs here, before anything opens.
 * Undefined when neither a record nor an HTML or step report is wanted.
 */
export async function openRunRecord(config: StationConfig, flags: RecordFlags, configCount: number, log: Logger, signal: AbortSignal): Promise<RunRecordReporter | undefined> {
  const htmlFile = htmlFileFor(flags.html, config, configCount);
  const stepReportFile = htmlFileFor(flags.stepReport, config, configCount);
  if (flags.record === false && !htmlFile && !stepReportFile) return undefined;
  const meta = await resolveRunMetadata(config, flags, log, signal);
  const store = flags.record === false ? undefined : stationStore(settingsFor(config, flags), log);
  return RunRecordReporter.open({ meta, store, htmlFile, stepReportFile, signal, log });
}

/**
 * After a run, with a fleet store: push the outbox (this run and any left
 * from before). An unreachable fleet never fails the run: the runs wait in
 * the outbox for the next run or `kiso runs sync`.
 */
export async function pushToFleet(config: StationConfig, flags: RecordFlags, log: Logger): Promise<string> {
  if (flags.record === false) return '';
  const settings = settingsFor(config, flags);
  if (!settings.fleetUrl) return '';
  const store = stationStore(settings, log);
  const { syncOutbox } = await import('../store/sync.js');
  const result = await syncOutbox(store, settings.fleetUrl, { log, connectTimeoutMs: 3000 });
  const where = redactUrl(settings.fleetUrl);
  if (result.error) {
    log.warn(`fleet store ${where}: ${result.error}`);
    return `Fleet store: unreachable, ${result.waiting} run(s) wait in the outbox (the next run or kiso runs sync pushes them)\n`;
  }
  return `Fleet store: pushed ${result.pushed} run(s) to ${where}\n`;
}

/** Refuses (KISO_STATION_PROCEDURE, exit 2) a run of a procedure not linked to the station, before anything opens. */
export async function checkLinks(config: StationConfig, flags: RecordFlags, log: Logger): Promise<void> {
  const settings = settingsFor(config, flags);
  const yamlProcedures = config.station.procedures;
  if (!settings.fleetUrl && !yamlProcedures) return;
  const { checkStationLinks } = await import('../store/station-links.js');
  await checkStationLinks({
    station: flags.stationName ?? config.station.name ?? hostname(),
    procedure: flags.procedureId ?? config.station.procedureId,
    yamlProcedures,
    fleetUrl: settings.fleetUrl,
    local: settings.fleetUrl ? stationStore(settings, log) : undefined,
    log,
  });
}

/** The lines the CLI prints after a run, like its "JUnit report:" line. */
export function recordSummary(reporter: RunRecordReporter | undefined, flags: Pick<RecordFlags, 'html' | 'stepReport'>, config: StationConfig, configCount: number): string {
  const lines: string[] = [];
  if (reporter?.recordFile) lines.push(`Run record: ${reporter.id} in ${reporter.recordFile} (kiso runs show ${reporter.id})`);
  const shown = (file: string): string => {
    const relative = path.relative(process.cwd(), file);
    return relative && !relative.startsWith('..') ? relative : file;
  };
  const html = htmlFileFor(flags.html, config, configCount);
  if (html && reporter?.record) lines.push(`HTML report: ${shown(html)}`);
  const steps = htmlFileFor(flags.stepReport, config, configCount);
  if (steps && reporter?.record) lines.push(`Step report: ${shown(steps)}`);
  return lines.map((line) => `${line}\n`).join('');
}
