import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ROOT, runCli } from '../helpers/cli.js';
import { serve, type Served } from '../helpers/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-serve-'));

/** parallel_duts on free ports, with one more suite whose case asks slot 1's operator a question. */
function fixtureStation(): string {
  const dir = tmp();
  const base = 30000 + Math.floor(Math.random() * 20000);
  const kiso = JSON.stringify(import.meta.resolve('kiso'));
  writeFileSync(path.join(dir, 'simulated_udp_device.ts'), readFileSync(path.join(ROOT, 'examples/templates/simulated_udp_device.ts'), 'utf8').replace(/from 'kiso'/g, `from ${kiso}`));
  mkdirSync(path.join(dir, 'suite_parallel'));
  writeFileSync(path.join(dir, 'suite_parallel', 'test_device.ts'), readFileSync(path.join(ROOT, 'examples/templates/suite_parallel/test_device.ts'), 'utf8').replace("from 'kiso'", `from ${kiso}`));
  writeFileSync(path.join(dir, 'suite_parallel', 'test_operator.ts'), `import assert from 'node:assert/strict';
import { defineSuite } from ${kiso};
export default defineSuite({ name: 'operator', cases: [{ id: 1, name: 'fixture closed', async run(ctx) {
  if (ctx.dut?.slot !== 1) return;
  assert.equal(await ctx.prompt({ message: 'Is the fixture lid closed?' }), true, 'the lid is closed');
} }] });
`);
  const yaml = readFileSync(path.join(ROOT, 'examples/templates/parallel_duts.yaml'), 'utf8').replace(/port: (473\d\d)/g, (_m, port: string) => `port: ${base + Number(port) - 47300}`).replace(/test_suite_id: 1\n?$/, 'test_suite_id: 1\n');
  writeFileSync(path.join(dir, 'station.yaml'), yaml.replace(/serial_number: SN-000\d, /g, ''));
  return path.join(dir, 'station.yaml');
}

describe('kiso serve', () => {
  const open: Served[] = [];
  after(async () => {
    for (const served of open) await served.stop();
  });

  it('listening beyond loopback needs KISO_UI_TOKEN; with one, every request must carry it and the page holds none', { timeout: 60_000 }, async () => {
    const refused = await runCli(['serve', '-c', 'examples/templates/loopback.yaml', '--host', '0.0.0.0', '--port', '0'], { env: { KISO_UI_TOKEN: '' } });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--host 0\.0\.0\.0 makes the station reachable from other machines: set KISO_UI_TOKEN/);

    const served = await serve(['-c', 'examples/templates/loopback.yaml', '--host', '0.0.0.0'], { KISO_UI_TOKEN: 'tok-serve-7f3a', KISO_STORE: tmp() });
    open.push(served);
    const url = served.url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await fetch(`${url}api/state`)).status, 401);
    assert.equal((await fetch(`${url}api/events`)).status, 401);
    assert.equal((await fetch(`${url}api/state`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${url}api/state`, { headers: { authorization: 'Bearer tok-serve-7f3a' } })).status, 200);
    const link = await fetch(`${url}?token=tok-serve-7f3a`, { redirect: 'manual' });
    assert.equal(link.status, 302);
    const cookie = link.headers.get('set-cookie')!;
    assert.match(cookie, /^kiso_token=tok-serve-7f3a; HttpOnly; SameSite=Strict/);
    const page = await fetch(url, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(page.status, 200);
    assert.doesNotMatch(await page.text(), /tok-serve-7f3a/);
    assert.doesNotMatch(served.output(), /tok-serve-7f3a/, 'the token is never logged');
  });

  it('a run started over the API: 409 while one runs, a prompt answered over the API (a wrong answer is 400 with why), the state followed to the end', { timeout: 60_000 }, async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    writeFileSync(path.join(dir, 'suites', 'test_ask.mjs'), `import assert from 'node:assert/strict';
import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
export default defineSuite({ cases: [{ name: 'asks', async run(ctx) {
  assert.equal(await ctx.prompt({ message: 'Voltage on TP3?', kind: 'number' }), 5.1);
} }] });
`);
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 1 }\n');
    const served = await serve(['-c', path.join(dir, 'station.yaml')], { KISO_STORE: tmp() });
    open.push(served);
    const post = (url: string, body: unknown) => fetch(`${served.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    type State = { running: boolean; summary?: { outcome: string }; tiles: Array<{ status: string; recordId?: string }>; prompts: Array<{ id: number; message: string }> };
    const state = async (): Promise<State> => (await fetch(`${served.url}api/state`)).json() as Promise<State>;
    const until = async (test: (s: State) => boolean): Promise<State> => {
      for (;;) {
        const now = await state();
        if (test(now)) return now;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    assert.equal((await post('api/runs', { serials: { 1: 'SN-API-1' } })).status, 202);
    const asking = await until((s) => s.prompts.length === 1);
    assert.equal(asking.prompts[0]!.message, 'Voltage on TP3?');
    // The run waits for its operator: another start is refused.
    const busy = await post('api/runs', { serials: { 1: 'SN-API-2' } });
    assert.equal(busy.status, 409);
    assert.match(((await busy.json()) as { error: string }).error, /a run is already going/);
    const wrong = await post(`api/prompts/${asking.prompts[0]!.id}`, { answer: 'five' });
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /answer a number/);
    assert.equal((await post(`api/prompts/${asking.prompts[0]!.id}`, { answer: '5.1' })).status, 200);
    const done = await until((s) => !s.running && s.summary !== undefined);
    assert.equal(done.summary!.outcome, 'passed');
    assert.equal(done.tiles[0]!.status, 'passed');
    const history = await (await fetch(`${served.url}api/units/sn-api-1`)).json() as Array<{ id: string }>;
    assert.deepEqual(history.map((run) => run.id), [done.tiles[0]!.recordId]);
    const report = await fetch(`${served.url}runs/${done.tiles[0]!.recordId}`);
    assert.match(await report.text(), /<div class="verdict" id="verdict">PASS<\/div>/);
  });

  it("a suite's stray rejection and process.exit() error their cases; kiso serve stays up for the next run", { timeout: 60_000 }, async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'suites'));
    writeFileSync(path.join(dir, 'suites', 'test_stray.mjs'), `import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
export default defineSuite({ cases: [
  { name: 'leaves a rejection behind', async run() { void Promise.reject(new Error('nobody awaits me')); await new Promise((resolve) => setTimeout(resolve, 50)); } },
  { name: 'calls process.exit', async run() { process.exit(0); } },
] });
`);
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\ntest_suite_list:\n  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 1 }\n');
    const served = await serve(['-c', path.join(dir, 'station.yaml')], { KISO_STORE: tmp() });
    open.push(served);
    type State = { running: boolean; summary?: { outcome: string; error: number } };
    const ended = async (): Promise<State> => {
      for (;;) {
        const state = (await (await fetch(`${served.url}api/state`)).json()) as State;
        if (!state.running && state.summary) return state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    for (const serial of ['SN-STRAY-1', 'SN-STRAY-2']) {
      const started = await fetch(`${served.url}api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ serials: { 1: serial } }) });
      assert.equal(started.status, 202, served.output());
      const state = await ended();
      assert.deepEqual([state.summary!.outcome, state.summary!.error], ['error', 2], served.output());
    }
    assert.equal(served.child.exitCode, null, `kiso serve is still up:\n${served.output()}`);
    assert.match(served.output(), /unhandled rejection \(from a suite or auxiliary\): nobody awaits me/);
  });

  it('in a real browser: four serials, start, a confirm prompt answered on the tile, three slots pass and one fails, its history', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is missing (apt-get install chromium)`, timeout: 120_000 }, async () => {
    const store = tmp();
    const served = await serve(['-c', fixtureStation()], { KISO_STORE: store });
    open.push(served);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(served.url);
      await page.waitForSelector('.tile[data-slot="4"] input.serial');
      for (const slot of [1, 2, 3, 4]) await page.fill(`.tile[data-slot="${slot}"] input.serial`, `SN-UI-${slot}`);
      await page.click('#start');
      // Slot 1 asks; the others go on meanwhile.
      const prompt = page.locator('.tile[data-slot="1"] .prompt');
      await prompt.waitFor();
      assert.equal(await prompt.locator('p').textContent(), 'Is the fixture lid closed?');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'serve-prompt.png'), fullPage: true });
      await prompt.locator('button[data-answer="yes"]').click();
      await page.waitForFunction(() => document.querySelector('#summary')?.className.startsWith('o-') ?? false, undefined, { timeout: 60_000 });
      const statuses = await page.$$eval('.tile', (tiles) => tiles.map((tile) => [(tile as HTMLElement).dataset.slot, (tile as HTMLElement).dataset.status]));
      assert.deepEqual(statuses, [['1', 'passed'], ['2', 'passed'], ['3', 'failed'], ['4', 'passed'], ['5', 'empty']]);
      assert.match((await page.textContent('#summary'))!, /^FAILED: \d+ passed, 1 failed, 0 errors/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'serve-done.png'), fullPage: true });

      // The failing unit's history, and its run's page.
      await page.fill('#unit-serial', 'SN-UI-3');
      await page.click('#lookup');
      const runRow = page.locator('#unit tr[data-run]');
      await runRow.first().waitFor();
      assert.equal(await runRow.count(), 1);
      assert.match((await runRow.first().textContent())!, /SN-UI-3.*FAIL/);
      await runRow.first().locator('a').click();
      await page.waitForSelector('#verdict');
      assert.equal(await page.textContent('#verdict'), 'FAIL');
      assert.equal(await page.textContent('#unit'), 'SN-UI-3');
      await page.screenshot({ path: path.join(ARTIFACTS, 'serve-unit-report.png'), fullPage: true });
    } finally {
      await browser?.close();
    }
  });

  it('abort from the page is Ctrl-C: the running step ERRORs, the slots end aborted, the reports are written', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is missing`, timeout: 120_000 }, async () => {
    const store = tmp();
    const served = await serve(['-c', fixtureStation()], { KISO_STORE: store });
    open.push(served);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      const page = await browser.newPage();
      await page.goto(served.url);
      await page.waitForSelector('.tile[data-slot="4"] input.serial');
      for (const slot of [1, 2, 3, 4]) await page.fill(`.tile[data-slot="${slot}"] input.serial`, `SN-AB-${slot}`);
      await page.click('#start');
      await page.locator('.tile[data-slot="1"] .prompt').waitFor();
      await page.click('#abort');
      await page.waitForFunction(() => document.querySelector('#summary')?.className === 'o-aborted', undefined, { timeout: 60_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}\nsummary: ${await page.locator('#summary').getAttribute('class')}\ntiles: ${(await page.locator('.tile').allInnerTexts()).join('\n---\n')}\nkiso serve:\n${served.output()}`);
      });
      // The prompt was withdrawn with its step.
      assert.equal(await page.locator('.prompt').count(), 0);
      const history = await (await fetch(`${served.url}api/units/SN-AB-1`)).json();
      assert.equal(history.length, 1);
      assert.equal(history[0].outcome, 'ABORTED');
    } finally {
      await browser?.close();
    }
  });
});
