import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { result, type BenchResult } from './harness.js';
import { DEFAULT_INTERFACE_IPV4, RECEIVE_BUFFER_BYTES, VirtualCanConnector, encodeFrame } from '../src/connectors/virtual-can.js';
import { canFrame } from '../src/can/frame.js';
import { silentLogger } from '../src/core/logging.js';
import { packageRoot } from '../src/core/package-root.js';

/**
 * Virtual CAN (UDP multicast, python-can's wire format) throughput: one
 * process blasts frames for a few seconds, another receives them.
 * - raw_udp: plain node:dgram sender to a plain node:dgram receiver on the
 *   same group, with datagrams of the same size as a kiso frame (the baseline);
 * - kiso_to_kiso: a VirtualCanConnector to a VirtualCanConnector in a child process;
 * - kiso_to_python_can: a VirtualCanConnector to python-can's udp_multicast bus.
 * The sender is not paced: frames a receiver cannot keep up with are dropped
 * by the kernel and reported as `lost`. frames/s is counted at the receiver,
 * from its first to its last frame; with no loss it is bounded by the sender
 * (`sent_per_s`), not the receiver.
 */

const GROUP = '239.74.163.2';
const SEND_SECONDS = 2;
/** Sends in flight at once: enough to keep the socket busy, few enough to stay fair to the receiver. */
const BATCH = 64;
const CHILD_FLAG = '--virtual-can-child';
const PYTHON = '/usr/bin/python3';
const SELF = fileURLToPath(import.meta.url);

interface Report {
  received: number;
  seconds: number;
  reordered?: number;
}

/** The same module as a child: tsx for the .ts source, plain node for dist/bench/virtual-can.js. */
function spawnSelf(args: string[]): ChildProcessWithoutNullStreams {
  const loader = SELF.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, [...loader, SELF, CHILD_FLAG, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A receiver process speaking JSON lines: it prints `ready`, answers `report`, ends on `quit`. */
class Receiver {
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private stderr = '';
  private readonly closed: Promise<void>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.wake?.();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.closed = new Promise((resolve) => child.on('close', () => {
      this.wake?.();
      resolve();
    }));
  }

  async next(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 10_000;
    while (this.lines.length === 0) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`receiver gave no answer: ${this.stderr.trim() || 'no output'}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  async stop(quit: string): Promise<void> {
    if (this.child.exitCode === null) this.write(quit);
    this.child.stdin.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.closed;
    clearTimeout(killer);
  }
}

/** Asks for the count until it stops growing (the receiver drained its socket). */
async function drained(ask: () => Promise<Report>): Promise<Report> {
  let last = await ask();
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await ask();
    if (now.received === last.received) return now;
    last = now;
  }
  return last;
}

/** Sends for SEND_SECONDS, BATCH datagrams in flight at a time; returns how many went out. */
async function blast(send: (seq: number) => Promise<void>): Promise<number> {
  const end = performance.now() + SEND_SECONDS * 1000;
  let seq = 0;
  while (performance.now() < end) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < BATCH; i++) batch.push(send(seq++));
    await Promise.all(batch);
  }
  return seq;
}

/** The figures beside frames/s: what was sent (and how fast), received and lost. */
const counts = (sent: number, report: Report) => ({ sent, sent_per_s: Math.round(sent / SEND_SECONDS), received: report.received, lost: sent - report.received });

const seqData = (seq: number): Uint8Array => Uint8Array.of(seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff, 0xca, 0xfe, 0xba, 0xbe);
const frameFor = (seq: number) => canFrame({ id: 0x123, data: seqData(seq) });

function bindSocket(socket: Socket, port: number, address?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** Starts a receiver child of `mode`, runs `send` (which returns how many it sent), then asks the receiver what arrived. */
async function againstReceiver(mode: 'raw' | 'kiso', port: number, send: () => Promise<number>): Promise<{ report: Report; sent: number }> {
  const receiver = new Receiver(spawnSelf([mode, String(port)]));
  try {
    await receiver.next();
    const sent = await send();
    const report = await drained(async () => {
      receiver.write('report');
      return (await receiver.next()) as unknown as Report;
    });
    return { report, sent };
  } finally {
    await receiver.stop('quit');
  }
}

async function measureRaw(port: number, datagram: Uint8Array): Promise<{ report: Report; sent: number }> {
  return againstReceiver('raw', port, async () => {
    const socket = createSocket('udp4');
    await bindSocket(socket, 0, DEFAULT_INTERFACE_IPV4);
    socket.setMulticastInterface(DEFAULT_INTERFACE_IPV4);
    socket.setMulticastTTL(1);
    socket.setMulticastLoopback(true);
    const sent = await blast(() => new Promise((resolve, reject) => socket.send(datagram, port, GROUP, (error) => (error ? reject(error) : resolve()))));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return sent;
  });
}

async function kisoSender(port: number): Promise<VirtualCanConnector> {
  const connector = new VirtualCanConnector({ channel: GROUP, port }, { name: 'bench_tx', log: silentLogger(), baseDir: process.cwd() });
  await connector.open();
  return connector;
}

async function measureKisoToKiso(port: number): Promise<{ report: Report; sent: number }> {
  return againstReceiver('kiso', port, async () => {
    const connector = await kisoSender(port);
    const sent = await blast((seq) => connector.send(frameFor(seq)));
    await connector.close();
    return sent;
  });
}

async function measureKisoToPython(port: number, script: string): Promise<{ report: Report; sent: number }> {
  const child = spawn(PYTHON, [script, '--channel', GROUP, '--port', String(port), '--listen', '--count-only', '--rcvbuf', String(RECEIVE_BUFFER_BYTES)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const receiver = new Receiver(child);
  try {
    await receiver.next();
    const connector = await kisoSender(port);
    const sent = await blast((seq) => connector.send(frameFor(seq)));
    await connector.close();
    const report = await drained(async () => {
      receiver.write(JSON.stringify({ cmd: 'count' }));
      const answer = await receiver.next();
      return { received: Number(answer.count), seconds: Number(answer.seconds) };
    });
    return { report, sent };
  } finally {
    await receiver.stop(JSON.stringify({ cmd: 'quit' }));
  }
}

function pythonCanMissing(script: string): string | undefined {
  if (!existsSync(script)) return `${script} is missing`;
  const probe = spawnSync(PYTHON, ['-c', 'import can, msgpack'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import python-can and msgpack`;
  return undefined;
}

const rate = (report: Report): number => (report.seconds > 0 ? report.received / report.seconds : 0);

export async function run(): Promise<BenchResult[]> {
  const port = 43113 + 20_000 + Math.floor(Math.random() * 2_000);
  const datagram = encodeFrame(frameFor(0), GROUP);
  const raw = await measureRaw(port, datagram);
  const baseline = rate(raw.report);
  const results = [
    result('virtual_can.raw_udp.datagrams_per_s', baseline, 'datagrams/s', null, { ...counts(raw.sent, raw.report), datagram_bytes: datagram.length }),
  ];

  const kk = await measureKisoToKiso(port + 1);
  results.push(result('virtual_can.kiso_to_kiso.frames_per_s', rate(kk.report), 'frames/s', baseline, { ...counts(kk.sent, kk.report), reordered: kk.report.reordered ?? 0 }));

  const script = path.join(packageRoot(), 'test', 'peers', 'python', 'can_peer.py');
  const missing = pythonCanMissing(script);
  if (missing) {
    process.stderr.write(`virtual_can.kiso_to_python_can skipped: ${missing}\n`);
  } else {
    const kp = await measureKisoToPython(port + 2, script);
    results.push(result('virtual_can.kiso_to_python_can.frames_per_s', rate(kp.report), 'frames/s', baseline, counts(kp.sent, kp.report)));
  }
  return results;
}

/** Child side: counts what arrives on the group until told to quit. */
async function child(mode: string, port: number): Promise<void> {
  let received = 0;
  let reordered = 0;
  let lastSeq = -1;
  let first = 0;
  let last = 0;
  const count = () => {
    const now = performance.now();
    if (received === 0) first = now;
    last = now;
    received++;
  };
  let close: () => Promise<void>;
  if (mode === 'raw') {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await bindSocket(socket, port, GROUP);
    socket.addMembership(GROUP, DEFAULT_INTERFACE_IPV4);
    socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
    socket.on('message', count);
    close = () => new Promise((resolve) => socket.close(() => resolve()));
  } else {
    const connector = new VirtualCanConnector({ channel: GROUP, port }, { name: 'bench_rx', log: silentLogger(), baseDir: process.cwd() });
    connector.attach((message) => {
      count();
      const seq = ((message.data[0]! << 24) | (message.data[1]! << 16) | (message.data[2]! << 8) | message.data[3]!) >>> 0;
      if (seq <= lastSeq) reordered++;
      lastSeq = seq;
    });
    await connector.open();
    close = () => connector.close();
  }
  const say = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  say({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'report') say({ received, seconds: (last - first) / 1000, reordered });
    if (line === 'quit') break;
  }
  await close();
}

if (process.argv[2] === CHILD_FLAG && process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  await child(process.argv[3] ?? 'kiso', Number(process.argv[4]));
}
