import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-html-'));

/** Headless Chromium, as root in a sandbox-less container, with a fresh profile and no network chatter. */
async function chromium(...args: string[]): Promise<string> {
  const { stdout } = await run(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${tmp()}`, ...args],
    { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  return stdout;
}

/** Text of the elements matching a simple `<tag ... attr="value"` start, up to their end tag (no nesting of the same tag). */
function elements(dom: string, tag: string, attribute: string): string[] {
  return [...dom.matchAll(new RegExp(`<${tag}[^>]*${attribute}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[0]);
}

const text = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

describe('HTML report in a real browser', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is missing (apt-get install chromium)` }, () => {
  it('shows the unit, the outcome, measurements with limits and colours, charts, logs and attachments', async () => {
    const dir = tmp();
    const html = path.join(dir, 'report.html');
    const result = await runCli(['-c', 'examples/templates/measurements.yaml', '--serial', 'SN-HTML-1', '--html', html], { env: { KISO_STORE: dir, KISO_DEMO_SUPPLY: '5.6' } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, new RegExp(`HTML report: ${html.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const source = readFileSync(html, 'utf8');
    assert.doesNotMatch(source, /<(script|link)\b/i, 'self-contained: no script, no stylesheet link');
    assert.doesNotMatch(source, /(src|href)="https?:/, 'nothing is fetched');

    const dom = await chromium('--dump-dom', `file://${html}`);
    // The header: outcome and unit.
    assert.match(text(elements(dom, 'div', 'id="verdict"')[0]!), /^FAIL$/);
    assert.match(text(elements(dom, 'h1', 'id="unit"')[0]!), /^SN-HTML-1$/);
    const header = text(elements(dom, 'header', 'data-outcome="FAIL"')[0]!);
    assert.match(header, /Part number PB-100/);
    assert.match(header, /Procedure FVT-POWER — Power board functional test/);

    // Phases with their outcome.
    assert.deepEqual([...dom.matchAll(/<section class="phase o-(\w+)"/g)].map((m) => m[1]), ['FAIL', 'PASS', 'PASS']);

    // Measurements: value, units, limits, outcome colour.
    const rows = elements(dom, 'tr', 'data-measurement=');
    const row = (name: string): string => rows.find((r) => r.includes(`data-measurement="${name}"`))!;
    assert.match(row('supply_voltage'), /class="m o-FAIL"/);
    assert.match(text(row('supply_voltage')), /supply_voltage .* 5\.6 V 4\.75 &lt;= x &lt;= 5\.25 \(limits file\) FAIL 5\.6 is above the upper limit 5\.25/);
    assert.match(text(row('idle_current')), /121\.5 mA x &lt;= 150 .*PASS/);
    assert.match(text(row('firmware_version')), /1\.4\.2/);
    assert.match(text(row('self_test_passed')), /true x == true PASS/);
    assert.match(text(row('load_step')), /21 rows time \(ms\) × current \(mA\) × voltage \(V\)/);

    // A chart per y axis of the multi-dimensional measurement, with the limits drawn.
    const charts = elements(dom, 'figure', 'data-chart="load_step"');
    assert.equal(charts.length, 2);
    assert.match(charts[1]!, /<path d="M[\d. L]+" class="series"/);
    assert.match(charts[1]!, /upper limit 5\.3/);
    assert.match(text(charts[1]!), /load_step: voltage \(V\) against time \(ms\)/);

    // Logs and attachments.
    assert.match(text(elements(dom, 'details', 'class="logs"')[0]!), /INFO supply rail measured volts=5\.6 test_power_board\.ts:\d+/);
    const attachment = elements(dom, 'li', 'data-attachment="load_step.csv"')[0]!;
    const href = /href="data:text\/csv;base64,([^"]+)"/.exec(attachment)![1]!;
    assert.match(Buffer.from(href, 'base64').toString(), /^time_ms,current_mA,voltage_V\n/);
  });

  it('renders the header and charts on screen (a screenshot that is not blank)', async () => {
    const dir = tmp();
    const html = path.join(dir, 'report.html');
    await runCli(['-c', 'examples/templates/measurements.yaml', '--serial', 'SN-HTML-2', '--html', html, '--no-record'], { env: { KISO_STORE: dir } });
    const png = path.join(dir, 'report.png');
    await chromium(`--screenshot=${png}`, '--window-size=1100,1800', `file://${html}`);
    assert.ok(statSync(png).size > 20_000, 'a page with a coloured header, tables and charts compresses to well over 20 kB');
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
