import { KisoError } from '../../core/errors.js';
import type { BitSegment, DbcMessage, DbcSignal } from './types.js';

/**
 * Signal layout and value conversion. A signal's bits are precomputed as
 * per-byte segments, so Intel and Motorola signals share one fast path:
 * raw = Σ ((data[byte] >> shift) & mask) · 2^valueShift. Values up to 52
 * bits use doubles (exact); longer ones use BigInt.
 */
export type RawValue = number | bigint;

export interface DecodedSignal {
  name: string;
  /** As on the bus: an integer (bigint past 52 bits), or the float of a float signal. */
  raw: RawValue;
  /** Physical value: raw · factor + offset. */
  value: number;
  /** The value table's label for the raw value, when it has one. */
  label?: string;
  unit: string;
}

export interface DecodedMessage {
  name: string;
  id: number;
  extended: boolean;
  /** Receive time (seconds since the epoch) of the frame. */
  timestamp?: number;
  /** Only the signals the frame carries (multiplexed ones only for the active switch value). */
  signals: Record<string, DecodedSignal>;
}

/** A value for a signal: physical number, value-table label, or (with `raw: true`) the raw integer. */
export type SignalInput = number | bigint | string;

export interface EncodeOptions {
  /** Values are raw (as on the bus), not physical. */
  raw?: boolean;
  /** Accept physical values outside the DBC's [min|max] (they must still fit the bits). */
  allowOutOfRange?: boolean;
}

const MAX_EXACT_BITS = 52;

/** The per-byte segments of a signal; throws a plain Error (the parser adds file:line) when it leaves the message. */
export function signalSegments(startBit: number, length: number, byteOrder: 'little_endian' | 'big_endian'): BitSegment[] {
  const segments: BitSegment[] = [];
  if (byteOrder === 'little_endian') {
    let bit = startBit;
    let done = 0;
    while (done < length) {
      const shift = bit & 7;
      const bits = Math.min(8 - shift, length - done);
      segments.push({ byte: bit >> 3, shift, bits, valueShift: done });
      done += bits;
      bit += bits;
    }
  } else {
    // Motorola: startBit is the MSB; bits run down within a byte, then on to bit 7 of the next byte.
    let byte = startBit >> 3;
    let top = startBit & 7;
    let remaining = length;
    while (remaining > 0) {
      const bits = Math.min(top + 1, remaining);
      remaining -= bits;
      segments.push({ byte, shift: top - bits + 1, bits, valueShift: remaining });
      byte++;
      top = 7;
    }
  }
  return segments;
}

/** Bytes a signal's segments reach (the message must be at least this long). */
export function bytesNeeded(segments: readonly BitSegment[]): number {
  return segments.reduce((max, segment) => Math.max(max, segment.byte + 1), 0);
}

function extractUnsigned(data: Uint8Array, signal: DbcSignal): number {
  let value = 0;
  for (const { byte, shift, bits, valueShift } of signal.segments) {
    value += ((data[byte]! >>> shift) & ((1 << bits) - 1)) * 2 ** valueShift;
  }
  return value;
}

function extractUnsignedBig(data: Uint8Array, signal: DbcSignal): bigint {
  let value = 0n;
  for (const { byte, shift, bits, valueShift } of signal.segments) {
    value |= BigInt((data[byte]! >>> shift) & ((1 << bits) - 1)) << BigInt(valueShift);
  }
  return value;
}

const scratch = new DataView(new ArrayBuffer(8));

/** The raw value of `signal` in `data` (which must be long enough). */
export function extractRaw(data: Uint8Array, signal: DbcSignal): RawValue {
  const { length } = signal;
  if (signal.valueType === 'float32') {
    scratch.setUint32(0, extractUnsigned(data, signal));
    return scratch.getFloat32(0);
  }
  if (signal.valueType === 'float64') {
    scratch.setBigUint64(0, extractUnsignedBig(data, signal));
    return scratch.getFloat64(0);
  }
  if (length <= MAX_EXACT_BITS) {
    const value = extractUnsigned(data, signal);
    return signal.signed && value >= 2 ** (length - 1) ? value - 2 ** length : value;
  }
  const value = extractUnsignedBig(data, signal);
  return signal.signed && value >= 1n << BigInt(length - 1) ? value - (1n << BigInt(length)) : value;
}

/** Writes raw bits into `data`, leaving the other bits as they are. */
export function insertRaw(data: Uint8Array, signal: DbcSignal, raw: RawValue): void {
  const { length } = signal;
  if (signal.valueType === 'float32') {
    scratch.setFloat32(0, Number(raw));
    insertUnsigned(data, signal, scratch.getUint32(0));
    return;
  }
  if (signal.valueType === 'float64') {
    scratch.setFloat64(0, Number(raw));
    insertUnsignedBig(data, signal, scratch.getBigUint64(0));
    return;
  }
  if (length <= MAX_EXACT_BITS) {
    const value = Number(raw);
    insertUnsigned(data, signal, value < 0 ? value + 2 ** length : value);
    return;
  }
  const value = BigInt(raw);
  insertUnsignedBig(data, signal, value < 0n ? value + (1n << BigInt(length)) : value);
}

function insertUnsigned(data: Uint8Array, signal: DbcSignal, value: number): void {
  for (const { byte, shift, bits, valueShift } of signal.segments) {
    const mask = (1 << bits) - 1;
    const chunk = Math.floor(value / 2 ** valueShift) % 2 ** bits;
    data[byte] = (data[byte]! & ~(mask << shift)) | (chunk << shift);
  }
}

function insertUnsignedBig(data: Uint8Array, signal: DbcSignal, value: bigint): void {
  for (const { byte, shift, bits, valueShift } of signal.segments) {
    const mask = (1 << bits) - 1;
    const chunk = Number((value >> BigInt(valueShift)) & BigInt(mask));
    data[byte] = (data[byte]! & ~(mask << shift)) | (chunk << shift);
  }
}

/** The raw values a signal's bits can hold. */
export function rawRange(signal: DbcSignal): { min: RawValue; max: RawValue } {
  const { length, signed } = signal;
  if (length <= MAX_EXACT_BITS) return signed ? { min: -(2 ** (length - 1)), max: 2 ** (length - 1) - 1 } : { min: 0, max: 2 ** length - 1 };
  const bits = BigInt(length);
  return signed ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n } : { min: 0n, max: (1n << bits) - 1n };
}

export function toPhysical(signal: DbcSignal, raw: RawValue): number {
  return Number(raw) * signal.factor + signal.offset;
}

function hasRange(signal: DbcSignal): boolean {
  return !(signal.minimum === 0 && signal.maximum === 0);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

function describeSignal(signal: DbcSignal): string {
  return `${signal.messageName}.${signal.name}`;
}

/** Turns a physical value, label or raw value into the raw value, or throws a KISO_DBC_SIGNAL error saying why not. */
export function toRaw(signal: DbcSignal, input: SignalInput, options: EncodeOptions = {}): RawValue {
  if (typeof input === 'string') {
    if (signal.valueTable) {
      for (const [raw, label] of signal.valueTable) if (label === input) return raw;
    }
    const labels = signal.valueTable ? [...signal.valueTable.values()] : [];
    throw new KisoError('KISO_DBC_SIGNAL', `${describeSignal(signal)}: "${input}" is not one of its value labels${labels.length ? ` (${labels.map((l) => `"${l}"`).join(', ')})` : ' (the signal has no value table: give a number)'}`);
  }
  let raw: RawValue;
  if (options.raw) {
    raw = input;
    if (signal.valueType !== 'integer') raw = Number(raw);
  } else {
    const physical = Number(input);
    if (!Number.isFinite(physical) && signal.valueType === 'integer') throw new KisoError('KISO_DBC_SIGNAL', `${describeSignal(signal)}: ${String(input)} is not a finite number`);
    if (!options.allowOutOfRange && hasRange(signal) && (physical < signal.minimum || physical > signal.maximum)) {
      throw new KisoError(
        'KISO_DBC_SIGNAL',
        `${describeSignal(signal)} = ${formatNumber(physical)}${signal.unit ? ` ${signal.unit}` : ''} is outside its DBC range [${formatNumber(signal.minimum)}, ${formatNumber(signal.maximum)}] (pass { allowOutOfRange: true } to send it anyway)`,
      );
    }
    const scaled = (physical - signal.offset) / signal.factor;
    if (signal.valueType !== 'integer') return scaled;
    // Rounding, not truncation: 0.3 / 0.1 is 2.9999999999999996 in doubles.
    const rounded = Math.round(scaled);
    raw = signal.length > MAX_EXACT_BITS && Number.isSafeInteger(rounded) ? BigInt(rounded) : rounded;
  }
  if (signal.valueType === 'integer') {
    if (typeof raw === 'number' && !Number.isInteger(raw)) throw new KisoError('KISO_DBC_SIGNAL', `${describeSignal(signal)}: raw value ${raw} is not an integer`);
    const { min, max } = rawRange(signal);
    if (raw < min || raw > max) {
      const physicalRange = `${formatNumber(toPhysical(signal, min))}..${formatNumber(toPhysical(signal, max))}`;
      throw new KisoError('KISO_DBC_SIGNAL', `${describeSignal(signal)}: ${options.raw ? `raw value ${String(raw)}` : `${formatNumber(Number(input))}${signal.unit ? ` ${signal.unit}` : ''} (raw ${String(raw)})`} does not fit its ${signal.length} ${signal.signed ? 'signed' : 'unsigned'} bits (raw ${String(min)}..${String(max)}, physical ${physicalRange})`);
    }
  }
  return raw;
}

/** Decodes the signals one frame carries. Returns undefined when `data` is shorter than the message. */
export function decodeSignals(message: DbcMessage, data: Uint8Array): Record<string, DecodedSignal> | undefined {
  if (data.length < message.length) return undefined;
  const signals: Record<string, DecodedSignal> = {};
  for (const signal of message.decodeOrder) {
    if (signal.multiplexerName !== undefined) {
      const selector = signals[signal.multiplexerName];
      if (!selector || !inRanges(Number(selector.raw), signal.multiplexRanges)) continue;
    }
    const raw = extractRaw(data, signal);
    const decoded: DecodedSignal = { name: signal.name, raw, value: toPhysical(signal, raw), unit: signal.unit };
    const label = signal.valueTable?.get(Number(raw));
    if (label !== undefined) decoded.label = label;
    signals[signal.name] = decoded;
  }
  return signals;
}

function inRanges(value: number, ranges: ReadonlyArray<[number, number]> | undefined): boolean {
  if (!ranges) return false;
  for (const [low, high] of ranges) if (value >= low && value <= high) return true;
  return false;
}

/**
 * Encodes a message: given signals from `values`, every other signal at its
 * initial value. For a multiplexed message, the switch value comes from
 * `values`, or from the multiplexed signals that were given (when they agree),
 * or from the switch's initial value; a given signal the switch does not
 * select is an error.
 */
export function encodeSignals(message: DbcMessage, values: Readonly<Record<string, SignalInput>>, options: EncodeOptions = {}): Uint8Array {
  for (const name of Object.keys(values)) {
    if (!message.signalsByName.has(name)) {
      throw new KisoError('KISO_DBC_SIGNAL', `message ${message.name} has no signal "${name}" (its signals: ${message.signals.map((s) => s.name).join(', ') || 'none'})`);
    }
  }
  const raws = new Map<string, RawValue>();
  for (const [name, input] of Object.entries(values)) raws.set(name, toRaw(message.signalsByName.get(name)!, input, options));

  // A switch not given takes a value every given signal it selects accepts
  // (deepest switches first, so a nested selection propagates upwards).
  for (let i = message.decodeOrder.length - 1; i >= 0; i--) {
    const signal = message.decodeOrder[i]!;
    if (!signal.isMultiplexer || raws.has(signal.name)) continue;
    const dependents = message.signals.filter((other) => other.multiplexerName === signal.name && raws.has(other.name));
    if (dependents.length === 0) continue;
    const candidates = [Number(signal.initialRaw), ...dependents.flatMap((other) => (other.multiplexRanges ?? []).map(([low]) => low)).sort((a, b) => a - b)];
    const value = candidates.find((candidate) => dependents.every((other) => inRanges(candidate, other.multiplexRanges)));
    if (value === undefined) {
      throw new KisoError('KISO_DBC_SIGNAL', `${message.name}: the given signals need different values of the multiplexer ${signal.name} (${dependents.map((other) => `${other.name}: ${describeRanges(other.multiplexRanges)}`).join('; ')}); one frame carries one group`);
    }
    raws.set(signal.name, value);
  }

  const data = new Uint8Array(message.length);
  const active = new Map<string, number>();
  for (const signal of message.decodeOrder) {
    if (signal.multiplexerName !== undefined) {
      const selector = active.get(signal.multiplexerName);
      if (selector === undefined || !inRanges(selector, signal.multiplexRanges)) {
        if (raws.has(signal.name)) {
          throw new KisoError('KISO_DBC_SIGNAL', `${message.name}.${signal.name} is only sent when ${signal.multiplexerName} is ${describeRanges(signal.multiplexRanges)}, but ${signal.multiplexerName} is ${selector ?? 'not sent'}`);
        }
        continue;
      }
    }
    const raw = raws.get(signal.name) ?? signal.initialRaw;
    insertRaw(data, signal, raw);
    if (signal.isMultiplexer) active.set(signal.name, Number(raw));
  }
  return data;
}

function describeRanges(ranges: ReadonlyArray<[number, number]> | undefined): string {
  return (ranges ?? []).map(([low, high]) => (low === high ? String(low) : `${low}..${high}`)).join(' or ');
}
