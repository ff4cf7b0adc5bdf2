import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import { Connector } from '../core/connector.js';
import { KisoError, describeError } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';
import { requireBytes } from './socket-common.js';
import { describeListError, describeQuery, selectPort, type ListedPort } from './serial-ports.js';

/** Parity names, plus pyserial's one-letter values (PARITY_EVEN = 'E') that pykiso YAML files carry. */
export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space' | 'N' | 'E' | 'O' | 'M' | 'S';

export interface SerialFraming {
  /**
   * How the byte stream becomes messages: `raw` delivers each chunk read
   * (pykiso CCSerial's behaviour), `delimiter` splits on `delimiter`,
   * `fixed` cuts messages of `length` bytes.
   */
  mode: 'raw' | 'delimiter' | 'fixed';
  /** Text with escapes (`"\n"`, `'\r\n'`, `'\x02'`) or a list of byte values; default "\n". */
  delimiter?: string | number[];
  /** Deliver the delimiter at the end of each message (default: strip it). */
  keep_delimiter?: boolean;
  /** Message size in `fixed` mode. */
  length?: number;
}

export interface SerialConnectorConfig {
  /** Device path (`/dev/ttyUSB0`, `COM3`). */
  port?: string;
  /** pykiso CCUart's spelling of `port`. */
  serialPort?: string;
  /** Find the port by USB vendor id instead of by path (pykiso's vid): a number or hex text. */
  vid?: number | string;
  /** USB product id (pykiso's pid). */
  pid?: number | string;
  /** The adapter's USB serial number (pykiso's serial_number). */
  serial_number?: string;
  baudrate?: number;
  bytesize?: 5 | 6 | 7 | 8;
  parity?: SerialParity;
  stopbits?: 1 | 1.5 | 2;
  /** Software flow control (XON/XOFF). */
  xonxoff?: boolean;
  /** Hardware flow control (RTS/CTS). */
  rtscts?: boolean;
  /** Lock the port so that nobody else can open it while kiso has it (default true). */
  exclusive?: boolean;
  framing?: SerialFraming;
  /** pyserial's read timeout in seconds: the default receive timeout of the auxiliary using this port. */
  timeout?: number | null;
  /** pyserial's write timeout in seconds: a send the port has not taken within it rejects. */
  write_timeout?: number | null;
  /** DSR/DTR hardware handshake: DTR asserted while open, sends wait for DSR. */
  dsrdtr?: boolean;
  /** pyserial's inter-character timeout in seconds: a message also ends after this long without a byte. */
  inter_byte_timeout?: number | null;
  /** Bound on one message; in `delimiter` mode a longer run without delimiter is dropped. */
  max_message_size?: number;
  processing?: boolean;
}

export const DEFAULT_SERIAL_BAUDRATE = 115_200;
export const DEFAULT_MAX_MESSAGE_SIZE = 65_536;
const DEFAULT_DELIMITER = '\n';

const PARITY_NAMES: Record<SerialParity, 'none' | 'even' | 'odd' | 'mark' | 'space'> = {
  none: 'none', even: 'even', odd: 'odd', mark: 'mark', space: 'space',
  N: 'none', E: 'even', O: 'odd', M: 'mark', S: 'space',
};

/** What the serialport binding needs to open a port. */
export interface SerialPortSettings {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  rtscts?: boolean;
  xon?: boolean;
  xoff?: boolean;
  lock?: boolean;
}

/**
 * The binding's open errors ("Error Resource temporarily unavailable Cannot
 * lock port") in words a technician acts on, keeping the original text for
 * searching.
 */
export function describeOpenError(error: unknown, settings: SerialPortSettings): string {
  const text = describeError(error).replace(/^Error:?\s*/, '');
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = (() => {
    if (code === 'ENOENT' || /No such file or directory/i.test(text)) return 'no such port: nothing exists at that path (is the adapter plugged in, is the path right?)';
    if (/Cannot lock port|Resource temporarily unavailable/i.test(text)) return 'the port is busy: another program or connector already has it open (exclusive lock)';
    if (code === 'EACCES' || /Permission denied/i.test(text)) return 'permission denied (on Linux, add the user to the dialout group)';
    if (/Inappropriate ioctl/i.test(text)) return 'that path is not a serial port';
    if (/Invalid parity/i.test(text)) return `parity "${settings.parity}" is not supported by this operating system's serial driver (use none, even or odd)`;
    if (/Invalid stop bits/i.test(text)) return `${settings.stopBits} stop bits are not supported by this operating system's serial driver (use 1 or 2)`;
    if (/baud/i.test(text)) return `baud rate ${settings.baudRate} is not accepted by the port`;
    return undefined;
  })();
  return reason ? `${reason} (${text})` : text;
}

const readAsync = promisify(fsRead);

/** The parts of serialport's Unix port binding (Linux, macOS) that the read below needs. */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function isUnixPortBinding(binding: unknown): binding is UnixPortBinding {
  return typeof binding === 'object' && binding !== null && 'fd' in binding && 'poller' in binding && typeof (binding as UnixPortBinding).read === 'function';
}

/** An error serialport's stream treats as "closed on purpose", not as a disconnect. */
function canceled(message: string): Error {
  return Object.assign(new Error(message), { canceled: true });
}

/**
 * serialport's Unix read retries at once when read() returns 0 bytes; but 0
 * is what a hung-up tty returns for ever (the far end of a pty closed, a USB
 * adapter unplugged), so the process spins and the loss is never reported.
 * This read is the same, except that end of file is a disconnect.
 */
export function treatEndOfFileAsDisconnect(binding: unknown): void {
  if (!isUnixPortBinding(binding)) return;
  binding.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      const fd = binding.fd;
      if (!binding.isOpen || fd === null) throw canceled('Port is not open');
      try {
        const { bytesRead } = await readAsync(fd, buffer, offset, length, null);
        if (bytesRead === 0) throw Object.assign(new Error('end of file'), { disconnect: true });
        return { bytesRead, buffer };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw error;
        if (!binding.isOpen) throw canceled('Port is not open');
        await new Promise<void>((resolve, reject) => binding.poller.once('readable', (pollError) => (pollError ? reject(pollError) : resolve())));
      }
    }
  };
}

/** What a link does beyond moving bytes. */
export interface SerialLinkOptions {
  /** A write the port has not taken within this long rejects (pyserial's write_timeout). */
  writeTimeoutMs?: number | undefined;
  /** DSR/DTR handshake: DTR asserted on open, each write waits for DSR (within writeTimeoutMs, if set). */
  dsrdtr?: boolean | undefined;
}

/** How often a write waiting for DSR looks at the line. */
export const DSR_POLL_MS = 10;

/**
 * Waits until `readDsr` says the device is ready ('ready'), or `timeoutMs`
 * passes ('timeout'; without it, waits as long as it takes, as pyserial
 * does), or `stopped` gives a reason ('stopped').
 */
export async function waitForDsr(readDsr: () => Promise<boolean>, options: { timeoutMs?: number | undefined; pollMs?: number; stopped: () => string | undefined }): Promise<'ready' | 'timeout' | 'stopped'> {
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  for (;;) {
    if (options.stopped() !== undefined) return 'stopped';
    if (await readDsr()) return 'ready';
    if (deadline !== undefined && Date.now() >= deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? DSR_POLL_MS));
  }
}

/**
 * One open serial port shared by the serial-based connectors: opening with
 * readable errors, writes that never hang, and one report when the port
 * vanishes (unplugged adapter, far end of a pty gone).
 *
 * serialport queues a write made after the port closed until it reopens,
 * i.e. forever; so every write checks the port first and pending writes are
 * rejected when it goes away.
 */
export class SerialLink {
  private lost: string | undefined;
  private closing = false;
  private readonly pending = new Set<(error: Error) => void>();

  /** The driver sets DTR and reports DSR (false for a pseudo-terminal). */
  private modemLines = false;

  private constructor(
    private readonly port: SerialPort,
    /** 'serial connector "name"', for messages. */
    private readonly who: string,
    private readonly onLost: (error: KisoError) => void,
    private readonly options: SerialLinkOptions,
  ) {}

  static async open(settings: SerialPortSettings, who: string, handlers: { data: (chunk: Buffer) => void; lost: (error: KisoError) => void; warn?: (message: string) => void }, options: SerialLinkOptions = {}): Promise<SerialLink> {
    const port = new SerialPort({ ...settings, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `${who} cannot open serial port ${settings.path}: ${describeOpenError(error, settings)}`, { cause: error });
    }
    treatEndOfFileAsDisconnect(port.port);
    const link = new SerialLink(port, who, handlers.lost, options);
    if (options.dsrdtr) {
      // DTR says "ready" to the device; a driver without modem lines (a pseudo-terminal) cannot handshake.
      try {
        await new Promise<void>((resolve, reject) => port.set({ dtr: true, rts: true }, (error) => (error ? reject(error) : resolve())));
        link.modemLines = true;
      } catch (error) {
        handlers.warn?.(`${who}: dsrdtr is set but serial port ${settings.path} has no modem control lines (${describeError(error)}; a pseudo-terminal has none): sends do not wait for DSR`);
      }
    }
    port.on('data', handlers.data);
    // Errors only reach here when no callback took them; the close event reports a vanished port.
    port.on('error', (error) => link.markLost(describeError(error)));
    port.on('close', (error: Error | null) => {
      if (!link.closing) link.markLost(error ? describeError(error) : 'closed by the system');
    });
    return link;
  }

  get path(): string {
    return this.port.path;
  }

  /** Why the port is gone, once it vanished. */
  get lostReason(): string | undefined {
    return this.lost;
  }

  async write(data: Uint8Array): Promise<void> {
    this.ensureUsable();
    const timeoutMs = this.options.writeTimeoutMs;
    const started = Date.now();
    if (this.options.dsrdtr && this.modemLines) {
      const dsr = await waitForDsr(() => this.readDsr(), {
        timeoutMs,
        stopped: () => this.lost ?? (this.closing ? 'closed' : undefined),
      }).catch((error: unknown) => {
        throw new KisoError('KISO_CONNECTOR_SEND', `${this.who}: serial port ${this.path}: cannot read DSR: ${describeError(error)}`, { cause: error });
      });
      if (dsr === 'timeout') {
        throw new KisoError('KISO_CONNECTOR_SEND', `${this.who}: serial port ${this.path}: the device did not raise DSR within write_timeout (${timeoutMs! / 1000} s), so nothing was sent (dsrdtr handshake)`);
      }
      this.ensureUsable();
    }
    const written = this.writeNow(data);
    if (timeoutMs === undefined) return written;
    const left = Math.max(0, timeoutMs - (Date.now() - started));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KisoError('KISO_CONNECTOR_SEND', `${this.who}: serial port ${this.path} did not take ${data.byteLength} byte(s) within write_timeout (${timeoutMs / 1000} s): the far end is not reading or flow control holds the line; the bytes stay queued and go out when the line frees`));
      }, left);
      written.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private ensureUsable(): void {
    if (this.lost !== undefined || this.closing || !this.port.isOpen) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `${this.who}: serial port ${this.path} is gone (${this.lost ?? 'closed'}); close and reopen the connector`);
    }
  }

  private readDsr(): Promise<boolean> {
    return new Promise((resolve, reject) => this.port.get((error, status) => (error ? reject(error) : resolve(status?.dsr === true))));
  }

  private writeNow(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const abort = (error: Error) => reject(error);
      this.pending.add(abort);
      this.port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (error) => {
        this.pending.delete(abort);
        if (!error) return resolve();
        reject(this.lost !== undefined
          ? new KisoError('KISO_CONNECTOR_CLOSED', `${this.who}: serial port ${this.path} vanished while sending (${this.lost})`, { cause: error })
          : new KisoError('KISO_CONNECTOR_SEND', `${this.who} cannot write to serial port ${this.path}: ${describeError(error)}`, { cause: error }));
      });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.rejectPending(new KisoError('KISO_CONNECTOR_CLOSED', `${this.who}: serial port ${this.path} was closed while sending`));
    if (this.port.isOpen) {
      await new Promise<void>((resolve) => this.port.close(() => resolve()));
    }
    this.port.removeAllListeners();
    // A write failing after this point must not become an uncaught 'error' event.
    this.port.on('error', () => {});
  }

  private markLost(detail: string): void {
    if (this.lost !== undefined || this.closing) return;
    // The binding says "bad file descriptor" or "end of file" for a tty that hung up.
    const reason = /bad file descriptor|end of file|EIO|ENXIO|i\/o error/i.test(detail) ? `the port hung up (${detail})` : detail;
    this.lost = reason;
    const error = new KisoError('KISO_CONNECTOR_CLOSED', `${this.who}: serial port ${this.path} vanished mid-run (${reason}): the adapter was unplugged or the far end closed; later sends fail until the connector is reopened`);
    this.rejectPending(error);
    this.onLost(error);
  }

  private rejectPending(error: Error): void {
    for (const abort of this.pending) abort(error);
    this.pending.clear();
  }
}

/** Decodes a delimiter written in YAML: text with C escapes, or a list of byte values. */
export function parseDelimiter(value: string | readonly number[]): Buffer {
  if (typeof value !== 'string') return Buffer.from(value);
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, '0': 0x00, '\\': 0x5c, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, e: 0x1b };
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\' && i + 1 < value.length) {
      const next = value[i + 1]!;
      const hex = /^x([0-9A-Fa-f]{2})/.exec(value.slice(i + 1));
      if (hex) {
        bytes.push(parseInt(hex[1]!, 16));
        i += 3;
        continue;
      }
      const escaped = escapes[next];
      if (escaped !== undefined) {
        bytes.push(escaped);
        i += 1;
        continue;
      }
    }
    bytes.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(bytes);
}

/**
 * Cuts a byte stream into messages. Memory stays bounded: at most
 * `maxSize` bytes (delimiter mode) or `length` bytes (fixed mode) wait for
 * the rest of a message.
 */
export class StreamFramer {
  private buffered: Buffer = Buffer.alloc(0);
  /** Delimiter mode, after an oversized run: dropping bytes until the next delimiter. */
  private discarding = false;
  private readonly delimiter: Buffer;
  private readonly mode: SerialFraming['mode'];
  private readonly keepDelimiter: boolean;
  private readonly length: number;

  /**
   * `endsAtGap`: a quiet line also ends a message (pyserial's
   * inter_byte_timeout), so raw mode holds bytes until `flush()` instead of
   * delivering each chunk read.
   */
  constructor(
    framing: SerialFraming,
    private readonly maxSize: number,
    private readonly onMalformed: (kind: string, detail: Record<string, unknown>) => void,
    private readonly endsAtGap = false,
  ) {
    this.mode = framing.mode;
    this.delimiter = parseDelimiter(framing.delimiter ?? DEFAULT_DELIMITER);
    this.keepDelimiter = framing.keep_delimiter ?? false;
    this.length = framing.length ?? 1;
    if (this.mode === 'delimiter' && this.delimiter.length === 0) throw new RangeError('the delimiter must not be empty');
  }

  /** The complete messages `chunk` finishes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.mode === 'raw') return this.endsAtGap ? this.pushHeld(chunk) : splitBySize(chunk, this.maxSize);
    if (this.mode === 'fixed') return this.pushFixed(chunk);
    return this.pushDelimited(chunk);
  }

  /**
   * The line went quiet: what is held becomes a message (raw mode: the bytes
   * since the last gap; delimiter and fixed mode: a short message, as
   * pyserial's read returns at inter_byte_timeout). Undefined when nothing is held.
   */
  flush(): Buffer | undefined {
    const held = this.buffered;
    this.buffered = Buffer.alloc(0);
    if (this.discarding) {
      // The tail of an oversized run: the gap ends it, nothing to deliver.
      this.discarding = false;
      return undefined;
    }
    return held.length > 0 ? held : undefined;
  }

  private pushHeld(chunk: Buffer): Buffer[] {
    const data = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const messages: Buffer[] = [];
    let offset = 0;
    for (; offset + this.maxSize <= data.length; offset += this.maxSize) messages.push(Buffer.from(data.subarray(offset, offset + this.maxSize)));
    this.buffered = Buffer.from(data.subarray(offset));
    return messages;
  }

  /** Bytes of a message that never completed. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  private pushFixed(chunk: Buffer): Buffer[] {
    const data = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const messages: Buffer[] = [];
    let offset = 0;
    for (; offset + this.length <= data.length; offset += this.length) messages.push(Buffer.from(data.subarray(offset, offset + this.length)));
    this.buffered = Buffer.from(data.subarray(offset));
    return messages;
  }

  private pushDelimited(chunk: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    // Resume the search where a delimiter split across chunks could start.
    let searchFrom = Math.max(0, this.buffered.length - this.delimiter.length + 1);
    let data = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      const at = data.indexOf(this.delimiter, searchFrom);
      if (at < 0) break;
      const end = at + this.delimiter.length;
      if (this.discarding) {
        this.discarding = false;
      } else if (at > this.maxSize) {
        this.oversized(at);
      } else {
        const message = data.subarray(0, this.keepDelimiter ? end : at);
        // An empty message (two delimiters in a row) carries nothing.
        if (message.length > 0) messages.push(Buffer.from(message));
      }
      data = data.subarray(end);
      searchFrom = 0;
    }
    if (data.length > this.maxSize) {
      if (!this.discarding) this.oversized(data.length);
      this.discarding = true;
      // Keep only what could be the start of a delimiter split across reads.
      data = data.subarray(data.length - (this.delimiter.length - 1));
    } else if (this.discarding) {
      data = data.subarray(Math.max(0, data.length - (this.delimiter.length - 1)));
    }
    this.buffered = Buffer.from(data);
    return messages;
  }

  private oversized(bytes: number): void {
    this.onMalformed('oversized message', { bytes_without_delimiter: bytes, max_message_size: this.maxSize });
  }
}

export function splitBySize(chunk: Buffer, maxSize: number): Buffer[] {
  if (chunk.length <= maxSize) return [chunk];
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < chunk.length; offset += maxSize) pieces.push(chunk.subarray(offset, offset + maxSize));
  return pieces;
}

/**
 * pykiso's CCSerial: a serial port (USB-UART adapter, on-board UART, pty).
 * Opens with an exclusive lock, so a second opener fails at once with
 * "the port is busy" instead of both silently stealing each other's bytes.
 * Received bytes become messages per `framing` (default: each chunk read;
 * with `inter_byte_timeout`, a quiet line also ends a message).
 *
 * pykiso's pyserial keys: `timeout` is the default receive timeout of the
 * auxiliary on the port, `write_timeout` bounds how long a send may wait
 * for the port to take its bytes, `dsrdtr` asserts DTR and holds sends
 * until DSR; `vid`/`pid`/`serial_number` find the port in serialport's list
 * instead of `port` (exactly one port must match).
 *
 * A port that vanishes mid-run is reported through `onError` naming the
 * path; later sends reject with KISO_CONNECTOR_CLOSED until reopened.
 */
export class SerialConnector extends Connector<SerialConnectorConfig> {
  /** Lists the ports for vid/pid/serial_number; serialport's list by default (tests put their own). */
  static listPorts: () => Promise<ListedPort[]> = () => SerialPort.list();

  private link: SerialLink | undefined;
  private framer: StreamFramer | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  /** The path found by vid/pid/serial_number at the last open. */
  private foundPath: string | undefined;

  /** The port path: `port` (or CCUart's `serialPort`), or the one vid/pid/serial_number found at open. */
  get path(): string {
    const { port, serialPort } = this.config;
    if (port !== undefined && serialPort !== undefined && port !== serialPort) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": both port (${port}) and serialPort (${serialPort}) are set and differ; keep one`);
    }
    const path = port ?? serialPort ?? this.foundPath;
    if (!path) throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": no port configured (set port, e.g. /dev/ttyUSB0, or vid/pid/serial_number)`);
    return path;
  }

  /** pyserial's `timeout` (seconds) as the default receive timeout of the auxiliary on this port. */
  override get defaultReceiveTimeoutMs(): number | undefined {
    return secondsToMs(this.config.timeout);
  }

  /** The port to open: the configured path, or the one adapter matching vid/pid/serial_number. */
  private async resolvePath(): Promise<string> {
    const { port, serialPort, vid, pid, serial_number: serialNumber } = this.config;
    if (vid === undefined && pid === undefined && serialNumber === undefined) return this.path;
    const who = `serial connector "${this.name}"`;
    const query = { vid, pid, serial_number: serialNumber };
    if (port !== undefined || serialPort !== undefined) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `${who}: both ${port !== undefined ? 'port' : 'serialPort'} (${port ?? serialPort}) and ${describeQuery(query)} are set; keep the path or the ids`);
    }
    let ports: ListedPort[];
    try {
      ports = await SerialConnector.listPorts();
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `${who} cannot list the serial ports to find ${describeQuery(query)}: ${describeListError(error)}`, { cause: error });
    }
    const found = selectPort(ports, query, who);
    this.log.info({ connector: this.name, port: found, ...query }, `serial connector "${this.name}": ${describeQuery(query)} is ${found}`);
    return found;
  }

  protected override async doOpen(): Promise<void> {
    const config = this.config;
    const framing = config.framing ?? { mode: 'raw' };
    const maxSize = config.max_message_size ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (framing.mode === 'fixed' && !(Number.isInteger(framing.length) && (framing.length ?? 0) > 0)) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": framing mode "fixed" needs a length (bytes per message)`);
    }
    this.foundPath = undefined;
    const path = await this.resolvePath();
    if (config.port === undefined && config.serialPort === undefined) this.foundPath = path;
    const gapMs = secondsToMs(config.inter_byte_timeout);
    this.framer = new StreamFramer(framing, maxSize, (kind, detail) => this.malformed(kind, { port: path, ...detail }), gapMs !== undefined);
    this.link = await SerialLink.open(
      {
        path,
        baudRate: config.baudrate ?? DEFAULT_SERIAL_BAUDRATE,
        dataBits: config.bytesize ?? 8,
        parity: PARITY_NAMES[config.parity ?? 'none'],
        stopBits: config.stopbits ?? 1,
        rtscts: config.rtscts ?? false,
        xon: config.xonxoff ?? false,
        xoff: config.xonxoff ?? false,
        lock: config.exclusive ?? true,
      },
      `serial connector "${this.name}"`,
      {
        data: (chunk) => this.onData(chunk, gapMs),
        lost: (error) => this.fail(error),
        warn: (message) => this.log.warn({ connector: this.name, port: path }, message),
      },
      { writeTimeoutMs: secondsToMs(config.write_timeout), dsrdtr: config.dsrdtr ?? false },
    ).catch((error: unknown) => {
      this.framer = undefined;
      throw error;
    });
  }

  protected override async doClose(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.framer && this.framer.pendingBytes > 0) this.malformed('incomplete message', { port: this.path, bytes: this.framer.pendingBytes });
    this.framer = undefined;
    if (link) await link.close();
  }

  protected override async doSend(message: Message): Promise<void> {
    const data = requireBytes(this.name, message);
    const link = this.link;
    if (!link) throw new KisoError('KISO_CONNECTOR_CLOSED', `serial connector "${this.name}" is not open: cannot send`);
    await link.write(data);
  }

  private onData(chunk: Buffer, gapMs: number | undefined): void {
    const framer = this.framer;
    if (!framer) return;
    const timestamp = nowSeconds();
    for (const data of framer.push(chunk)) this.deliver({ data, timestamp });
    if (gapMs === undefined) return;
    // inter_byte_timeout: what is still held becomes a message once the line stays quiet that long.
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (framer.pendingBytes === 0) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.framer !== framer) return;
      const held = framer.flush();
      if (held) this.deliver({ data: held, timestamp: nowSeconds() });
    }, gapMs);
  }
}

/** pyserial's seconds (null: not set) as milliseconds. */
function secondsToMs(seconds: number | null | undefined): number | undefined {
  return seconds === null || seconds === undefined ? undefined : Math.round(seconds * 1000);
}
