import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import { Connector } from '../core/connector.js';
import { KisoError, describeError } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';
import { requireBytes } from './socket-common.js';

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

  private constructor(
    private readonly port: SerialPort,
    /** 'serial connector "name"', for messages. */
    private readonly who: string,
    private readonly onLost: (error: KisoError) => void,
  ) {}

  static async open(settings: SerialPortSettings, who: string, handlers: { data: (chunk: Buffer) => void; lost: (error: KisoError) => void }): Promise<SerialLink> {
    const port = new SerialPort({ ...settings, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `${who} cannot open serial port ${settings.path}: ${describeOpenError(error, settings)}`, { cause: error });
    }
    treatEndOfFileAsDisconnect(port.port);
    const link = new SerialLink(port, who, handlers.lost);
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

  write(data: Uint8Array): Promise<void> {
    if (this.lost !== undefined || this.closing || !this.port.isOpen) {
      return Promise.reject(new KisoError('KISO_CONNECTOR_CLOSED', `${this.who}: serial port ${this.path} is gone (${this.lost ?? 'closed'}); close and reopen the connector`));
    }
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

  constructor(
    framing: SerialFraming,
    private readonly maxSize: number,
    private readonly onMalformed: (kind: string, detail: Record<string, unknown>) => void,
  ) {
    this.mode = framing.mode;
    this.delimiter = parseDelimiter(framing.delimiter ?? DEFAULT_DELIMITER);
    this.keepDelimiter = framing.keep_delimiter ?? false;
    this.length = framing.length ?? 1;
    if (this.mode === 'delimiter' && this.delimiter.length === 0) throw new RangeError('the delimiter must not be empty');
  }

  /** The complete messages `chunk` finishes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.mode === 'raw') return splitBySize(chunk, this.maxSize);
    if (this.mode === 'fixed') return this.pushFixed(chunk);
    return this.pushDelimited(chunk);
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
 * Received bytes become messages per `framing` (default: each chunk read).
 *
 * A port that vanishes mid-run is reported through `onError` naming the
 * path; later sends reject with KISO_CONNECTOR_CLOSED until reopened.
 */
export class SerialConnector extends Connector<SerialConnectorConfig> {
  private link: SerialLink | undefined;
  private framer: StreamFramer | undefined;

  /** The configured port path (`port`, or CCUart's `serialPort`). */
  get path(): string {
    const { port, serialPort } = this.config;
    if (port !== undefined && serialPort !== undefined && port !== serialPort) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": both port (${port}) and serialPort (${serialPort}) are set and differ; keep one`);
    }
    const path = port ?? serialPort;
    if (!path) throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": no port configured (set port, e.g. /dev/ttyUSB0)`);
    return path;
  }

  protected override async doOpen(): Promise<void> {
    const config = this.config;
    const framing = config.framing ?? { mode: 'raw' };
    const maxSize = config.max_message_size ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (framing.mode === 'fixed' && !(Number.isInteger(framing.length) && (framing.length ?? 0) > 0)) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `serial connector "${this.name}": framing mode "fixed" needs a length (bytes per message)`);
    }
    const path = this.path;
    this.framer = new StreamFramer(framing, maxSize, (kind, detail) => this.malformed(kind, { port: path, ...detail }));
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
        data: (chunk) => this.onData(chunk),
        lost: (error) => this.fail(error),
      },
    ).catch((error: unknown) => {
      this.framer = undefined;
      throw error;
    });
  }

  protected override async doClose(): Promise<void> {
    const link = this.link;
    this.link = undefined;
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

  private onData(chunk: Buffer): void {
    const framer = this.framer;
    if (!framer) return;
    const timestamp = nowSeconds();
    for (const data of framer.push(chunk)) this.deliver({ data, timestamp });
  }
}
