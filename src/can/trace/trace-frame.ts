import type { CanFrame } from '../frame.js';

/**
 * What the log readers yield and the log writers take: a CAN frame with its
 * timestamp (seconds since the Unix epoch, or since the start of the log
 * when the file says no absolute time), the channel it travelled on and,
 * where the format keeps it, the direction.
 */
export type TraceDirection = 'Rx' | 'Tx';

export interface TraceFrame extends CanFrame {
  timestamp: number;
  direction?: TraceDirection;
}

/** What a reader met besides frames: lines it could not read, and things that are not frames. */
export interface ReadStats {
  frames: number;
  /** Lines (or binary objects) that claim to be frames, or are nothing the format knows, but cannot be read. */
  malformed: number;
  /** Events, comments and headers the format defines that are not CAN frames (status, markers, J1939...). */
  skipped: number;
  /** The first few malformed lines, with their line number (1-based; the byte offset for binary formats). */
  examples: MalformedExample[];
}

export interface MalformedExample {
  line: number;
  text: string;
  reason: string;
}

export const MAX_EXAMPLES = 10;

export function newStats(): ReadStats {
  return { frames: 0, malformed: 0, skipped: 0, examples: [] };
}

export function noteMalformed(stats: ReadStats, line: number, text: string, reason: string): void {
  stats.malformed++;
  if (stats.examples.length < MAX_EXAMPLES) stats.examples.push({ line, text: text.length > 200 ? `${text.slice(0, 200)}...` : text, reason });
}

export function mergeStats(into: ReadStats, from: ReadStats, lineOffset = 0): void {
  into.frames += from.frames;
  into.malformed += from.malformed;
  into.skipped += from.skipped;
  for (const example of from.examples) if (into.examples.length < MAX_EXAMPLES) into.examples.push({ ...example, line: example.line + lineOffset });
}

/** A line a reader cannot make sense of; readers catch it, count it and go on. */
export class MalformedLine extends Error {}

/**
 * Numbered channels (ASC, BLF, TRC count from 1) and named ones (candump's
 * can0): python-can's rule, so logs convert the same way in both tools.
 * `can0` (or `0`) is channel 1; a name without a number is the default, 1.
 */
export function channelNumber(channel: string | undefined): number {
  if (channel === undefined) return 1;
  const match = /(\d+)$/.exec(channel);
  return match ? Number(match[1]) + 1 : 1;
}

export function channelName(number: number): string {
  return `can${Math.max(0, number - 1)}`;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).toUpperCase().padStart(2, '0'));

export function hexBytes(data: Uint8Array, separator = ''): string {
  let text = '';
  for (let i = 0; i < data.length; i++) text += (i > 0 ? separator : '') + HEX[data[i]!]!;
  return text;
}

/** The DLC of a frame as logs write it: the code for FD lengths, the given DLC of a remote frame. */
export function frameDlc(frame: CanFrame): number {
  if (frame.can.remote) return frame.can.dlc ?? 0;
  const length = frame.data.length;
  if (length <= 8) return length;
  return [12, 16, 20, 24, 32, 48, 64].indexOf(length) + 9;
}

/** Local time of a Unix timestamp, floored to the millisecond, as the headers of ASC, BLF and TRC files write it. */
export function msFloor(timestamp: number): number {
  return Math.floor(Math.round(timestamp * 1e6) / 1000) / 1000;
}

/** A frame's timestamp rounded to the microsecond (what every text format keeps). */
export function roundMicros(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
