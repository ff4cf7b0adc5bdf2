import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { describeError, isKisoError } from '../core/errors.js';
import type { RunRecord } from '../results/record/types.js';
import type { IndexEntry, ListFilter, RunStore } from '../store/run-store.js';

/**
 * `kiso runs list|show|export|reindex`: the station's history from its local
 * store. Human tables by default, `--json` for scripts.
 */

const USAGE_EXIT = 2;
const OUTCOMES = ['PASS', 'FAIL', 'ERROR', 'TIMEOUT', 'ABORTED'];

class RunsUsageError extends Error {}

/** The store is imported only by the runs commands that use it. */
async function storeOf(flags: { store?: string }): Promise<RunStore> {
  const { defaultStoreRoot, RunStore } = await import('../store/run-store.js');
  return new RunStore(flags.store ? path.resolve(flags.store) : defaultStoreRoot());
}

/** `2025-11-23` (a whole UTC day for --until) or any date-time Date.parse reads. */
function parseDate(value: string, option: string, endOfDay: boolean): number {
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new RunsUsageError(`${option} "${value}" is not a date: write 2025-11-23 or 2025-11-23T14:00:00Z`);
  return endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value) ? at + 86_400_000 : at;
}

function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function table(entries: IndexEntry[]): string {
  const header = ['ID', 'Started (UTC)', 'Serial', 'Part', 'Procedure', 'Station', 'Outcome', 'Phases', 'Duration'];
  const rows = entries.map((e) => [
    e.id,
    utc(e.started_at),
    e.serial_number ?? '-',
    [e.part_number, e.revision].filter(Boolean).join(' rev ') || '-',
    [e.procedure_id, e.procedure_version].filter(Boolean).join(' v') || '-',
    e.station,
    e.outcome,
    `${e.phases.passed}/${e.phases.total - e.phases.skipped}`,
    seconds(e.duration_ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function showText(record: RunRecord, file: string): string {
  const unit = record.unit_under_test;
  const lines = [
    `Run ${record.id}: ${record.outcome}`,
    `  unit       ${unit.serial_number ?? '(no serial number)'}${unit.part_number ? `  part ${unit.part_number}` : ''}${unit.revision ? ` rev ${unit.revision}` : ''}${unit.batch_number ? `  batch ${unit.batch_number}` : ''}`,
    `  procedure  ${[record.procedure_id, record.procedure_version && `v${record.procedure_version}`, record.procedure_name && `(${record.procedure_name})`].filter(Boolean).join(' ') || '-'}`,
    ...(unit.sub_units?.length ? [`  sub-units  ${unit.sub_units.map((s) => s.serial_number).join(', ')}`] : []),
    `  station    ${record.station.name}${record.station.slot !== undefined ? ` slot ${record.station.slot}` : ''} (${record.station.hostname}), ${record.station.config_file}`,
    ...(record.operated_by ? [`  operator   ${record.operated_by}`] : []),
    `  started    ${utc(record.started_at)}, took ${seconds(record.duration_ms)}`,
    `  record     ${file}`,
  ];
  for (const detail of record.outcome !== 'PASS' ? record.outcome_details : []) lines.push(`  ${detail.code}: ${detail.description}`);
  for (const phase of record.phases) {
    lines.push('', `  ${phase.outcome.padEnd(5)} [${phase.test_id}] ${phase.name} (${seconds(phase.duration_ms)})`);
    if (phase.error && phase.outcome !== 'PASS') lines.push(`        ${phase.error.type}: ${phase.error.message.split('\n')[0]}`);
    for (const m of phase.measurements) {
      const value = m.measured_value === undefined ? '-' : Array.isArray(m.measured_value) ? `${m.measured_value.length} rows` : String(m.measured_value);
      const units = m.dimensions?.length ? m.dimensions.map((d) => d.units ?? d.name).join('×') : (m.units ?? '');
      lines.push(`        ${m.outcome.padEnd(5)} ${m.name.padEnd(24)} ${`${value} ${units}`.trim().padEnd(18)} ${m.validators.join('; ')}`.trimEnd());
    }
    for (const a of phase.attachments) lines.push(`        attachment ${a.name} (${a.mime_type}, ${a.size} bytes): ${path.join(path.dirname(file), a.path)}`);
  }
  return lines.join('\n');
}

function emit(text: string, output: string | undefined): void {
  if (!output) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  writeFileSync(output, text);
  process.stderr.write(`Wrote ${output}\n`);
}

/** Runs an action; a usage or store problem prints `kiso: ...` and sets exit code 2 instead of a stack trace. */
function guarded<A extends unknown[]>(setExitCode: (code: number) => void, action: (...args: A) => Promise<void | number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      setExitCode((await action(...args)) ?? 0);
    } catch (error) {
      if (!(error instanceof RunsUsageError) && !isKisoError(error)) throw error;
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      setExitCode(USAGE_EXIT);
    }
  };
}

/** TofuPilot's OpenHTF import refuses a report larger than this (10 MB). */
export const TOFUPILOT_REPORT_LIMIT = 10_000_000;

const megabytes = (size: number): string => `${(size / 1_000_000).toFixed(2)} MB`;

const storeOption = (): Option => new Option('--store <path>', 'run store folder (default: $KISO_STORE, else ~/.kiso)');

export function addRunsCommands(program: Command, setExitCode: (code: number) => void): void {
  const runs = program.command('runs').description("the station's run records: list, show, export (from the local store)");

  runs
    .command('list')
    .description('list runs, newest first; filters combine')
    .option('--serial <sn>', "one unit's history (the serial number in any letter case: sn-a-17 finds SN-A-17)")
    .option('--procedure <id>', 'procedure id')
    .option('--part-number <pn>', 'part number')
    .option('--outcome <outcome>', `run outcome: ${OUTCOMES.join(', ')}`)
    .option('--station <name>', 'station name')
    .option('--since <date>', 'started at or after (2025-11-23, or a date-time)')
    .option('--until <date>', 'started before (a date alone includes that whole day, UTC)')
    .option('--limit <n>', 'at most n runs (default 100; 0: all)')
    .option('--json', 'print the runs as JSON (for scripts)')
    .addOption(storeOption())
    .action(
      guarded(setExitCode, async (flags: { serial?: string; procedure?: string; partNumber?: string; outcome?: string; station?: string; since?: string; until?: string; limit?: string; json?: boolean; store?: string }) => {
        const outcome = flags.outcome?.toUpperCase();
        if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw new RunsUsageError(`--outcome "${flags.outcome}" is not an outcome: ${OUTCOMES.join(', ')}`);
        const limit = flags.limit === undefined ? 100 : Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new RunsUsageError(`--limit "${flags.limit}" must be a whole number (0 for all)`);
        const filter: ListFilter = {
          serial: flags.serial,
          procedure: flags.procedure,
          partNumber: flags.partNumber,
          outcome,
          station: flags.station,
          since: flags.since === undefined ? undefined : parseDate(flags.since, '--since', false),
          until: flags.until === undefined ? undefined : parseDate(flags.until, '--until', true),
        };
        const store = await storeOf(flags);
        const all = store.list(filter);
        const shown = limit ? all.slice(0, limit) : all;
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          return;
        }
        if (all.length === 0) {
          process.stdout.write(`no runs match in ${store.root}\n`);
          return;
        }
        process.stdout.write(`${table(shown)}\n`);
        if (shown.length < all.length) process.stdout.write(`... ${all.length - shown.length} older runs not shown (--limit 0 shows all)\n`);
      }),
    );

  runs
    .command('show')
    .description('one run: unit, phases, measurements, attachments')
    .argument('<id>', 'run id (or its first characters, at least the date and time)')
    .option('--json', 'print the run record as JSON')
    .addOption(storeOption())
    .action(
      guarded(setExitCode, async (id: string, flags: { json?: boolean; store?: string }) => {
        const store = await storeOf(flags);
        const record = store.read(id);
        process.stdout.write(flags.json ? `${JSON.stringify(record, null, 2)}\n` : `${showText(record, store.recordPath(record.id))}\n`);
      }),
    );

  runs
    .command('export')
    .description('write a run in another format: openhtf (OpenHTF JSON test record, for OpenHTF and TofuPilot tools), html, or kiso (the record as is)')
    .argument('<id>', 'run id (or its first characters)')
    .addOption(new Option('--format <format>', 'output format').choices(['openhtf', 'html', 'kiso']).makeOptionMandatory())
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--no-inline-attachments', "openhtf: leave the attachments' bytes out of the JSON (only mimetype and sha1, as OpenHTF's OutputToJSON(inline_attachments=False)) and write the files beside it, in ID.files/<phase>/<name>")
    .addOption(storeOption())
    .action(
      guarded(setExitCode, async (id: string, flags: { format: 'openhtf' | 'html' | 'kiso'; output?: string; inlineAttachments: boolean; store?: string }) => {
        if (!flags.inlineAttachments && flags.format !== 'openhtf') throw new RunsUsageError('--no-inline-attachments is for --format openhtf');
        if (!flags.inlineAttachments && !flags.output) throw new RunsUsageError('--no-inline-attachments writes the attachments beside the JSON: give the JSON file with -o FILE');
        const store = await storeOf(flags);
        const record = store.read(id);
        const missing: string[] = [];
        const read = (ref: { path: string }): Uint8Array | undefined => {
          const data = store.readAttachment(record, ref.path);
          if (!data) missing.push(ref.path);
          return data;
        };
        const text =
          flags.format === 'openhtf'
            ? JSON.stringify((await import('../results/record/openhtf.js')).toOpenHtf(record, read, { inlineAttachments: flags.inlineAttachments }), null, 2)
            : flags.format === 'html'
              ? (await import('../results/record/html.js')).renderHtml(record, (_phase, ref) => read(ref), {
                  htmlFile: flags.output,
                  attachmentFile: (ref) => (existsSync(path.join(path.dirname(store.recordPath(record.id)), ref.path)) ? path.join(path.dirname(store.recordPath(record.id)), ref.path) : undefined),
                })
              : JSON.stringify(record, null, 2);
        if (flags.format === 'openhtf' && !flags.inlineAttachments) {
          // The same relative paths as in the store: ID.files/<phase>/<name>, beside the JSON.
          const folder = path.dirname(path.resolve(flags.output!));
          for (const ref of record.phases.flatMap((phase) => phase.attachments)) {
            const data = read(ref);
            if (!data) continue;
            const file = path.join(folder, ref.path);
            mkdirSync(path.dirname(file), { recursive: true });
            writeFileSync(file, data);
          }
        }
        emit(text, flags.output);
        const size = Buffer.byteLength(text);
        if (flags.format === 'openhtf' && size > TOFUPILOT_REPORT_LIMIT) {
          process.stderr.write(`kiso: warning: the export is ${megabytes(size)}: TofuPilot's OpenHTF import refuses reports over ${megabytes(TOFUPILOT_REPORT_LIMIT)}${flags.inlineAttachments ? '; --no-inline-attachments writes the attachments beside the JSON instead' : ''}\n`);
        }
        if (missing.length) {
          process.stderr.write(`kiso: ${missing.length} attachment(s) missing from the store, exported without their bytes: ${[...new Set(missing)].join(', ')}\n`);
          return 1;
        }
        if (flags.format === 'openhtf' && !flags.inlineAttachments && record.phases.some((phase) => phase.attachments.length)) {
          process.stderr.write(`Wrote the attachments in ${path.join(path.dirname(flags.output!), `${record.id}.files`)}\n`);
        }
        return 0;
      }),
    );

  runs
    .command('reindex')
    .description('rebuild the index from the record files (after a kiso was killed before indexing its run); run it while no kiso runs')
    .addOption(storeOption())
    .action(
      guarded(setExitCode, async (flags: { store?: string }) => {
        const store = await storeOf(flags);
        process.stdout.write(`indexed ${store.reindex()} runs in ${store.root}\n`);
      }),
    );
}
