import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { canFrame } from '../../src/can/frame.js';
import { encodeFrame } from '../../src/connectors/virtual-can.js';
import { runCli } from '../helpers/cli.js';

const GROUP = '239.74.163.9';

/** Another process sends CAN frames to the virtual bus as fast as it can for `seconds`. */
function flood(port: number, seconds: number): Promise<void> {
  const datagram = Buffer.from(encodeFrame(canFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8] }), GROUP, 0)).toString('base64');
  const script = `
    const s = require('dgram').createSocket('udp4');
    const d = Buffer.from('${datagram}', 'base64');
    s.bind(0, '127.0.0.1', () => {
      s.setMulticastInterface('127.0.0.1'); s.setMulticastLoopback(true);
      const end = Date.now() + ${seconds * 1000};
      const burst = () => { if (Date.now() >= end) return s.close(); for (let i = 0; i < 200; i++) s.send(d, ${port}, '${GROUP}'); setImmediate(burst); };
      burst();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

describe('an MpProxy host whose main process does not keep up', () => {
  it('drops and counts frames instead of growing without bound, and says so with its memory', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-backpressure-'));
    const port = 40000 + Math.floor(Math.random() * 20000);
    mkdirSync(path.join(dir, 'suites'));
    // The main process's event loop is blocked for 4 s: it reads nothing from the host meanwhile, and the
    // host keeps at most 64 KiB of frames waiting for it (ipc_backlog_bytes).
    writeFileSync(path.join(dir, 'suites', 'test_busy.mjs'), `import { defineSuite } from ${JSON.stringify(import.meta.resolve('kiso'))};
import { existsSync } from 'node:fs';
export default defineSuite({ auxiliaries: ['aux1', 'aux2'], cases: [
  { name: 'busy main', timeout: { run: 20000 }, async run() {
    for (const until = Date.now() + 10000; !existsSync(${JSON.stringify(path.join(dir, 'flooding'))}) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    const end = Date.now() + 4000; while (Date.now() < end) {}
  } },
  { name: 'after', async run() { await new Promise((r) => setTimeout(r, 1500)); } },
] });
`);
    writeFileSync(path.join(dir, 'station.yaml'), `auxiliaries:
  proxy_aux:
    connectors: { com: can_channel }
    type: MpProxyAuxiliary
    config: { aux_list: [aux1, aux2], ipc_backlog_bytes: 65536 }
  aux1: { connectors: { com: proxy_com1 }, type: CommunicationAuxiliary }
  aux2: { connectors: { com: proxy_com2 }, type: CommunicationAuxiliary }
connectors:
  proxy_com1: { type: CCMpProxy, config: { processing: true } }
  proxy_com2: { type: CCMpProxy, config: { processing: true } }
  can_channel: { type: CCVirtualCan, config: { processing: true, channel: ${GROUP}, port: ${port} } }
test_suite_list:
  - { suite_dir: suites, test_filter_pattern: "test_*.mjs", test_suite_id: 1 }
`);
    const run = runCli(['-c', path.join(dir, 'station.yaml'), '--no-record'], { timeoutMs: 80_000 });
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the station is up
    writeFileSync(path.join(dir, 'flooding'), '');
    await flood(port, 3);
    const result = await run;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /the main process does not keep up with the proxy's frames: \d+ frame\(s\) dropped so far, \d+ batches \(\d+\.\d MiB\) waiting on the IPC channel; host memory: rss \d+ MiB/);
  });
});
