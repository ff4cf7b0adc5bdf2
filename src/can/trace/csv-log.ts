import { FD_LENGTHS } from '../frame.js';
import type { LineParser, TextLogFormat, TextWriterState } from './log-format.js';
import { MalformedLine, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * python-can's CSV log (can.CSVWriter / can.CSVReader):
 *
 *   timestamp,arbitration_id,extended,remote,error,dlc,data
 *   1700000000.123456,0x123,0,0,0,4,3q2+7w==
 *
 * data is base64; dlc is the payload length (for CAN FD too). The layout has
 * no channel, direction or FD flags: a frame longer than 8 bytes reads as
 * CAN FD (without BRS/ESI), and a frame written to CSV loses them.
 */
export const CSV_HEADER = 'timestamp,arbitration_id,extended,remote,error,dlc,data';

function flag(text: string): boolean {
  if (text === '1') return true;
  if (text === '0') return false;
  throw new MalformedLine(`"${text}" is not 0 or 1`);
}

export function parseCsvLine(line: string): TraceFrame | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('timestamp,')) return undefined;
  const columns = text.split(',');
  if (columns.length !== 7) throw new MalformedLine(`${columns.length} columns, expected 7 (${CSV_HEADER})`);
  const [stamp, idText, extendedText, remoteText, errorText, dlcText, dataText] = columns as [string, string, string, string, string, string, string];
  const timestamp = Number(stamp);
  if (stamp === '' || !Number.isFinite(timestamp)) throw new MalformedLine(`timestamp "${stamp}" is not a number`);
  if (!/^(0x)?[0-9A-Fa-f]+$/.test(idText)) throw new MalformedLine(`arbitration id "${idText}" is not hex`);
  const id = parseInt(idText, 16);
  const extended = flag(extendedText);
  const remote = flag(remoteText);
  const error = flag(errorText);
  const dlc = Number(dlcText);
  if (!Number.isInteger(dlc) || dlc < 0 || dlc > 64) throw new MalformedLine(`dlc "${dlcText}" is not 0..64`);
  if (!/^[A-Za-z0-9+/]*=*$/.test(dataText)) throw new MalformedLine('data is not base64');
  const data = remote ? new Uint8Array(0) : new Uint8Array(Buffer.from(dataText, 'base64'));
  if (id > (extended ? 0x1fffffff : 0x7ff) && !error) throw new MalformedLine(`id ${idText} does not fit ${extended ? 29 : 11} bits`);
  const fd = data.length > 8;
  if (fd && !(FD_LENGTHS as readonly number[]).includes(data.length)) throw new MalformedLine(`${data.length} bytes is not a CAN FD length`);
  return {
    data,
    timestamp,
    can: { id, extended, remote, fd, brs: false, esi: false, ...(error ? { error: true } : {}), ...(remote ? { dlc } : {}) },
  };
}

export function formatCsvLine(frame: TraceFrame): string {
  const { can } = frame;
  const dlc = can.remote ? (can.dlc ?? 0) : frame.data.length;
  return `${String(frame.timestamp)},0x${can.id.toString(16)},${can.extended ? 1 : 0},${can.remote ? 1 : 0},${can.error ? 1 : 0},${dlc},${Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('base64')}\n`;
}

export const csvFormat: TextLogFormat = {
  kind: 'text',
  name: 'csv',
  parser(): LineParser {
    return { chunkable: true, parse: (line: string, _stats: ReadStats) => parseCsvLine(line), context: () => ({}) };
  },
  writer(): TextWriterState {
    let started = false;
    const header = (): string => {
      if (started) return '';
      started = true;
      return `${CSV_HEADER}\n`;
    };
    return { frame: (frame) => header() + formatCsvLine(frame), end: () => header() };
  },
};
