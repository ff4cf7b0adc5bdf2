/**
 * kiso serve's one page: CSS and script inline, nothing fetched from
 * elsewhere, no secret in it. The script follows /api/events (Server-Sent
 * Events) and draws the tiles from the state it is sent.
 */

const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --run:#0969da; --idle:#57606a; --skip:#9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1f2328; }
header { display: flex; gap: 16px; align-items: center; padding: 14px 24px; background: #24292f; color: #fff; }
header h1 { font-size: 20px; margin: 0; flex: 1; }
button { font: inherit; padding: 8px 18px; border-radius: 6px; border: 1px solid #d0d7de; background: #fff; cursor: pointer; }
button.primary { background: var(--pass); color: #fff; border-color: var(--pass); font-weight: 600; }
button.danger { background: var(--fail); color: #fff; border-color: var(--fail); }
button:disabled { opacity: .5; cursor: default; }
main { padding: 18px 24px; }
#summary { margin: 0 0 14px; font-size: 18px; font-weight: 600; }
#summary.o-passed { color: var(--pass); } #summary.o-failed, #summary.o-error { color: var(--fail); } #summary.o-aborted { color: var(--skip); }
#tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 14px; }
.tile { background: #fff; border: 1px solid #d0d7de; border-top: 8px solid var(--idle); border-radius: 8px; padding: 12px 14px; min-height: 170px; }
.tile.s-running { border-top-color: var(--run); } .tile.s-passed { border-top-color: var(--pass); background: #f0fff4; }
.tile.s-failed, .tile.s-error { border-top-color: var(--fail); background: #fff5f5; } .tile.s-aborted { border-top-color: var(--skip); }
.tile h2 { font-size: 15px; margin: 0 0 6px; display: flex; justify-content: space-between; }
.tile .status { font-weight: 700; text-transform: uppercase; font-size: 13px; }
.tile input.serial { width: 100%; font: inherit; padding: 6px 8px; border: 1px solid #d0d7de; border-radius: 4px; }
.tile .case { color: #57606a; font-size: 13px; min-height: 18px; margin: 6px 0; }
progress { width: 100%; height: 10px; }
.tile .meta { font-size: 12px; color: #57606a; display: flex; justify-content: space-between; }
.prompt { margin-top: 10px; padding: 10px; border-radius: 6px; background: #fff8c5; border: 1px solid #d4a72c; }
.prompt p { margin: 0 0 8px; font-weight: 600; }
.prompt input { font: inherit; padding: 5px; width: 60%; }
.prompt button { margin-right: 6px; padding: 6px 14px; }
details.logs pre { max-height: 180px; overflow: auto; font-size: 11px; background: #f6f8fa; padding: 6px; margin: 6px 0 0; white-space: pre-wrap; }
section.history { margin-top: 26px; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px; }
section.history h2 { font-size: 16px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; } td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; }
.o-PASS { color: var(--pass); font-weight: 600; } .o-FAIL { color: var(--fail); font-weight: 600; } .o-ERROR { color: var(--error); font-weight: 600; }
#error { color: var(--fail); margin: 0 0 10px; min-height: 1em; }
`;

const SCRIPT = String.raw`
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (t) => String(t ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
let state;
const seen = [];
window.__kisoSeen = seen;

function tileHtml(tile) {
  const prompts = state.prompts.filter((p) => (p.slot ?? 1) === tile.slot);
  const editable = !state.running && tile.present;
  const serial = editable ? '<input class="serial" data-key="serial-' + tile.slot + '" data-slot="' + tile.slot + '" placeholder="scan or type the serial" value="' + esc(tile.serial) + '">' : '<div class="serial-text">' + esc(tile.serial || (tile.present ? '—' : 'empty slot')) + '</div>';
  const elapsed = tile.startedAt ? Math.round(((tile.endedAt ?? Date.now()) - tile.startedAt) / 1000) + ' s' : '';
  const record = tile.recordId ? ' · <a href="runs/' + encodeURIComponent(tile.recordId) + '">report</a>' : '';
  return '<div class="tile s-' + tile.status + '" data-slot="' + tile.slot + '" data-status="' + tile.status + '">'
    + '<h2><span>Slot ' + tile.slot + '</span><span class="status">' + esc(tile.status) + '</span></h2>' + serial
    + '<div class="case">' + esc(tile.case ?? '') + '</div>'
    + '<progress max="' + Math.max(tile.total, 1) + '" value="' + tile.done + '"></progress>'
    + '<div class="meta"><span class="progress-text">' + tile.done + ' / ' + tile.total + ' cases' + (tile.failed ? ', ' + tile.failed + ' failed' : '') + record + '</span><span>' + elapsed + '</span></div>'
    + prompts.map(promptHtml).join('')
    + '<details class="logs"><summary>log</summary><pre>' + esc(tile.logs.map((l) => new Date(l.time).toISOString().slice(11, 19) + ' ' + l.msg).join('\n')) + '</pre></details>'
    + '</div>';
}

function promptHtml(p) {
  const controls = p.kind === 'confirm'
    ? '<button data-answer="yes">Yes</button><button data-answer="no">No</button>'
    : p.kind === 'choice'
      ? p.choices.map((c) => '<button data-answer="' + esc(c) + '">' + esc(c) + '</button>').join('')
      : '<input name="answer" data-key="prompt-' + p.id + '" ' + (p.kind === 'number' ? 'inputmode="decimal"' : '') + '><button data-submit>OK</button>';
  return '<div class="prompt" data-prompt="' + p.id + '"><p>' + esc(p.message) + '</p>' + controls + '</div>';
}

function render() {
  document.title = 'kiso · ' + state.station.name;
  $('#station').textContent = state.station.name;
  $('#start').disabled = state.running;
  $('#abort').disabled = !state.running;
  const summary = $('#summary');
  summary.className = state.summary ? 'o-' + state.summary.outcome : '';
  summary.textContent = state.running ? 'Running…' : state.summary ? state.summary.outcome.toUpperCase() + ': ' + state.summary.passed + ' passed, ' + state.summary.failed + ' failed, ' + state.summary.error + ' errors, ' + state.summary.skipped + ' skipped in ' + (state.summary.durationMs / 1000).toFixed(1) + ' s' : 'Ready';
  // Redrawing must not lose what the operator is typing (a serial, a prompt's answer), nor the focus.
  const typed = {};
  document.querySelectorAll('#tiles input[data-key]').forEach((input) => (typed[input.dataset.key] = input.value));
  const focused = document.activeElement?.dataset?.key;
  const open = new Set([...document.querySelectorAll('#tiles details[open]')].map((d) => d.closest('.tile').dataset.slot));
  $('#tiles').innerHTML = state.tiles.map(tileHtml).join('');
  document.querySelectorAll('#tiles input[data-key]').forEach((input) => { if (typed[input.dataset.key] !== undefined) input.value = typed[input.dataset.key]; if (input.dataset.key === focused) input.focus(); });
  document.querySelectorAll('#tiles .tile').forEach((tile) => { if (open.has(tile.dataset.slot)) tile.querySelector('details').open = true; });
}

function apply(event) {
  const tile = (slot) => state.tiles.find((t) => t.slot === slot);
  switch (event.type) {
    case 'hello': state = event.state; break;
    case 'run-start': state.running = true; state.summary = undefined; state.tiles = event.tiles; break;
    case 'case-start': Object.assign(tile(event.slot) ?? {}, { suite: event.suite, case: event.case }); break;
    case 'case-end': Object.assign(tile(event.slot) ?? {}, { done: event.done, total: event.total, failed: event.failed }); break;
    case 'slot-end': Object.assign(tile(event.slot) ?? {}, { status: event.status, recordId: event.recordId, endedAt: event.at, case: undefined }); break;
    case 'run-end': state.running = false; state.summary = event.summary; loadRuns(); break;
    case 'log': { const t = event.slot === null ? undefined : tile(event.slot); if (t) { t.logs.push(event.line); if (t.logs.length > 200) t.logs.shift(); } break; }
    case 'prompt': state.prompts.push(event.prompt); break;
    case 'prompt-closed': state.prompts = state.prompts.filter((p) => p.id !== event.id); break;
  }
  render();
  if (event.type === 'case-end') seen.push({ slot: event.slot, testId: event.testId, at: event.at, shown: Date.now() });
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const data = await response.json().catch(() => ({}));
  $('#error').textContent = response.ok ? '' : (data.error ?? response.statusText);
  return response.ok;
}

document.addEventListener('click', async (event) => {
  const target = event.target;
  if (target.id === 'start') {
    const serials = {};
    document.querySelectorAll('input.serial').forEach((input) => (serials[input.dataset.slot] = input.value));
    await post('api/runs', { serials });
  } else if (target.id === 'abort') {
    await post('api/runs/current/abort');
  } else if (target.dataset.answer !== undefined || target.dataset.submit !== undefined) {
    const box = target.closest('.prompt');
    const answer = target.dataset.answer ?? box.querySelector('input').value;
    await post('api/prompts/' + box.dataset.prompt, { answer });
  } else if (target.id === 'lookup') {
    loadUnit($('#unit-serial').value);
  }
});

function runsTable(runs) {
  if (!runs.length) return '<p>No runs.</p>';
  return '<table><thead><tr><th>Started</th><th>Serial</th><th>Station</th><th>Outcome</th><th>Cases</th><th></th></tr></thead><tbody>'
    + runs.map((r) => '<tr data-run="' + esc(r.id) + '"><td>' + esc(r.started_at.replace('T', ' ').slice(0, 19)) + '</td><td>' + esc(r.serial_number ?? '') + '</td><td>' + esc(r.station ?? '') + '</td><td class="o-' + esc(r.outcome) + '">' + esc(r.outcome) + '</td><td>' + esc(r.counts ?? '') + '</td><td><a href="runs/' + encodeURIComponent(r.id) + '">report</a></td></tr>').join('')
    + '</tbody></table>';
}
async function loadRuns() {
  const response = await fetch('api/runs?limit=20');
  if (response.ok) $('#runs').innerHTML = runsTable(await response.json());
}
async function loadUnit(serial) {
  if (!serial) return;
  const response = await fetch('api/units/' + encodeURIComponent(serial));
  $('#unit').innerHTML = response.ok ? '<h3>Unit ' + esc(serial) + '</h3>' + runsTable(await response.json()) : '<p>' + esc(serial) + ': nothing found</p>';
}

const events = new EventSource('api/events');
events.onmessage = (message) => apply(JSON.parse(message.data));
setInterval(() => { if (state?.running) render(); }, 1000);
loadRuns();
`;

export function renderPage(): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>kiso</title><style>${CSS}</style></head>
<body>
<header><h1 id="station">kiso</h1><button id="start" class="primary">Start</button><button id="abort" class="danger" disabled>Abort</button></header>
<main>
<p id="error" role="alert"></p>
<p id="summary">Connecting…</p>
<div id="tiles"></div>
<section class="history"><h2>Unit history</h2><input id="unit-serial" placeholder="serial number"> <button id="lookup">Show</button><div id="unit"></div></section>
<section class="history"><h2>Recent runs</h2><div id="runs"></div></section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
