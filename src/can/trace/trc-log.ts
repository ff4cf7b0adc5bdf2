import { FD_LENGTHS, dlcToLength } from '../frame.js';
import type { LineParser, ParserContext, TextLogFormat, TextWriterState } from './log-format.js';
import { MalformedLine, channelName, channelNumber, frameDlc, hexBytes, msFloor, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * PEAK's PCAN trace (.trc), versions 1.0 to 1.3 and 2.0/2.1 (PEAK's
 * "PCAN-Trace File Format" document):
 *
 *   ;$FILEVERSION=1.1
 *   ;$STARTTIME=45244.4258680556          days since 1899-12-30, local time
 *        1)      1059.900  Rx         0300  8  00 00 00 00 04 00 00 00
 *        2)      1283.200  Tx     00400000  4  RTR
 *
 *   ;$FILEVERSION=2.1
 *   ;$STARTTIME=45244.4258680556
 *   ;$COLUMNS=N,O,T,B,I,d,R,L,D
 *         1      1059.900 DT  1     0300 Rx -  8    00 00 00 00 04 00 00 00
 *         2      1060.000 FB  1 1F334455 Tx -  9    00 11 22 33 44 55 66 77 88 99 AA BB
 *         3      1061.000 RR  1     0500 Rx -  4
 *
 * Offsets are milliseconds from $STARTTIME (read to the millisecond) or, without it,
 * from 0. Version 2 types: DT data, FD, FB (BRS), FE (ESI), BI (BRS+ESI), RR
 * remote, ER error frame; status and event lines are skipped and counted.
 * kiso writes 2.1 (`trc`) and 1.1 (`trc-1.1`: classic frames only, no
 * error frames, as the format has no place for them).
 */
const OLE_EPOCH_DAYS = 25569; // 1970-01-01 in days since 1899-12-30

/** $STARTTIME (days since 1899-12-30, local time) → Unix seconds, to the millisecond. */
export function parseTrcStartTime(text: string): number | undefined {
  const days = Number(text);
  if (!Number.isFinite(days)) return undefined;
  const whole = Math.floor(days);
  const msOfDay = Math.round((days - whole) * 86_400_000);
  // The day count and the time of day are local: build the date from its parts.
  const utcMidnight = (whole - OLE_EPOCH_DAYS) * 86_400_000;
  const day = new Date(utcMidnight);
  const local = new Date(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 0, 0, 0, 0).getTime() + msOfDay;
  return local / 1000;
}

export function formatTrcStartTime(timestamp: number): string {
  const date = new Date(Math.round(timestamp * 1000));
  const localMidnightAsUtc = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const msOfDay = date.getHours() * 3_600_000 + date.getMinutes() * 60_000 + date.getSeconds() * 1000 + date.getMilliseconds();
  return (localMidnightAsUtc / 86_400_000 + OLE_EPOCH_DAYS + msOfDay / 86_400_000).toFixed(12);
}

const DEFAULT_COLUMNS: Record<string, string[]> = {
  '2.0': ['N', 'O', 'T', 'I', 'd', 'l', 'D'],
  '2.1': ['N', 'O', 'T', 'B', 'I', 'd', 'R', 'L', 'D'],
};
const FD_TYPES: Record<string, { brs: boolean; esi: boolean }> = { FD: { brs: false, esi: false }, FB: { brs: true, esi: false }, FE: { brs: false, esi: true }, BI: { brs: true, esi: true } };

class TrcParser implements LineParser {
  readonly chunkable = true;
  private version: string;
  private start: number;
  private columns: string[];

  constructor(context: ParserContext = {}) {
    this.version = typeof context.version === 'string' ? context.version : '1.0';
    this.start = typeof context.start === 'number' ? context.start : 0;
    this.columns = Array.isArray(context.columns) ? context.columns : [];
  }

  context(): ParserContext {
    return { version: this.version, start: this.start, columns: this.columns };
  }

  parse(line: string, stats: ReadStats): TraceFrame | undefined {
    const text = line.trim();
    if (text === '') return undefined;
    if (text.startsWith(';')) {
      const directive = /^;\$(\w+)=(.*)$/.exec(text);
      if (directive) {
        const [, key, value] = directive as unknown as [string, string, string];
        if (key === 'FILEVERSION') this.version = value.trim();
        else if (key === 'STARTTIME') this.start = parseTrcStartTime(value.trim()) ?? this.start;
        else if (key === 'COLUMNS') this.columns = value.split(',').map((column) => column.trim());
      }
      return undefined;
    }
    const tokens = text.split(/\s+/);
    return this.version.startsWith('2') ? this.parseV2(tokens, stats) : this.parseV1(tokens, stats);
  }

  private parseV1(tokens: string[], stats: ReadStats): TraceFrame | undefined {
    // 1.0: N) O I L D   1.1: N) O T I L D   1.2: N) O B T I L D   1.3: N) O B T I - L D
    if (!/^\d+\)$/.test(tokens[0] ?? '')) throw new MalformedLine('a TRC 1.x line starts with "<number>)"');
    const offset = this.offset(tokens[1]);
    let at = 2;
    let channel = 'can0';
    let direction: 'Rx' | 'Tx' | undefined;
    if (this.version === '1.2' || this.version === '1.3') channel = channelName(this.integer(tokens[at++], 'bus'));
    if (this.version !== '1.0') {
      const type = tokens[at++];
      if (type !== 'Rx' && type !== 'Tx') {
        if (type === 'Error') return this.error(tokens.slice(at + 1), offset, channel, undefined);
        stats.skipped++; // Warng, Error counters...
        return undefined;
      }
      direction = type;
    }
    const idText = tokens[at++] ?? '';
    if (this.version === '1.0' && idText === 'FFFFFFFF') {
      stats.skipped++;
      return undefined;
    }
    if (this.version === '1.3') at++; // reserved
    const { id, extended } = this.id(idText);
    const dlc = this.integer(tokens[at++], 'data length');
    if (dlc > 8) throw new MalformedLine(`data length ${dlc} above 8 in a TRC 1.x file`);
    if (tokens[at] === 'RTR') return this.frame(new Uint8Array(0), offset, channel, direction, { id, extended, remote: true, fd: false, brs: false, esi: false, dlc });
    return this.frame(this.bytes(tokens, at, dlc), offset, channel, direction, { id, extended, remote: false, fd: false, brs: false, esi: false });
  }

  private parseV2(tokens: string[], stats: ReadStats): TraceFrame | undefined {
    const columns = this.columns.length ? this.columns : (DEFAULT_COLUMNS[this.version] ?? DEFAULT_COLUMNS['2.1']!);
    const field = new Map<string, string>();
    let at = 0;
    for (const column of columns) {
      if (column === 'D') break;
      field.set(column, tokens[at++] ?? '');
    }
    const type = field.get('T') ?? '';
    if (!/^\d+$/.test(field.get('N') ?? '1')) throw new MalformedLine(`message number "${field.get('N')}" is not a number`);
    const offset = this.offset(field.get('O'));
    const channel = field.has('B') && field.get('B') !== '-' ? channelName(this.integer(field.get('B'), 'bus')) : 'can0';
    const directionText = field.get('d');
    const direction = directionText === 'Rx' || directionText === 'Tx' ? directionText : undefined;
    const dlcOf = (fd: boolean): number => {
      if (field.has('l')) return this.integer(field.get('l'), 'data length');
      const dlc = this.integer(field.get('L'), 'DLC');
      if (dlc > 15) throw new MalformedLine(`DLC ${dlc} is not 0..15`);
      return fd ? dlcToLength(dlc) : Math.min(8, dlc);
    };
    if (type === 'ER') {
      const length = dlcOf(false);
      return this.error(tokens.slice(at, at + length), offset, channel, direction);
    }
    if (type !== 'DT' && type !== 'RR' && !(type in FD_TYPES)) {
      stats.skipped++; // ST status, EC error counters, EV events
      return undefined;
    }
    const { id, extended } = this.id(field.get('I') ?? '');
    if (type === 'RR') {
      const dlc = field.has('L') ? this.integer(field.get('L'), 'DLC') : this.integer(field.get('l'), 'data length');
      return this.frame(new Uint8Array(0), offset, channel, direction, { id, extended, remote: true, fd: false, brs: false, esi: false, dlc });
    }
    const fd = FD_TYPES[type];
    const length = dlcOf(fd !== undefined);
    if (fd && !(FD_LENGTHS as readonly number[]).includes(length)) throw new MalformedLine(`${length} bytes is not a CAN FD length`);
    if (!fd && length > 8) throw new MalformedLine(`${length} bytes in a classic CAN frame`);
    return this.frame(this.bytes(tokens, at, length), offset, channel, direction, { id, extended, remote: false, fd: fd !== undefined, brs: fd?.brs ?? false, esi: fd?.esi ?? false });
  }

  private frame(data: Uint8Array, offset: number, channel: string, direction: 'Rx' | 'Tx' | undefined, can: TraceFrame['can']): TraceFrame {
    const frame: TraceFrame = { data, timestamp: this.start + offset / 1000, channel, can };
    if (direction) frame.direction = direction;
    return frame;
  }

  private error(dataTokens: string[], offset: number, channel: string, direction: 'Rx' | 'Tx' | undefined): TraceFrame {
    const data = Uint8Array.from(dataTokens.filter((token) => /^[0-9A-Fa-f]{2}$/.test(token)), (token) => parseInt(token, 16));
    return this.frame(data.subarray(0, 8), offset, channel, direction, { id: 0, extended: false, remote: false, fd: false, brs: false, esi: false, error: true });
  }

  private offset(text: string | undefined): number {
    if (text === undefined || !/^\d+(?:\.\d+)?$/.test(text)) throw new MalformedLine(`time offset "${text ?? ''}" is not a number of milliseconds`);
    return Number(text);
  }

  private integer(text: string | undefined, what: string): number {
    if (text === undefined || !/^\d+$/.test(text)) throw new MalformedLine(`${what} "${text ?? ''}" is not a number`);
    return Number(text);
  }

  private id(text: string): { id: number; extended: boolean } {
    if (!/^[0-9A-Fa-f]{1,8}$/.test(text)) throw new MalformedLine(`"${text}" is not a CAN id`);
    const id = parseInt(text, 16);
    // PEAK writes 4 digits for 11-bit ids and 8 for 29-bit ones (python-can: 7); more than 4 means extended.
    const extended = text.length > 4;
    if (id > (extended ? 0x1fffffff : 0x7ff)) throw new MalformedLine(`id ${text} does not fit ${extended ? 29 : 11} bits`);
    return { id, extended };
  }

  private bytes(tokens: string[], at: number, length: number): Uint8Array {
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const token = tokens[at + i];
      if (token === undefined || !/^[0-9A-Fa-f]{2}$/.test(token)) throw new MalformedLine(`data byte ${i + 1} of ${length} is ${token === undefined ? 'missing' : `"${token}"`}`);
      data[i] = parseInt(token, 16);
    }
    return data;
  }
}

function startLines(start: number): string {
  const date = new Date(Math.round(start * 1000));
  const two = (n: number): string => String(n).padStart(2, '0');
  return `;   Start time: ${two(date.getDate())}.${two(date.getMonth() + 1)}.${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}.0\n;   Generated by kiso\n`;
}

function trcId(frame: TraceFrame): string {
  return frame.can.extended ? frame.can.id.toString(16).toUpperCase().padStart(8, '0') : frame.can.id.toString(16).toUpperCase().padStart(4, '0');
}

function trcWriter(version: '1.1' | '2.1'): TextWriterState {
  let start: number | undefined;
  let number = 0;
  const header = (timestamp: number): string => {
    start = msFloor(timestamp);
    const head = `;$FILEVERSION=${version}\n;$STARTTIME=${formatTrcStartTime(start)}\n`;
    if (version === '2.1') {
      return `${head};$COLUMNS=N,O,T,B,I,d,R,L,D\n;\n${startLines(start)};-------------------------------------------------------------------------------\n;   Message   Time    Type    ID     Rx/Tx\n;   Number    Offset  |  Bus  [hex]  |  Reserved\n;   |         [ms]    |  |    |      |  |  Data Length Code\n;   |         |       |  |    |      |  |  |    Data [hex] ...\n;   |         |       |  |    |      |  |  |    |\n;---+-- ------+------ +- +- --+----- +- +- +--- +- -- -- -- -- -- -- --\n`;
    }
    return `${head};\n${startLines(start)};-------------------------------------------------------------------------------\n;   Message Number\n;   |         Time Offset (ms)\n;   |         |        Type\n;   |         |        |        ID (hex)\n;   |         |        |        |     Data Length\n;   |         |        |        |     |   Data Bytes (hex) ...\n;   |         |        |        |     |   |\n;---+--   ----+----  --+--  ----+---  +  -+ -- -- -- -- -- -- --\n`;
  };
  return {
    frame(frame) {
      const { can } = frame;
      if (version === '1.1' && can.fd) return { refused: 'TRC 1.1 has no CAN FD frames (write TRC 2.1)' };
      if (version === '1.1' && can.error) return { refused: 'TRC 1.1 has no error frames (write TRC 2.1)' };
      const head = start === undefined ? header(frame.timestamp) : '';
      number++;
      const offset = Math.max(0, (frame.timestamp - start!) * 1000).toFixed(3);
      const dir = frame.direction === 'Tx' ? 'Tx' : 'Rx';
      if (version === '1.1') {
        const body = can.remote ? `${frameDlc(frame)}  RTR` : `${frame.data.length}  ${hexBytes(frame.data, ' ')}`;
        return `${head}${`${number})`.padStart(7)} ${offset.padStart(13)}  ${dir.padEnd(5)} ${trcId(frame).padStart(8)}  ${body}`.trimEnd() + '\n';
      }
      const bus = String(channelNumber(frame.channel)).padStart(2);
      if (can.error) {
        const data = new Uint8Array(5);
        data.set(frame.data.subarray(0, 5));
        return `${head}${String(number).padStart(7)} ${offset.padStart(13)} ER ${bus} ${'-'.padStart(8)} ${dir} -  ${'5'.padEnd(4)} ${hexBytes(data, ' ')}\n`;
      }
      const type = can.remote ? 'RR' : can.fd ? (can.brs ? (can.esi ? 'BI' : 'FB') : can.esi ? 'FE' : 'FD') : 'DT';
      return `${head}${String(number).padStart(7)} ${offset.padStart(13)} ${type} ${bus} ${trcId(frame).padStart(8)} ${dir} -  ${String(frameDlc(frame)).padEnd(4)} ${can.remote ? '' : hexBytes(frame.data, ' ')}`.trimEnd() + '\n';
    },
    end() {
      return start === undefined ? header(Date.now() / 1000) : '';
    },
  };
}

export const trcFormat: TextLogFormat = { kind: 'text', name: 'trc', parser: (context?: ParserContext) => new TrcParser(context), writer: () => trcWriter('2.1') };
export const trc11Format: TextLogFormat = { kind: 'text', name: 'trc-1.1', parser: (context?: ParserContext) => new TrcParser(context), writer: () => trcWriter('1.1') };
