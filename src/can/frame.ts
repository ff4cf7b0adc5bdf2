import { KisoError } from '../core/errors.js';
import type { CanFields, Message } from '../core/message.js';

/**
 * The one CAN frame model every CAN backend uses, its validation, and the
 * text forms CAN people read: cansend's `123#DEADBEEF`, candump's screen
 * lines and candump's log format (`-L`, what canplayer and python-can's
 * log reader read back).
 */
export interface CanFrame extends Message {
  can: CanFields;
}

export const MAX_STANDARD_ID = 0x7ff;
export const MAX_EXTENDED_ID = 0x1fffffff;
/** Payload lengths a CAN FD frame can have; DLC 9..15 map to 12..64. */
export const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64] as const;

export function isCanFrame(message: Message): message is CanFrame {
  return message.can !== undefined;
}

export function dlcToLength(dlc: number): number {
  const length = FD_LENGTHS[dlc];
  if (length === undefined) throw new RangeError(`DLC must be 0..15, got ${dlc}`);
  return length;
}

/** The DLC of a payload length (for FD lengths above 8, the exact FD DLC). */
export function lengthToDlc(length: number): number {
  const dlc = FD_LENGTHS.indexOf(length as (typeof FD_LENGTHS)[number]);
  if (dlc < 0) throw new RangeError(`${length} bytes is not a CAN FD length`);
  return dlc;
}

/** The smallest valid FD length that holds `length` bytes (for padding). */
export function fdPaddedLength(length: number): number {
  const padded = FD_LENGTHS.find((candidate) => candidate >= length);
  if (padded === undefined) throw new RangeError(`${length} bytes do not fit a CAN FD frame (64 at most)`);
  return padded;
}

export interface CanFrameInit {
  id: number;
  data?: Uint8Array | readonly number[];
  extended?: boolean;
  remote?: boolean;
  fd?: boolean;
  brs?: boolean;
  esi?: boolean;
  error?: boolean;
  /** Remote frames carry a length but no data. */
  dlc?: number;
  timestamp?: number;
  channel?: string;
}

/** Builds a frame and checks it; `extended` defaults to true when the id does not fit 11 bits. */
export function canFrame(init: CanFrameInit): CanFrame {
  const data = init.data instanceof Uint8Array ? init.data : Uint8Array.from(init.data ?? []);
  const frame: CanFrame = {
    data,
    can: {
      id: init.id,
      extended: init.extended ?? init.id > MAX_STANDARD_ID,
      remote: init.remote ?? false,
      fd: init.fd ?? false,
      brs: init.brs ?? false,
      esi: init.esi ?? false,
      ...(init.error ? { error: true } : {}),
      ...(init.dlc !== undefined ? { dlc: init.dlc } : {}),
    },
  };
  if (init.timestamp !== undefined) frame.timestamp = init.timestamp;
  if (init.channel !== undefined) frame.channel = init.channel;
  validateCanFrame(frame);
  return frame;
}

/** What is wrong with a frame, or undefined when it is valid. */
export function canFrameProblem(frame: Message): string | undefined {
  const can = frame.can;
  if (!can) return 'not a CAN frame (no arbitration id)';
  const { id, extended, remote, fd, brs, esi } = can;
  if (!Number.isInteger(id) || id < 0) return `arbitration id must be a non-negative integer, got ${id}`;
  if (!extended && id > MAX_STANDARD_ID) return `arbitration id 0x${id.toString(16)} does not fit 11 bits (max 0x7FF): set extended for a 29-bit id`;
  if (extended && id > MAX_EXTENDED_ID) return `arbitration id 0x${id.toString(16)} does not fit 29 bits (max 0x1FFFFFFF)`;
  const length = frame.data.length;
  if (fd) {
    if (remote) return 'CAN FD has no remote frames';
    if (length > 64) return `CAN FD carries at most 64 bytes, got ${length}`;
    if (!FD_LENGTHS.includes(length as (typeof FD_LENGTHS)[number])) return `${length} bytes is not a CAN FD length (valid: ${FD_LENGTHS.join(', ')}); pad to ${fdPaddedLength(length)}`;
  } else {
    if (length > 8) return `classic CAN carries at most 8 bytes, got ${length} (set fd for CAN FD)`;
    if (brs || esi) return 'bit-rate switch and error state indicator exist only on CAN FD frames';
    if (remote && length > 0) return 'a remote frame carries no data (give its length as dlc)';
  }
  const dlc = (can as CanFields & { dlc?: number }).dlc;
  if (dlc !== undefined && (!Number.isInteger(dlc) || dlc < 0 || dlc > (fd ? 15 : 8))) return `DLC must be 0..${fd ? 15 : 8}, got ${dlc}`;
  return undefined;
}

/** Throws KISO_CONNECTOR_INVALID_MESSAGE at the call, before anything reaches the wire. */
export function validateCanFrame(frame: Message): asserts frame is CanFrame {
  const problem = canFrameProblem(frame);
  if (problem) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `invalid CAN frame: ${problem}`);
}

function hex(data: Uint8Array, separator = ''): string {
  return Array.from(data, (byte) => byte.toString(16).toUpperCase().padStart(2, '0')).join(separator);
}

function formatId(can: CanFields): string {
  return can.extended ? can.id.toString(16).toUpperCase().padStart(8, '0') : can.id.toString(16).toUpperCase().padStart(3, '0');
}

/** cansend syntax: `123#DEADBEEF`, `1F334455#1122`, `123#R4`, `123##1DEADBEEF` (FD, flags nibble: 1 = BRS, 2 = ESI). */
export function formatCansend(frame: CanFrame): string {
  const { can } = frame;
  const id = formatId(can);
  if (can.fd) return `${id}##${((can.brs ? 1 : 0) | (can.esi ? 2 : 0)).toString(16).toUpperCase()}${hex(frame.data)}`;
  if (can.remote) {
    const dlc = (can as CanFields & { dlc?: number }).dlc;
    return `${id}#R${dlc ? dlc : ''}`;
  }
  return `${id}#${hex(frame.data)}`;
}

/** Parses cansend syntax into a frame; throws a clear error on anything else. */
export function parseCansend(text: string): CanFrame {
  const match = /^([0-9A-Fa-f]{1,8})#(#?)(.*)$/.exec(text.trim());
  if (!match) throw new KisoError('KISO_USAGE', `"${text}" is not in cansend syntax: write <id>#<hex data>, e.g. 123#DEADBEEF, 1F334455#11.22, 123#R, 123##1AABB for CAN FD`);
  const [, idText, fdMark, rest] = match as unknown as [string, string, string, string];
  const id = parseInt(idText, 16);
  const extended = idText.length > 3;
  const parseData = (body: string): Uint8Array => {
    const clean = body.replace(/\./g, '');
    if (!/^([0-9A-Fa-f]{2})*$/.test(clean)) throw new KisoError('KISO_USAGE', `"${body}" is not hex bytes (two hex digits per byte, optional dots between bytes)`);
    return Uint8Array.from(clean.match(/../g) ?? [], (byte) => parseInt(byte, 16));
  };
  try {
    if (fdMark) {
      if (!/^[0-9A-Fa-f]/.test(rest)) throw new KisoError('KISO_USAGE', `CAN FD frame "${text}" needs a flags digit after ##`);
      const flags = parseInt(rest[0]!, 16);
      return canFrame({ id, extended, fd: true, brs: (flags & 1) !== 0, esi: (flags & 2) !== 0, data: parseData(rest.slice(1)) });
    }
    if (/^[Rr]/.test(rest)) {
      const dlc = rest.length > 1 ? Number(rest.slice(1)) : 0;
      return canFrame({ id, extended, remote: true, dlc });
    }
    return canFrame({ id, extended, data: parseData(rest) });
  } catch (error) {
    if (error instanceof KisoError && error.code === 'KISO_CONNECTOR_INVALID_MESSAGE') throw new KisoError('KISO_USAGE', `"${text}": ${error.message}`);
    throw error;
  }
}

/** candump's screen line: `  can0  123   [4]  DE AD BE EF` (FD: `  can0  123  [12]  ...`). */
export function formatCandumpLine(frame: CanFrame, channel = frame.channel ?? 'can'): string {
  const { can } = frame;
  const length = can.remote ? ((can as CanFields & { dlc?: number }).dlc ?? 0) : frame.data.length;
  const lengthField = can.fd ? `  [${String(length).padStart(2, '0')}]` : `   [${length}]`;
  const body = can.remote ? 'remote request' : hex(frame.data, ' ');
  return `  ${channel}  ${formatId(can)}${lengthField}  ${body}`.trimEnd();
}

/** candump's log format (`candump -L`): `(1700000000.123456) can0 123#DEADBEEF`. */
export function formatCandumpLog(frame: CanFrame, channel = frame.channel ?? 'can', timestamp = frame.timestamp ?? Date.now() / 1000): string {
  return `(${timestamp.toFixed(6)}) ${channel} ${formatCansend(frame)}`;
}

/** Reads one candump log line back (what `formatCandumpLog` writes, and what candump -L writes). */
export function parseCandumpLog(line: string): CanFrame & { timestamp: number; channel: string } {
  const match = /^\((\d+\.\d+)\)\s+(\S+)\s+(\S+)(?:\s+(\S+))?\s*$/.exec(line.trim());
  if (!match) throw new KisoError('KISO_USAGE', `not a candump log line: "${line}"`);
  const frame = parseCansend(match[3]!);
  return Object.assign(frame, { timestamp: Number(match[1]), channel: match[2]! });
}

/** Any message as a dump line: CAN frames in candump's form, anything else as hex. */
export function formatMessageLine(message: Message, channel: string): string {
  if (isCanFrame(message)) return formatCandumpLine(message, channel);
  const peer = message.peer ? ` ${message.peer.address}:${message.peer.port}` : '';
  return `  ${channel}${peer}  [${message.data.length}]  ${hex(message.data, ' ')}`.trimEnd();
}
