/** What the HTML pages of a run share: escaping, formatting, badges and the stylesheet. */

export function esc(text: unknown): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function bytes(size: number): string {
  return size < 1024 ? `${size} B` : size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KiB` : `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

export function badge(outcome: string): string {
  return `<span class="badge o-${esc(outcome)}">${esc(outcome)}</span>`;
}

export const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --skip:#9a6700; --unset:#57606a; --aborted:#bc4c00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { padding: 20px 28px; color: #fff; }
header.o-PASS { background: var(--pass); } header.o-FAIL { background: var(--fail); } header.o-ERROR, header.o-TIMEOUT { background: var(--error); } header.o-ABORTED { background: var(--aborted); }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .verdict { font-size: 34px; font-weight: 700; letter-spacing: .04em; }
header dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 4px 18px; margin: 12px 0 0; }
header dt { font-size: 11px; text-transform: uppercase; opacity: .8; } header dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
main { padding: 16px 28px 40px; }
section.phase { background: #fff; border: 1px solid #d0d7de; border-left: 6px solid var(--unset); border-radius: 6px; margin: 14px 0; padding: 10px 16px; }
section.phase.o-PASS { border-left-color: var(--pass); } section.phase.o-FAIL { border-left-color: var(--fail); } section.phase.o-ERROR { border-left-color: var(--error); } section.phase.o-SKIP { border-left-color: var(--skip); }
section.phase h2 { font-size: 17px; margin: 4px 0 8px; } section.phase h2 .id { color: #57606a; font-weight: 400; margin-right: 6px; } section.phase h2 .time { color: #57606a; font-weight: 400; font-size: 13px; margin-left: 8px; }
h3 { font-size: 13px; text-transform: uppercase; color: #57606a; margin: 14px 0 6px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-size: 12px; color: #57606a; font-weight: 600; } td.num { font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 52px; text-align: center; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 700; background: var(--unset); }
.badge.o-PASS { background: var(--pass); } .badge.o-FAIL { background: var(--fail); } .badge.o-ERROR, .badge.o-TIMEOUT { background: var(--error); } .badge.o-SKIP { background: var(--skip); } .badge.o-ABORTED { background: var(--aborted); }
tr.m.o-FAIL td, tr.m.o-ERROR td, tr.m.o-UNSET td { background: #fff5f5; }
.error { background: #fff5f5; border: 1px solid #ffc1c0; border-radius: 4px; padding: 6px 10px; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
.note { color: #57606a; } .src { color: #57606a; font-family: ui-monospace, monospace; font-size: 12px; }
pre.logs { margin: 0; font-size: 12px; }
.lvl-WARNING { color: #9a6700; } .lvl-ERROR, .lvl-CRITICAL { color: var(--fail); font-weight: 600; }
figure { margin: 8px 0; } figcaption { font-size: 12px; color: #57606a; }
svg.chart { max-width: 100%; height: auto; background: #fff; }
svg .plot { fill: #fbfcfd; stroke: #d0d7de; } svg .grid { stroke: #eaeef2; } svg .tick { font-size: 11px; fill: #57606a; } svg .axis-label { font-size: 12px; fill: #1f2328; }
svg .series { fill: none; stroke: #0969da; stroke-width: 2; } svg .point { fill: #0969da; } svg .limit { stroke: var(--fail); stroke-dasharray: 6 4; stroke-width: 1.5; } svg .limit-label { font-size: 11px; fill: var(--fail); }
img.attachment { max-width: 320px; max-height: 240px; border: 1px solid #d0d7de; display: block; margin-top: 4px; }
table.checks td.expected, table.checks td.actual { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-word; }
tr.c.o-FAIL td, tr.c.o-ERROR td { background: #fff5f5; }
tr.c.step td { background: #f6f8fa; font-weight: 600; }
td.indent-1 { padding-left: 22px; } td.indent-2 { padding-left: 36px; } td.indent-3 { padding-left: 50px; }
footer { color: #57606a; font-size: 12px; padding: 0 28px 24px; }
`;

