import { FD_LENGTHS, MAX_EXTENDED_ID } from '../frame.js';
import type { LineParser, TextLogFormat, TextWriterState } from './log-format.js';
import { MalformedLine, frameDlc, hexBytes, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * candump's log format (`candump -L`, what canplayer, log2asc and
 * python-can's CanutilsLogReader read):
 *
 *   (1700000000.123456) can0 123#DEADBEEF R
 *   (1700000000.123789) can0 1F334455##1AABB T       CAN FD, flags nibble 1 = BRS, 2 = ESI
 *   (1700000000.124000) can0 123#R4                  remote frame, DLC 4
 *   (1700000000.125000) can0 20000080#0000000000000000   error frame (CAN_ERR_FLAG in the id)
 *
 * The direction (R/T) is python-can's and kiso's addition; candump itself
 * writes none, and a line without it reads as a frame of unknown direction.
 */
const CAN_ERR_FLAG = 0x20000000;
const LINE = /^\((-?\d+(?:\.\d*)?)\)\s+(\S+)\s+([0-9A-Fa-f]{1,8})#(\S*?)(?:\s+([RrTt]))?$/;
const HEX_PAIRS = /^(?:[0-9A-Fa-f]{2})*$/;

function parseHex(text: string): Uint8Array {
  if (!HEX_PAIRS.test(text)) throw new MalformedLine(`"${text}" is not hex bytes`);
  const data = new Uint8Array(text.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return data;
}

export function parseCandumpLine(line: string): TraceFrame | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  const match = LINE.exec(text);
  if (!match) throw new MalformedLine('not "(timestamp) channel id#data"');
  const [, stamp, channel, idText, body, dir] = match as unknown as [string, string, string, string, string, string | undefined];
  const rawId = parseInt(idText, 16);
  const extended = idText.length > 3;
  const error = idText.length === 8 && (rawId & CAN_ERR_FLAG) !== 0;
  const id = error ? rawId & MAX_EXTENDED_ID : rawId;
  if (!error && extended && id > MAX_EXTENDED_ID) throw new MalformedLine(`id ${idText} does not fit 29 bits`);
  let data: Uint8Array;
  let fd = false;
  let brs = false;
  let esi = false;
  let remote = false;
  let dlc: number | undefined;
  if (body.startsWith('#')) {
    fd = true;
    const flags = parseInt(body[1] ?? '', 16);
    if (Number.isNaN(flags)) throw new MalformedLine('CAN FD frame without its flags digit after ##');
    brs = (flags & 1) !== 0;
    esi = (flags & 2) !== 0;
    data = parseHex(body.slice(2));
    if (!(FD_LENGTHS as readonly number[]).includes(data.length)) throw new MalformedLine(`${data.length} bytes is not a CAN FD length`);
  } else if (body[0] === 'R' || body[0] === 'r') {
    remote = true;
    dlc = body.length > 1 ? Number(body.slice(1)) : 0;
    if (!Number.isInteger(dlc) || dlc < 0 || dlc > 15) throw new MalformedLine(`remote frame DLC "${body.slice(1)}" is not 0..15`);
    data = new Uint8Array(0);
  } else {
    // A classic frame may end with _<dlc> (len8_dlc: DLC 9..15 on 8 bytes).
    const underscore = body.indexOf('_');
    data = parseHex(underscore >= 0 ? body.slice(0, underscore) : body);
    if (data.length > 8) throw new MalformedLine(`${data.length} bytes in a classic CAN frame (8 at most; ## marks CAN FD)`);
  }
  const timestamp = Number(stamp);
  const frame: TraceFrame = {
    data,
    timestamp,
    channel,
    can: { id, extended: error ? id > 0x7ff : extended, remote, fd, brs, esi, ...(error ? { error: true } : {}), ...(dlc !== undefined ? { dlc } : {}) },
  };
  if (dir) frame.direction = dir === 'T' || dir === 't' ? 'Tx' : 'Rx';
  return frame;
}

function idText(frame: TraceFrame): string {
  const { can } = frame;
  if (can.error) return ((can.id || 0x80) | CAN_ERR_FLAG).toString(16).toUpperCase().padStart(8, '0');
  return can.extended ? can.id.toString(16).toUpperCase().padStart(8, '0') : can.id.toString(16).toUpperCase().padStart(3, '0');
}

/** One candump -L line, with the direction when the frame has one. */
export function formatCandumpLogLine(frame: TraceFrame, channel = frame.channel ?? 'can0'): string {
  const { can } = frame;
  let body: string;
  if (can.fd && !can.error) body = `#${((can.brs ? 1 : 0) | (can.esi ? 2 : 0)).toString(16).toUpperCase()}${hexBytes(frame.data)}`;
  else if (can.remote) body = `R${frameDlc(frame) || ''}`;
  else body = hexBytes(frame.data);
  const direction = frame.direction === 'Tx' ? ' T' : frame.direction === 'Rx' ? ' R' : '';
  return `(${frame.timestamp.toFixed(6)}) ${channel.replace(/\s/g, '_')} ${idText(frame)}#${body}${direction}\n`;
}

export const candumpFormat: TextLogFormat = {
  kind: 'text',
  name: 'candump',
  parser(): LineParser {
    return {
      chunkable: true,
      parse: (line: string, _stats: ReadStats) => parseCandumpLine(line),
      context: () => ({}),
    };
  },
  writer(): TextWriterState {
    return { frame: (frame) => formatCandumpLogLine(frame), end: () => '' };
  },
};
