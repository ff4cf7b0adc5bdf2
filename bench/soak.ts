import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { result, type BenchResult } from './harness.js';
import { encodeFrame } from '../src/connectors/virtual-can.js';
import { canFrame } from '../src/can/frame.js';
import { loadStationConfig } from '../src/config/load.js';
import { silentLogger } from '../src/core/logging.js';
import { StationRuntime } from '../src/station/station.js';
import { registerBuiltins } from '../src/builtins.js';

/**
 * Soak: a full virtual CAN bus for minutes through `processing: true` (an
 * MpProxyAuxiliary whose virtual CAN channel runs in its host process, two
 * auxiliaries in the main process). Another process floods the bus at
 * KISO_SOAK_RATE frames/s (default 25,000: a saturated CAN FD bus) for
 * KISO_SOAK_SECONDS (default 120). Every 10 s one line on stderr: frames
 * sent, received by each auxiliary, the kernel's drops on the bus sockets of
 * the host, and the host's RSS. The figures: what each auxiliary received
 * of what was sent (baseline), and the host's RSS at the end against its RSS
 * after the warm-up (the first 30 s): flat means a ratio near 1.
 */

const GROUP = '239.74.163.2';
const SECONDS = Number(process.env.KISO_SOAK_SECONDS ?? 120);
const RATE = Number(process.env.KISO_SOAK_RATE ?? 25_000);
const WARM_UP_S = Math.min(30, SECONDS / 2);
const EVERY_S = 10;

function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

/** The kernel's drops on the UDP sockets process `pid` holds on `port` (/proc/net/udp's drops column). */
function kernelDropsOf(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let drops = 0;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 12 && fields[1]!.endsWith(`:${hexPort}`) && inodes.has(fields[9]!)) drops += Number(fields[12]);
  }
  return drops;
}

/** A process that sends `rate` frames/s to the bus, paced per millisecond tick, and prints how many it sent each second. */
function flooder(port: number, rate: number, seconds: number) {
  const datagram = Buffer.from(encodeFrame(canFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8] }), GROUP, 0)).toString('base64');
  const script = `
    const s = require('dgram').createSocket('udp4');
    const d = Buffer.from('${datagram}', 'base64');
    s.bind(0, '127.0.0.1', () => {
      s.setMulticastInterface('127.0.0.1'); s.setMulticastLoopback(true);
      const start = Date.now(); let sent = 0;
      const tick = () => {
        const elapsed = Date.now() - start;
        if (elapsed >= ${seconds * 1000}) { process.stdout.write(sent + '\\n'); s.close(); return; }
        const due = Math.floor(elapsed * ${rate} / 1000);
        for (; sent < due; sent++) s.send(d, ${port}, '${GROUP}');
        setTimeout(tick, 1);
      };
      setInterval(() => process.stdout.write(sent + '\\n'), 1000).unref();
      tick();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    const last = chunk.toString().trim().split('\n').at(-1);
    if (last) sent = Number(last);
  });
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { sent: () => sent, done };
}

export async function run(): Promise<BenchResult[]> {
  registerBuiltins();
  const port = 46000 + Math.floor(Math.random() * 9000);
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-soak-'));
  const file = path.join(dir, 'soak.yaml');
  writeFileSync(file, `auxiliaries:
  proxy_aux:
    connectors: { com: can_channel }
    type: MpProxyAuxiliary
    config: { aux_list: [aux1, aux2] }
  aux1:
    connectors: { com: proxy_com1 }
    type: CommunicationAuxiliary
  aux2:
    connectors: { com: proxy_com2 }
    type: CommunicationAuxiliary
connectors:
  proxy_com1: { type: CCMpProxy, config: { processing: true } }
  proxy_com2: { type: CCMpProxy, config: { processing: true } }
  can_channel: { type: CCVirtualCan, config: { processing: true, channel: ${GROUP}, port: ${port} } }
`);
  const station = await StationRuntime.build(await loadStationConfig(file), silentLogger());
  await station.start(['aux1', 'aux2']);
  const hostPid = (station.auxiliary('proxy_aux') as unknown as { pid: number }).pid;
  const received = (name: string): number => (station.connectorsOf(name)?.com?.stats.received ?? 0);
  const rss: Array<{ t: number; mib: number }> = [];
  const flood = flooder(port, RATE, SECONDS);
  const started = Date.now();
  let sent = 0;
  let drops = 0;
  let final = { aux1: 0, aux2: 0 };
  try {
    for (let t = EVERY_S; t <= SECONDS; t += EVERY_S) {
      await new Promise((resolve) => setTimeout(resolve, started + t * 1000 - Date.now()));
      const mib = rssMiB(hostPid);
      rss.push({ t, mib });
      process.stderr.write(`${JSON.stringify({ soak_s: t, sent: flood.sent(), aux1_received: received('aux1'), aux2_received: received('aux2'), kernel_drops: kernelDropsOf(hostPid, port), host_rss_mib: Number(mib.toFixed(1)) })}\n`);
    }
    await flood.done;
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    sent = flood.sent();
    drops = kernelDropsOf(hostPid, port);
    final = { aux1: received('aux1'), aux2: received('aux2') };
    await station.stopAll();
  }
  const afterWarmUp = rss.find((sample) => sample.t >= WARM_UP_S)?.mib ?? rss[0]!.mib;
  const last = rss.at(-1)!.mib;
  const peak = Math.max(...rss.map((sample) => sample.mib));
  return [
    result('soak.aux1_received_of_sent', final.aux1, 'frames', sent, { seconds: SECONDS, rate: RATE, kernel_drops: drops }),
    result('soak.aux2_received_of_sent', final.aux2, 'frames', sent, { seconds: SECONDS, rate: RATE, kernel_drops: drops }),
    result('soak.host_rss_end_over_warm_up', last, 'MiB', afterWarmUp, { peak_mib: Number(peak.toFixed(1)), warm_up_s: WARM_UP_S, target: 'ratio near 1 (flat after warm-up)' }),
  ];
}
