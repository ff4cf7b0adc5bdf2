import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync, readlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { CanConnector, type CanConnectorConfig } from './can-base.js';
import { socketErrorText } from './socket-common.js';
import { closeUdp } from './udp.js';
import { canFrameProblem, type CanFrame } from '../can/frame.js';
import { KisoError } from '../core/errors.js';
import type { CanFields } from '../core/message.js';

export interface VirtualCanConnectorConfig extends CanConnectorConfig {
  /** The multicast group the bus lives on (IPv4 224.0.0.0/4 or IPv6 ff00::/8). */
  channel?: string;
  port?: number;
  /** Deliver the frames this connector sent back to it (they always reach every other member). */
  receive_own_messages?: boolean;
  /**
   * Local interface the group is joined and sent on: an IPv4 address of the
   * interface, or for IPv6 `::%<ifname>`. Default: 127.0.0.1 for IPv4 groups,
   * the system's default multicast interface for IPv6 groups.
   */
  multicast_interface?: string;
  /** Asked-for SO_RCVBUF in bytes (default RECEIVE_BUFFER_BYTES); the kernel caps it at net.core.rmem_max. */
  receive_buffer_bytes?: number;
}

/** python-can's UdpMulticastBus.DEFAULT_GROUP_IPv4, pykiso CCVirtualCan's default channel. */
export const DEFAULT_GROUP_IPV4 = '239.74.163.2';
/** python-can's UdpMulticastBus.DEFAULT_GROUP_IPv6 (python-can's own default channel). */
export const DEFAULT_GROUP_IPV6 = 'ff15:7079:7468:6f6e:6465:6d6f:6d63:6173';
export const DEFAULT_PORT = 43113;
/** python-can's hop_limit default: TTL 1, the frames never leave the local network. */
export const HOP_LIMIT = 1;
/** python-can reads at most 4096 bytes per datagram (max_buffer); anything bigger is not one of its frames. */
export const MAX_DATAGRAM = 4096;
/** Default interface for IPv4 groups: loopback, so the bus works on a machine without network. */
export const DEFAULT_INTERFACE_IPV4 = '127.0.0.1';
/**
 * Asked-for SO_RCVBUF. The kernel caps it at net.core.rmem_max (often 208 KiB,
 * which holds only a few hundred frames); a burst beyond the buffer is dropped
 * by the kernel, as on python-can's own socket.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** How often the kernel's drop counter of the receiving socket is read. */
export const DROP_CHECK_MS = 1_000;

/** The file descriptor of a dgram socket (Node keeps it in its internal state; Linux only needs it). */
function socketFd(socket: Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const fd = state ? (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[state]?.handle?.fd : undefined;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * The kernel's count of datagrams it dropped on one socket (a full receive
 * buffer): the `drops` column of /proc/net/udp (or udp6) for the socket's
 * inode. Linux has it; elsewhere undefined. (SO_RXQ_OVFL carries the same
 * count per datagram, but Node's dgram cannot read ancillary data.)
 */
export function kernelDrops(socket: Socket): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const fd = socketFd(socket);
  if (fd === undefined) return undefined;
  let inode: string | undefined;
  try {
    inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
  if (!inode) return undefined;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      if (fields[9] === inode) return Number(fields[12]);
    }
  }
  return undefined;
}

const encoder = new Encoder();
const decoder = new Decoder();

/** Seconds since the epoch with sub-millisecond resolution (candump logs print microseconds). */
function preciseNowSeconds(): number {
  // the same clock as nowSeconds() (src/core/message.ts)
  return (performance.timeOrigin + performance.now()) / 1000;
}

function dlcOf(can: CanFields): number | undefined {
  return (can as CanFields & { dlc?: number }).dlc;
}

/**
 * A frame as python-can's pack_message writes it: a msgpack map with its 11
 * keys in its order, bytes as msgpack bin (use_bin_type), `dlc` as python-can means it (the
 * payload length in bytes; for a remote frame, the length asked for).
 */
export function encodeFrame(frame: CanFrame, channel: string | null, timestamp = frame.timestamp ?? preciseNowSeconds()): Uint8Array {
  const { can } = frame;
  return encoder.encode({
    timestamp,
    arbitration_id: can.id,
    is_extended_id: can.extended,
    is_remote_frame: can.remote,
    is_error_frame: can.error ?? false,
    channel,
    dlc: can.remote ? (dlcOf(can) ?? 0) : frame.data.length,
    data: can.remote ? new Uint8Array(0) : frame.data,
    is_fd: can.fd,
    bitrate_switch: can.brs,
    error_state_indicator: can.esi,
  });
}

export type DecodeResult = { frame: CanFrame } | { kind: 'not msgpack' | 'msgpack that is not a CAN frame' | 'invalid CAN frame'; detail: string };

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}

function optionalBoolean(map: Record<string, unknown>, key: string, fallback: boolean): boolean | string {
  const value = map[key];
  if (value === undefined || value === null) return fallback;
  return typeof value === 'boolean' ? value : `${key} must be a boolean, got ${typeof value}`;
}

/**
 * Reads one datagram as python-can's unpack_message does (`Message(check=True,
 * **map)`), with python-can's defaults for absent keys (is_extended_id: true),
 * then kiso's frame checks (which also reject CAN FD lengths a real bus cannot
 * carry, e.g. 10 bytes). `timestamp` and `channel` on the wire are ignored, as
 * python-can replaces them with the receive time and its own bus.
 */
export function decodeFrame(datagram: Uint8Array): DecodeResult {
  let value: unknown;
  try {
    value = decoder.decode(datagram);
  } catch (error) {
    return { kind: 'not msgpack', detail: error instanceof Error ? error.message : String(error) };
  }
  if (!isPlainMap(value)) return { kind: 'msgpack that is not a CAN frame', detail: `a msgpack ${Array.isArray(value) ? 'array' : value === null ? 'nil' : typeof value}, not a map` };
  const id = value.arbitration_id;
  if (typeof id !== 'number' || !Number.isInteger(id)) return { kind: 'msgpack that is not a CAN frame', detail: id === undefined ? 'no arbitration_id' : `arbitration_id must be an integer, got ${String(id)}` };

  const flags = {
    extended: optionalBoolean(value, 'is_extended_id', true),
    remote: optionalBoolean(value, 'is_remote_frame', false),
    error: optionalBoolean(value, 'is_error_frame', false),
    fd: optionalBoolean(value, 'is_fd', false),
    brs: optionalBoolean(value, 'bitrate_switch', false),
    esi: optionalBoolean(value, 'error_state_indicator', false),
  };
  for (const flag of Object.values(flags)) if (typeof flag === 'string') return { kind: 'msgpack that is not a CAN frame', detail: flag };
  const { extended, remote, error, fd, brs, esi } = flags as Record<keyof typeof flags, boolean>;

  let data: Uint8Array;
  const rawData = value.data;
  if (rawData === undefined || rawData === null) data = new Uint8Array(0);
  // A copy as a plain Uint8Array: the decoder hands out a view into the datagram's Buffer.
  else if (rawData instanceof Uint8Array) data = new Uint8Array(rawData);
  else if (Array.isArray(rawData) && rawData.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 255)) data = Uint8Array.from(rawData as number[]);
  else return { kind: 'msgpack that is not a CAN frame', detail: 'data must be bytes' };
  // python-can drops the data of a remote frame.
  if (remote) data = new Uint8Array(0);

  const rawDlc = value.dlc;
  if (rawDlc !== undefined && rawDlc !== null && (typeof rawDlc !== 'number' || !Number.isInteger(rawDlc))) return { kind: 'msgpack that is not a CAN frame', detail: 'dlc must be an integer' };
  const dlc = typeof rawDlc === 'number' ? rawDlc : data.length;

  // python-can's Message._check, for what kiso's own checks do not cover.
  if (remote && error) return { kind: 'invalid CAN frame', detail: 'a frame cannot be both remote and error' };
  if (dlc < 0) return { kind: 'invalid CAN frame', detail: `negative dlc ${dlc}` };
  if (!remote && dlc !== data.length) return { kind: 'invalid CAN frame', detail: `dlc ${dlc} does not match the ${data.length} data bytes` };
  if (remote && dlc > 8) return { kind: 'invalid CAN frame', detail: `a remote frame asks for at most 8 bytes, got dlc ${dlc}` };

  const frame: CanFrame = { data, can: { id, extended, remote, fd, brs, esi, ...(error ? { error: true } : {}), ...(remote ? { dlc } : {}) } };
  const problem = canFrameProblem(frame);
  return problem ? { kind: 'invalid CAN frame', detail: problem } : { frame };
}

function isMulticast(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const first = Number(address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return family === 6 && /^ff/i.test(address);
}

function bound(socket: Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/**
 * pykiso's CCVirtualCan: a virtual CAN bus over UDP multicast, wire-compatible
 * with python-can's `udp_multicast` interface, so kiso, pykiso and python-can
 * tools on one machine share a bus without hardware.
 *
 * Every frame is one datagram to channel:port (python-can's msgpack map).
 * Two sockets: a receiving one bound to the group port with SO_REUSEADDR (so
 * any number of kiso and python-can processes share it) and a sending one on
 * its own ephemeral port. Multicast loopback is on (other processes on this
 * machine must see our frames), so the bus echoes every frame back to its
 * sender; the sending socket's address tells our own frames apart, which
 * python-can cannot do (it always receives its own frames and refuses
 * `receive_own_messages=True`). Other kiso connectors on the same group, in
 * this process or not, receive them as on a real bus.
 *
 * IPv4 groups are joined and sent on 127.0.0.1 by default, so the bus works
 * without network. python-can joins on the interface the kernel routes the
 * group to (eth0 on a networked machine); on Linux the two still meet, because
 * a socket receives every group joined on the host (IP_MULTICAST_ALL). On a
 * machine with no route for the group python-can fails to open (ENODEV) until
 * `ip route add 224.0.0.0/4 dev lo`; kiso needs no route.
 *
 * `is_fd` only says how plain bytes are sent (kiso's CAN convention, default
 * false, where pykiso's CCVirtualCan defaults to true); received FD frames are
 * always delivered, with their fd flag. A datagram python-can could not read
 * (not msgpack, not a frame, an invalid frame, over 4096 bytes) is counted as
 * malformed and dropped, where python-can's recv() raises.
 */
export class VirtualCanConnector extends CanConnector<VirtualCanConnectorConfig> {
  private rx: Socket | undefined;
  private tx: Socket | undefined;
  private ownPort = -1;
  private localAddresses = new Set<string>();
  private dropTimer: NodeJS.Timeout | undefined;
  private dropsAtOpen: number | undefined;
  private dropsReported = 0;

  /**
   * Datagrams the kernel dropped on this connector's receiving socket since
   * it opened (its receive buffer was full: the bus outran the reader);
   * undefined where the platform does not say.
   */
  get kernelDropped(): number | undefined {
    const now = this.rx ? kernelDrops(this.rx) : undefined;
    if (now === undefined || this.dropsAtOpen === undefined) return this.rx ? undefined : this.dropsReported;
    return now - this.dropsAtOpen;
  }

  /** Reads the kernel's drop counter and warns with the count when it grew since the last look. */
  checkKernelDrops(): number | undefined {
    const dropped = this.kernelDropped;
    if (dropped === undefined || dropped <= this.dropsReported) return dropped;
    const fresh = dropped - this.dropsReported;
    this.dropsReported = dropped;
    const buffer = this.rx?.getRecvBufferSize();
    this.log.warn(
      { connector: this.name, kernelDropped: fresh, kernelDroppedTotal: dropped, receiveBuffer: buffer },
      `virtual CAN connector "${this.name}": the kernel dropped ${fresh} frame(s) on ${this.where} (${dropped} since it opened): its receive buffer (${buffer} bytes) was full, the bus outran this process; raise receive_buffer_bytes (net.core.rmem_max caps it)`,
    );
    return dropped;
  }

  get group(): string {
    return this.config.channel ?? DEFAULT_GROUP_IPV4;
  }

  get port(): number {
    return this.config.port ?? DEFAULT_PORT;
  }

  private get where(): string {
    return isIP(this.group) === 6 ? `[${this.group}]:${this.port}` : `${this.group}:${this.port}`;
  }

  protected override async doOpen(): Promise<void> {
    const group = this.group;
    if (!isMulticast(group)) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `virtual CAN connector "${this.name}": channel "${group}" is not a multicast group address (IPv4 224.0.0.0 to 239.255.255.255, e.g. ${DEFAULT_GROUP_IPV4}, or IPv6 ff00::/8)`);
    }
    const ipv6 = isIP(group) === 6;
    const iface = this.config.multicast_interface ?? (ipv6 ? undefined : DEFAULT_INTERFACE_IPV4);
    const onInterface = iface ? ` on interface ${iface}` : '';
    const type = ipv6 ? 'udp6' : 'udp4';

    const rx = createSocket({ type, reuseAddr: true });
    let tx = createSocket({ type });
    const release = async () => {
      await closeUdp(rx);
      await closeUdp(tx);
    };
    let step = `bind port ${this.port}`;
    try {
      // Bound to the group itself (python-can binds the wildcard) so a bus on
      // another group with the same port does not leak in; Windows cannot
      // bind a multicast address.
      await bound(rx, this.port, process.platform === 'win32' ? undefined : group);
      step = `join the group${onInterface}`;
      rx.addMembership(group, iface);
      try {
        rx.setRecvBufferSize(this.config.receive_buffer_bytes ?? RECEIVE_BUFFER_BYTES);
      } catch {
        // A smaller buffer still works; bursts may be dropped sooner.
      }
      step = `open its sending socket${onInterface}`;
      // Bound to the interface address so our own frames come back from a known address.
      const txAddress = iface && !ipv6 ? iface : undefined;
      await bound(tx, 0, txAddress);
      if (tx.address().port === this.port) {
        // The bus port is in the ephemeral range and our receiving socket holds it only on the
        // group address, so the kernel may pick it: python-can could then not bind it. Pick again
        // while holding it, so the new port differs.
        const spare = tx;
        tx = createSocket({ type });
        try {
          await bound(tx, 0, txAddress);
        } finally {
          await closeUdp(spare);
        }
      }
      if (iface) tx.setMulticastInterface(iface);
      tx.setMulticastTTL(HOP_LIMIT);
      tx.setMulticastLoopback(true);
    } catch (error) {
      await release();
      const hint = ipv6 && !this.config.multicast_interface ? ' (IPv6 multicast needs a network interface with a route for the group; Linux loopback carries no IPv6 multicast: use an IPv4 group such as 239.74.163.2)' : '';
      throw new KisoError('KISO_CONNECTOR_OPEN', `virtual CAN connector "${this.name}" cannot ${step} for ${this.where}: ${socketErrorText(error)}${hint}`, { cause: error });
    }

    const sendingFrom = tx.address();
    this.ownPort = sendingFrom.port;
    this.localAddresses = new Set([sendingFrom.address, ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address))]);
    rx.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
    rx.on('error', (error) => this.onSocketError(error));
    tx.on('error', (error) => this.onSocketError(error));
    this.rx = rx;
    this.tx = tx;
    this.dropsAtOpen = kernelDrops(rx);
    this.dropsReported = 0;
    if (this.dropsAtOpen !== undefined) {
      this.dropTimer = setInterval(() => this.checkKernelDrops(), DROP_CHECK_MS);
      this.dropTimer.unref();
    }
    const asked = this.config.receive_buffer_bytes ?? RECEIVE_BUFFER_BYTES;
    // Linux reports twice what it grants (the bookkeeping overhead); less than asked means net.core.rmem_max capped it.
    if (rx.getRecvBufferSize() < asked) {
      this.log.info({ connector: this.name, asked, granted: rx.getRecvBufferSize() }, `virtual CAN connector "${this.name}": receive buffer ${rx.getRecvBufferSize()} bytes of ${asked} asked (the kernel's net.core.rmem_max caps it); a burst beyond it is dropped and counted`);
    }
    this.log.debug({ connector: this.name, group, port: this.port, interface: iface ?? 'default', receiveBuffer: rx.getRecvBufferSize(), sendPort: this.ownPort }, 'virtual CAN bus joined');
  }

  protected override async doClose(): Promise<void> {
    clearInterval(this.dropTimer);
    this.dropTimer = undefined;
    // The last look, so a drop just before the end is reported too.
    this.checkKernelDrops();
    const { rx, tx } = this;
    this.rx = undefined;
    this.tx = undefined;
    if (rx) await closeUdp(rx);
    if (tx) await closeUdp(tx);
  }

  protected override async sendFrame(frame: CanFrame): Promise<void> {
    // python-can's receivers raise on such a frame instead of skipping it.
    if (frame.can.remote && frame.can.error) {
      throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `virtual CAN connector "${this.name}": a frame cannot be both a remote and an error frame`);
    }
    const tx = this.tx;
    if (!tx) throw new KisoError('KISO_CONNECTOR_CLOSED', `virtual CAN connector "${this.name}" on ${this.where} has no socket (it failed earlier): close and reopen it`);
    const datagram = encodeFrame(frame, this.group);
    await new Promise<void>((resolve, reject) => {
      tx.send(datagram, this.port, this.group, (error) => {
        if (error) reject(new KisoError('KISO_CONNECTOR_SEND', `virtual CAN connector "${this.name}" cannot send to ${this.where}: ${socketErrorText(error)}`, { cause: error }));
        else resolve();
      });
    });
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.port === this.ownPort && !this.config.receive_own_messages && this.localAddresses.has(rinfo.address)) return;
    if (data.length > MAX_DATAGRAM) {
      this.malformed(`datagram larger than ${MAX_DATAGRAM} bytes`, { size: data.length, from: `${rinfo.address}:${rinfo.port}` });
      return;
    }
    const decoded = decodeFrame(data);
    if ('kind' in decoded) {
      this.malformed(decoded.kind, { detail: decoded.detail, from: `${rinfo.address}:${rinfo.port}` });
      return;
    }
    const { frame } = decoded;
    frame.timestamp = preciseNowSeconds();
    frame.channel = this.group;
    this.deliverFrame(frame);
  }

  /** An error outside any call leaves the bus unusable: release it and say so. */
  private onSocketError(error: Error): void {
    clearInterval(this.dropTimer);
    this.dropTimer = undefined;
    const { rx, tx } = this;
    this.rx = undefined;
    this.tx = undefined;
    if (rx) void closeUdp(rx);
    if (tx) void closeUdp(tx);
    this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `virtual CAN connector "${this.name}" on ${this.where} lost its socket: ${socketErrorText(error)}`, { cause: error }));
  }
}
