import path from 'node:path';
import type { StationConfig } from '../config/load.js';
import type { Logger } from '../core/logging.js';
import { RunRecordReporter } from '../results/reporters/run-record.js';
import { defaultStoreRoot, RunStore } from '../store/run-store.js';
import { resolveRunMetadata } from '../station/run-metadata.js';
import type { RecordFlags } from './record-flags.js';

/** An HTML file option for one station: as given, or with the station's name added when several run. */
export function htmlFileFor(option: string | undefined, config: StationConfig, configCount: number): string | undefined {
  if (!option) return undefined;
  if (configCount === 1) return path.resolve(option);
  const ext = path.extname(option) || '.html';
  return path.resolve(`${option.slice(0, option.length - path.extname(option).length)}-${path.basename(config.file).replace(/\.ya?ml$/, '')}${ext}`);
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
  const store = flags.record === false ? undefined : new RunStore(flags.store ? path.resolve(flags.store) : defaultStoreRoot());
  return new RunRecordReporter({ meta, store, htmlFile, stepReportFile, signal, log });
}

/** The lines the CLI prints after a run, like its "JUnit report:" line. */
export function recordSummary(reporter: RunRecordReporter | undefined, flags: Pick<RecordFlags, 'html' | 'stepReport'>, config: StationConfig, configCount: number): string {
  const lines: string[] = [];
  if (reporter?.recordFile) lines.push(`Run record: ${reporter.recordFile} (kiso runs show ${reporter.id})`);
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
