import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, afterEach, describe, it, type TestContext } from 'node:test';
import { pythonCanMissing } from '../helpers/peers.js';
import { encode } from '@msgpack/msgpack';
import { DEFAULT_GROUP_IPV6, VirtualCanConnector, encodeFrame, type VirtualCanConnectorConfig } from '../../src/connectors/virtual-can.js';
import { canFrame, type CanFrame, type CanFrameInit } from '../../src/can/frame.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message, Sendable } from '../../src/core/message.js';

/**
 * kiso's virtual CAN bus against the real python-can udp_multicast interface
 * (Debian python3-can), both on one multicast group. Each test uses its own
 * port so parallel test files cannot hear each other.
 */

const PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = fileURLToPath(new URL('./python/can_peer.py', import.meta.url));
const GROUP = '239.74.163.2';
/** Failure guard for waits; never a timing assertion. */
const GUARD_MS = 20_000;

const skipReason = pythonCanMissing();
if (skipReason) console.log(`SKIPPED: virtual CAN tests against python-can: ${skipReason}`);

/**
 * A port per test, from 43113 + 17,887 upwards: 61000-65000 is above Linux's
 * ephemeral range (32768-60999), so no socket the kernel binds automatically
 * (kiso's sending sockets included) can hold a test's port when python-can
 * binds it; the random start keeps parallel test files apart.
 */
let nextPort = 61_000 + Math.floor(Math.random() * 4_000);
const freshPort = (): number => nextPort++;

/** Everything a test opened, closed when the test ends (even when it fails). */
const cleanups: Array<() => Promise<void> | void> = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
after(cleanUp);

/** Re-checks `check` whenever `subscribe` signals, until it holds (or the guard fires). */
function until(subscribe: (wake: () => void) => () => void, check: () => boolean, what: string, timeoutMs = GUARD_MS): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`gave up waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

interface PeerFrame {
  event: 'frame';
  timestamp: number;
  arbitration_id: number;
  is_extended_id: boolean;
  is_remote_frame: boolean;
  is_error_frame: boolean;
  is_fd: boolean;
  bitrate_switch: boolean;
  error_state_indicator: boolean;
  dlc: number;
  data: string;
  channel: unknown;
  sender?: [string, number];
}
type PeerEvent = { event: string; [key: string]: unknown };

/** test/peers/python/can_peer.py: a python-can udp_multicast bus driven over stdin/stdout. */
class PythonPeer {
  readonly events: PeerEvent[] = [];
  readonly frames: PeerFrame[] = [];
  private listeners = new Set<() => void>();
  private stderr = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as PeerEvent;
      this.events.push(event);
      if (event.event === 'frame') this.frames.push(event as unknown as PeerFrame);
      this.wake();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exit = new Promise((resolve) =>
      child.on('close', () => {
        this.exited = true;
        this.wake();
        resolve();
      }),
    );
  }

  static async start(port: number, options: { listen?: boolean; channel?: string; extra?: string[] } = {}): Promise<PythonPeer> {
    const args = [PEER_SCRIPT, '--channel', options.channel ?? GROUP, '--port', String(port), '--rcvbuf', String(4 * 1024 * 1024), ...(options.listen === false ? [] : ['--listen']), ...(options.extra ?? [])];
    const peer = new PythonPeer(spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    cleanups.push(() => peer.stop());
    await peer.until(() => peer.events.some((e) => e.event === 'ready'), 'the python-can peer to open its bus');
    return peer;
  }

  private wake(): void {
    for (const listener of [...this.listeners]) listener();
  }

  until(check: () => boolean, what: string): Promise<void> {
    return until(
      (wake) => {
        const listener = () => {
          if (this.exited && !check()) throw new Error(`python-can peer exited while waiting for ${what}: ${this.stderr.trim()}`);
          wake();
        };
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      check,
      what,
    ).catch((error: Error) => {
      throw new Error(`${error.message}${this.stderr ? `\npeer stderr: ${this.stderr.trim()}` : ''}`);
    });
  }

  command(command: object): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Sends a command and waits for the first new event named `event`. */
  async request(command: object, event: string): Promise<PeerEvent> {
    const from = this.events.length;
    this.command(command);
    let found: PeerEvent | undefined;
    await this.until(() => (found = this.events.slice(from).find((e) => e.event === event)) !== undefined, `the peer's "${event}" answer`);
    return found!;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exit;
    clearTimeout(killer);
  }
}

/** A kiso connector on the test bus, with everything it receives recorded. */
async function kisoBus(port: number, config: Partial<VirtualCanConnectorConfig> = {}, name = 'vcan') {
  const connector = new VirtualCanConnector({ channel: GROUP, port, ...config }, { name, log: silentLogger(), baseDir: process.cwd() });
  const frames: Message[] = [];
  const listeners = new Set<() => void>();
  connector.attach((message) => {
    frames.push(message);
    for (const listener of [...listeners]) listener();
  });
  await connector.open();
  cleanups.push(() => connector.close());
  const waitUntil = (check: () => boolean, what: string) =>
    until(
      (wake) => {
        listeners.add(wake);
        return () => listeners.delete(wake);
      },
      check,
      `${what} on ${name}`,
    );
  return { connector, frames, until: waitUntil, onFrame: (listener: () => void) => listeners.add(listener) };
}

/** A plain node:dgram socket that writes raw datagrams to the group, over loopback like kiso. */
async function rawSender(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  socket.setMulticastInterface('127.0.0.1');
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

function sendRaw(socket: Socket, data: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, GROUP, (error) => (error ? reject(error) : resolve())));
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');
const seqBytes = (seq: number): Uint8Array => Uint8Array.of(seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff);
const seqOf = (data: Uint8Array): number => ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;

/** The frames every direction is checked with: standard, extended, remote, FD with BRS, FD with ESI, error. */
const SAMPLE_FRAMES: CanFrameInit[] = [
  { id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] },
  { id: 0x7ff, data: [1, 2, 3, 4, 5, 6, 7, 8] },
  { id: 0x000, data: [] },
  { id: 0x1abcdef0 & 0x1fffffff, extended: true, data: [0x11, 0x22] },
  { id: 0x005, extended: true, data: [0x33] },
  { id: 0x321, remote: true, dlc: 3 },
  { id: 0x18daf110, extended: true, remote: true, dlc: 8 },
  { id: 0x456, fd: true, brs: true, data: Array.from({ length: 64 }, (_, i) => i) },
  { id: 0x1fffffff, extended: true, fd: true, brs: true, data: Array.from({ length: 12 }, (_, i) => 0xf0 - i) },
  { id: 0x222, fd: true, esi: true, data: [9, 8, 7] },
  { id: 0x0a0, error: true, data: [0, 4, 0, 0, 0, 0, 0, 0] },
];

/** A kiso frame as python-can's fields (what a python-can receiver must see). */
function asPythonFields(init: CanFrameInit): Omit<PeerFrame, 'event' | 'timestamp' | 'sender' | 'channel'> {
  const frame = canFrame(init);
  return {
    arbitration_id: frame.can.id,
    is_extended_id: frame.can.extended,
    is_remote_frame: frame.can.remote,
    is_error_frame: frame.can.error ?? false,
    is_fd: frame.can.fd,
    bitrate_switch: frame.can.brs,
    error_state_indicator: frame.can.esi,
    dlc: frame.can.remote ? (init.dlc ?? 0) : frame.data.length,
    data: hex(frame.data),
  };
}

/** Every test needs python-can: each one is reported skipped (with the reason) where it is missing. */
function peerIt(name: string, fn: (t: TestContext) => Promise<void>): void {
  it(name, { skip: skipReason ?? false }, fn);
}

describe('virtual CAN (udp_multicast) against python-can', () => {
  afterEach(cleanUp);

  peerIt('writes the very bytes python-can packs for the same frame', async () => {
    const peer = await PythonPeer.start(freshPort(), { listen: false });
    for (const init of SAMPLE_FRAMES) {
      const fields = asPythonFields(init);
      const packed = await peer.request({ cmd: 'pack', frame: { ...fields, timestamp: 1.5 } }, 'packed');
      assert.equal(hex(encodeFrame(canFrame(init), null, 1.5)), packed.hex, `frame ${JSON.stringify(init)}`);
    }
  });

  peerIt('kiso -> python-can: standard, extended, remote, FD (BRS, ESI) and error frames arrive field for field', async () => {
    const port = freshPort();
    const peer = await PythonPeer.start(port);
    const { connector } = await kisoBus(port);
    for (const init of SAMPLE_FRAMES) await connector.send(canFrame(init));
    await peer.until(() => peer.frames.length >= SAMPLE_FRAMES.length, 'every sample frame at python-can');
    assert.equal(peer.frames.length, SAMPLE_FRAMES.length);
    peer.frames.forEach((got, index) => {
      const { event, timestamp, sender, channel, ...fields } = got;
      assert.deepEqual(fields, asPythonFields(SAMPLE_FRAMES[index]!), `frame #${index}`);
      assert.equal(channel, GROUP, 'kiso names the bus (its group) as the channel');
      assert.equal(typeof timestamp, 'number');
      assert.equal(sender?.[0], '127.0.0.1', 'kiso multicasts on loopback');
    });
  });

  peerIt('python-can -> kiso: the same frames arrive field for field, stamped with time and channel', async () => {
    const port = freshPort();
    const { connector, frames, until: rxUntil } = await kisoBus(port);
    const peer = await PythonPeer.start(port, { listen: false });
    const before = Date.now() / 1000;
    await peer.request({ cmd: 'send', frames: SAMPLE_FRAMES.map(asPythonFields) }, 'sent');
    await rxUntil(() => frames.length >= SAMPLE_FRAMES.length, 'every sample frame');
    const afterAll = Date.now() / 1000;
    assert.equal(frames.length, SAMPLE_FRAMES.length);
    frames.forEach((got, index) => {
      const expected = canFrame(SAMPLE_FRAMES[index]!);
      assert.deepEqual({ data: got.data, can: got.can }, { data: expected.data, can: expected.can }, `frame #${index}`);
      assert.equal(got.channel, GROUP);
      assert.ok(typeof got.timestamp === 'number' && got.timestamp >= before - 1 && got.timestamp <= afterAll + 1, `timestamp ${got.timestamp} is the receive time in seconds`);
    });
    assert.equal(connector.stats.malformed, 0);
  });

  peerIt('kiso -> python-can: 10,000 frames, none lost or reordered', async () => {
    const port = freshPort();
    const peer = await PythonPeer.start(port);
    const { connector } = await kisoBus(port);
    const total = 10_000;
    // Paced: at most `window` frames not yet seen by python-can. Unpaced, python-can (its default
    // 208 KiB SO_RCVBUF) loses frames of such a burst; 200 frames fit even that buffer.
    const window = 200;
    for (let seq = 0; seq < total; seq++) {
      if (seq - peer.frames.length >= window) await peer.until(() => seq - peer.frames.length < window, 'python-can to catch up');
      await connector.send(canFrame({ id: 0x200, data: seqBytes(seq) }));
    }
    await peer.until(() => peer.frames.length >= total, `${total} frames at python-can`);
    assert.equal(peer.frames.length, total);
    const outOfOrder = peer.frames.findIndex((frame, index) => frame.data !== hex(seqBytes(index)) || frame.arbitration_id !== 0x200);
    assert.equal(outOfOrder, -1, `frame #${outOfOrder} is not sequence ${outOfOrder}`);
  });

  peerIt('python-can -> kiso: 10,000 frames, none lost or reordered', async () => {
    const port = freshPort();
    const { connector, frames, until: rxUntil, onFrame } = await kisoBus(port);
    const peer = await PythonPeer.start(port, { listen: false });
    const total = 10_000;
    // Paced the same way: python-can waits for kiso's acknowledgements when 200 frames are in flight,
    // so even a kernel that caps kiso's 4 MiB SO_RCVBUF at 208 KiB cannot drop any.
    onFrame(() => {
      if (frames.length % 100 === 0) peer.command({ cmd: 'ack', count: frames.length });
    });
    peer.command({ cmd: 'send_seq', count: total, arbitration_id: 0x1234567, is_extended_id: true, window: 200 });
    await rxUntil(() => frames.length >= total, `${total} frames`);
    assert.equal(frames.length, total);
    const outOfOrder = frames.findIndex((frame, index) => seqOf(frame.data) !== index || frame.can?.id !== 0x1234567 || frame.can.extended !== true);
    assert.equal(outOfOrder, -1, `frame #${outOfOrder} is not sequence ${outOfOrder}`);
    assert.equal(connector.stats.malformed, 0);
  });

  peerIt('receive_own_messages: false hides a connector\'s own frames from it, true delivers them; other members always get them', async () => {
    const port = freshPort();
    const peer = await PythonPeer.start(port);
    const quiet = await kisoBus(port, {}, 'quiet');
    const echo = await kisoBus(port, { receive_own_messages: true }, 'echo');

    await quiet.connector.send(canFrame({ id: 0x101, data: [1] }));
    await echo.connector.send(canFrame({ id: 0x102, data: [2] }));
    await peer.until(() => peer.frames.length >= 2, 'both kiso frames at python-can');
    // python-can saw both, so the kernel had already queued them on every socket of the group;
    // a python-can frame sent now arrives after them.
    await peer.request({ cmd: 'send', frames: [{ arbitration_id: 0x7aa, is_extended_id: false, data: 'ff' }] }, 'sent');
    await quiet.until(() => quiet.frames.some((f) => f.can?.id === 0x7aa), 'the python-can marker');
    await echo.until(() => echo.frames.some((f) => f.can?.id === 0x7aa), 'the python-can marker');

    assert.deepEqual(peer.frames.map((f) => f.arbitration_id), [0x101, 0x102]);
    assert.deepEqual(quiet.frames.map((f) => f.can?.id), [0x102, 0x7aa], 'quiet: not its own 0x101, but the other connector\'s 0x102');
    assert.deepEqual(echo.frames.map((f) => f.can?.id), [0x101, 0x102, 0x7aa], 'echo: the other connector\'s 0x101 and its own 0x102');
  });

  peerIt('python-can itself receives its own frames (it refuses receive_own_messages=True)', async () => {
    const peer = await PythonPeer.start(freshPort(), { listen: false });
    const own = await peer.request({ cmd: 'own', frame: { arbitration_id: 0x55, is_extended_id: false, data: '0102' } }, 'own');
    assert.ok(own.received, 'python-can\'s bus.recv() returned the frame it sent');
    assert.equal((own.received as PeerFrame).arbitration_id, 0x55);
  });

  peerIt('can_filters: only matching frames are delivered', async () => {
    const port = freshPort();
    const filtered = await kisoBus(port, {
      can_filters: [
        { can_id: 0x100, can_mask: 0x7f0 },
        { can_id: 0x18daf100, can_mask: 0x1fffff00, extended: true },
      ],
    });
    const peer = await PythonPeer.start(port, { listen: false });
    const ids: Array<[number, boolean]> = [
      [0x100, false], [0x10f, false], [0x110, false], [0x200, false],
      [0x18daf1aa, true], [0x18daf2aa, true], [0x105, true], [0x1ff, false],
      [0x101, false], // last: the marker every earlier frame arrives before
    ];
    await peer.request({ cmd: 'send', frames: ids.map(([id, extended]) => ({ arbitration_id: id, is_extended_id: extended, data: '00' })) }, 'sent');
    await filtered.until(() => filtered.frames.some((f) => f.can?.id === 0x101), 'the marker frame');
    assert.deepEqual(filtered.frames.map((f) => [f.can?.id, f.can?.extended]), [[0x100, false], [0x10f, false], [0x18daf1aa, true], [0x105, true], [0x101, false]]);
  });

  peerIt('garbage on the group is counted as malformed and dropped; the valid frames around it arrive', async () => {
    const port = freshPort();
    const bus = await kisoBus(port);
    const peer = await PythonPeer.start(port, { listen: false });
    const raw = await rawSender();
    const valid = (id: number) => encodeFrame(canFrame({ id, data: [id & 0xff] }), null);
    const pythonLike = (fields: Record<string, unknown>) =>
      encode({ timestamp: 0, arbitration_id: 0x300, is_extended_id: false, is_remote_frame: false, is_error_frame: false, channel: null, dlc: 0, data: new Uint8Array(0), is_fd: false, bitrate_switch: false, error_state_indicator: false, ...fields });
    const datagrams: Uint8Array[] = [
      valid(0x301),
      Buffer.from('this is not msgpack \xc1', 'latin1'),
      valid(0x302),
      encode({ hello: 'world' }),
      encode([1, 2, 3]),
      valid(0x303),
      pythonLike({ dlc: 9, data: new Uint8Array(9) }), // 9 bytes on classic CAN
      pythonLike({ arbitration_id: 0x800 }), // 12-bit id without is_extended_id
      pythonLike({ is_fd: true, dlc: 10, data: new Uint8Array(10) }), // python-can accepts it; no CAN FD frame is 10 bytes
      pythonLike({ is_extended_id: 'yes' }),
      new Uint8Array(5000), // more than python-can's 4096-byte receive buffer
      valid(0x304),
    ];
    for (const datagram of datagrams) await sendRaw(raw, datagram, port);
    await peer.request({ cmd: 'send', frames: [{ arbitration_id: 0x305, is_extended_id: false, data: '05' }] }, 'sent');
    await bus.until(() => bus.frames.some((f) => f.can?.id === 0x305), 'the python-can frame after the garbage');
    await bus.until(() => bus.frames.length >= 5, 'all valid frames');
    assert.deepEqual(bus.frames.map((f) => f.can?.id).sort(), [0x301, 0x302, 0x303, 0x304, 0x305]);
    assert.deepEqual(bus.frames.filter((f) => f.can!.id !== 0x305).map((f) => f.can?.id), [0x301, 0x302, 0x303, 0x304], 'in the order sent');
    assert.equal(bus.connector.stats.malformed, 8);
    assert.deepEqual(bus.connector.malformedCounts(), {
      'not msgpack': 1,
      'msgpack that is not a CAN frame': 3,
      'invalid CAN frame': 3,
      'datagram larger than 4096 bytes': 1,
    });
  });

  peerIt('an invalid frame is refused at the call (KISO_CONNECTOR_INVALID_MESSAGE) and never reaches the bus', async () => {
    const port = freshPort();
    const peer = await PythonPeer.start(port);
    const { connector } = await kisoBus(port, { remote_id: 0x123 });
    const invalid: Sendable[] = [
      { data: new Uint8Array(9), can: { id: 0x100, extended: false, remote: false, fd: false, brs: false, esi: false } },
      { data: new Uint8Array(1), can: { id: 0x800, extended: false, remote: false, fd: false, brs: false, esi: false } },
      { data: new Uint8Array(10), can: { id: 0x100, extended: false, remote: false, fd: true, brs: false, esi: false } },
      { data: new Uint8Array(0), can: { id: 0x100, extended: false, remote: true, fd: false, brs: false, esi: false, error: true } },
      new Uint8Array(9), // plain bytes: classic frame on remote_id
    ];
    for (const message of invalid) {
      await assert.rejects(connector.send(message), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_INVALID_MESSAGE'), `refused: ${JSON.stringify(message)}`);
    }
    await connector.send(Uint8Array.of(0xaa, 0xbb));
    await peer.until(() => peer.frames.length >= 1, 'the valid frame');
    assert.equal(peer.frames.length, 1, 'nothing invalid reached python-can');
    assert.equal(peer.frames[0]!.arbitration_id, 0x123);
    assert.equal(peer.frames[0]!.data, 'aabb');
    assert.equal(connector.stats.sent, 1);
  });

  peerIt('plain bytes use remote_id, is_extended_id, is_fd and enable_brs', async () => {
    const port = freshPort();
    const peer = await PythonPeer.start(port);
    const { connector } = await kisoBus(port, { remote_id: 0x18ff0001, is_extended_id: true, is_fd: true, enable_brs: true });
    await connector.send(Uint8Array.from({ length: 16 }, (_, i) => i));
    await peer.until(() => peer.frames.length >= 1, 'the frame');
    const { arbitration_id, is_extended_id, is_fd, bitrate_switch, dlc } = peer.frames[0]!;
    assert.deepEqual({ arbitration_id, is_extended_id, is_fd, bitrate_switch, dlc }, { arbitration_id: 0x18ff0001, is_extended_id: true, is_fd: true, bitrate_switch: true, dlc: 16 });
  });

  it('two kiso connectors share the bus (no python-can needed)', async () => {
    const port = freshPort();
    const a = await kisoBus(port, {}, 'a');
    const b = await kisoBus(port, {}, 'b');
    await a.connector.send(canFrame({ id: 0x10, data: [1] }));
    await b.until(() => b.frames.length >= 1, 'a\'s frame');
    // b has a's frame, so the kernel had queued it on a's socket too: b's answer comes after it.
    await b.connector.send(canFrame({ id: 0x20, data: [2] }));
    await a.until(() => a.frames.length >= 1, 'b\'s answer');
    assert.deepEqual(b.frames.map((f) => f.can?.id), [0x10]);
    assert.deepEqual(a.frames.map((f) => f.can?.id), [0x20], 'a does not get its own frame back');
  });

  it('refuses a channel that is not a multicast group', async () => {
    const connector = new VirtualCanConnector({ channel: '127.0.0.1', port: freshPort() }, { name: 'bad', log: silentLogger(), baseDir: process.cwd() });
    await assert.rejects(connector.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /not a multicast group/.test((error as Error).message));
  });

  peerIt('IPv6 group (python-can\'s default channel) both ways', async (t) => {
    const port = freshPort();
    let bus: Awaited<ReturnType<typeof kisoBus>>;
    try {
      bus = await kisoBus(port, { channel: DEFAULT_GROUP_IPV6 });
    } catch (error) {
      t.skip(`no IPv6 multicast route on this machine: ${(error as Error).message}`);
      return;
    }
    const peer = await PythonPeer.start(port, { channel: DEFAULT_GROUP_IPV6 });
    await bus.connector.send(canFrame({ id: 0x66, data: [6] }));
    await peer.until(() => peer.frames.length >= 1, 'the kiso frame at python-can');
    assert.equal(peer.frames[0]!.arbitration_id, 0x66);
    await peer.request({ cmd: 'send', frames: [{ arbitration_id: 0x67, is_extended_id: false, data: '07' }] }, 'sent');
    await bus.until(() => bus.frames.length >= 1, 'the python-can frame');
    assert.equal(bus.frames[0]!.can?.id, 0x67);
    assert.equal(bus.frames[0]!.channel, DEFAULT_GROUP_IPV6);
  });
});
