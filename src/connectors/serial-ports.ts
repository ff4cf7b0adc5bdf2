import { KisoError, describeError } from '../core/errors.js';

/**
 * Finding a serial port by what the adapter says about itself (pykiso
 * CCSerial's `vid`, `pid`, `serial_number`) instead of by its path, which
 * changes with the order adapters are plugged in. Pure functions over the
 * port list serialport's `SerialPort.list()` returns, so the matching is
 * tested without hardware.
 */

/** One entry of serialport's port list (its PortInfo; ids are hex text such as "0403"). */
export interface ListedPort {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

/** What the YAML asks for; every given key must match. */
export interface PortQuery {
  /** USB vendor id: a number (YAML 0x0403 or 1027) or hex text ("0403", "0x0403"). */
  vid?: number | string | undefined;
  /** USB product id, the same forms. */
  pid?: number | string | undefined;
  /** The adapter's USB serial number, exactly. */
  serial_number?: string | undefined;
}

/** A USB id from the YAML as a number; text is read as hex (udev and pyserial's tools print ids that way). */
export function parseUsbId(value: number | string): number {
  if (typeof value === 'number') return value;
  const text = value.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,4}$/i.test(text)) throw new RangeError(`"${value}" is not a USB id (4 hex digits, e.g. 0403 or 0x0403)`);
  return parseInt(text, 16);
}

const hex4 = (id: number): string => id.toString(16).padStart(4, '0');

/** "vid 0403, pid 6001, serial_number A10K" */
export function describeQuery(query: PortQuery): string {
  const parts: string[] = [];
  if (query.vid !== undefined) parts.push(`vid ${hex4(parseUsbId(query.vid))}`);
  if (query.pid !== undefined) parts.push(`pid ${hex4(parseUsbId(query.pid))}`);
  if (query.serial_number !== undefined) parts.push(`serial_number ${query.serial_number}`);
  return parts.join(', ');
}

/** "/dev/ttyUSB0 (0403:6001, serial A10K, FTDI)" */
export function describeListedPort(port: ListedPort): string {
  const details: string[] = [];
  if (port.vendorId || port.productId) details.push(`${port.vendorId ?? '????'}:${port.productId ?? '????'}`);
  if (port.serialNumber) details.push(`serial ${port.serialNumber}`);
  if (port.manufacturer) details.push(port.manufacturer);
  return details.length ? `${port.path} (${details.join(', ')})` : `${port.path} (no USB ids)`;
}

function listedId(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const id = parseInt(value.replace(/^0x/i, ''), 16);
  return Number.isNaN(id) ? undefined : id;
}

/** The ports whose ids match every key of the query. */
export function matchingPorts(ports: readonly ListedPort[], query: PortQuery): ListedPort[] {
  const vid = query.vid !== undefined ? parseUsbId(query.vid) : undefined;
  const pid = query.pid !== undefined ? parseUsbId(query.pid) : undefined;
  return ports.filter((port) =>
    (vid === undefined || listedId(port.vendorId) === vid)
    && (pid === undefined || listedId(port.productId) === pid)
    && (query.serial_number === undefined || port.serialNumber?.trim() === query.serial_number.trim()));
}

/**
 * The path of the one port matching the query. No match, or more than one,
 * is KISO_CONNECTOR_OPEN naming what was found: kiso never picks one of
 * several adapters at random (pykiso takes the first and warns).
 */
export function selectPort(ports: readonly ListedPort[], query: PortQuery, who: string): string {
  const wanted = describeQuery(query);
  if (!wanted) throw new KisoError('KISO_CONNECTOR_OPEN', `${who}: no port configured (set port, e.g. /dev/ttyUSB0, or vid/pid/serial_number)`);
  const found = matchingPorts(ports, query);
  if (found.length === 1) return found[0]!.path;
  if (found.length === 0) {
    const listed = ports.length ? `the ports found are ${ports.map(describeListedPort).join('; ')}` : 'no serial ports were found at all (is the adapter plugged in?)';
    throw new KisoError('KISO_CONNECTOR_OPEN', `${who}: no serial port matches ${wanted}: ${listed}`);
  }
  const hint = query.serial_number === undefined ? 'add serial_number to pick one' : 'set port to pick one';
  throw new KisoError('KISO_CONNECTOR_OPEN', `${who}: ${found.length} serial ports match ${wanted}: ${found.map(describeListedPort).join('; ')}; ${hint}`);
}

/** A failure of the port listing in words: on Linux serialport lists ports through udevadm. */
export function describeListError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const path = (error as { path?: string } | undefined)?.path;
  if (code === 'ENOENT' && path === 'udevadm') return 'udevadm is not installed (Debian package udev): serialport lists ports through it on Linux; set port instead';
  return describeError(error);
}
