import type { RunStats } from './types.js';

/**
 * `kiso runs stats` as a table for people and as one self-contained HTML
 * page: CSS inline, charts as inline SVG drawn here, no script, nothing
 * fetched (like the run report).
 */

const pct = (value: number | null): string => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);
const fixed = (value: number | null, digits = 4): string => (value === null ? '-' : Number(value.toPrecision(digits)).toString());

function limits(m: RunStats['measurements'][number]): string {
  if (m.lower !== null && m.upper !== null) return `${m.lower}..${m.upper}`;
  if (m.lower !== null) return `>= ${m.lower}`;
  if (m.upper !== null) return `<= ${m.upper}`;
  return '-';
}

function grid(header: string[], rows: string[][], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => indent + r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function scope(stats: RunStats): string {
  const parts = [
    stats.filter.procedure && `procedure ${stats.filter.procedure}`,
    stats.filter.station && `station ${stats.filter.station}`,
    stats.filter.since && `since ${stats.filter.since}`,
    stats.filter.until && `until ${stats.filter.until}`,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function statsText(stats: RunStats, location: string): string {
  const out = [`${stats.runs} runs, ${stats.passed_runs} passed${scope(stats)} in ${location}`];
  if (!stats.runs) return out.join('\n');
  out.push('', 'Yield (a unit counts once per procedure: its first run, its last run)');
  const yieldRows = stats.procedures.map((p) => [p.procedure_id ?? '(none)', String(p.runs), String(p.units), pct(p.first_pass_yield), pct(p.final_yield)]);
  if (stats.procedures.length > 1) yieldRows.push(['all', String(stats.yield.runs), String(stats.yield.units), pct(stats.yield.first_pass_yield), pct(stats.yield.final_yield)]);
  out.push(grid(['Procedure', 'Runs', 'Units', 'First pass', 'Final'], yieldRows));
  out.push('', 'Stations');
  out.push(grid(['Station', 'Runs', 'Passed', 'Pass rate'], stats.stations.map((s) => [s.station, String(s.runs), String(s.passed_runs), pct(s.runs ? s.passed_runs / s.runs : null)])));
  const numeric = stats.measurements.filter((m) => m.count > 0);
  if (numeric.length) {
    out.push('', 'Measurements');
    out.push(grid(['Name', 'Units', 'N', 'Mean', 'Std', 'Min', 'Max', 'Limits', 'Cpk', 'Failures'], numeric.map((m) => [m.name, m.units ?? '', String(m.count), fixed(m.mean), fixed(m.std, 3), fixed(m.min), fixed(m.max), limits(m), fixed(m.cpk, 3), String(m.failures)])));
  }
  if (stats.pareto.length) {
    out.push('', 'Failing most (Pareto)');
    out.push(grid(['Measurement', 'Failures', 'Share', 'Cumulative'], stats.pareto.slice(0, 10).map((p) => [p.name, String(p.failures), pct(p.share), pct(p.cumulative)])));
  }
  return out.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Bar {
  label: string;
  value: number;
  title: string;
}

/** Horizontal bars, one per label; `max` fixes the scale (1 for shares); an optional reference line (Cpk 1.33). */
function barChart(bars: Bar[], options: { max?: number; reference?: { value: number; label: string }; percent?: boolean; cumulative?: number[] }): string {
  if (!bars.length) return '<p class="none">nothing to chart</p>';
  const rowHeight = 22;
  const labelWidth = 180;
  const width = 640;
  const plot = width - labelWidth - 70;
  const max = options.max ?? Math.max(...bars.map((b) => b.value), options.reference?.value ?? 0, 1e-9);
  const height = bars.length * rowHeight + 24;
  const x = (value: number): number => labelWidth + Math.max(0, Math.min(1, value / max)) * plot;
  const parts = bars.map((bar, i) => {
    const y = 8 + i * rowHeight;
    const shown = options.percent ? pct(bar.value) : fixed(bar.value, 3);
    return `<g><title>${escape(bar.title)}</title><text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escape(bar.label)}</text><rect class="bar" x="${labelWidth}" y="${y + 2}" width="${(x(bar.value) - labelWidth).toFixed(1)}" height="${rowHeight - 6}"/><text x="${(x(bar.value) + 4).toFixed(1)}" y="${y + 14}">${shown}</text></g>`;
  });
  if (options.reference) {
    const rx = x(options.reference.value).toFixed(1);
    parts.push(`<line class="reference" x1="${rx}" x2="${rx}" y1="4" y2="${height - 16}"><title>${escape(options.reference.label)}</title></line><text class="axis" x="${rx}" y="${height - 4}" text-anchor="middle">${escape(options.reference.label)}</text>`);
  }
  if (options.cumulative) {
    const points = options.cumulative.map((c, i) => `${x(c * max).toFixed(1)},${(8 + i * rowHeight + rowHeight / 2).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="cumulative" points="${points}"><title>cumulative share</title></polyline>`);
  }
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function statsHtml(stats: RunStats, location: string): string {
  const numeric = stats.measurements.filter((m) => m.count > 0);
  const withCpk = numeric.filter((m) => m.cpk !== null);
  const sections = [
    `<h1>Yield and measurements</h1><p>${escape(`${stats.runs} runs, ${stats.passed_runs} passed${scope(stats)}`)}<br><small>${escape(location)}</small></p>`,
    '<h2>First-pass yield by procedure</h2>',
    barChart(stats.procedures.map((p) => ({ label: p.procedure_id ?? '(none)', value: p.first_pass_yield ?? 0, title: `${p.procedure_id ?? '(none)'}: first pass ${pct(p.first_pass_yield)}, final ${pct(p.final_yield)} of ${p.units} units` })), { max: 1, percent: true }),
    '<h2>Final yield by procedure</h2>',
    barChart(stats.procedures.map((p) => ({ label: p.procedure_id ?? '(none)', value: p.final_yield ?? 0, title: `${p.procedure_id ?? '(none)'}: final ${pct(p.final_yield)} of ${p.units} units` })), { max: 1, percent: true }),
    htmlTable(['Procedure', 'Runs', 'Units', 'First pass', 'Final'], stats.procedures.map((p) => [p.procedure_id ?? '(none)', String(p.runs), String(p.units), pct(p.first_pass_yield), pct(p.final_yield)])),
    '<h2>Runs per station</h2>',
    barChart(stats.stations.map((s) => ({ label: s.station, value: s.runs, title: `${s.station}: ${s.runs} runs, ${s.passed_runs} passed` })), {}),
    '<h2>Measurements that fail most (Pareto)</h2>',
    barChart(stats.pareto.slice(0, 15).map((p) => ({ label: p.name, value: p.share, title: `${p.name}: ${p.failures} failures, ${pct(p.share)} of all` })), { max: 1, percent: true, cumulative: stats.pareto.slice(0, 15).map((p) => p.cumulative) }),
    '<h2>Cpk per measurement</h2>',
    barChart(withCpk.map((m) => ({ label: m.name, value: Math.max(0, m.cpk!), title: `${m.name}: Cpk ${fixed(m.cpk, 3)}, mean ${fixed(m.mean)}, std ${fixed(m.std, 3)}, limits ${limits(m)}` })), { reference: { value: 1.33, label: 'Cpk 1.33' } }),
    htmlTable(['Name', 'Units', 'N', 'Mean', 'Std', 'Min', 'Max', 'Limits', 'Cpk', 'Failures'], numeric.map((m) => [m.name, m.units ?? '', String(m.count), fixed(m.mean), fixed(m.std, 3), fixed(m.min), fixed(m.max), limits(m), fixed(m.cpk, 3), String(m.failures)])),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiso stats</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
svg.chart{display:block;margin:.5em 0}svg text{font-size:12px;fill:#333}.bar{fill:#3b7dd8}.reference{stroke:#c62828;stroke-dasharray:4 3}
.cumulative{fill:none;stroke:#ef6c00;stroke-width:2}.axis{font-size:11px}.none{color:#777}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}
