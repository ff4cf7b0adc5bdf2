import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freeUdpPort, pythonCanMissing } from '../helpers/peers.js';
import { fileURLToPath } from 'node:url';
import { PythonCanConnector, decodeFrameLine, encodeFrameFields, type PythonCanConnectorConfig } from '../../src/connectors/python-can.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { Cleanups, PYTHON, PYTHON_DIR, PythonPeer, collect, waitUntil, type PeerEvent } from './peer-helpers.js';

/**
 * CCPythonCan against the real python-can (Debian python3-can): the bridge
 * runs python-can's udp_multicast interface, a separate python-can process
 * (python/python_can_peer.py) sits on the same group and port. Multicast
 * loops back, so each bus also hears its own frames: tests tell frames apart
 * by arbitration id. Waits are bounded only as failure guards.
 */

const GROUP = '239.74.163.2';
const PEER = 'python_can_peer.py';
const FAKE_BRIDGE = join(PYTHON_DIR, 'fake_can_bridge.py');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const missing = pythonCanMissing();
const skip = missing ? `skipped: ${missing}` : false;
if (missing) console.log(`skipped: python-can bridge tests: ${missing}`);

const cleanups = new Cleanups();
after(() => cleanups.run());

const tmp = mkdtempSync(join(tmpdir(), 'kiso-pycan-'));
cleanups.add(() => rmSync(tmp, { recursive: true, force: true }));

function connector(config: Omit<PythonCanConnectorConfig, 'interface'> & { interface?: string }, name = 'pycan'): PythonCanConnector {
  const instance = new PythonCanConnector({ interface: 'udp_multicast', ...config }, { name, log: silentLogger(), baseDir: ROOT });
  cleanups.add(() => instance.close());
  return instance;
}

async function multicastPair(extra: Partial<PythonCanConnectorConfig> = {}): Promise<{ kiso: PythonCanConnector; peer: PythonPeer; port: number }> {
  const port = await freeUdpPort();
  const peer = await PythonPeer.start(PEER, [JSON.stringify({ interface: 'udp_multicast', channel: GROUP, kwargs: { port, fd: true } })]);
  cleanups.add(() => peer.stop());
  const kiso = connector({ channel: GROUP, fd: true, bus_kwargs: { port }, ...extra });
  await kiso.open();
  return { kiso, peer, port };
}

function peerFrame(event: PeerEvent): { id: number; extended: boolean; fd: boolean; brs: boolean; remote: boolean; dlc: number; data: string } {
  return event.frame as never;
}

/** A process is gone once it no longer exists or is a zombie nobody reaped yet. */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

describe('CCPythonCan bridge protocol', () => {
  it('encodes and decodes frames in the bridge line format', () => {
    const frames: CanFrame[] = [
      canFrame({ id: 0x123, data: [1, 2, 3] }),
      canFrame({ id: 0x1abcdef, extended: true, data: [] }),
      canFrame({ id: 0x456, fd: true, brs: true, esi: true, data: new Uint8Array(64).fill(0xa5) }),
      canFrame({ id: 0x7ff, remote: true, dlc: 4 }),
    ];
    for (const frame of frames) {
      const decoded = decodeFrameLine(`F 1700000000.250000 ${encodeFrameFields(frame)}`, 'bus');
      assert.deepEqual(decoded.can, frame.can);
      assert.equal(hex(decoded.data), hex(frame.data));
      assert.equal(decoded.timestamp, 1700000000.25);
      assert.equal(decoded.channel, 'bus');
    }
    assert.equal(encodeFrameFields(frames[2]!), `456 1c 64 ${'a5'.repeat(64)}`);
    assert.throws(() => decodeFrameLine('F 1.0 zz 0 1 00', 'bus'));
    assert.throws(() => decodeFrameLine('F 1.0 123 0 9 000000000000000000', 'bus'), /at most 8 bytes/);
    assert.throws(() => decodeFrameLine('F 1.0', 'bus'));
  });
});

describe('CCPythonCan with python-can', { skip }, () => {
  it('exchanges standard, extended and CAN FD frames with a python-can peer (udp_multicast)', async () => {
    const { kiso, peer } = await multicastPair({ remote_id: 0x7e0 });
    const received = collect(kiso);

    await kiso.send(canFrame({ id: 0x123, data: [1, 2, 3] }));
    await kiso.send(canFrame({ id: 0x1abcdef, extended: true, data: [0xde, 0xad, 0xbe, 0xef] }));
    await kiso.send(canFrame({ id: 0x456, fd: true, brs: true, data: new Uint8Array(12).fill(7) }));
    await kiso.send(Uint8Array.of(0x10, 0x20)); // plain bytes: remote_id, classic
    const standard = peerFrame(await peer.next((e) => peerFrame(e)?.id === 0x123, 'the standard frame at the peer'));
    assert.deepEqual({ ...standard }, { id: 0x123, extended: false, fd: false, brs: false, esi: false, remote: false, error: false, dlc: 3, data: '010203' });
    const extended = peerFrame(await peer.next((e) => peerFrame(e)?.id === 0x1abcdef, 'the extended frame at the peer'));
    assert.equal(extended.extended, true);
    assert.equal(extended.data, 'deadbeef');
    const fd = peerFrame(await peer.next((e) => peerFrame(e)?.id === 0x456, 'the FD frame at the peer'));
    assert.equal(fd.fd, true);
    assert.equal(fd.brs, true);
    assert.equal(fd.data, '07'.repeat(12));
    const plain = peerFrame(await peer.next((e) => peerFrame(e)?.id === 0x7e0, 'the plain-bytes frame at the peer'));
    assert.equal(plain.data, '1020');
    assert.equal(plain.fd, false);

    peer.send({ send: { id: 0x321, data: 'cafe' } });
    peer.send({ send: { id: 0x1234567, extended: true, data: '0102030405060708' } });
    peer.send({ send: { id: 0x654, fd: true, brs: true, data: 'ab'.repeat(64) } });
    peer.send({ send: { id: 0x111, remote: true, dlc: 6 } });
    const byId = (id: number) => received.find((m) => m.can?.id === id) as CanFrame | undefined;
    await waitUntil(() => [0x321, 0x1234567, 0x654, 0x111].every((id) => byId(id)), 'the peer frames at kiso');
    assert.deepEqual(byId(0x321)!.can, { id: 0x321, extended: false, remote: false, fd: false, brs: false, esi: false });
    assert.equal(hex(byId(0x321)!.data), 'cafe');
    assert.equal(byId(0x321)!.channel, GROUP);
    assert.equal(typeof byId(0x321)!.timestamp, 'number');
    assert.equal(byId(0x1234567)!.can.extended, true);
    assert.equal(hex(byId(0x1234567)!.data), '0102030405060708');
    assert.equal(byId(0x654)!.can.fd, true);
    assert.equal(byId(0x654)!.can.brs, true);
    assert.equal(byId(0x654)!.data.length, 64);
    assert.equal(byId(0x111)!.can.remote, true);
    assert.equal((byId(0x111)!.can as { dlc?: number }).dlc, 6);
    assert.equal(byId(0x111)!.data.length, 0);
    assert.equal(kiso.stats.malformed, 0);
  });

  it('delivers only frames that pass can_filters', async () => {
    const { kiso, peer } = await multicastPair({ can_filters: [{ can_id: 0x200, can_mask: 0x700, extended: false }] });
    const received = collect(kiso);
    peer.send({ send: { id: 0x123, data: '01' } });
    peer.send({ send: { id: 0x1000234, extended: true, data: '02' } });
    peer.send({ send: { id: 0x234, data: '03' } });
    peer.send({ send: { id: 0x2ff, data: '04' } });
    await waitUntil(() => received.some((m) => m.can?.id === 0x2ff), 'the last matching frame');
    assert.deepEqual(received.map((m) => m.can?.id), [0x234, 0x2ff]);
  });

  it('rejects a send python-can refuses with KISO_CONNECTOR_SEND and its message', async () => {
    const port = await freeUdpPort();
    const kiso = connector({ channel: GROUP, fd: false, bus_kwargs: { port } });
    await kiso.open();
    await assert.rejects(kiso.send(canFrame({ id: 0x1, fd: true, data: new Uint8Array(12) })), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_SEND'), String(error));
      assert.match(error.message, /CAN FD disabled/);
      return true;
    });
    await kiso.send(canFrame({ id: 0x2, data: [1] })); // the bridge is still fine
  });

  it('pipelines sends: 2000 frames round trip through python-can in order', async () => {
    const kiso = connector({ interface: 'virtual', channel: `kiso-${process.pid}`, receive_own_messages: true });
    await kiso.open();
    const received = collect(kiso);
    const count = 2000;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) sends.push(kiso.send(canFrame({ id: 0x100, data: [i >> 8, i & 0xff] })));
    await Promise.all(sends);
    await waitUntil(() => received.length >= count, `${count} frames back`);
    assert.deepEqual(received.map((m) => (m.data[0]! << 8) | m.data[1]!), Array.from({ length: count }, (_, i) => i));
  });

  it('an unknown interface name is a clear KISO_CONNECTOR_OPEN error with python-can\'s message', async () => {
    const kiso = connector({ interface: 'no_such_adapter', channel: 'x' });
    await assert.rejects(kiso.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, /python-can cannot open the bus: CanInterfaceNotImplementedError: Unknown interface type "no_such_adapter"/);
      assert.match(error.message, /interface no_such_adapter/);
      return true;
    });
    assert.equal(kiso.isOpen, false);
    assert.equal(kiso.pid, undefined);
  });

  it('bus creation errors (udp_multicast has no receive_own_messages) are open errors', async () => {
    const kiso = connector({ channel: GROUP, receive_own_messages: true, bus_kwargs: { port: await freeUdpPort() } });
    await assert.rejects(kiso.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /receiving own messages/.test(error.message));
  });

  it('an interpreter without python-can is a clear open error', async () => {
    const noSite = join(tmp, 'python-without-site');
    writeFileSync(noSite, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`); // -S: no dist-packages, so no python-can
    chmodSync(noSite, 0o755);
    const kiso = connector({ python: noSite, channel: GROUP });
    await assert.rejects(kiso.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, /python-can cannot be imported .*No module named 'can'.*install python-can/);
      return true;
    });
  });

  it('a missing interpreter is a clear open error', async () => {
    const kiso = connector({ python: '/nonexistent/python3', channel: GROUP });
    await assert.rejects(kiso.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /cannot start Python "\/nonexistent\/python3".*ENOENT/.test(error.message));
  });

  it('killing the bridge fires onError with its exit; sends then fail; close leaves no process', async () => {
    const kiso = connector({ interface: 'virtual', channel: `kiso-kill-${process.pid}` });
    await kiso.open();
    const pid = kiso.pid!;
    assert.ok(pid > 0);
    const errors: Error[] = [];
    kiso.onError((error) => errors.push(error));
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => errors.length > 0, 'onError after the bridge was killed');
    assert.ok(isKisoError(errors[0], 'KISO_CONNECTOR_CLOSED'));
    assert.match(errors[0]!.message, /bridge died: killed by SIGKILL/);
    await assert.rejects(kiso.send(canFrame({ id: 1, data: [] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    await kiso.close();
    assert.ok(processGone(pid));
  });

  it('close shuts the bus down and leaves no python process', async () => {
    const kiso = connector({ interface: 'virtual', channel: `kiso-close-${process.pid}` });
    await kiso.open();
    const pid = kiso.pid!;
    const errors: Error[] = [];
    kiso.onError((error) => errors.push(error));
    await kiso.close();
    assert.ok(processGone(pid), `bridge ${pid} still runs after close`);
    assert.equal(kiso.pid, undefined);
    assert.deepEqual(errors, []);
  });

  it('the bridge exits by itself when kiso dies (stdin EOF): no orphan', async () => {
    const script = [
      `import { PythonCanConnector } from ${JSON.stringify(new URL('../../src/connectors/python-can.ts', import.meta.url).href)};`,
      `import { silentLogger } from ${JSON.stringify(new URL('../../src/core/logging.ts', import.meta.url).href)};`,
      `const c = new PythonCanConnector({ interface: 'virtual', channel: 'orphan-${process.pid}' }, { name: 'x', log: silentLogger(), baseDir: process.cwd() });`,
      'await c.open();',
      'console.log(c.pid);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const kisoProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.add(() => {
      if (kisoProcess.exitCode === null && kisoProcess.signalCode === null) kisoProcess.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    kisoProcess.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    kisoProcess.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    await waitUntil(() => /^\d+\n/.test(out) || kisoProcess.exitCode !== null, 'the child kiso to open the connector', 20_000);
    const bridgePid = Number(out.trim());
    assert.ok(bridgePid > 0, `child printed no bridge pid; stderr: ${err}`);
    cleanups.add(() => {
      if (!processGone(bridgePid)) process.kill(bridgePid, 'SIGKILL');
    });
    assert.equal(processGone(bridgePid), false);
    kisoProcess.kill('SIGKILL'); // no close(): only the pipe tells the bridge
    await new Promise((resolve) => kisoProcess.once('close', resolve));
    await waitUntil(() => processGone(bridgePid), `bridge ${bridgePid} to exit after kiso died`);
  });

  it('bad lines from the bridge are counted as malformed; good ones still arrive; refusals reject', async () => {
    // `python` pointing at the fake makes kiso run it instead of the real bridge.
    const kiso = connector({ python: FAKE_BRIDGE, channel: GROUP });
    const received = collect(kiso); // before open: the fake writes right after its handshake
    await kiso.open();
    await waitUntil(() => received.length > 0, 'the one good frame');
    assert.equal(received[0]!.can?.id, 0x321);
    assert.equal(received[0]!.timestamp, 1700000000.5);
    await waitUntil(() => kiso.stats.malformed >= 7, 'the malformed lines to be counted');
    assert.deepEqual(kiso.malformedCounts(), {
      'unreadable line from the python-can bridge': 2,
      'invalid frame from the python-can bridge': 3,
      'acknowledgement of an unknown frame from the python-can bridge': 1,
      'python-can receive error': 1,
    });
    await assert.rejects(kiso.send(canFrame({ id: 1, data: [] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /fake refusal/.test(error.message));
    await kiso.send(canFrame({ id: 2, data: [] }));
    await kiso.close();
  });
});
