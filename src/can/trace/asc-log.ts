import { FD_LENGTHS, dlcToLength } from '../frame.js';
import type { LineParser, ParserContext, TextLogFormat, TextWriterState } from './log-format.js';
import { MalformedLine, channelName, channelNumber, frameDlc, hexBytes, msFloor, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * Vector's ASCII log (.asc), as CANoe/CANalyzer, python-can's ASCWriter and
 * can-utils' log2asc write it:
 *
 *   date Tue Nov 14 10:13:20.123 pm 2023
 *   base hex  timestamps absolute
 *   internal events logged
 *   Begin Triggerblock Tue Nov 14 10:13:20.123 pm 2023
 *      0.000000 Start of measurement
 *      0.001234 1  123             Rx   d 4 DE AD BE EF
 *      0.002000 1  1F334455x       Tx   r 8
 *      0.003000 CANFD   1 Tx        123                                   1 0 9 12 00 11 22 ... 0 0 3000 0 0 0 0 0
 *      0.004000 1  ErrorFrame
 *   End TriggerBlock
 *
 * Timestamps are offsets from the trigger block's start (a local date with
 * milliseconds), or from the previous line with `timestamps relative`.
 * Channels count from 1 (1 reads as can0, as python-can does). Lines with
 * a timestamp that are no CAN frame (statistics, status, J1939, markers)
 * are events: skipped and counted.
 */
const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  mär: 3, mrz: 3, mai: 5, okt: 10, dez: 12,
};
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Tue Nov 14 10:13:20.123 pm 2023` (or 24-hour, or without milliseconds) → Unix seconds, local time; undefined when it is no date. */
export function parseAscDate(text: string): number | undefined {
  const match = /^\s*\S+\s+(\S+)\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*(am|pm)?\s+(\d{4})\s*$/i.exec(text);
  if (!match) return undefined;
  const [, monthText, day, hour, minute, second, fraction, ampm, year] = match as unknown as [string, string, string, string, string, string, string | undefined, string | undefined, string];
  const month = MONTHS[monthText.toLowerCase().slice(0, 3)] ?? (/^\d+$/.test(monthText) ? Number(monthText) : undefined);
  if (month === undefined) return undefined;
  let h = Number(hour);
  if (ampm) h = (h % 12) + (ampm.toLowerCase() === 'pm' ? 12 : 0);
  const millis = fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0;
  return new Date(Number(year), month - 1, Number(day), h, Number(minute), Number(second), millis).getTime() / 1000;
}

/** The start of a log as ASC writes it: local time, milliseconds, 12-hour clock. */
export function formatAscDate(timestamp: number): string {
  const date = new Date(Math.round(timestamp * 1000));
  const two = (n: number): string => String(n).padStart(2, '0');
  const hours = date.getHours();
  return `${DAYS[date.getDay()]} ${MONTH_NAMES[date.getMonth()]} ${two(date.getDate())} ${two(hours % 12 || 12)}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')} ${hours < 12 ? 'am' : 'pm'} ${date.getFullYear()}`;
}

const TIMESTAMP = /^\d+(?:\.\d+)?$/;

class AscParser implements LineParser {
  private base: 16 | 10;
  private start: number;
  private relative: boolean;
  private last = 0;

  constructor(context: ParserContext = {}) {
    this.base = context.base === 10 ? 10 : 16;
    this.start = typeof context.start === 'number' ? context.start : 0;
    this.relative = context.relative === true;
  }

  get chunkable(): boolean {
    return !this.relative;
  }

  context(): ParserContext {
    return { base: this.base, start: this.start, relative: this.relative };
  }

  parse(line: string, stats: ReadStats): TraceFrame | undefined {
    const text = line.trim();
    if (text === '') return undefined;
    const first = text.charCodeAt(0);
    if (first < 48 || first > 57) return this.header(text);
    const space = text.search(/\s/);
    const stampText = space < 0 ? text : text.slice(0, space);
    if (!TIMESTAMP.test(stampText)) throw new MalformedLine(`"${stampText}" is not a timestamp`);
    let offset = Number(stampText);
    if (this.relative) {
      offset += this.last;
      this.last = offset;
    }
    const timestamp = this.start + offset;
    const tokens = text.slice(stampText.length).trim().split(/\s+/);
    const channelText = tokens[0] ?? '';
    if (channelText === 'CANFD') return this.fd(tokens, timestamp);
    if (!/^\d+$/.test(channelText)) {
      stats.skipped++;
      return undefined;
    }
    const channel = channelName(Number(channelText));
    if (tokens[1]?.toLowerCase() === 'errorframe') return { data: new Uint8Array(0), timestamp, channel, can: { id: 0, extended: false, remote: false, fd: false, brs: false, esi: false, error: true } };
    const direction = tokens[2];
    if (direction !== 'Rx' && direction !== 'Tx') {
      stats.skipped++;
      return undefined;
    }
    const { id, extended } = this.id(tokens[1]!);
    const kind = tokens[3]?.toLowerCase();
    if (kind === 'r') {
      const dlcText = tokens[4];
      const dlc = dlcText !== undefined && /^[0-9a-fA-F]$/.test(dlcText) ? parseInt(dlcText, this.base) : 0;
      return { data: new Uint8Array(0), timestamp, channel, direction, can: { id, extended, remote: true, fd: false, brs: false, esi: false, dlc } };
    }
    if (kind !== 'd') throw new MalformedLine(`"${tokens[3] ?? ''}" is neither d (data) nor r (remote)`);
    const dlc = this.number(tokens[4], 'DLC');
    if (dlc > 15) throw new MalformedLine(`DLC ${dlc} is not 0..15`);
    const length = Math.min(8, dlcToLength(dlc));
    const data = this.bytes(tokens, 5, length);
    return { data, timestamp, channel, direction, can: { id, extended, remote: false, fd: false, brs: false, esi: false } };
  }

  private fd(tokens: string[], timestamp: number): TraceFrame {
    // CANFD <channel> <Rx|Tx> <id>[x] [<name>] <brs> <esi> <dlc hex> <length> <data...> <duration> <bits> <flags hex> <crc> ...
    const channel = channelName(this.number(tokens[1], 'channel', 10));
    const direction = tokens[2];
    if (direction !== 'Rx' && direction !== 'Tx') throw new MalformedLine(`direction "${direction ?? ''}" is neither Rx nor Tx`);
    if (tokens[3]?.toLowerCase() === 'errorframe') return { data: new Uint8Array(0), timestamp, channel, direction, can: { id: 0, extended: false, remote: false, fd: true, brs: false, esi: false, error: true } };
    const { id, extended } = this.id(tokens[3] ?? '');
    let at = 4;
    if (!/^[01]$/.test(tokens[at] ?? '') || !/^[01]$/.test(tokens[at + 1] ?? '')) at++; // a symbolic name
    const brs = tokens[at] === '1';
    const esi = tokens[at + 1] === '1';
    const dlc = parseInt(tokens[at + 2] ?? '', 16);
    const length = this.number(tokens[at + 3], 'data length', 10);
    if (Number.isNaN(dlc) || dlc > 15) throw new MalformedLine(`DLC "${tokens[at + 2] ?? ''}" is not 0..F`);
    const data = this.bytes(tokens, at + 4, length);
    const flagsText = tokens[at + 4 + length + 2];
    const flags = flagsText !== undefined && /^[0-9A-Fa-f]+$/.test(flagsText) ? parseInt(flagsText, 16) : 0x1000;
    const isFd = (flags & 0x1000) !== 0;
    const remote = !isFd && (flags & 0x10) !== 0;
    if (isFd && !(FD_LENGTHS as readonly number[]).includes(length)) throw new MalformedLine(`${length} bytes is not a CAN FD length`);
    if (!isFd && length > 8) throw new MalformedLine(`${length} bytes in a classic CAN frame`);
    return { data: remote ? new Uint8Array(0) : data, timestamp, channel, direction, can: { id, extended, remote, fd: isFd, brs: isFd && brs, esi: isFd && esi, ...(remote ? { dlc } : {}) } };
  }

  private id(text: string): { id: number; extended: boolean } {
    const extended = text.endsWith('x') || text.endsWith('X');
    const digits = extended ? text.slice(0, -1) : text;
    if (!(this.base === 16 ? /^[0-9A-Fa-f]{1,8}$/ : /^\d{1,10}$/).test(digits)) throw new MalformedLine(`"${text}" is not a CAN id`);
    const id = parseInt(digits, this.base);
    if (id > (extended ? 0x1fffffff : 0x7ff)) throw new MalformedLine(`id ${text} does not fit ${extended ? 29 : 11} bits`);
    return { id, extended };
  }

  private number(text: string | undefined, what: string, base: number = this.base): number {
    if (text === undefined || !(base === 16 ? /^[0-9A-Fa-f]+$/ : /^\d+$/).test(text)) throw new MalformedLine(`${what} "${text ?? ''}" is not a number`);
    return parseInt(text, base);
  }

  private bytes(tokens: string[], at: number, length: number): Uint8Array {
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const token = tokens[at + i];
      if (token === undefined || !(this.base === 16 ? /^[0-9A-Fa-f]{1,2}$/ : /^\d{1,3}$/).test(token)) throw new MalformedLine(`data byte ${i + 1} of ${length} is ${token === undefined ? 'missing' : `"${token}"`}`);
      data[i] = parseInt(token, this.base);
    }
    return data;
  }

  private header(text: string): undefined {
    const lower = text.toLowerCase();
    if (lower.startsWith('//') || lower.startsWith('end triggerblock') || /^(no\s+)?internal\s+events\s+logged/.test(lower)) return undefined;
    if (lower.startsWith('date ')) {
      const date = parseAscDate(text.slice(5));
      if (date === undefined) throw new MalformedLine(`"${text.slice(5)}" is not a date`);
      this.start = date;
      return undefined;
    }
    const base = /^base\s+(hex|dec)(?:\s+timestamps\s+(absolute|relative))?/.exec(lower);
    if (base) {
      this.base = base[1] === 'dec' ? 10 : 16;
      this.relative = base[2] === 'relative';
      return undefined;
    }
    if (lower.startsWith('begin triggerblock')) {
      const rest = text.slice('begin triggerblock'.length).trim();
      if (rest) {
        const date = parseAscDate(rest);
        if (date === undefined) throw new MalformedLine(`"${rest}" is not a date`);
        this.start = date;
      }
      this.last = 0;
      return undefined;
    }
    throw new MalformedLine('no ASC line starts like this');
  }
}

function ascStamp(offset: number): string {
  return ` ${Math.max(0, offset).toFixed(6)}`.padStart(11);
}

export function ascWriter(): TextWriterState {
  let start: number | undefined;
  const header = (timestamp: number): string => {
    start = msFloor(timestamp);
    const date = formatAscDate(start);
    return `date ${date}\nbase hex  timestamps absolute\ninternal events logged\n// version 9.0.0\nBegin Triggerblock ${date}\n${ascStamp(0)} Start of measurement\n`;
  };
  return {
    frame(frame) {
      const head = start === undefined ? header(frame.timestamp) : '';
      const { can } = frame;
      const stamp = ascStamp(frame.timestamp - start!);
      const channel = channelNumber(frame.channel);
      if (can.error) return `${head}${stamp} ${channel}  ErrorFrame\n`;
      const id = `${can.id.toString(16).toUpperCase()}${can.extended ? 'x' : ''}`;
      const dir = frame.direction === 'Tx' ? 'Tx' : 'Rx';
      if (can.fd) {
        const flags = 0x1000 | (can.brs ? 0x2000 : 0) | (can.esi ? 0x4000 : 0);
        const fields = [
          'CANFD', String(channel).padStart(3), dir.padEnd(4), `${id.padStart(8)}  ${''.padStart(32)}`, can.brs ? '1' : '0', can.esi ? '1' : '0',
          frameDlc(frame).toString(16), String(frame.data.length).padStart(2), hexBytes(frame.data, ' '),
          '0'.padStart(8), '0'.padStart(4), flags.toString(16).toUpperCase().padStart(8), '0'.padStart(8), '0'.padStart(8), '0'.padStart(8), '0'.padStart(8), '0'.padStart(8),
        ];
        return `${head}${stamp} ${fields.join(' ')}\n`;
      }
      const type = can.remote ? `r ${frameDlc(frame).toString(16)}` : `d ${frame.data.length.toString(16)} ${hexBytes(frame.data, ' ')}`;
      return `${head}${stamp} ${channel}  ${id.padEnd(15)} ${dir.padEnd(4)} ${type}`.trimEnd() + '\n';
    },
    end() {
      return `${start === undefined ? header(Date.now() / 1000) : ''}End TriggerBlock\n`;
    },
  };
}

export const ascFormat: TextLogFormat = {
  kind: 'text',
  name: 'asc',
  parser: (context?: ParserContext) => new AscParser(context),
  writer: ascWriter,
};
