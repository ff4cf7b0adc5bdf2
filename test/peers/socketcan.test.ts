import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { SocketCanConnector, kernelFilters, kernelHasSocketCan, loadSocketCanModule, type SocketCanConnectorConfig, type SocketCanModule, type SocketCanNativeFrame, type SocketCanRawChannel } from '../../src/connectors/socketcan.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { Cleanups, PYTHON, PythonPeer, collect, waitUntil, type PeerEvent } from './peer-helpers.js';

/**
 * CCSocketCan against python-can's `socketcan` interface on a vcan bus.
 * Kernels without AF_CAN (this project's CI machine) cannot run them: every
 * such test is skipped with the reason printed. Opening a missing interface
 * is tested everywhere. Waits are bounded only as failure guards.
 */

const NO_SOCKETCAN = 'skipped: no SocketCAN in this kernel';
const PEER = 'python_can_peer.py';
const OWN_VCAN = 'kisovcan0';

const cleanups = new Cleanups();
after(() => cleanups.run());

/** Whether socket(AF_CAN, SOCK_RAW, CAN_RAW) works here (this also autoloads can/can_raw). */
function kernelOffersAfCan(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import socket; socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW).close()'], { stdio: 'ignore' });
  if (probe.error) return kernelHasSocketCan() === true;
  return probe.status === 0;
}

function sysfs(iface: string, file: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${iface}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function ip(...args: string[]): boolean {
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

interface Bench {
  /** Why the real tests cannot run, or undefined. */
  skip?: string;
  iface: string;
  /** We created the vcan (as root), so we may also add, take down and delete others. */
  ownsInterfaces: boolean;
  fd: boolean;
}

/** Finds or makes a vcan bus for the real tests. */
function prepare(): Bench {
  if (!kernelOffersAfCan()) return { skip: NO_SOCKETCAN, iface: '', ownsInterfaces: false, fd: false };
  const python = spawnSync(PYTHON, ['-c', 'import can'], { stdio: 'ignore' });
  if (python.status !== 0) return { skip: `skipped: ${PYTHON} lacks python-can (apt-get install python3-can)`, iface: '', ownsInterfaces: false, fd: false };
  if (process.getuid?.() === 0 && ip('link', 'add', 'dev', OWN_VCAN, 'type', 'vcan')) {
    cleanups.add(() => void ip('link', 'del', 'dev', OWN_VCAN));
    ip('link', 'set', OWN_VCAN, 'mtu', '72');
    ip('link', 'set', OWN_VCAN, 'up');
    return { iface: OWN_VCAN, ownsInterfaces: true, fd: sysfs(OWN_VCAN, 'mtu') === '72' };
  }
  const existing = readdirSync('/sys/class/net').find((name) => name.startsWith('vcan') && sysfs(name, 'type') === '280' && (Number.parseInt(sysfs(name, 'flags') ?? '0', 16) & 1) === 1);
  if (!existing) return { skip: 'skipped: no vcan interface here (as root: ip link add dev vcan0 type vcan && ip link set vcan0 mtu 72 up)', iface: '', ownsInterfaces: false, fd: false };
  return { iface: existing, ownsInterfaces: false, fd: sysfs(existing, 'mtu') === '72' };
}

const bench = prepare();
if (bench.skip) console.log(bench.skip);

/** Skips a test needing a real bus, with the reason visible in the report. */
function needsBus(t: TestContext, needFd = false): boolean {
  if (bench.skip) {
    t.skip(bench.skip);
    return false;
  }
  if (needFd && !bench.fd) {
    t.skip(`skipped: ${bench.iface} is not CAN FD capable (mtu 72)`);
    return false;
  }
  return true;
}

function connector(config: SocketCanConnectorConfig, name = 'socketcan'): SocketCanConnector {
  const instance = new SocketCanConnector(config, { name, log: silentLogger(), baseDir: process.cwd() });
  cleanups.add(() => instance.close());
  return instance;
}

async function peer(): Promise<PythonPeer> {
  const started = await PythonPeer.start(PEER, [JSON.stringify({ interface: 'socketcan', channel: bench.iface, kwargs: { fd: bench.fd } })]);
  cleanups.add(() => started.stop());
  return started;
}

function peerFrame(event: PeerEvent): { id: number; extended: boolean; fd: boolean; brs: boolean; remote: boolean; dlc: number; data: string } {
  return event.frame as never;
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

describe('CCSocketCan everywhere', () => {
  it('opening a missing interface is a clear KISO_CONNECTOR_OPEN error naming it', async () => {
    const kiso = connector({ channel: 'kisonope0' });
    await assert.rejects(kiso.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, /"kisonope0"/);
      if (bench.skip === NO_SOCKETCAN) assert.match(error.message, /this kernel has no SocketCAN \(AF_CAN\)/);
      else assert.match(error.message, /no CAN interface "kisonope0".*ip link add dev vcan0 type vcan/);
      return true;
    });
    assert.equal(kiso.isOpen, false);
  });

  it('a socketcan package that cannot load is a clear KISO_CONNECTOR_OPEN error', async () => {
    await assert.rejects(loadSocketCanModule('kiso-no-such-socketcan-addon'), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /cannot load the "kiso-no-such-socketcan-addon" npm package/.test(error.message));
  });

  it('has pykiso\'s defaults: vcan0 and CAN FD for plain bytes', () => {
    const kiso = connector({ remote_id: 0x7e0 });
    assert.equal(kiso.config.channel, 'vcan0');
    assert.equal(kiso.toFrame({ data: Uint8Array.of(1, 2) }).can.fd, true);
    assert.equal(connector({ is_fd: false }).toFrame({ data: Uint8Array.of(1) }).can.fd, false);
  });

  it('packs can_filters for the kernel as python-can does (unsigned, EFF flag for `extended`)', () => {
    assert.deepEqual(kernelFilters([{ can_id: 0x123, can_mask: 0x7ff }]), [{ id: 0x123, mask: 0x7ff }]);
    assert.deepEqual(kernelFilters([{ can_id: 0x123, can_mask: 0x7ff, extended: false }]), [{ id: 0x123, mask: 0x800007ff }]);
    assert.deepEqual(kernelFilters([{ can_id: 0x1abcdef, can_mask: 0x1fffffff, extended: true }]), [{ id: 0x81abcdef, mask: 0x9fffffff }]);
  });
});

describe('CCSocketCan on a vcan bus', () => {
  it('exchanges standard, extended and remote frames with python-can', async (t) => {
    if (!needsBus(t)) return;
    const other = await peer();
    const kiso = connector({ channel: bench.iface, is_fd: false, remote_id: 0x7e0 });
    await kiso.open();
    const received = collect(kiso);

    await kiso.send(canFrame({ id: 0x123, data: [1, 2, 3] }));
    await kiso.send(canFrame({ id: 0x1abcdef, extended: true, data: [0xde, 0xad, 0xbe, 0xef] }));
    await kiso.send(canFrame({ id: 0x7ff, remote: true, dlc: 4 }));
    await kiso.send(Uint8Array.of(0x10, 0x20));
    const standard = peerFrame(await other.next((e) => peerFrame(e)?.id === 0x123, 'the standard frame at the peer'));
    assert.equal(standard.extended, false);
    assert.equal(standard.data, '010203');
    const extended = peerFrame(await other.next((e) => peerFrame(e)?.id === 0x1abcdef, 'the extended frame at the peer'));
    assert.equal(extended.extended, true);
    assert.equal(extended.data, 'deadbeef');
    const remote = peerFrame(await other.next((e) => peerFrame(e)?.id === 0x7ff, 'the remote frame at the peer'));
    assert.equal(remote.remote, true);
    assert.equal(remote.dlc, 4);
    assert.equal(peerFrame(await other.next((e) => peerFrame(e)?.id === 0x7e0, 'the plain-bytes frame')).data, '1020');

    other.send({ send: { id: 0x321, data: 'cafe' } });
    other.send({ send: { id: 0x1234567, extended: true, data: '0102030405060708' } });
    other.send({ send: { id: 0x111, remote: true, dlc: 6 } });
    const byId = (id: number) => received.find((m) => m.can?.id === id) as CanFrame | undefined;
    await waitUntil(() => [0x321, 0x1234567, 0x111].every((id) => byId(id)), 'the peer frames at kiso');
    assert.deepEqual(byId(0x321)!.can, { id: 0x321, extended: false, remote: false, fd: false, brs: false, esi: false });
    assert.equal(hex(byId(0x321)!.data), 'cafe');
    assert.equal(byId(0x321)!.channel, bench.iface);
    assert.equal(typeof byId(0x321)!.timestamp, 'number');
    assert.equal(byId(0x1234567)!.can.extended, true);
    assert.equal(byId(0x111)!.can.remote, true);
    assert.equal((byId(0x111)!.can as { dlc?: number }).dlc, 6);
    assert.equal(received.length, 3, 'kiso does not hear its own frames unless receive_own_messages');
  });

  it('exchanges CAN FD frames with python-can', async (t) => {
    if (!needsBus(t, true)) return;
    const other = await peer();
    const kiso = connector({ channel: bench.iface, enable_brs: true, remote_id: 0x456 });
    await kiso.open();
    const received = collect(kiso);
    await kiso.send(new Uint8Array(12).fill(7)); // is_fd defaults to true, as in pykiso
    const fd = peerFrame(await other.next((e) => peerFrame(e)?.id === 0x456, 'the FD frame at the peer'));
    assert.equal(fd.fd, true);
    assert.equal(fd.brs, true);
    assert.equal(fd.data, '07'.repeat(12));
    other.send({ send: { id: 0x654, fd: true, brs: true, data: 'ab'.repeat(64) } });
    await waitUntil(() => received.some((m) => m.can?.id === 0x654), 'the FD frame at kiso');
    const frame = received.find((m) => m.can?.id === 0x654)!;
    assert.equal(frame.can?.fd, true);
    assert.equal(hex(frame.data), 'ab'.repeat(64));
  });

  it('applies can_filters in the kernel, with python-can\'s `extended` meaning', async (t) => {
    if (!needsBus(t)) return;
    const other = await peer();
    const kiso = connector({ channel: bench.iface, is_fd: false, can_filters: [{ can_id: 0x200, can_mask: 0x700, extended: false }] });
    await kiso.open();
    const received = collect(kiso);
    other.send({ send: { id: 0x123, data: '01' } });
    other.send({ send: { id: 0x1000234, extended: true, data: '02' } });
    other.send({ send: { id: 0x234, data: '03' } });
    other.send({ send: { id: 0x2ff, data: '04' } });
    await waitUntil(() => received.some((m) => m.can?.id === 0x2ff), 'the last matching frame');
    assert.deepEqual(received.map((m) => m.can?.id), [0x234, 0x2ff]);
  });

  it('receive_own_messages delivers what it sent', async (t) => {
    if (!needsBus(t)) return;
    const kiso = connector({ channel: bench.iface, is_fd: false, receive_own_messages: true });
    await kiso.open();
    const received = collect(kiso);
    await kiso.send(canFrame({ id: 0x42, data: [9] }));
    await waitUntil(() => received.length === 1, 'the own frame');
    assert.equal(received[0]!.can?.id, 0x42);
  });

  it('a down interface is an open error; a removed one fires onError', async (t) => {
    if (!needsBus(t)) return;
    if (!bench.ownsInterfaces) {
      t.skip('skipped: needs root to add and remove vcan interfaces');
      return;
    }
    const spare = 'kisovcan1';
    assert.ok(ip('link', 'add', 'dev', spare, 'type', 'vcan'));
    cleanups.add(() => void ip('link', 'del', 'dev', spare));
    const down = connector({ channel: spare });
    await assert.rejects(down.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /is down: bring it up with `ip link set kisovcan1 up`/.test(error.message));
    assert.ok(ip('link', 'set', spare, 'up'));
    const kiso = connector({ channel: spare, is_fd: false });
    await kiso.open();
    const errors: Error[] = [];
    kiso.onError((error) => errors.push(error));
    assert.ok(ip('link', 'del', 'dev', spare));
    await waitUntil(() => errors.length > 0, 'onError after the interface was removed');
    assert.ok(isKisoError(errors[0], 'KISO_CONNECTOR_CLOSED'));
    assert.match(errors[0]!.message, /lost interface "kisovcan1"/);
    await assert.rejects(kiso.send(canFrame({ id: 1, data: [] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
  });
});

/**
 * A stand-in for the addon's RawChannel that behaves as node_modules/socketcan
 * native/can.cc does (send returns the byte count or -1, stop() fires the
 * onStopped listeners and throws once stopped, received frames are plain
 * objects with ts_sec/ts_usec). It checks kiso's mapping where no kernel has
 * AF_CAN; the vcan tests above check the real thing.
 */
class StandInChannel implements SocketCanRawChannel {
  readonly sent: Array<{ fd: boolean; frame: SocketCanNativeFrame }> = [];
  readonly rxFilters: unknown[] = [];
  readonly errorFilters: number[] = [];
  /** What the next sends return (-1: the kernel refused); the last value repeats. */
  results: number[] = [];
  started = false;
  stops = 0;
  private onMessage: Array<(frame: SocketCanNativeFrame) => void> = [];
  private onStopped: Array<() => void> = [];
  constructor(readonly name: string, readonly options: object) {}
  addListener(event: 'onMessage' | 'onStopped', callback: (...args: any[]) => void): void {
    if (event === 'onMessage') this.onMessage.push(callback);
    else this.onStopped.push(callback);
  }
  start(): void {
    this.started = true;
  }
  stop(): void {
    if (!this.started) throw new Error('Channel not started');
    this.stops++;
    for (const listener of this.onStopped) listener();
    this.started = false;
  }
  send(frame: SocketCanNativeFrame): number {
    return this.write(false, frame);
  }
  sendFD(frame: SocketCanNativeFrame): number {
    return this.write(true, frame);
  }
  setRxFilters(filters: Array<{ id: number; mask: number; invert?: boolean }>): void {
    this.rxFilters.push(filters);
  }
  setErrorFilters(mask: number): void {
    this.errorFilters.push(mask);
  }
  /** The kernel delivers a frame. */
  receive(frame: SocketCanNativeFrame): void {
    for (const listener of this.onMessage) listener(frame);
  }
  /** The reader thread saw POLLERR: the interface went away. */
  die(): void {
    for (const listener of this.onStopped) listener();
    this.started = false;
  }
  private write(fd: boolean, frame: SocketCanNativeFrame): number {
    const result = this.results.length > 1 ? this.results.shift()! : (this.results[0] ?? (fd ? 72 : 16));
    if (result >= 0) this.sent.push({ fd, frame: { ...frame, data: Buffer.from(frame.data) } });
    return result;
  }
}

describe('CCSocketCan mapping onto the socketcan addon (stand-in addon)', () => {
  const channels: StandInChannel[] = [];
  const original = SocketCanConnector.loadAddon;
  const standIn: SocketCanModule = {
    createRawChannelWithOptions(name, options) {
      if (name !== 'lo') throw new Error('Error while creating channel');
      const channel = new StandInChannel(name, options);
      channels.push(channel);
      return channel;
    },
  };
  SocketCanConnector.loadAddon = async () => standIn;
  after(() => {
    SocketCanConnector.loadAddon = original;
  });
  // `lo` exists and is up everywhere, so the sysfs checks pass; its MTU allows CAN FD.
  const open = async (config: SocketCanConnectorConfig = {}): Promise<{ kiso: SocketCanConnector; channel: StandInChannel }> => {
    const kiso = connector({ channel: 'lo', ...config });
    await kiso.open();
    return { kiso, channel: channels.at(-1)! };
  };

  it('opens with timestamps and non-blocking sends, and installs kernel filters', async () => {
    const { channel } = await open({ can_filters: [{ can_id: 0x1abcdef, can_mask: 0x1fffffff, extended: true }] });
    assert.deepEqual(channel.options, { timestamps: true, non_block_send: true });
    assert.equal(channel.started, true);
    assert.deepEqual(channel.rxFilters, [[{ id: 0x81abcdef, mask: 0x9fffffff }]]);
  });

  it('sends classic, extended, remote and FD frames as the addon expects them', async () => {
    const { kiso, channel } = await open();
    await kiso.send(canFrame({ id: 0x123, data: [1, 2] }));
    await kiso.send(canFrame({ id: 0x1abcdef, extended: true, data: [3] }));
    await kiso.send(canFrame({ id: 0x7ff, remote: true, dlc: 5 }));
    await kiso.send(canFrame({ id: 0x456, fd: true, brs: true, data: new Uint8Array(12).fill(9) }));
    const summary = channel.sent.map(({ fd, frame }) => ({ fd, id: frame.id, ext: frame.ext, rtr: frame.rtr, brs: frame.fd_brs, data: hex(frame.data) }));
    assert.deepEqual(summary, [
      { fd: false, id: 0x123, ext: false, rtr: false, brs: false, data: '0102' },
      { fd: false, id: 0x1abcdef, ext: true, rtr: false, brs: false, data: '03' },
      { fd: false, id: 0x7ff, ext: false, rtr: true, brs: false, data: '0000000000' },
      { fd: true, id: 0x456, ext: false, rtr: false, brs: true, data: '09'.repeat(12) },
    ]);
  });

  it('turns received frames into messages: ids, flags, FD by length, timestamps, software filters', async () => {
    const { kiso, channel } = await open({ can_filters: [{ can_id: 0x100, can_mask: 0x7f0 }] });
    const received = collect(kiso);
    channel.receive({ id: 0x123, data: Buffer.from([1]), ts_sec: 1_700_000_000, ts_usec: 250_000 }); // filtered out
    channel.receive({ id: 0x101, data: Buffer.from([1, 2]), ts_sec: 1_700_000_000, ts_usec: 250_000 });
    channel.receive({ id: 0x1000101, ext: true, data: Buffer.from([3]) });
    channel.receive({ id: 0x102, rtr: true, data: Buffer.alloc(3) });
    channel.receive({ id: 0x103, data: Buffer.alloc(64, 0xab) });
    channel.receive({ id: 0x004, err: true, data: Buffer.alloc(8) }); // error frames pass, as in the kernel
    assert.deepEqual(received.map((m) => m.can?.id), [0x101, 0x1000101, 0x102, 0x103, 0x004]);
    assert.equal(received[0]!.timestamp, 1_700_000_000.25);
    assert.equal(received[0]!.channel, 'lo');
    assert.deepEqual(received[0]!.can, { id: 0x101, extended: false, remote: false, fd: false, brs: false, esi: false });
    assert.equal(received[1]!.can?.extended, true);
    assert.equal(received[2]!.can?.remote, true);
    assert.equal((received[2]!.can as { dlc?: number }).dlc, 3);
    assert.equal(received[2]!.data.length, 0);
    assert.equal(received[3]!.can?.fd, true);
    assert.equal(received[4]!.can?.error, true);
  });

  it('never lets an exception escape into the addon (it would be fatal)', async () => {
    const { kiso, channel } = await open();
    kiso.attach(() => {
      throw new Error('a receiver bug');
    });
    assert.doesNotThrow(() => channel.receive({ id: 0x1, data: Buffer.alloc(0) }));
  });

  it('retries while the transmit queue is full, then fails with KISO_CONNECTOR_SEND', async () => {
    const { kiso, channel } = await open();
    channel.results = [-1, -1, 16];
    await kiso.send(canFrame({ id: 0x1, data: [1] }));
    assert.equal(channel.sent.length, 1);
    channel.results = [-1];
    await assert.rejects(kiso.send(canFrame({ id: 0x2, data: [2] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /transmit queue/.test(error.message));
  });

  it('receive_own_messages delivers a sent frame once the kernel took it', async () => {
    const { kiso } = await open({ receive_own_messages: true, is_fd: false });
    const received = collect(kiso);
    await kiso.send(Uint8Array.of(7));
    assert.equal(received.length, 1);
    assert.equal(received[0]!.can?.fd, false);
  });

  it('an interface that goes away fires onError; close does not', async () => {
    const { kiso, channel } = await open();
    const errors: Error[] = [];
    kiso.onError((error) => errors.push(error));
    channel.die();
    assert.equal(errors.length, 1);
    assert.ok(isKisoError(errors[0], 'KISO_CONNECTOR_CLOSED'));
    await assert.rejects(kiso.send(canFrame({ id: 1, data: [] })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    await kiso.close();

    const second = await open();
    second.kiso.onError((error) => errors.push(error));
    await second.kiso.close();
    assert.equal(errors.length, 1);
    assert.equal(second.channel.stops, 1);
    assert.deepEqual(second.channel.rxFilters.at(-1), [{ id: 0, mask: 0, invert: true }], 'a closed socket matches nothing until GC frees it');
  });

  it('logging_activated writes a candump log of both directions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiso-sctrace-'));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const { kiso, channel } = await open({ logging_activated: true, log_path: dir, log_name: 'bench', is_fd: false });
    const file = kiso.tracePath()!;
    assert.match(file, /\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_bench\.log$/);
    assert.ok(file.startsWith(dir));
    await kiso.send(canFrame({ id: 0x123, data: [0xde, 0xad] }));
    channel.receive({ id: 0x321, data: Buffer.from([0xbe, 0xef]), ts_sec: 1_700_000_000, ts_usec: 0 });
    await kiso.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.match(lines[0]!, /^\(\d+\.\d{6}\) lo 123#DEAD$/);
    assert.equal(lines[1], '(1700000000.000000) lo 321#BEEF');
  });
});
