import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Dbc, decodeSignals, encodeSignals, rawRange, toPhysical, type DbcMessage, type DbcSignal, type RawValue } from '../../src/can/dbc/index.js';

/**
 * kiso's DBC codec against an implementation no one here wrote: Debian's
 * python3-canmatrix, on the same DBC (test/fixtures/dbc/coverage.dbc: Intel
 * and Motorola, signed, float and double, 64-bit, simple and extended
 * multiplexing, value tables, an extended id, a 64-byte CAN FD message).
 * Frames kiso encodes must decode identically in canmatrix, frames canmatrix
 * encodes must be byte-identical to kiso's and decode identically in kiso.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/canmatrix_codec.py', import.meta.url));
const DBC_FILE = fileURLToPath(new URL('../fixtures/dbc/coverage.dbc', import.meta.url));

function canmatrixMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import canmatrix.formats'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import canmatrix (apt-get install python3-canmatrix): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

const skipReason = canmatrixMissing();
if (skipReason) console.log(`SKIPPED: DBC cross-check against canmatrix: ${skipReason}`);

interface CmSignal {
  name: string;
  size: number;
  is_little_endian: boolean;
  is_signed: boolean;
  is_float: boolean;
  factor: string;
  offset: string;
  min: string;
  max: string;
  unit: string;
  initial_value: string;
  values: Record<string, string>;
  is_multiplexer: boolean;
  mux_val: number | null;
  muxer_for_signal: string | null;
  mux_val_grp: Array<[number, number]>;
  comment: string | null;
}
interface CmFrame {
  name: string;
  id: number;
  extended: boolean;
  size: number;
  is_fd: boolean;
  cycle_time: number;
  comment: string | null;
  signals: CmSignal[];
}
type CmResult<T> = { ok: T } | { error: string };
interface CmAnswer {
  frames: CmFrame[];
  encoded: Array<CmResult<string>>;
  decoded: Array<CmResult<Record<string, { raw: string; phys: string; named: string }>>>;
}

function canmatrix(request: { encode?: Array<{ message: string; raw: Record<string, string> }>; decode?: Array<{ message: string; data: string }> }): CmAnswer {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ dbc: DBC_FILE, ...request }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (run.status !== 0) throw new Error(`canmatrix helper failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as CmAnswer;
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRaw(signal: DbcSignal, random: () => number): RawValue {
  const view = new DataView(new ArrayBuffer(8));
  if (signal.valueType === 'float32') {
    for (;;) {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      const value = view.getFloat32(0);
      if (Number.isFinite(value)) return value;
    }
  }
  if (signal.valueType === 'float64') {
    for (;;) {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      view.setUint32(4, Math.floor(random() * 2 ** 32));
      const value = view.getFloat64(0);
      if (Number.isFinite(value)) return value;
    }
  }
  // Edges as often as the middle: min, max, 0, -1 and random values.
  const { min, max } = rawRange(signal);
  const pick = random();
  if (pick < 0.1) return min;
  if (pick < 0.2) return max;
  if (pick < 0.25) return typeof min === 'bigint' ? 0n : 0;
  if (typeof min === 'bigint') {
    let value = 0n;
    for (let i = 0; i < signal.length; i += 16) value = (value << 16n) | BigInt(Math.floor(random() * 65536));
    const span = (max as bigint) - min + 1n;
    return min + (value % span);
  }
  return min + Math.floor(random() * ((max as number) - min + 1));
}

/** Random raw values for every signal one frame carries (picking the multiplexer values first). */
function randomValues(message: DbcMessage, random: () => number): Record<string, RawValue> {
  const values: Record<string, RawValue> = {};
  for (const signal of message.decodeOrder) {
    if (signal.multiplexerName !== undefined) {
      const selector = values[signal.multiplexerName];
      if (selector === undefined || !signal.multiplexRanges!.some(([low, high]) => Number(selector) >= low && Number(selector) <= high)) continue;
    }
    if (signal.isMultiplexer) {
      // A switch takes a value some signal of the message is selected by, or one nothing selects.
      const selected = message.signals.filter((other) => other.multiplexerName === signal.name).flatMap((other) => other.multiplexRanges!.flatMap(([low, high]) => [low, high]));
      const options = [...new Set([...selected, Number(rawRange(signal).max)])];
      values[signal.name] = options[Math.floor(random() * options.length)]!;
      continue;
    }
    values[signal.name] = randomRaw(signal, random);
  }
  return values;
}

const rawText = (value: RawValue): string => (typeof value === 'bigint' ? value.toString() : Number.isInteger(value) ? BigInt(value).toString() : String(value));

function sameRaw(signal: DbcSignal, ours: RawValue, theirs: string): boolean {
  if (signal.valueType !== 'integer') return Number(theirs) === Number(ours);
  return BigInt(theirs) === BigInt(ours);
}

function closeEnough(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

const ROUNDS = 60;

describe('DBC codec against canmatrix', { skip: skipReason }, () => {
  const dbc = Dbc.load(DBC_FILE);

  it('reads the same database: ids, extended and FD flags, layout, scaling, ranges, value tables, multiplexing, cycle times, initial values', () => {
    const { frames } = canmatrix({});
    const theirs = new Map(frames.filter((frame) => frame.name !== 'VECTOR__INDEPENDENT_SIG_MSG').map((frame) => [frame.name, frame]));
    assert.deepEqual([...theirs.keys()].sort(), dbc.messages.map((m) => m.name).sort());
    for (const message of dbc.messages) {
      const frame = theirs.get(message.name)!;
      const where = `message ${message.name}`;
      assert.equal(frame.id, message.id, `${where}: id`);
      assert.equal(frame.extended, message.extended, `${where}: extended`);
      assert.equal(frame.size, message.length, `${where}: length`);
      assert.equal(frame.is_fd, message.fd, `${where}: FD`);
      assert.equal(frame.cycle_time, message.cycleTimeMs ?? 0, `${where}: cycle time`);
      assert.equal(frame.comment || undefined, message.comment, `${where}: comment`);
      assert.deepEqual(frame.signals.map((s) => s.name).sort(), message.signals.map((s) => s.name).sort(), `${where}: signals`);
      for (const cm of frame.signals) {
        const signal = message.signalsByName.get(cm.name)!;
        const at = `${message.name}.${signal.name}`;
        assert.equal(cm.size, signal.length, `${at}: length`);
        assert.equal(cm.is_little_endian, signal.byteOrder === 'little_endian', `${at}: byte order`);
        assert.equal(cm.is_float, signal.valueType !== 'integer', `${at}: float`);
        if (!cm.is_float) assert.equal(cm.is_signed, signal.signed, `${at}: signed`);
        assert.equal(Number(cm.factor), signal.factor, `${at}: factor`);
        assert.equal(Number(cm.offset), signal.offset, `${at}: offset`);
        assert.equal(cm.unit, signal.unit, `${at}: unit`);
        assert.ok(closeEnough(Number(cm.initial_value), toPhysical(signal, signal.initialRaw)), `${at}: initial value ${cm.initial_value} vs ${toPhysical(signal, signal.initialRaw)}`);
        if (!(signal.minimum === 0 && signal.maximum === 0)) {
          assert.equal(Number(cm.min), signal.minimum, `${at}: minimum`);
          assert.equal(Number(cm.max), signal.maximum, `${at}: maximum`);
        }
        assert.deepEqual(cm.values, Object.fromEntries([...(signal.valueTable ?? new Map())].map(([k, v]) => [String(k), v])), `${at}: value table`);
        assert.equal(cm.is_multiplexer, signal.isMultiplexer, `${at}: is a multiplexer`);
        assert.equal(cm.comment || undefined, signal.comment, `${at}: comment`);
        if (cm.muxer_for_signal !== null) {
          assert.equal(cm.muxer_for_signal, signal.multiplexerName, `${at}: switch`);
          assert.deepEqual(cm.mux_val_grp, signal.multiplexRanges, `${at}: switch ranges`);
        } else if (cm.mux_val !== null) {
          assert.deepEqual(signal.multiplexRanges, [[cm.mux_val, cm.mux_val]], `${at}: multiplexer value`);
        } else {
          assert.equal(signal.multiplexerName, undefined, `${at}: not multiplexed`);
        }
      }
    }
  });

  it(`frames kiso encodes decode identically in canmatrix, and canmatrix encodes the same bytes (${ROUNDS} random frames per message, edges included)`, () => {
    const random = rng(0x5eed);
    const cases: Array<{ message: DbcMessage; values: Record<string, RawValue>; data: Uint8Array }> = [];
    for (const message of dbc.messages) {
      for (let round = 0; round < ROUNDS; round++) {
        const values = randomValues(message, random);
        cases.push({ message, values, data: encodeSignals(message, values, { raw: true }) });
      }
    }
    const complex = (message: DbcMessage): boolean => message.signals.some((s) => s.multiplexerName !== undefined && message.signalsByName.get(s.multiplexerName)!.multiplexerName !== undefined) || message.signals.filter((s) => s.isMultiplexer).length > 1 || message.name === 'ExtMux';
    const answer = canmatrix({
      decode: cases.map(({ message, data }) => ({ message: message.name, data: hex(data) })),
      encode: cases.map(({ message, values }) => ({ message: message.name, raw: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, rawText(v)])) })),
    });
    let compared = 0;
    cases.forEach(({ message, values, data }, index) => {
      const where = `${message.name} ${JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} = ${hex(data)}`;
      const decoded = answer.decoded[index]!;
      assert.ok('ok' in decoded, `${where}: canmatrix cannot decode: ${'error' in decoded ? decoded.error : ''}`);
      assert.deepEqual(Object.keys(decoded.ok).sort(), Object.keys(values).sort(), `${where}: canmatrix decodes other signals`);
      for (const [name, theirs] of Object.entries(decoded.ok)) {
        const signal = message.signalsByName.get(name)!;
        assert.ok(sameRaw(signal, values[name]!, theirs.raw), `${where}: ${name} raw ${theirs.raw} in canmatrix, ${String(values[name])} in kiso`);
        assert.ok(closeEnough(Number(theirs.phys), toPhysical(signal, values[name]!)), `${where}: ${name} physical ${theirs.phys} in canmatrix, ${toPhysical(signal, values[name]!)} in kiso`);
        const label = signal.valueTable?.get(Number(values[name]));
        if (label !== undefined && signal.factor === 1 && signal.offset === 0) assert.equal(theirs.named, label, `${where}: ${name} label`);
        compared++;
      }
      const encoded = answer.encoded[index]!;
      if (complex(message)) {
        assert.ok('error' in encoded, 'canmatrix does not encode extended multiplexing; if it now does, compare it');
        return;
      }
      assert.ok('ok' in encoded, `${where}: canmatrix cannot encode: ${'error' in encoded ? encoded.error : ''}`);
      // canmatrix pads a frame to the DBC length with zero bits, as kiso does for unset bits.
      assert.equal(encoded.ok, hex(data), `${where}: canmatrix encodes ${encoded.ok}`);
      const back = decodeSignals(message, Buffer.from(encoded.ok, 'hex'))!;
      for (const [name, value] of Object.entries(values)) assert.ok(sameRaw(message.signalsByName.get(name)!, back[name]!.raw, rawText(value)), `${where}: kiso decodes canmatrix's ${name} as ${String(back[name]!.raw)}`);
    });
    assert.ok(compared > dbc.messages.length * ROUNDS, 'compared signal values');
  });

  it('physical values and labels kiso encodes arrive as the intended raw values in canmatrix', () => {
    const random = rng(42);
    const cases: Array<{ message: DbcMessage; physical: Record<string, number | string>; raw: Record<string, RawValue>; data: Uint8Array }> = [];
    for (const message of dbc.messages) {
      for (let round = 0; round < ROUNDS; round++) {
        const raw = randomValues(message, random);
        const physical: Record<string, number | string> = {};
        for (const [name, value] of Object.entries(raw)) {
          const signal = message.signalsByName.get(name)!;
          // Integers past 2^53 have no exact physical double; the raw path covers them.
          if (signal.valueType === 'integer' && signal.length > 52) continue;
          const label = signal.valueTable?.get(Number(value));
          physical[name] = label !== undefined && round % 2 === 0 ? label : toPhysical(signal, value);
        }
        for (const name of Object.keys(raw)) if (!(name in physical)) delete raw[name];
        if (message.signals.some((s) => s.valueType !== 'integer')) continue; // float scaling is checked above through raw values
        cases.push({ message, physical, raw, data: encodeSignals(message, physical, { allowOutOfRange: true }) });
      }
    }
    const answer = canmatrix({ decode: cases.map(({ message, data }) => ({ message: message.name, data: hex(data) })) });
    cases.forEach(({ message, physical, raw }, index) => {
      const decoded = answer.decoded[index]!;
      assert.ok('ok' in decoded, `${message.name}: ${'error' in decoded ? decoded.error : ''}`);
      for (const name of Object.keys(physical)) {
        assert.ok(sameRaw(message.signalsByName.get(name)!, raw[name]!, decoded.ok[name]!.raw), `${message.name}.${name} = ${String(physical[name])}: canmatrix reads raw ${decoded.ok[name]!.raw}, intended ${String(raw[name])}`);
      }
    });
    assert.ok(cases.length > 0);
  });
});
