import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { describeError, isKisoError } from '../core/errors.js';
import type { RunRecord } from '../results/record/types.js';
import type { RunQueries } from '../store/open.js';
import type { ListFilter, RunSummary } from '../store/types.js';

/**
 * `kiso runs list|show|export|stats|migrate|reindex|sync`: the runs of the
 * station store (SQLite, the default) or of the fleet store (`--store
 * postgres://...`, or `--fleet` for `$KISO_STORE_URL`). Human tables by
 * default, `--json` for scripts.
 */

const USAGE_EXIT = 2;
const OUTCOMES = ['PASS', 'FAIL', 'ERROR', 'TIMEOUT', 'ABORTED'];

class RunsUsageError extends Error {}
/** The command said what went wrong and exits 1 (not a usage error: the fleet was unreachable). */
class RunsFailure extends Error {}

interface StoreFlags {
  store?: string;
  fleet?: boolean;
}

/** Which store a query reads: --store (a folder or a postgres:// URL), --fleet ($KISO_STORE_URL), else the station store. */
async function target(flags: StoreFlags): Promise<{ root: string } | { url: string }> {
  const { defaultStoreRoot, isStoreUrl } = await import('../store/location.js');
  if (flags.store !== undefined) {
    if (!flags.store.trim()) throw new RunsUsageError('--store is empty: give a folder or a postgres:// URL');
    return isStoreUrl(flags.store) ? { url: flags.store } : { root: path.resolve(flags.store) };
  }
  if (flags.fleet) {
    const url = process.env.KISO_STORE_URL;
    if (!url || !isStoreUrl(url)) throw new RunsUsageError('--fleet needs KISO_STORE_URL=postgres://ROLE@HOST/DATABASE (or give --store URL)');
    return { url };
  }
  return { root: defaultStoreRoot() };
}

/** The store is imported only by the runs commands that use it; the PostgreSQL client only for a fleet store. */
async function withStore<T>(flags: StoreFlags, work: (store: RunQueries) => Promise<T>): Promise<T> {
  const { openQueries } = await import('../store/open.js');
  const store = await openQueries(await target(flags));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
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

function table(entries: RunSummary[]): string {
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

function showText(record: RunRecord, store: RunQueries): string {
  const unit = record.unit_under_test;
  const lines = [
    `Run ${record.id}: ${record.outcome}`,
    `  unit       ${unit.serial_number ?? '(no serial number)'}${unit.part_number ? `  part ${unit.part_number}` : ''}${unit.revision ? ` rev ${unit.revision}` : ''}${unit.batch_number ? `  batch ${unit.batch_number}` : ''}`,
    `  procedure  ${[record.procedure_id, record.procedure_version && `v${record.procedure_version}`, record.procedure_name && `(${record.procedure_name})`].filter(Boolean).join(' ') || '-'}`,
    ...(unit.sub_units?.length ? [`  sub-units  ${unit.sub_units.map((s) => s.serial_number).join(', ')}`] : []),
    `  station    ${record.station.name}${record.station.slot !== undefined ? ` slot ${record.station.slot}` : ''} (${record.station.hostname}), ${record.station.config_file}`,
    ...(record.operated_by ? [`  operator   ${record.operated_by}`] : []),
    `  started    ${utc(record.started_at)}, took ${seconds(record.duration_ms)}`,
    `  store      ${store.location}`,
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
    for (const a of phase.attachments) lines.push(`        attachment ${a.name} (${a.mime_type}, ${a.size} bytes): ${store.attachmentLocation(a)}`);
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

/**
 * Runs an action: a usage problem or a missing run prints `kiso: ...` and
 * exits 2; a fleet store that cannot be reached, or a sync that left runs
 * behind, exits 1. An action may return its own exit code.
 */
function guarded<A extends unknown[]>(setExitCode: (code: number) => void, action: (...args: A) => Promise<void | number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      setExitCode((await action(...args)) ?? 0);
    } catch (error) {
      if (error instanceof RunsFailure || isKisoError(error, 'KISO_STORE_UNREACHABLE')) {
        process.stderr.write(`kiso: ${describeError(error)}\n`);
        setExitCode(1);
        return;
      }
      if (!(error instanceof RunsUsageError) && !isKisoError(error)) throw error;
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      setExitCode(USAGE_EXIT);
    }
  };
}

/** TofuPilot's OpenHTF import refuses a report larger than this (10 MB). */
export const TOFUPILOT_REPORT_LIMIT = 10_000_000;

const megabytes = (size: number): string => `${(size / 1_000_000).toFixed(2)} MB`;

const storeOption = (): Option => new Option('--store <path|url>', 'the store to read: a station store folder, or a fleet store postgres://ROLE@HOST/DB (default: $KISO_STORE, else ~/.kiso)');
const fleetOption = (): Option => new Option('--fleet', 'read the fleet store of $KISO_STORE_URL');

function dateFilter(flags: { since?: string; until?: string }): { since?: number; until?: number } {
  return {
    since: flags.since === undefined ? undefined : parseDate(flags.since, '--since', false),
    until: flags.until === undefined ? undefined : parseDate(flags.until, '--until', true),
  };
}

export function addRunsCommands(program: Command, setExitCode: (code: number) => void): void {
  const runs = program.command('runs').description("run records: list, show, export, stats (the station store, or the fleet's with --store postgres://... / --fleet), migrate, sync");

  runs
    .command('list')
    .description('list runs, newest first; filters combine')
    .option('--serial <sn>', "one unit's history (the serial number in any letter case: sn-a-17 finds SN-A-17)")
    .option('--procedure <id>', 'procedure id')
    .option('--part-number <pn>', 'part number')
    .option('--outcome <outcome>', `run outcome: ${OUTCOMES.join(', ')}`)
    .option('--station <name>', 'the station that ran it')
    .option('--since <date>', 'started at or after (2025-11-23, or a date-time)')
    .option('--until <date>', 'started before (a date alone includes that whole day, UTC)')
    .option('--limit <n>', 'at most n runs (default 100; 0: all)')
    .option('--json', 'print the runs as JSON (for scripts)')
    .addOption(storeOption())
    .addOption(fleetOption())
    .action(
      guarded(setExitCode, async (flags: { serial?: string; procedure?: string; partNumber?: string; outcome?: string; station?: string; since?: string; until?: string; limit?: string; json?: boolean } & StoreFlags) => {
        const outcome = flags.outcome?.toUpperCase();
        if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw new RunsUsageError(`--outcome "${flags.outcome}" is not an outcome: ${OUTCOMES.join(', ')}`);
        const limit = flags.limit === undefined ? 100 : Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new RunsUsageError(`--limit "${flags.limit}" must be a whole number (0 for all)`);
        const filter: ListFilter = { serial: flags.serial, procedure: flags.procedure, partNumber: flags.partNumber, outcome, station: flags.station, ...dateFilter(flags), limit: limit ? limit + 1 : 0 };
        await withStore(flags, async (store) => {
          const found = await store.list(filter);
          const shown = limit ? found.slice(0, limit) : found;
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
            return;
          }
          if (found.length === 0) {
            process.stdout.write(`no runs match in ${store.location}\n`);
            return;
          }
          process.stdout.write(`${table(shown)}\n`);
          if (shown.length < found.length) process.stdout.write(`... older runs not shown (--limit 0 shows all)\n`);
        });
      }),
    );

  runs
    .command('show')
    .description('one run: unit, phases, measurements, attachments')
    .argument('<id>', 'run id (or its first characters, at least the date and time)')
    .option('--json', 'print the run record as JSON')
    .addOption(storeOption())
    .addOption(fleetOption())
    .action(
      guarded(setExitCode, async (id: string, flags: { json?: boolean } & StoreFlags) => {
        await withStore(flags, async (store) => {
          const record = await store.read(id);
          process.stdout.write(flags.json ? `${JSON.stringify(record, null, 2)}\n` : `${showText(record, store)}\n`);
        });
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
    .addOption(fleetOption())
    .action(
      guarded(setExitCode, async (id: string, flags: { format: 'openhtf' | 'html' | 'kiso'; output?: string; inlineAttachments: boolean } & StoreFlags) => {
        if (!flags.inlineAttachments && flags.format !== 'openhtf') throw new RunsUsageError('--no-inline-attachments is for --format openhtf');
        if (!flags.inlineAttachments && !flags.output) throw new RunsUsageError('--no-inline-attachments writes the attachments beside the JSON: give the JSON file with -o FILE');
        const missing: string[] = [];
        const { text, record, read } = await withStore(flags, async (store) => {
          const record = await store.read(id);
          const bytes = await store.attachments(record);
          const read = (ref: { path: string }): Uint8Array | undefined => {
            const data = bytes.get(ref.path);
            if (!data) missing.push(ref.path);
            return data;
          };
          const text = flags.format === 'openhtf'
            ? JSON.stringify((await import('../results/record/openhtf.js')).toOpenHtf(record, read, { inlineAttachments: flags.inlineAttachments }), null, 2)
            : flags.format === 'html'
              ? (await import('../results/record/html.js')).renderHtml(record, (_phase, ref) => read(ref), {
                  htmlFile: flags.output,
                  attachmentFile: (ref) => {
                    const file = store.attachmentLocation(ref);
                    return existsSync(file) ? file : undefined;
                  },
                })
              : JSON.stringify(record, null, 2);
          return { text, record, read };
        });
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
    .command('stats')
    .description('first-pass and final yield, runs per station, and per measurement count, mean, std, min/max, Cpk; the measurements that fail most')
    .option('--procedure <id>', 'one procedure')
    .option('--station <name>', 'one station')
    .option('--since <date>', 'runs started at or after')
    .option('--until <date>', 'runs started before (a date alone includes that whole day, UTC)')
    .option('--json', 'print the figures as JSON')
    .option('--html <file>', 'also write an HTML page with charts')
    .addOption(storeOption())
    .addOption(fleetOption())
    .action(
      guarded(setExitCode, async (flags: { procedure?: string; station?: string; since?: string; until?: string; json?: boolean; html?: string } & StoreFlags) => {
        const filter = { procedure: flags.procedure, station: flags.station, ...dateFilter(flags) };
        await withStore(flags, async (store) => {
          const stats = await store.stats(filter);
          const { statsText, statsHtml } = await import('../store/stats-report.js');
          if (flags.html) {
            mkdirSync(path.dirname(path.resolve(flags.html)), { recursive: true });
            writeFileSync(flags.html, statsHtml(stats, store.location));
            process.stderr.write(`Wrote ${flags.html}\n`);
          }
          process.stdout.write(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : `${statsText(stats, store.location)}\n`);
        });
      }),
    );

  runs
    .command('migrate')
    .description('import a file store (records/ and index/ of earlier kiso versions) into the station store; done on first open too, and safe to repeat')
    .option('--from <folder>', 'the file store folder (default: the station store folder itself)')
    .addOption(new Option('--store <path>', 'station store folder (default: $KISO_STORE, else ~/.kiso)'))
    .action(
      guarded(setExitCode, async (flags: { from?: string; store?: string }) => {
        const { defaultStoreRoot } = await import('../store/location.js');
        const { StationStore } = await import('../store/sqlite-store.js');
        const { migrateFileStore } = await import('../store/migrate-files.js');
        const root = flags.store ? path.resolve(flags.store) : defaultStoreRoot();
        const from = flags.from ? path.resolve(flags.from) : root;
        const store = StationStore.open(root, { migrateFiles: false });
        try {
          const report = migrateFileStore(store, from);
          process.stdout.write(`migrated ${report.migrated} runs (${report.unindexed} never indexed, kept in progress for kiso runs reindex) and ${report.attachments} attachments from ${from} into ${store.location}; ${report.already} were already there\n`);
          for (const file of report.missingAttachments) process.stdout.write(`  attachment missing or changed (its record keeps the reference): ${file}\n`);
          for (const file of report.unreadable) process.stdout.write(`  not a run record, left out: ${file}\n`);
        } finally {
          store.close();
        }
      }),
    );

  runs
    .command('reindex')
    .description('commit the runs left in progress by a kiso that was killed before its run ended (their record says KISO_RUN_INCOMPLETE); run it while no kiso runs')
    .addOption(new Option('--store <path>', 'station store folder (default: $KISO_STORE, else ~/.kiso)'))
    .action(
      guarded(setExitCode, async (flags: { store?: string }) => {
        const { defaultStoreRoot } = await import('../store/location.js');
        const { StationStore } = await import('../store/sqlite-store.js');
        const store = StationStore.open(flags.store ? path.resolve(flags.store) : defaultStoreRoot());
        try {
          process.stdout.write(`committed ${store.reindex()} runs left in progress in ${store.location}\n`);
        } finally {
          store.close();
        }
      }),
    );

  runs
    .command('sync')
    .description('push the runs waiting in the outbox to the fleet store, oldest first, each exactly once')
    .option('--fleet-url <url>', 'the fleet store (default: $KISO_STORE_URL)')
    .option('--all', 'first queue every run of the station store the outbox does not hold (a station joining a fleet)')
    .addOption(new Option('--store <path>', 'station store folder (default: $KISO_STORE, else ~/.kiso)'))
    .action(
      guarded(setExitCode, async (flags: { fleetUrl?: string; all?: boolean; store?: string }) => {
        const { defaultStoreRoot, isStoreUrl, redactUrl } = await import('../store/location.js');
        const url = flags.fleetUrl ?? process.env.KISO_STORE_URL;
        if (!url || !isStoreUrl(url)) throw new RunsUsageError(`kiso runs sync needs a fleet store: --fleet-url postgres://ROLE@HOST/DATABASE or KISO_STORE_URL${url ? ` (got ${redactUrl(url)})` : ''}`);
        const { StationStore } = await import('../store/sqlite-store.js');
        const { syncOutbox } = await import('../store/sync.js');
        const store = StationStore.open(flags.store ? path.resolve(flags.store) : defaultStoreRoot(), { outbox: true });
        try {
          if (flags.all) process.stdout.write(`queued ${store.queueAll()} runs\n`);
          const result = await syncOutbox(store, url);
          process.stdout.write(`pushed ${result.pushed} runs to ${redactUrl(url)}; ${result.waiting} waiting\n`);
          if (result.error) throw new RunsFailure(`${result.error} (${result.waiting} runs wait in the outbox of ${store.location}; kiso runs sync again later)`);
        } finally {
          store.close();
        }
      }),
    );
}
