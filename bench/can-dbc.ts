import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, result, type BenchResult } from './harness.js';
import { CanAuxiliary } from '../src/auxiliaries/can-dbc.js';
import { Dbc } from '../src/can/dbc/index.js';
import { IsoTpTransport } from '../src/can/isotp.js';
import { memoryCanPair } from '../src/connectors/memory-can.js';
import { VirtualCanConnector } from '../src/connectors/virtual-can.js';
import type { CanFrame } from '../src/can/frame.js';
import type { Connector } from '../src/core/connector.js';
import { silentLogger } from '../src/core/logging.js';
import { packageRoot } from '../src/core/package-root.js';

/**
 * CAN signals and diagnostics, on kiso's virtual CAN bus (UDP multicast on
 * this machine):
 * - can_dbc.decode_throughput: frames/s a CanAuxiliary in a receiver process
 *   receives and decodes with the example DBC while this process sends the
 *   example's traffic unpaced for 2 s, against the raw receive rate of a bare
 *   connector in the same setup in the same run (the baseline). A ratio near
 *   1 means decoding does not slow reception down; frames the receiver cannot
 *   keep up with are dropped by the kernel and reported as `lost`.
 * - can_dbc.isotp_4095_transfer: ms to move a 4095-byte message with ISO-TP
 *   (first frame, flow control, 585 consecutive frames) against sending the
 *   same 586 frames raw, one after the other, over the same bus.
 */
const GROUP = '239.74.163.2';
const SEND_SECONDS = 2;
const BATCH = 64;
const ROUNDS = 15;
const CHILD_FLAG = '--can-dbc-receiver';
const SELF = fileURLToPath(import.meta.url);
const DBC_FILE = path.join(packageRoot(), 'examples/templates/suite_can_dbc_uds/vehicle.dbc');

let nextPort = 46000 + Math.floor(Math.random() * 8000);
const context = (name: string) => ({ name, log: silentLogger(), baseDir: packageRoot() });

async function bus(names: string[], port = nextPort++, open = true): Promise<VirtualCanConnector[]> {
  const connectors = names.map((name) => new VirtualCanConnector({ channel: GROUP, port }, context(name)));
  if (open) for (const connector of connectors) await connector.open();
  return connectors;
}

/** The example's traffic: every message of the DBC with changing values. */
function trafficFrames(dbc: Dbc): CanFrame[] {
  const frames: CanFrame[] = [];
  for (let i = 0; i < 64; i++) {
    frames.push(dbc.encode('EngineStatus', { EngineSpeed: 800 + i * 50, CoolantTemp: 20 + (i % 60), GearPosition: i % 5, EngineState: i % 3, Torque: i - 32 }));
    frames.push(dbc.encode('BatteryStatus', { BatteryVoltage: 12 + i / 100, BatteryCurrent: -i / 10, StateOfCharge: i }));
    frames.push(dbc.encode('EngineDiagnostics', i % 2 ? { DiagPage: 1, RunHours: 1000 + i } : { DiagPage: 0, OilPressure: 3, OilTemp: 90 }));
    frames.push(dbc.encode('EngineCommand', { IgnitionOn: 1, TargetGear: i % 5, TargetSpeed: 1500, AliveCounter: i % 16 }));
  }
  return frames;
}

interface Report {
  received: number;
  decoded: number;
  seconds: number;
}

/** This module as a receiver process: tsx for the .ts source, plain node for dist/bench/can-dbc.js. */
function spawnReceiver(mode: 'raw' | 'dbc', port: number): ChildProcessWithoutNullStreams {
  const loader = SELF.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, [...loader, SELF, CHILD_FLAG, mode, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Talks JSON lines to a receiver process: `ready` first, then an answer to each `report`. */
function lines(child: ChildProcessWithoutNullStreams): () => Promise<Record<string, unknown>> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    queue.push(line);
    wake?.();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return async () => {
    const deadline = Date.now() + 10_000;
    while (queue.length === 0) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the receiver process gave no answer: ${stderr.trim() || 'no output'}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return JSON.parse(queue.shift()!) as Record<string, unknown>;
  };
}

/** One phase: a receiver process (bare connector, or CanAuxiliary), this process blasting the example's traffic at it. */
async function measure(mode: 'raw' | 'dbc', frames: CanFrame[]): Promise<{ sent: number; report: Report }> {
  const port = nextPort++;
  const child = spawnReceiver(mode, port);
  const next = lines(child);
  try {
    await next();
    const [sender] = await bus(['sender'], port);
    const end = performance.now() + SEND_SECONDS * 1000;
    let sent = 0;
    while (performance.now() < end) {
      const batch: Array<Promise<void>> = [];
      for (let i = 0; i < BATCH; i++, sent++) batch.push(sender!.send(frames[sent % frames.length]!));
      await Promise.all(batch);
    }
    await sender!.close();
    // Asks until the count stops growing: the receiver has drained its socket.
    let report = (child.stdin.write('report\n'), (await next()) as unknown as Report);
    for (let i = 0; i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.stdin.write('report\n');
      const now = (await next()) as unknown as Report;
      if (now.received === report.received) break;
      report = now;
    }
    return { sent, report };
  } finally {
    if (child.exitCode === null) child.stdin.write('quit\n');
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve));
    clearTimeout(killer);
  }
}

async function decodeThroughput(): Promise<BenchResult[]> {
  const dbc = Dbc.load(DBC_FILE);
  const frames = trafficFrames(dbc);
  const raw = await measure('raw', frames);
  const decoded = await measure('dbc', frames);

  // Decoding alone, no bus: what one frame costs.
  const loops = 200_000;
  const start = performance.now();
  for (let i = 0; i < loops; i++) dbc.decode(frames[i % frames.length]!);
  const decodeOnlyPerS = loops / ((performance.now() - start) / 1000);

  const rate = (report: Report, count: number): number => count / report.seconds;
  return [
    result('can_dbc.decode_throughput', rate(decoded.report, decoded.report.decoded), 'frames/s', rate(raw.report, raw.report.received), {
      sent: decoded.sent,
      decoded: decoded.report.decoded,
      lost: decoded.sent - decoded.report.received,
      raw_sent: raw.sent,
      raw_received: raw.report.received,
      raw_lost: raw.sent - raw.report.received,
      decode_only_per_s: Math.round(decodeOnlyPerS),
      decode_us_per_frame: Number((1e6 / decodeOnlyPerS).toFixed(3)),
      dbc: 'examples/templates/suite_can_dbc_uds/vehicle.dbc',
    }),
  ];
}

/** The receiver process: counts (raw) or decodes (dbc) what arrives, answers `report`, ends on `quit`. */
async function receiverMain(mode: string, port: number): Promise<void> {
  const [connector] = await bus(['receiver'], port, false);
  let received = 0;
  let first = 0;
  let last = 0;
  connector!.attach(() => {
    const now = performance.now();
    if (received === 0) first = now;
    last = now;
    received++;
  });
  let aux: CanAuxiliary | undefined;
  if (mode === 'dbc') {
    aux = new CanAuxiliary({ dbc: DBC_FILE }, { name: 'can', log: silentLogger(), connectors: { com: connector! }, baseDir: packageRoot() });
    await aux.createInstance();
  } else {
    await connector!.open();
  }
  const say = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  say({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'report') say({ received, decoded: aux?.stats.decoded ?? received, seconds: (last - first) / 1000 });
    if (line === 'quit') break;
  }
  if (aux) await aux.deleteInstance();
  else await connector!.close();
}

async function isotpTransfer(): Promise<BenchResult[]> {
  const payload = Uint8Array.from({ length: 4095 }, (_, i) => i & 0xff);

  const [a, b] = await bus(['tester', 'ecu']);
  const tester = new IsoTpTransport(a!, { txId: 0x7e0, rxId: 0x7e8 });
  const ecu = new IsoTpTransport(b!, { txId: 0x7e8, rxId: 0x7e0 });
  const isotp: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const received = ecu.receive({ timeoutMs: 10_000 });
    await tester.send(payload);
    const message = await received;
    if (message?.length !== payload.length) throw new Error(`ISO-TP round ${round}: received ${message?.length ?? 'nothing'}`);
    isotp.push(performance.now() - start);
  }
  tester.close();
  ecu.close();

  // Baseline: the same 586 frames, raw, each send awaited as ISO-TP awaits it.
  const framesNeeded = 1 + Math.ceil((4095 - 6) / 7);
  const frame: CanFrame = { data: new Uint8Array(8).fill(0xcc), can: { id: 0x7e0, extended: false, remote: false, fd: false, brs: false, esi: false } };
  const rawTimes: number[] = [];
  let got = 0;
  let wake: (() => void) | undefined;
  b!.attach(() => {
    got++;
    wake?.();
  });
  for (let round = 0; round < ROUNDS; round++) {
    got = 0;
    const start = performance.now();
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw round ${round}: ${got} of ${framesNeeded} frames`)), 10_000);
      wake = () => {
        if (got < framesNeeded) return;
        clearTimeout(timer);
        resolve();
      };
    });
    for (let i = 0; i < framesNeeded; i++) await a!.send(frame);
    await all;
    rawTimes.push(performance.now() - start);
  }
  await a!.close();
  await b!.close();

  // The same transfer in memory (no sockets), and over CAN FD frames.
  const memory = memoryCanPair();
  await memory.a.open();
  await memory.b.open();
  const memoryTimes: number[] = [];
  const fdTimes: number[] = [];
  for (const [fd, times] of [[false, memoryTimes], [true, fdTimes]] as const) {
    const t = new IsoTpTransport(memory.a, { txId: 0x7e0, rxId: 0x7e8, fd });
    const e = new IsoTpTransport(memory.b, { txId: 0x7e8, rxId: 0x7e0, fd });
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now();
      const received = e.receive({ timeoutMs: 10_000 });
      await t.send(payload);
      await received;
      times.push(performance.now() - start);
    }
    t.close();
    e.close();
  }
  await memory.a.close();
  await memory.b.close();

  return [
    result('can_dbc.isotp_4095_transfer', median(isotp), 'ms', median(rawTimes), {
      frames: framesNeeded,
      flow_controls: 1,
      rounds: ROUNDS,
      baseline_is: `${framesNeeded} raw frames over the same bus`,
      in_memory_ms: Number(median(memoryTimes).toFixed(3)),
      in_memory_fd_64_byte_frames_ms: Number(median(fdTimes).toFixed(3)),
    }),
  ];
}

export async function run(): Promise<BenchResult[]> {
  return [...(await decodeThroughput()), ...(await isotpTransfer())];
}

if (process.argv[2] === CHILD_FLAG && process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  await receiverMain(process.argv[3] ?? 'raw', Number(process.argv[4]));
}
