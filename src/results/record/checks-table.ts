import path from 'node:path';
import { badge, duration, esc } from './html-parts.js';
import type { MeasurementRecord, PhaseRecord } from './types.js';

/**
 * A case's step-report rows as one HTML table: each check with what was
 * checked, expected, actual and its outcome, ctx.step groups as header rows,
 * and (for the step report) the measurements, limits as the expected value.
 */

function measuredText(m: MeasurementRecord): string {
  if (m.measured_value === undefined) return '—';
  if (Array.isArray(m.measured_value)) return `${m.measured_value.length} rows`;
  const value = typeof m.measured_value === 'number' ? String(Number(m.measured_value.toPrecision(10))) : String(m.measured_value);
  return m.units ? `${value} ${m.units}` : value;
}

function source(file: string | null, line: number | null): string {
  return file ? `${esc(path.basename(file))}:${line}` : '';
}

export function checksTable(phase: PhaseRecord, options: { measurements: boolean }): string {
  const rows: string[] = [];
  let number = 0;
  for (const check of phase.checks ?? []) {
    const depth = Math.min(3, check.steps?.length ?? 0);
    const indent = depth ? ` class="indent-${depth}"` : '';
    if (check.kind === 'step') {
      const note = check.message ? `<div class="note">${esc(check.message)}</div>` : '';
      rows.push(`<tr class="c step o-${check.outcome}" data-kind="step"><td></td><td${indent} colspan="3">${esc(check.description)}${note}</td><td class="note">${check.duration_ms !== undefined ? duration(check.duration_ms) : ''}</td><td>${badge(check.outcome)}</td><td class="src">${source(check.source_file, check.line_number)}</td></tr>`);
      continue;
    }
    number++;
    const what = check.kind === 'assertion' ? `${esc(check.description)} <span class="note">(assertion${check.operator ? ` ${esc(check.operator)}` : ''})</span>` : `${esc(check.description)}${check.operator && check.operator !== 'ok' ? ` <span class="note">${esc(check.operator)}</span>` : ''}`;
    rows.push(`<tr class="c o-${check.outcome}" data-kind="${check.kind}"><td class="num">${number}</td><td${indent}>${what}</td><td class="expected">${esc(check.expected ?? '')}</td><td class="actual">${esc(check.actual ?? '')}</td><td></td><td>${badge(check.outcome)}</td><td class="src">${source(check.source_file, check.line_number)}</td></tr>`);
  }
  if (options.measurements) {
    for (const m of phase.measurements) {
      number++;
      const expected = m.validators.length ? m.validators.join('; ') : 'recorded';
      rows.push(`<tr class="c o-${esc(m.outcome)}" data-kind="measurement"><td class="num">${number}</td><td>${esc(m.name)} <span class="note">measurement</span></td><td class="expected">${esc(expected)}</td><td class="actual">${esc(measuredText(m))}</td><td></td><td>${badge(m.outcome)}</td><td></td></tr>`);
    }
  }
  if (!rows.length) return '';
  return `<table class="checks"><thead><tr><th>#</th><th>Check</th><th>Expected</th><th>Actual</th><th>Time</th><th>Result</th><th>Where</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
