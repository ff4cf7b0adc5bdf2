import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { measurementCharts } from './svg-chart.js';
import { CSS, badge, bytes, duration, esc } from './html-parts.js';
import { checksTable } from './checks-table.js';
import { logFieldsText } from './log-fields.js';
import type { AttachmentRef, MeasurementRecord, PhaseRecord, RunRecord } from './types.js';

/**
 * The run as one self-contained HTML page: CSS inline, charts as inline SVG,
 * attachments as data: links. No script and nothing fetched, so it opens the
 * same from a USB stick, a mail or an archive years later.
 */

/** Attachments larger than this are linked, not embedded: the page stays small enough to mail. */
export const EMBED_LIMIT = 5 * 1024 * 1024;

export type AttachmentReader = (phase: PhaseRecord, attachment: AttachmentRef) => Uint8Array | undefined;

export interface HtmlOptions {
  /** The stored copy of an attachment, as an absolute path; undefined when it was not stored (--no-record). */
  attachmentFile?: (attachment: AttachmentRef) => string | undefined;
  /** Where the page goes: links to stored attachments are relative to its folder. */
  htmlFile?: string;
}

/** A link from the page to a file: relative to the page's folder when known, else a file: URL. */
function fileHref(file: string, htmlFile: string | undefined): string {
  if (!htmlFile) return pathToFileURL(file).href;
  return path.relative(path.dirname(path.resolve(htmlFile)), file).split(path.sep).map(encodeURIComponent).join('/');
}

function valueText(m: MeasurementRecord): string {
  if (m.measured_value === undefined) return '<span class="note">—</span>';
  if (Array.isArray(m.measured_value)) return `${m.measured_value.length} rows`;
  return esc(typeof m.measured_value === 'number' ? String(Number(m.measured_value.toPrecision(10))) : String(m.measured_value));
}

function units(m: MeasurementRecord): string {
  if (m.dimensions?.length) return esc(m.dimensions.map((d) => (d.units ? `${d.name} (${d.units})` : d.name)).join(' × '));
  return esc(m.units ?? '');
}

function measurementsHtml(phase: PhaseRecord): string {
  if (!phase.measurements.length) return '';
  const rows = phase.measurements.map((m) => {
    const limits = m.validators.length ? esc(m.validators.join('; ')) + (m.limits_source === 'limits file' ? ' <span class="note">(limits file)</span>' : '') : '<span class="note">none</span>';
    return `<tr class="m o-${esc(m.outcome)}" data-measurement="${esc(m.name)}"><td>${esc(m.name)}${m.docstring ? `<div class="note">${esc(m.docstring)}</div>` : ''}</td><td class="num value">${valueText(m)}</td><td>${units(m)}</td><td class="limits">${limits}</td><td>${badge(m.outcome)}${m.message && m.outcome !== 'PASS' ? `<div class="note">${esc(m.message)}</div>` : ''}</td></tr>`;
  });
  const charts = phase.measurements
    .filter((m) => Array.isArray(m.measured_value) && m.dimensions?.length)
    .flatMap((m) => measurementCharts(m.name, m.measured_value as Array<Array<number | string>>, m.dimensions!, m.limits).map(({ title, svg }) => `<figure data-chart="${esc(m.name)}">${svg}<figcaption>${esc(title)}</figcaption></figure>`));
  return `<h3>Measurements</h3><table class="measurements"><thead><tr><th>Name</th><th>Value</th><th>Units</th><th>Limits</th><th>Outcome</th></tr></thead><tbody>${rows.join('')}</tbody></table>${charts.join('')}`;
}

function attachmentsHtml(phase: PhaseRecord, read: AttachmentReader | undefined, options: HtmlOptions): string {
  if (!phase.attachments.length) return '';
  const items = phase.attachments.map((a) => {
    const data = a.size <= EMBED_LIMIT ? read?.(phase, a) : undefined;
    const info = `<span class="note">${esc(a.mime_type)}, ${bytes(a.size)}</span>`;
    if (!data) {
      const why = a.size > EMBED_LIMIT ? `over the ${bytes(EMBED_LIMIT)} a page embeds` : 'not readable when the page was made';
      const file = options.attachmentFile?.(a);
      if (!file) return `<li data-attachment="${esc(a.name)}">${esc(a.name)} ${info} <span class="note">(${why}, and not stored: the run had no record)</span></li>`;
      return `<li data-attachment="${esc(a.name)}"><a class="stored" href="${esc(fileHref(file, options.htmlFile))}">${esc(a.name)}</a> ${info} <span class="note">(${why}: stored at ${esc(file)})</span></li>`;
    }
    const uri = `data:${esc(a.mime_type)};base64,${Buffer.from(data).toString('base64')}`;
    const preview = a.mime_type.startsWith('image/') ? `<img class="attachment" alt="${esc(a.name)}" src="${uri}">` : '';
    return `<li data-attachment="${esc(a.name)}"><a download="${esc(a.name)}" href="${uri}">${esc(a.name)}</a> ${info}${preview}</li>`;
  });
  return `<h3>Attachments</h3><ul class="attachments">${items.join('')}</ul>`;
}

function logsHtml(phase: PhaseRecord): string {
  if (!phase.logs.length) return '';
  const rows = phase.logs.map((l) => `<tr class="lvl-${l.level}"><td class="num">${esc(l.timestamp.slice(11, 23))}</td><td>${l.level}</td><td>${esc(l.message)}${l.fields ? ` <span class="fields note">${esc(logFieldsText(l.fields))}</span>` : ''}</td><td class="src">${l.source_file ? `${esc(path.basename(l.source_file))}:${l.line_number}` : ''}</td></tr>`);
  return `<details class="logs" ${phase.outcome === 'PASS' ? '' : 'open'}><summary>Logs (${phase.logs.length})</summary><table><tbody>${rows.join('')}</tbody></table></details>`;
}

function phaseHtml(phase: PhaseRecord, index: number, read: AttachmentReader | undefined, options: HtmlOptions): string {
  const error = phase.error ? `<div class="error">${esc(phase.error.step === 'run' ? '' : `${phase.error.step}: `)}${esc(phase.error.type)}: ${esc(phase.error.message)}</div>` : '';
  const skip = phase.skip_reason && phase.outcome === 'SKIP' ? `<p class="note">${esc(phase.skip_reason)}</p>` : '';
  return `<section class="phase o-${phase.outcome}" id="phase-${index + 1}" data-outcome="${phase.outcome}"><h2><span class="id">[${esc(phase.test_id)}]</span>${esc(phase.name)} ${badge(phase.outcome)}<span class="time">${duration(phase.duration_ms)}${phase.attempts > 1 ? `, ${phase.attempts} attempts` : ''}</span></h2>${error}${skip}${phase.checks?.length ? `<h3>Checks</h3>${checksTable(phase, { measurements: false })}` : ''}${measurementsHtml(phase)}${attachmentsHtml(phase, read, options)}${logsHtml(phase)}</section>`;
}

export function renderHtml(record: RunRecord, read?: AttachmentReader, options: HtmlOptions = {}): string {
  const unit = record.unit_under_test;
  const fields: Array<[string, string | null]> = [
    ['Serial number', unit.serial_number],
    ['Part number', unit.part_number],
    ['Revision', unit.revision],
    ['Batch', unit.batch_number],
    ['Sub-units', unit.sub_units?.map((s) => s.serial_number).join(', ') || null],
    ['Fixture slot', record.station.slot !== undefined ? String(record.station.slot) : null],
    ['Operated by', record.operated_by ?? null],
    ['Procedure', [record.procedure_id, record.procedure_name].filter(Boolean).join(' — ') || null],
    ['Procedure version', record.procedure_version],
    ['Station', record.station.name],
    ['Started', record.started_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')],
    ['Duration', duration(record.duration_ms)],
    ['Phases', `${record.counts.passed} passed, ${record.counts.failed} failed, ${record.counts.error} errors, ${record.counts.skipped} skipped`],
  ];
  const details = record.outcome_details.length && record.outcome !== 'PASS' ? `<ul class="outcome-details">${record.outcome_details.map((d) => `<li><code>${esc(d.code)}</code> ${esc(d.description)}</li>`).join('')}</ul>` : '';
  const title = `${record.outcome} — ${unit.serial_number ?? 'unit without serial'} — ${record.procedure_id ?? 'kiso run'}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="kiso ${esc(record.station.kiso_version)}"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<header class="o-${record.outcome}" data-outcome="${record.outcome}"><div class="verdict" id="verdict">${record.outcome}</div><h1 id="unit">${esc(unit.serial_number ?? 'unit without serial number')}</h1>
<dl>${fields.filter(([, v]) => v).map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>${details}</header>
<main>${record.phases.map((phase, index) => phaseHtml(phase, index, read, options)).join('\n')}</main>
<footer>Run ${esc(record.id)} · ${esc(record.station.config_file)} · host ${esc(record.station.hostname)} · kiso ${esc(record.station.kiso_version)}</footer>
</body></html>
`;
}
