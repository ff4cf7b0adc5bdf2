import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile, result, type BenchResult } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const DEVICE = path.join(ROOT, 'examples/templates/simulated_udp_device.ts');
const CHROMIUM = '/usr/bin/chromium';
const SLOTS = 4;
const CASES = 20;
const ANSWER_DELAY_MS = 20;
const ROUNDS = 3;

/** Four simulated devices, CASES short cases each: many case ends, each one an event to show. */
function station(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-serve-'));
  mkdirSync(path.join(dir, 'suite'));
  writeFileSync(
    path.join(dir, 'suite', 'test_io.ts'),
    `import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';
export default defineSuite({ auxiliaries: ['dut', 'device'], cases: Array.from({ length: ${CASES} }, (_, i) => ({ name: 'measure ' + i, async run(ctx) {
  const dut = ctx.aux<CommunicationAuxiliary>('dut');
  await dut.send('VOLT?');
  assert.equal(Buffer.from((await dut.receive({ timeoutMs: 5000 }))!.data).toString(), '4.98');
} })) });
`,
  );
  const base = 20000 + Math.floor(Math.random() * 30000);
  const duts = Array.from({ length: SLOTS }, (_, i) => `  - { slot: ${i + 1}, serial_number: SRV-${i + 1}, port: ${base + i} }`).join('\n');
  writeFileSync(
    path.join(dir, 'station.yaml'),
    `duts:\n${duts}\nauxiliaries:\n  dut: { connectors: { com: link }, type: CommunicationAuxiliary }\n  device:\n    connectors: { com: device_port }\n    type: ${DEVICE}:SimulatedUdpDevice\n    config: { firmware: "1.4.2", answer_delay_ms: ${ANSWER_DELAY_MS} }\nconnectors:\n  link: { type: CCUdp, config: { dest_ip: 127.0.0.1, dest_port: "\${dut.port}" } }\n  device_port: { type: CCUdpServer, config: { dest_ip: 127.0.0.1, dest_port: "\${dut.port}" } }\ntest_suite_list:\n  - suite_dir: suite\n`,
  );
  mkdirSync(path.join(dir, 'node_modules'));
  spawnSync('ln', ['-sfn', ROOT, path.join(dir, 'node_modules', 'kiso')]);
  return path.join(dir, 'station.yaml');
}

/** The station's own figure for a `kiso -c` run: "STATION PASSED ... in 2.31 s". */
function cliRunMs(file: string, store: string): number {
  const run = spawnSync(process.execPath, [CLI, '-c', file, '--log-level', 'warn'], { encoding: 'utf8', env: { ...process.env, KISO_STORE: store } });
  const match = /STATION PASSED: \d+ of \d+ device\(s\) passed in ([\d.]+) (ms|s)/.exec(run.stdout);
  if (!match) throw new Error(`kiso -c did not pass:\n${run.stdout}\n${run.stderr}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

interface Served {
  url: string;
  stop(): Promise<void>;
}

function serve(file: string, store: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '-c', file, '--port', '0', '--log-level', 'warn'], { env: { ...process.env, KISO_STORE: store }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`kiso serve exited ${code}: ${out}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /kiso serve: (http:\/\/\S+\/)/.exec(out);
      if (!match) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      resolve({
        url: match[1]!,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    });
  });
}

/** Follows the event stream as a bare client: when each case-end arrives, and the run's own duration. */
async function followRun(url: string, onCaseEnd: (delayMs: number) => void): Promise<number> {
  const response = await fetch(`${url}api/events`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let started = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended before the run');
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!block.startsWith('data: ')) continue;
      const event = JSON.parse(block.slice(6)) as { type: string; at?: number; summary?: { durationMs: number; outcome: string } };
      if (event.type === 'run-start') started = true;
      if (event.type === 'case-end' && started) onCaseEnd(Date.now() - event.at!);
      if (event.type === 'run-end' && started) {
        await reader.cancel();
        if (event.summary!.outcome !== 'passed') throw new Error(`the served run ${event.summary!.outcome}`);
        return event.summary!.durationMs;
      }
    }
  }
}

/**
 * kiso serve: how late a case's end shows on the page (p50/p99, Debian's
 * chromium through playwright-core), beside the same events' delay to a bare
 * event-stream client; and a 4-slot run under serve beside the same run by
 * `kiso -c` (each the station's own run duration, median of ROUNDS).
 */
export async function run(): Promise<BenchResult[]> {
  const file = station();
  const store = mkdtempSync(path.join(tmpdir(), 'kiso-bench-serve-store-'));
  const cli: number[] = [];
  const served: number[] = [];
  const stream: number[] = [];
  const page: number[] = [];
  const browser = existsSync(CHROMIUM) ? await (await import('playwright-core')).chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }) : undefined;
  const server = await serve(file, store);
  try {
    const tab = await browser?.newPage();
    await tab?.goto(server.url);
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`bench: serve: round ${round + 1} of ${ROUNDS}\n`);
      cli.push(cliRunMs(file, store));
      await tab?.evaluate(() => ((globalThis as unknown as { __kisoSeen: unknown[] }).__kisoSeen.length = 0));
      const follow = followRun(server.url, (delay) => stream.push(delay));
      await new Promise((resolve) => setTimeout(resolve, 100)); // the stream is open before the run starts
      const start = await fetch(`${server.url}api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"serials":{}}' });
      if (start.status !== 202) throw new Error(`POST /api/runs: ${start.status} ${await start.text()}`);
      served.push(await follow);
      if (tab) {
        await tab.waitForFunction((n) => (globalThis as unknown as { __kisoSeen: unknown[] }).__kisoSeen.length >= n, SLOTS * CASES);
        const seen = (await tab.evaluate(() => (globalThis as unknown as { __kisoSeen: Array<{ at: number; shown: number }> }).__kisoSeen)) as Array<{ at: number; shown: number }>;
        for (const entry of seen) page.push(entry.shown - entry.at);
      }
    }
  } finally {
    await browser?.close();
    await server.stop();
  }
  const results = [
    result('serve.run_4_slots_ms', median(served), 'ms', median(cli), { note: `a ${SLOTS}-slot run started from kiso serve's API, against the same run by kiso -c (median of ${ROUNDS})` }),
    result('serve.event_stream_p50_ms', percentile(stream, 50), 'ms', null, { p99: percentile(stream, 99), events: stream.length, note: 'a case end to a bare event-stream client' }),
  ];
  if (page.length) {
    results.push(result('serve.page_p50_ms', percentile(page, 50), 'ms', percentile(stream, 50), { note: 'a case end to the page showing it (chromium), beside the bare stream client' }));
    results.push(result('serve.page_p99_ms', percentile(page, 99), 'ms', percentile(stream, 99), { events: page.length }));
  }
  return results;
}
