import { checksTable } from './checks-table.js';
import { CSS, badge, duration, esc } from './html-parts.js';
import type { PhaseRecord, RunRecord } from './types.js';

/**
 * `--step-report FILE`: pykiso's step report, built from the run record. A
 * summary of every case, then each case with its rows: every ctx.check,
 * every ctx.step, the assertion that ended it and its measurements. One
 * self-contained page, no script.
 */

function phaseSection(phase: PhaseRecord, index: number): string {
  const table = checksTable(phase, { measurements: true });
  const error = phase.error && !phase.checks?.some((c) => c.kind === 'assertion' && c.outcome !== 'PASS') ? `<div class="error">${esc(phase.error.step === 'run' ? '' : `${phase.error.step}: `)}${esc(phase.error.type)}: ${esc(phase.error.message)}</div>` : '';
  const skip = phase.outcome === 'SKIP' && phase.skip_reason ? `<p class="note">skipped: ${esc(phase.skip_reason)}</p>` : '';
  const empty = !table && phase.outcome !== 'SKIP' ? '<p class="note">no checks recorded (use ctx.check / ctx.step in the case)</p>' : '';
  const requirements = phase.requirements.length ? `<p class="note">requirements: ${esc(phase.requirements.join(', '))}</p>` : '';
  return `<section class="phase o-${phase.outcome}" id="case-${index + 1}" data-test-id="${esc(phase.test_id)}" data-outcome="${phase.outcome}"><h2><span class="id">[${esc(phase.test_id)}]</span>${esc(phase.suite.name)} › ${esc(phase.name)} ${badge(phase.outcome)}<span class="time">${duration(phase.duration_ms)}${phase.attempts > 1 ? `, ${phase.attempts} attempts` : ''}</span></h2>${requirements}${skip}${error}${table}${empty}</section>`;
}

function summaryTable(record: RunRecord): string {
  const rows = record.phases.map((phase, index) => {
    const checks = (phase.checks ?? []).filter((c) => c.kind !== 'step');
    const failed = checks.filter((c) => c.outcome !== 'PASS').length;
    return `<tr class="c o-${phase.outcome}"><td><a href="#case-${index + 1}">${esc(phase.test_id)}</a></td><td>${esc(phase.suite.name)}</td><td>${esc(phase.name)}</td><td class="num">${checks.length}${failed ? ` <span class="note">(${failed} failed)</span>` : ''}</td><td class="num">${phase.measurements.length}</td><td class="num">${duration(phase.duration_ms)}</td><td>${badge(phase.outcome)}</td></tr>`;
  });
  return `<h3>Summary</h3><table class="summary"><thead><tr><th>Id</th><th>Suite</th><th>Case</th><th>Checks</th><th>Measurements</th><th>Duration</th><th>Result</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderStepReport(record: RunRecord): string {
  const unit = record.unit_under_test;
  const fields: Array<[string, string | null]> = [
    ['Station', record.station.name],
    ['Configuration', record.station.config_file],
    ['Serial number', unit.serial_number],
    ['Procedure', [record.procedure_id, record.procedure_name].filter(Boolean).join(' — ') || null],
    ['Started', record.started_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')],
    ['Duration', duration(record.duration_ms)],
    ['Cases', `${record.counts.passed} passed, ${record.counts.failed} failed, ${record.counts.error} errors, ${record.counts.skipped} skipped`],
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="kiso ${esc(record.station.kiso_version)}"><title>Step report — ${esc(record.outcome)} — ${esc(record.station.name)}</title><style>${CSS}</style></head>
<body>
<header class="o-${record.outcome}" data-outcome="${record.outcome}"><div class="verdict" id="verdict">${record.outcome}</div><h1>Step report</h1>
<dl>${fields.filter(([, v]) => v).map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl></header>
<main>${summaryTable(record)}
${record.phases.map(phaseSection).join('\n')}</main>
<footer>Run ${esc(record.id)} · host ${esc(record.station.hostname)} · kiso ${esc(record.station.kiso_version)}</footer>
</body></html>
`;
}
