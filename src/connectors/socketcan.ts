import { createWriteStream, existsSync, readFileSync, readdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { canFrame, formatCandumpLog, type CanFrame } from '../can/frame.js';
import type { ConnectorContext } from '../core/connector.js';
import { KisoError, describeError } from '../core/errors.js';
import { nowSeconds } from '../core/message.js';
import { CanConnector, type CanConnectorConfig, type CanFilter } from './can-base.js';

/** pykiso's CCSocketCan keys (same names, same defaults). */
export interface SocketCanConnectorConfig extends CanConnectorConfig {
  /** Network interface: can0, vcan0, ... (pykiso's default is vcan0). */
  channel?: string;
  /** Frames this connector sends are also delivered to it (after the kernel accepted them). */
  receive_own_messages?: boolean;
  /** pykiso's trace switch: writes every frame sent and received to a candump log file. */
  logging_activated?: boolean;
  /** Folder of the trace file (relative to the YAML file); the YAML folder when absent. */
  log_path?: string;
  /** Trace file name without extension; a timestamp is prepended, as pykiso does. */
  log_name?: string;
}

/** pykiso's CCSocketCan defaults: vcan0, and CAN FD on. */
export const SOCKETCAN_DEFAULTS = { channel: 'vcan0', is_fd: true } as const;

/** What kiso uses of the `socketcan` package (4.0.7): its native RawChannel. */
export interface SocketCanRawChannel {
  addListener(event: 'onMessage' | 'onStopped', callback: (...args: any[]) => void): void;
  start(): void;
  stop(): void;
  /** Returns the byte count written, or -1 when the kernel refused the frame (errno is not reported). */
  send(message: SocketCanNativeFrame): number;
  sendFD(message: SocketCanNativeFrame): number;
  setRxFilters(filters: Array<{ id: number; mask: number; invert?: boolean }>): void;
  setErrorFilters(mask: number): void;
}

/** A frame as the addon takes and gives it (`data` length is the DLC; ts_* only on receive with timestamps). */
export interface SocketCanNativeFrame {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  data: Buffer;
  fd_brs?: boolean;
  ts_sec?: number;
  ts_usec?: number;
}

export interface SocketCanModule {
  /** Throws "Error while creating channel" (no errno) when socket(), SIOCGIFINDEX or bind() fails. */
  createRawChannelWithOptions(channel: string, options: { timestamps?: boolean; protocol?: number; non_block_send?: boolean }): SocketCanRawChannel;
}

/** linux/can.h */
const CAN_EFF_FLAG = 0x8000_0000;
/** linux/if_arp.h: ARPHRD_CAN, the link type of every SocketCAN interface. */
const ARPHRD_CAN = 280;
const IFF_UP = 0x1;
/** A CAN FD capable interface has the canfd_frame MTU (72); classic ones have 16. */
const CANFD_MTU = 72;
/** How long a send retries while the kernel's transmit queue is full (ENOBUFS). */
const SEND_RETRY_MS = 200;

/**
 * Loads the native `socketcan` module. Lazy, so stations that never use
 * SocketCAN never load a native addon; a module that is missing or was not
 * built (no compiler at install time) becomes a clear open error.
 */
export async function loadSocketCanModule(specifier = 'socketcan'): Promise<SocketCanModule> {
  try {
    const imported = (await import(specifier)) as Partial<SocketCanModule> & { default?: Partial<SocketCanModule> };
    const api = typeof imported.createRawChannelWithOptions === 'function' ? imported : imported.default;
    if (!api || typeof api.createRawChannelWithOptions !== 'function') throw new Error('it has no createRawChannelWithOptions()');
    return api as SocketCanModule;
  } catch (error) {
    throw new KisoError(
      'KISO_CONNECTOR_OPEN',
      `the SocketCAN backend cannot load the "${specifier}" npm package (native addon): ${describeError(error)}; reinstall kiso on Linux with a C++ toolchain (python3, make, g++) so the addon builds, or use CCPythonCan`,
      { cause: error },
    );
  }
}

function readSysfs(iface: string, file: string): string | undefined {
  try {
    return readFileSync(path.join('/sys/class/net', iface, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether this kernel offers AF_CAN. The can module creates /proc/net/can and
 * can_raw registers "CAN_RAW" in /proc/net/protocols; a failed socket(PF_CAN)
 * has already tried to autoload both. Undefined when /proc cannot tell.
 */
export function kernelHasSocketCan(): boolean | undefined {
  if (existsSync('/proc/net/can')) return true;
  try {
    return /^CAN_RAW\s/m.test(readFileSync('/proc/net/protocols', 'utf8'));
  } catch {
    return undefined;
  }
}

function networkInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

/** python-can's filter packing: `extended` adds the EFF flag to the mask (and to the id when true). */
export function kernelFilters(filters: readonly CanFilter[]): Array<{ id: number; mask: number }> {
  return filters.map((filter) => {
    let id = filter.can_id;
    let mask = filter.can_mask;
    if (filter.extended !== undefined) {
      mask = (mask | CAN_EFF_FLAG) >>> 0;
      if (filter.extended) id = (id | CAN_EFF_FLAG) >>> 0;
    }
    // Unsigned: the addon silently drops a filter whose id or mask is not a Uint32.
    return { id: id >>> 0, mask: mask >>> 0 };
  });
}

/**
 * pykiso's CCSocketCan: a raw CAN socket on a Linux network interface, through
 * the `socketcan` npm package (native addon, loaded on open).
 *
 * - `can_filters` go to the kernel (CAN_RAW_FILTER) and are applied again in
 *   software, so both always agree.
 * - The package cannot set CAN_RAW_RECV_OWN_MSGS, so `receive_own_messages`
 *   delivers each sent frame once the kernel has accepted it.
 * - Bit rates are set on the interface (`ip link set can0 type can bitrate
 *   500000`), not from userspace: like pykiso, there is no `bitrate` key.
 * - The package does not tell whether a received frame was CAN FD: frames
 *   longer than 8 bytes are marked FD, shorter ones classic; BRS/ESI of
 *   received frames are not visible.
 */
export class SocketCanConnector extends CanConnector<SocketCanConnectorConfig> {
  /** Where the addon comes from; tests substitute a stand-in that behaves as the package's C++ does. */
  static loadAddon: () => Promise<SocketCanModule> = () => loadSocketCanModule();

  private channel: SocketCanRawChannel | undefined;
  private closing = false;
  private fdCapable = true;
  private trace: WriteStream | undefined;

  constructor(config: SocketCanConnectorConfig, context: ConnectorContext) {
    super({ ...config, channel: config.channel ?? SOCKETCAN_DEFAULTS.channel, is_fd: config.is_fd ?? SOCKETCAN_DEFAULTS.is_fd }, context);
  }

  private get iface(): string {
    return this.config.channel ?? SOCKETCAN_DEFAULTS.channel;
  }

  /** The trace file, while open with logging_activated. */
  tracePath(): string | undefined {
    return this.trace ? String(this.trace.path) : undefined;
  }

  protected override async doOpen(): Promise<void> {
    const api = await SocketCanConnector.loadAddon();
    let channel: SocketCanRawChannel;
    try {
      // non_block_send: a full transmit queue must not block Node's event loop.
      channel = api.createRawChannelWithOptions(this.iface, { timestamps: true, non_block_send: true });
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', this.openFailure(), { cause: error });
    }
    const flags = Number.parseInt(readSysfs(this.iface, 'flags') ?? '', 16);
    if (Number.isInteger(flags) && (flags & IFF_UP) === 0) {
      this.discard(channel, false);
      throw new KisoError('KISO_CONNECTOR_OPEN', `SocketCAN connector "${this.name}": CAN interface "${this.iface}" is down: bring it up with \`ip link set ${this.iface} up\` (for a real adapter set its bitrate too: \`ip link set ${this.iface} up type can bitrate 500000\`)`);
    }
    const mtu = Number(readSysfs(this.iface, 'mtu'));
    this.fdCapable = !Number.isFinite(mtu) || mtu >= CANFD_MTU;
    if (!this.fdCapable && this.config.is_fd) {
      this.log.warn({ connector: this.name, channel: this.iface, mtu }, `"${this.iface}" is a classic CAN interface (MTU ${mtu}) but is_fd is true (pykiso's default): plain-bytes messages would be refused; set is_fd: false, or enable CAN FD on the interface`);
    }
    const filters = this.config.can_filters ?? [];
    try {
      if (filters.length > 0) channel.setRxFilters(kernelFilters(filters));
      channel.addListener('onMessage', (frame: SocketCanNativeFrame) => this.onNativeFrame(frame));
      channel.addListener('onStopped', () => this.onStopped());
      this.closing = false;
      channel.start();
    } catch (error) {
      this.discard(channel, false);
      throw new KisoError('KISO_CONNECTOR_OPEN', `SocketCAN connector "${this.name}" cannot start reading "${this.iface}": ${describeError(error)}`, { cause: error });
    }
    this.channel = channel;
    if (this.config.logging_activated) this.trace = this.openTrace();
  }

  protected override async doClose(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    this.closing = true;
    if (channel) this.discard(channel, true);
    const trace = this.trace;
    this.trace = undefined;
    if (trace) await new Promise<void>((resolve) => trace.end(() => resolve()));
  }

  protected override async sendFrame(frame: CanFrame): Promise<void> {
    const channel = this.channel;
    if (!channel) throw new KisoError('KISO_CONNECTOR_CLOSED', `SocketCAN connector "${this.name}" lost interface "${this.iface}" earlier: close and reopen it`);
    const { can } = frame;
    if (can.fd && !this.fdCapable) {
      throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `SocketCAN connector "${this.name}": "${this.iface}" is a classic CAN interface, it cannot send a CAN FD frame (enable FD: \`ip link set ${this.iface} type can ... fd on\`, or \`mtu 72\` on a vcan)`);
    }
    const dlc = (can as typeof can & { dlc?: number }).dlc;
    const native: SocketCanNativeFrame = {
      id: can.id,
      ext: can.extended,
      rtr: can.remote,
      // A remote frame's length travels as its data length (the addon sets can_dlc from it).
      data: can.remote ? Buffer.alloc(dlc ?? 0) : Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength),
      fd_brs: can.brs,
    };
    const deadline = Date.now() + SEND_RETRY_MS;
    for (;;) {
      const written = can.fd ? channel.sendFD(native) : channel.send(native);
      if (written >= 0) break;
      if (Date.now() >= deadline || this.channel !== channel) {
        throw new KisoError(
          'KISO_CONNECTOR_SEND',
          `SocketCAN connector "${this.name}": the kernel refused a frame on "${this.iface}" for ${SEND_RETRY_MS} ms (the addon does not say why): the transmit queue stays full (no other node acknowledges, or the controller is bus-off: check wiring, termination and bitrate with \`ip -details link show ${this.iface}\`), or the interface went down`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const timestamp = nowSeconds();
    this.writeTrace(frame, timestamp);
    if (this.config.receive_own_messages) this.deliverFrame({ ...frame, timestamp, channel: this.iface });
  }

  private onNativeFrame(native: SocketCanNativeFrame): void {
    // The addon turns an exception thrown here into a fatal process error: never throw.
    try {
      const data = native.data;
      const long = data.length > 8;
      const timestamp = native.ts_sec !== undefined ? native.ts_sec + (native.ts_usec ?? 0) / 1e6 : nowSeconds();
      let frame: CanFrame;
      try {
        frame = canFrame({
          id: native.id,
          extended: native.ext === true,
          remote: native.rtr === true && !long,
          fd: long,
          error: native.err === true,
          data: native.rtr && !long ? new Uint8Array(0) : data,
          ...(native.rtr && !long ? { dlc: data.length } : {}),
          timestamp,
          channel: this.iface,
        });
      } catch (error) {
        this.malformed('invalid frame from the kernel', { id: native.id, length: data.length, problem: describeError(error) });
        return;
      }
      this.writeTrace(frame, timestamp);
      // Error frames bypass CAN_RAW_FILTER in the kernel (python-can delivers them too): keep them past the software filter.
      if (frame.can.error) this.deliver(frame);
      else this.deliverFrame(frame);
    } catch (error) {
      this.log.error({ connector: this.name, err: error }, 'a receiver of a SocketCAN frame threw');
    }
  }

  /** The reader thread saw POLLERR/POLLHUP: the interface went down or was removed. */
  private onStopped(): void {
    if (this.closing) return;
    try {
      this.channel = undefined;
      this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `SocketCAN connector "${this.name}" lost interface "${this.iface}": it went down or was removed (\`ip link show ${this.iface}\`); close and reopen the connector once it is back`));
    } catch (error) {
      this.log.error({ connector: this.name, err: error }, 'an error listener threw');
    }
  }

  /**
   * Stops a channel. The addon has no close(): its socket is released when
   * the object is garbage-collected, so it first gets a filter that matches
   * nothing, and buffers no frame meanwhile.
   */
  private discard(channel: SocketCanRawChannel, started: boolean): void {
    try {
      channel.setRxFilters([{ id: 0, mask: 0, invert: true }]);
      channel.setErrorFilters(0);
    } catch {
      // The socket is already gone: nothing left to silence.
    }
    if (!started) return;
    try {
      channel.stop();
    } catch {
      // Already stopped by the reader thread (interface gone): "Channel not started".
    }
  }

  /** Names the cause: the addon only says "Error while creating channel". */
  private openFailure(): string {
    const iface = this.iface;
    const prefix = `SocketCAN connector "${this.name}" cannot open CAN interface "${iface}"`;
    const present = networkInterfaces();
    if (kernelHasSocketCan() === false) {
      const missing = present.length > 0 && !present.includes(iface) ? ` (and there is no interface "${iface}" either)` : '';
      return `${prefix}: this kernel has no SocketCAN (AF_CAN)${missing}: load it with \`modprobe can_raw\` (and \`modprobe vcan\` for virtual buses) or use a kernel built with CONFIG_CAN; adapters without a SocketCAN driver work through CCPythonCan`;
    }
    if (present.length > 0 && !present.includes(iface)) {
      return `${prefix}: no CAN interface "${iface}": the kernel has no such network interface (present: ${present.join(', ')}); create it with \`ip link add dev vcan0 type vcan && ip link set vcan0 up\` for a virtual bus, or plug in the adapter and \`ip link set ${iface} up type can bitrate 500000\``;
    }
    const type = Number(readSysfs(iface, 'type'));
    if (Number.isInteger(type) && type !== ARPHRD_CAN) {
      return `${prefix}: "${iface}" is not a CAN interface (link type ${type}, CAN is ${ARPHRD_CAN}); pick a CAN interface (\`ip -brief link show type can\`, \`... type vcan\`)`;
    }
    return `${prefix}: the kernel refused a raw CAN socket on it (the socketcan addon does not report why: check permissions and \`ip -details link show ${iface}\`)`;
  }

  /** pykiso names its trace `%Y-%m-%d_%H-%M-%S_<log_name>.trc`; kiso writes candump's log format instead. */
  private openTrace(): WriteStream {
    const stamp = new Date();
    const pad = (value: number) => String(value).padStart(2, '0');
    const name = `${stamp.getFullYear()}-${pad(stamp.getMonth() + 1)}-${pad(stamp.getDate())}_${pad(stamp.getHours())}-${pad(stamp.getMinutes())}-${pad(stamp.getSeconds())}_${this.config.log_name ?? 'CanLog'}.log`;
    const dir = path.resolve(this.baseDir, this.config.log_path ?? '.');
    const file = path.join(existsSync(dir) ? dir : this.baseDir, name);
    const stream = createWriteStream(file, { flags: 'a' });
    stream.on('error', (error) => this.log.warn({ connector: this.name, err: error, file }, 'CAN trace file cannot be written; tracing stops'));
    this.log.info({ connector: this.name, file }, 'SocketCAN trace (candump log format)');
    return stream;
  }

  private writeTrace(frame: CanFrame, timestamp: number): void {
    if (this.trace && this.trace.writable) this.trace.write(`${formatCandumpLog(frame, this.iface, timestamp)}\n`);
  }
}
