import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStationConfig } from '../src/config/load.js';
import { unpackMessages } from '../src/processing/frame-pack.js';
import { silentLogger } from '../src/core/logging.js';
import { StationRuntime } from '../src/station/station.js';
import { median, percentile, result, type BenchResult } from './harness.js';
import type { CountingAuxiliary } from './types/counting-auxiliary.js';
import { registerBuiltins } from '../src/builtins.js';

registerBuiltins();

const here = path.dirname(fileURLToPath(import.meta.url));
const FRAMES = 1_000_000;
const FAN_OUTS = [1, 2, 4, 8];

function stationYaml(auxiliaries: number, processing: boolean): string {
  const names = Array.from({ length: auxiliaries }, (_, i) => `aux${i + 1}`);
  const lines = [
    'auxiliaries:',
    '  proxy:',
    '    connectors: { com: source }',
    `    type: ${processing ? 'MpProxyAuxiliary' : 'ProxyAuxiliary'}`,
    `    config: { aux_list: [${names.join(', ')}] }`,
    ...names.flatMap((name) => [`  ${name}:`, `    connectors: { com: ${name}_com }`, `    type: ${path.join(here, 'types/counting-auxiliary.js')}:CountingAuxiliary`]),
    'connectors:',
    `  source: { type: ${path.join(here, 'types/frame-source.js')}:FrameSourceConnector, config: { frames: ${FRAMES}, processing: ${processing} } }`,
    ...names.map((name) => `  ${name}_com: { type: ${processing ? 'CCMpProxy' : 'CCProxy'} }`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Frames per second delivered to each of `auxiliaries` auxiliaries, and frames lost or out of order. */
async function fanOut(auxiliaries: number, processing: boolean): Promise<{ perAux: number; lost: number; outOfOrder: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-proxy-'));
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, stationYaml(auxiliaries, processing));
  const station = await StationRuntime.build(await loadStationConfig(file), silentLogger());
  const names = Array.from({ length: auxiliaries }, (_, i) => `aux${i + 1}`);
  try {
    await station.start(['proxy', ...names]);
    const counters = names.map((name) => station.auxiliary(name) as unknown as CountingAuxiliary);
    const done = Promise.all(counters.map((counter) => counter.expect(FRAMES)));
    const start = performance.now();
    await counters[0]!.send('go');
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 60_000)))]);
    clearTimeout(timer);
    const seconds = (performance.now() - start) / 1000;
    const received = Math.min(...counters.map((counter) => counter.count));
    return { perAux: finished ? FRAMES / seconds : received / 60, lost: FRAMES - received, outOfOrder: counters.reduce((sum, c) => sum + c.outOfOrder, 0) };
  } finally {
    await station.stopAll();
  }
}

/** The same frames, packed the same way, over bare child_process IPC: what the pipe carries with nothing of kiso around it. */
async function rawIpc(): Promise<number> {
  const child = fork(path.join(here, 'raw-ipc-child.js'), [], { serialization: 'advanced' });
  await new Promise((resolve) => child.once('message', resolve)); // booted: time the frames only
  let received = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    child.on('message', (message: { batch: Uint8Array }) => {
      received += unpackMessages(message.batch).length;
      if (received === FRAMES) resolve();
    });
    child.send({ frames: FRAMES, batch: 4096 });
  });
  const rate = FRAMES / ((performance.now() - start) / 1000);
  child.disconnect();
  return rate;
}

/** Round trips before measuring: both processes' code is optimized by then, as in a long test session. */
const WARM_UP = 5_000;
const MEASURED = 5_000;

/** runCommand + waitAndGetReport on an auxiliary in a host process, against a bare IPC ping-pong of the same run. */
async function roundTrip(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-bench-rt-'));
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, 'auxiliaries:\n  aux1:\n    connectors: { com: loop }\n    type: CommunicationAuxiliary\nconnectors:\n  loop: { type: CCLoopback, config: { processing: true } }\n');
  const station = await StationRuntime.build(await loadStationConfig(file), silentLogger());
  const samples: number[] = [];
  try {
    await station.start(['aux1']);
    const aux = station.auxiliary('aux1') as unknown as { runCommand(c: string, d: unknown): Promise<unknown>; waitAndGetReport(o: object): Promise<unknown>; clearBuffer(): Promise<number> };
    for (let i = 0; i < WARM_UP + MEASURED; i++) {
      const start = performance.now();
      await aux.runCommand('send', 'x');
      await aux.waitAndGetReport({ timeoutMs: 1000 });
      if (i >= WARM_UP) samples.push(performance.now() - start);
      if (i % 500 === 0) await aux.clearBuffer();
    }
  } finally {
    await station.stopAll();
  }
  const raw: number[] = [];
  const echo = fork(path.join(here, 'echo-child.js'), [], { serialization: 'advanced' });
  for (let i = 0; i < WARM_UP + MEASURED; i++) {
    const start = performance.now();
    // Two round trips, as runCommand + waitAndGetReport make.
    for (let j = 0; j < 2; j++) await new Promise<void>((resolve) => { echo.once('message', () => resolve()); echo.send({ type: 'call', id: i, method: 'x', args: [] }); });
    if (i >= WARM_UP) raw.push(performance.now() - start);
  }
  echo.disconnect();
  return [
    result('proxy.round_trip_run_command_p50', median(samples), 'ms', median(raw), { processing: true, baseline_is: 'two bare IPC ping-pongs', warm_up: WARM_UP, measured: MEASURED }),
    result('proxy.round_trip_run_command_p99', percentile(samples, 99), 'ms', percentile(raw, 99), { processing: true, target: 'p99 under 1 ms', warm_up: WARM_UP, measured: MEASURED }),
  ];
}

export async function run(): Promise<BenchResult[]> {
  // The round trip first: it measures latency tails, which the fan-out's garbage would blur.
  const results: BenchResult[] = await roundTrip();
  const baseline = await rawIpc();
  results.push(result('proxy.raw_ipc_packed_frames_per_s', baseline, 'frames/s', null, { frames: FRAMES, note: 'bare child_process IPC, same frames, same packing' }));
  for (const processing of [false, true]) {
    for (const auxiliaries of FAN_OUTS) {
      const { perAux, lost, outOfOrder } = await fanOut(auxiliaries, processing);
      results.push(
        result(`proxy.fan_out_${auxiliaries}_aux_${processing ? 'processing' : 'in_process'}.frames_per_s_per_aux`, perAux, 'frames/s', baseline, {
          lost,
          out_of_order: outOfOrder,
          frames: FRAMES,
          ...(processing && auxiliaries === 4 ? { target: '>= 250000 frames/s to each of 4, >= 0.5 of raw IPC, none lost' } : {}),
        }),
      );
    }
  }
  return results;
}
