import type { Dbc } from '../dbc/index.js';
import type { DecodedSignal } from '../dbc/codec.js';
import type { TraceFrame } from './trace-frame.js';

/**
 * The rows `kiso trace decode` writes (CSV), shared by the main thread and
 * the decode workers so that both write the same text:
 *
 * - one row per decoded message: timestamp,channel,direction,id,message,signals
 *   with signals as `Name=value` (and ` (label)` from a value table), `;` between;
 * - with columns (--signals a,b): timestamp,a,b, one row per frame that
 *   carries any of them, the physical value in each cell, empty when that
 *   frame does not carry the signal.
 */
export interface SignalColumn {
  /** The message that carries it and the signal's name in it. */
  message: string;
  signal: string;
  /** The column title as asked. */
  title: string;
}

export function decodeHeader(columns: readonly SignalColumn[] | undefined): string {
  return columns ? `timestamp,${columns.map((column) => csvCell(column.title)).join(',')}\n` : 'timestamp,channel,direction,id,message,signals\n';
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function valueText(signal: DecodedSignal): string {
  return String(signal.value);
}

export interface DecodeCounts {
  decoded: number;
  /** Frames whose id the DBC does not describe (or too short for their message, remote, error). */
  unknown: number;
}

/** The CSV rows of some frames. */
export function decodeRows(frames: Iterable<TraceFrame>, dbc: Dbc, columns: readonly SignalColumn[] | undefined, counts: DecodeCounts): string {
  let text = '';
  const byMessage = columns ? groupColumns(columns) : undefined;
  for (const frame of frames) {
    const decoded = dbc.decode(frame);
    if (!decoded) {
      counts.unknown++;
      continue;
    }
    counts.decoded++;
    if (byMessage) {
      const wanted = byMessage.get(decoded.name);
      if (!wanted) continue;
      const cells = new Array<string>(columns!.length).fill('');
      let any = false;
      for (const [index, signal] of wanted) {
        const value = decoded.signals[signal];
        if (value) {
          cells[index] = valueText(value);
          any = true;
        }
      }
      if (any) text += `${frame.timestamp.toFixed(6)},${cells.join(',')}\n`;
      continue;
    }
    const signals = Object.values(decoded.signals).map((signal) => `${signal.name}=${valueText(signal)}${signal.label !== undefined ? ` (${signal.label})` : ''}`).join(';');
    text += `${frame.timestamp.toFixed(6)},${csvCell(frame.channel ?? '')},${frame.direction ?? ''},0x${frame.can.id.toString(16).toUpperCase()}${frame.can.extended ? 'x' : ''},${decoded.name},${csvCell(signals)}\n`;
  }
  return text;
}

function groupColumns(columns: readonly SignalColumn[]): Map<string, Array<[number, string]>> {
  const map = new Map<string, Array<[number, string]>>();
  columns.forEach((column, index) => {
    const list = map.get(column.message) ?? [];
    list.push([index, column.signal]);
    map.set(column.message, list);
  });
  return map;
}

/** --signals names (Signal or Message.Signal) → columns; unknown names throw KISO_DBC_SIGNAL with close names. */
export function signalColumns(dbc: Dbc, names: readonly string[]): SignalColumn[] {
  return names.map((title) => {
    const signal = dbc.signal(title);
    return { message: signal.messageName, signal: signal.name, title };
  });
}
