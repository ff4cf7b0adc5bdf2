import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, describe, it } from 'node:test';
import { CanAuxiliary } from '../../src/auxiliaries/can-dbc.js';
import { Dbc, DbcError, parseDbc, type DecodedMessage } from '../../src/can/dbc/index.js';
import { memoryCanPair, type MemoryCanConnector } from '../../src/connectors/memory-can.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { isKisoError, KisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

const FIXTURE = fileURLToPath(new URL('../fixtures/dbc/coverage.dbc', import.meta.url));
/** Failure guard for waits: a hang becomes a failure, never a timing assertion. */
const GUARD_MS = 10_000;
const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');
const dbc = Dbc.load(FIXTURE, 'coverage.dbc');

const tmp = mkdtempSync(path.join(tmpdir(), 'kiso-dbc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function parseError(text: string): DbcError {
  try {
    parseDbc(text, 'bad.dbc');
  } catch (error) {
    assert.ok(error instanceof DbcError, `expected a DbcError, got ${String(error)}`);
    assert.equal(error.code, 'KISO_DBC_INVALID');
    return error;
  }
  assert.fail('the DBC parsed without error');
}

function signalError(run: () => unknown): KisoError {
  try {
    run();
  } catch (error) {
    assert.ok(isKisoError(error, 'KISO_DBC_SIGNAL'), `expected KISO_DBC_SIGNAL, got ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

const HEADER = 'VERSION ""\n\nNS_ :\n\tCM_\n\nBS_:\n\nBU_: ECU\n\n';

describe('DBC parser', () => {
  it('reads messages, ids, extended and FD flags, cycle times and comments', () => {
    assert.equal(dbc.database.version, 'kiso DBC coverage 1.0');
    assert.deepEqual(dbc.database.nodes, ['Tester', 'ECU']);
    assert.deepEqual(dbc.database.warnings, []);
    const engine = dbc.message('EngineData');
    assert.deepEqual([engine.id, engine.extended, engine.length, engine.fd, engine.cycleTimeMs, engine.transmitter, engine.comment], [256, false, 8, false, 100, 'ECU', 'Engine state, every 100 ms']);
    const ext = dbc.message('BigEndianExt');
    assert.deepEqual([ext.id, ext.extended], [0x18fef1fe, true]);
    assert.equal(dbc.messageById(0x18fef1fe, true), ext);
    assert.equal(dbc.messageById(0x18fef1fe, false), undefined);
    const fd = dbc.message('FdMessage');
    assert.deepEqual([fd.length, fd.fd], [64, true]);
    assert.equal(dbc.messages.some((m) => m.name === 'VECTOR__INDEPENDENT_SIG_MSG'), false);
  });

  it('reads signal layout, scaling, ranges, units, value tables, float types, initial values and multiplexing', () => {
    const speed = dbc.signal('EngineSpeed');
    assert.deepEqual([speed.startBit, speed.length, speed.byteOrder, speed.signed, speed.factor, speed.offset, speed.minimum, speed.maximum, speed.unit, speed.comment], [0, 16, 'little_endian', false, 0.25, 0, 0, 16383.75, 'rpm', 'Crankshaft speed']);
    assert.equal(dbc.signal('ThrottlePos').byteOrder, 'big_endian');
    assert.equal(dbc.signal('Torque').signed, true);
    assert.equal(dbc.signal('CoolantTemp').initialRaw, 40);
    assert.deepEqual([...dbc.signal('GearState').valueTable!], [[0, 'Park'], [1, 'Reverse'], [2, 'Neutral'], [3, 'Drive'], [4, 'Sport']]);
    assert.equal(dbc.signal('Ratio').valueType, 'float32');
    assert.equal(dbc.signal('Precise').valueType, 'float64');
    const voltage = dbc.signal('Voltage');
    assert.deepEqual([voltage.multiplexerName, voltage.multiplexRanges], ['MuxId', [[1, 1]]]);
    assert.equal(dbc.signal('MuxId').isMultiplexer, true);
    const nested = dbc.signal('Nested');
    assert.deepEqual([nested.multiplexerName, nested.multiplexRanges], ['SubSel', [[2, 3], [5, 5]]]);
    assert.equal(dbc.signal('SubSel').isMultiplexer, true);
    assert.deepEqual(dbc.database.valueTables.get('OnOff'), new Map([[0, 'Off'], [1, 'On']]));
  });

  it('encodes Intel and Motorola signals bit-exactly, with unset signals at their initial value', () => {
    const frame = dbc.encode('EngineData', { EngineSpeed: 1500, Torque: -12.5, GearState: 'Drive', ThrottlePos: 42.1 });
    // 1500 rpm = 6000 = 70 17; CoolantTemp initial raw 40 = 28; Torque -25 in 12 bits = E7 +F;
    // Drive (3) in bits 36-38; ThrottlePos 421 Motorola from bit 47 = 69 40; Counter initial 5 in bits 53-50.
    assert.equal(hex(frame.data), '701728e73f695400');
    assert.deepEqual(frame.can, { id: 256, extended: false, remote: false, fd: false, brs: false, esi: false });
    const decoded = dbc.decode(frame)!;
    assert.equal(decoded.signals.EngineSpeed!.value, 1500);
    assert.equal(decoded.signals.CoolantTemp!.value, 0);
    assert.equal(decoded.signals.Torque!.value, -12.5);
    assert.equal(decoded.signals.GearState!.label, 'Drive');
    assert.equal(decoded.signals.ThrottlePos!.value, 42.1);
    assert.equal(decoded.signals.Counter!.raw, 5);
  });

  it('sends extended-id and CAN FD messages as such, and round-trips floats, doubles and 64-bit integers', () => {
    const ext = dbc.encode('BigEndianExt', { MotorolaSigned: -1.5, MotorolaOdd: 8191, Flag: 'On', SmallSigned: -4 });
    assert.equal(ext.can.extended, true);
    assert.equal(ext.can.id, 0x18fef1fe);
    assert.deepEqual(Object.fromEntries(Object.entries(dbc.decode(ext)!.signals).map(([k, v]) => [k, v.value])), { MotorolaSigned: -1.5, MotorolaOdd: 8191, Flag: 1, IntelCross: 100, SmallSigned: -4 });
    const fd = dbc.encode('FdMessage', { FdFar: 4095, FdMotorola: -2 });
    assert.deepEqual([fd.can.fd, fd.data.length], [true, 64]);
    assert.equal(dbc.decode(fd)!.signals.FdFar!.raw, 4095);
    const floats = dbc.decode(dbc.encode('FloatData', { Ratio: 0.1, Pressure: 3 }))!;
    assert.equal(floats.signals.Ratio!.value, Math.fround(0.1));
    assert.equal(floats.signals.Pressure!.value, 3);
    assert.equal(dbc.decode(dbc.encode('DoubleBE', { PreciseBE: Math.PI }))!.signals.PreciseBE!.value, Math.PI);
    assert.equal(dbc.decode(dbc.encode('Int64', { Counter64: 2n ** 64n - 2n }, { raw: true }))!.signals.Counter64!.raw, 2n ** 64n - 2n);
    assert.equal(dbc.decode(dbc.encode('Int64Signed', { Signed64: -(2n ** 63n) }, { raw: true }))!.signals.Signed64!.raw, -(2n ** 63n));
  });

  it('decodes only the multiplexed group the switch selects, and picks the switch from the signals given', () => {
    const group1 = dbc.encode('MuxMessage', { Voltage: 12.5, Mode: 'Eco' });
    assert.deepEqual(Object.keys(dbc.decode(group1)!.signals), ['MuxId', 'Common', 'Voltage', 'Mode']);
    assert.equal(dbc.decode(group1)!.signals.MuxId!.raw, 1);
    const group0 = dbc.encode('MuxMessage', { MuxId: 0, Temp1: -20.5 });
    assert.deepEqual(Object.keys(dbc.decode(group0)!.signals), ['MuxId', 'Common', 'Temp1', 'Pressure1']);
    const nested = dbc.decode(dbc.encode('ExtMux', { Nested: 77 }))!;
    assert.deepEqual(Object.fromEntries(Object.entries(nested.signals).map(([k, v]) => [k, v.raw])), { Selector: 1, SubSel: 2, Nested: 77 });
    const ranged = dbc.decode(dbc.encode('ExtMux', { Selector: 6, Ranged: 9 }))!;
    assert.deepEqual(Object.keys(ranged.signals), ['Selector', 'Ranged']);
    assert.match(signalError(() => dbc.encode('MuxMessage', { Voltage: 1, Gear: 'D' })).message, /need different values of the multiplexer MuxId/);
    assert.match(signalError(() => dbc.encode('MuxMessage', { MuxId: 2, Voltage: 1 })).message, /MuxMessage\.Voltage is only sent when MuxId is 1, but MuxId is 2/);
  });

  it('refuses values that do not fit, with the reason', () => {
    assert.match(signalError(() => dbc.encode('EngineData', { EngineSpeed: 20000 })).message, /EngineData\.EngineSpeed = 20000 rpm is outside its DBC range \[0, 16383\.75\]/);
    assert.match(signalError(() => dbc.encode('BigEndianExt', { IntelCross: 1e9 })).message, /does not fit its 17 signed bits/);
    assert.match(signalError(() => dbc.encode('EngineData', { GearState: 'Turbo' })).message, /"Turbo" is not one of its value labels \("Park", "Reverse", "Neutral", "Drive", "Sport"\)/);
    assert.match(signalError(() => dbc.encode('EngineData', { Speed: 1 })).message, /message EngineData has no signal "Speed"/);
    assert.match(signalError(() => dbc.encode('EngineDta')).message, /has no message "EngineDta" \(did you mean "EngineData"\?\)/);
    assert.match(signalError(() => dbc.encode('EngineData', { Counter: 16 }, { raw: true })).message, /raw value 16 does not fit its 4 unsigned bits/);
    // Out of the DBC range but within the bits: allowed when asked.
    assert.match(signalError(() => dbc.encode('EngineData', { CoolantTemp: 200 })).message, /outside its DBC range \[-40, 150\]/);
    assert.equal(dbc.decode(dbc.encode('EngineData', { CoolantTemp: 200 }, { allowOutOfRange: true }))!.signals.CoolantTemp!.value, 200);
    assert.match(signalError(() => dbc.encode('EngineData', { CoolantTemp: -41 }, { allowOutOfRange: true })).message, /-41 degC \(raw -1\) does not fit its 8 unsigned bits \(raw 0\.\.255, physical -40\.\.215\)/);
  });

  it('finds a signal by name, or by Message.Signal when the name is in several messages', () => {
    const twice = Dbc.parse(`${HEADER}BO_ 1 A: 1 ECU\n SG_ Level : 0|8@1+ (1,0) [0|0] "" ECU\n\nBO_ 2 B: 1 ECU\n SG_ Level : 0|8@1+ (1,0) [0|0] "" ECU\n`);
    assert.match(signalError(() => twice.signal('Level')).message, /signal "Level" is in several messages \(A, B\): write "A\.Level" or "B\.Level"/);
    assert.equal(twice.signal('B.Level').messageName, 'B');
  });

  it('names the file and line of a syntax error', () => {
    const error = parseError(`${HEADER}BO_ 100 Msg: 8 ECU\n SG_ Sig : 0|8@1+ (1,0) [0 100] "" ECU\n`);
    assert.equal(error.message, 'bad.dbc:11:28: expected "|" between minimum and maximum, found "100"');
    assert.equal(error.line, 11);
    assert.equal(error.file, 'bad.dbc');
  });

  it('names the line of an unknown keyword, with a hint', () => {
    assert.equal(parseError(`${HEADER}B0_ 100 Msg: 8 ECU\n`).message, 'bad.dbc:10:1: unknown keyword "B0_" (did you mean "BO_"?)');
  });

  it('names the line of layout and consistency errors', () => {
    assert.match(parseError(`${HEADER}BO_ 100 Msg: 2 ECU\n SG_ Wide : 8|16@1+ (1,0) [0|0] "" ECU\n`).message, /^bad\.dbc:11:\d+: signal Wide \(start bit 8, 16 bits, Intel\) needs 3 bytes, but message Msg has 2$/);
    assert.match(parseError(`${HEADER}BO_ 100 Msg: 8 ECU\n SG_ Muxed m1 : 8|8@1+ (1,0) [0|0] "" ECU\n`).message, /^bad\.dbc:11: signal Muxed is multiplexed \(m1\) but message Msg has no multiplexer signal \(M\)$/);
    assert.match(parseError(`${HEADER}BO_ 100 Msg: 8 ECU\n SG_ F : 0|16@1- (1,0) [0|0] "" ECU\n\nSIG_VALTYPE_ 100 F : 1;\n`).message, /^bad\.dbc:13: signal F is declared a 32-bit float but has 16 bits$/);
    assert.match(parseError(`${HEADER}BO_ 100 A: 8 ECU\n\nBO_ 100 B: 8 ECU\n`).message, /^bad\.dbc:12:5: message B has the same id as message A \(line 10\)$/);
    assert.match(parseError(`${HEADER}BO_ 4000 A: 8 ECU\n`).message, /^bad\.dbc:10:5: message A: id 4000 is not a CAN id/);
    assert.match(parseError(`${HEADER}CM_ BO_ 100 "never closed;\n`).message, /^bad\.dbc:10:\d+: text opened with " is never closed$/);
    assert.match(parseError(`${HEADER}BO_ 100 A: 8 ECU\n SG_ S : 0|8@2+ (1,0) [0|0] "" ECU\n`).message, /byte order must be 0 \(Motorola, big endian\) or 1 \(Intel, little endian\), got 2/);
    assert.match(parseError(`${HEADER}BO_ 100 A: 8 ECU\n SG_ S : 0|8@1+ (0,0) [0|0] "" ECU\n`).message, /the factor must not be 0/);
    assert.match(parseError(`${HEADER}SG_ S : 0|8@1+ (1,0) [0|0] "" ECU\n`).message, /SG_ before any BO_/);
  });

  it('tolerates references to unknown messages or signals, as warnings with the line', () => {
    const parsed = parseDbc(`${HEADER}BO_ 100 A: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|0] "" ECU\n\nVAL_ 100 Gone 0 "x" ;\nVAL_ 999 S 0 "x" ;\n`, 'w.dbc');
    assert.deepEqual(parsed.warnings, ['w.dbc:13: VAL_ for signal Gone, which message A does not have', 'w.dbc:14: VAL_ for message id 999, which no BO_ defines']);
  });

  it('loads a file with its name in errors, and reads Windows-1252 files as CANdb++ writes them', () => {
    const file = path.join(tmp, 'latin.dbc');
    writeFileSync(file, Buffer.concat([Buffer.from(`${HEADER}BO_ 100 A: 8 ECU\n SG_ T : 0|8@1+ (1,0) [0|0] "`), Buffer.from([0xb0]), Buffer.from('C" ECU\n')]));
    assert.equal(Dbc.load(file).signal('T').unit, '°C');
    const missing = path.join(tmp, 'missing.dbc');
    assert.throws(() => Dbc.load(missing), (error: Error) => error instanceof DbcError && error.message === `${missing}: cannot read the DBC file: no such file`);
  });
});

describe('CanAuxiliary', () => {
  const running: Array<{ deleteInstance(): Promise<void> } | MemoryCanConnector> = [];
  afterEach(async () => {
    for (const item of running.splice(0).reverse()) {
      if ('deleteInstance' in item) await item.deleteInstance();
      else await item.close();
    }
  });

  async function setup(config: Record<string, unknown> = { dbc: 'coverage.dbc' }) {
    const { a, b } = memoryCanPair();
    const aux = new CanAuxiliary(config, { name: 'can', log: silentLogger(), connectors: { com: a }, baseDir: path.dirname(FIXTURE) });
    await b.open();
    running.push(b);
    await aux.createInstance();
    running.push(aux);
    const seen: CanFrame[] = [];
    b.attach((message) => seen.push(message as CanFrame));
    return { aux, ecu: b, seen };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + GUARD_MS;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  it('refuses a broken DBC before anything opens, naming file and line', () => {
    const file = path.join(tmp, 'broken.dbc');
    writeFileSync(file, `${HEADER}BO_ 100 A: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|0 "" ECU\n`);
    const { a } = memoryCanPair();
    assert.throws(
      () => new CanAuxiliary({ dbc: 'broken.dbc' }, { name: 'can', log: silentLogger(), connectors: { com: a }, baseDir: tmp }),
      (error: Error) => isKisoError(error, 'KISO_CONFIG_INVALID') && /^auxiliary "can": .*broken\.dbc:11:\d+: expected "\]" after the maximum, found "" \(a text\)$/.test(error.message),
    );
    assert.equal(a.isOpen, false);
    assert.throws(() => new CanAuxiliary({}, { name: 'can', log: silentLogger(), connectors: { com: a }, baseDir: tmp }), /give the DBC file as "dbc"/);
  });

  it('accepts pykiso\'s dbc_file key', async () => {
    const { aux } = await setup({ dbc_file: 'coverage.dbc' });
    assert.equal(aux.dbc.messages.length, 10);
  });

  it('sends a message by name with physical values', async () => {
    const { aux, seen } = await setup();
    const frame = await aux.sendMessage('EngineData', { EngineSpeed: 1500, Torque: -12.5, GearState: 'Drive', ThrottlePos: 42.1 });
    await until(() => seen.length === 1, 'the frame on the bus');
    assert.equal(hex(seen[0]!.data), '701728e73f695400');
    assert.equal(hex(frame.data), '701728e73f695400');
  });

  it('decodes every received frame: latest values, labels, and counts of frames it does not know', async () => {
    const { aux, ecu } = await setup();
    await ecu.send(dbc.encode('EngineData', { EngineSpeed: 800, GearState: 'Park' }));
    await ecu.send(canFrame({ id: 0x555, data: [1] }));
    await ecu.send(canFrame({ id: 256, data: [1, 2] }));
    await until(() => aux.stats.frames === 3, 'three frames');
    assert.deepEqual(aux.stats, { frames: 3, decoded: 1, unknown: 1, short: 1 });
    assert.equal(aux.lastValue('EngineSpeed'), 800);
    assert.equal(aux.lastSignal('GearState')!.label, 'Park');
    assert.equal(aux.lastSignal('EngineData.CoolantTemp')!.unit, 'degC');
    assert.equal(aux.lastMessage('EngineData')!.signals.EngineSpeed!.raw, 3200);
    assert.equal(aux.lastValue('Voltage'), undefined);
  });

  it('waits for a signal by value, by label or by condition; only new frames unless includeLatest', async () => {
    const { aux, ecu } = await setup();
    await ecu.send(dbc.encode('EngineData', { GearState: 'Neutral', EngineSpeed: 900 }));
    await until(() => aux.lastValue('EngineSpeed') === 900, 'the first frame');
    const byLabel = aux.waitForSignal('GearState', 'Drive', { timeoutMs: GUARD_MS });
    const byValue = aux.waitForSignal('EngineSpeed', 1500, { timeoutMs: GUARD_MS });
    const byTest = aux.waitForSignal('Torque', (value) => value < -10, { timeoutMs: GUARD_MS });
    await ecu.send(dbc.encode('EngineData', { GearState: 'Drive', EngineSpeed: 1500, Torque: -12 }));
    assert.equal((await byLabel).label, 'Drive');
    assert.equal((await byValue).value, 1500);
    assert.equal((await byTest).value, -12);
    assert.equal((await aux.waitForSignal('GearState', 'Drive', { includeLatest: true, timeoutMs: 1 })).raw, 3);
  });

  it('waits for a range, and picks a message frame by signal values (forms that cross processes)', async () => {
    const { aux, ecu } = await setup();
    const inRange = aux.waitForSignal('EngineSpeed', { min: 2000, max: 2500 }, { timeoutMs: GUARD_MS });
    const page = aux.waitForMessage('MuxMessage', { where: { MuxId: 2, Gear: 'D' }, timeoutMs: GUARD_MS });
    await ecu.send(dbc.encode('EngineData', { EngineSpeed: 1900 }));
    await ecu.send(dbc.encode('MuxMessage', { Gear: 'R' }));
    await ecu.send(dbc.encode('EngineData', { EngineSpeed: 2100 }));
    await ecu.send(dbc.encode('MuxMessage', { Gear: 'D' }));
    assert.equal((await inRange).value, 2100);
    assert.equal((await page).signals.Gear!.label, 'D');
    await assert.rejects(aux.waitForSignal('EngineSpeed', { min: 5000 }, { timeoutMs: 5 }), /EngineData\.EngineSpeed did not reach >= 5000 rpm within 5 ms; last value 2100 rpm/);
    await assert.rejects(aux.waitForSignal('EngineSpeed', { min: 5, max: 1 }), /a range needs numbers min <= max/);
    await assert.rejects(aux.waitForMessage('MuxMessage', { where: { Nope: 1 } }), /message MuxMessage has no signal "Nope"/);
  });

  it('says what it saw when a wait times out', async () => {
    const { aux, ecu } = await setup();
    await assert.rejects(aux.waitForSignal('GearState', 'Drive', { timeoutMs: 5 }), { name: 'AssertionError', message: 'EngineData.GearState did not become "Drive" within 5 ms; no EngineData frame was received' });
    await ecu.send(dbc.encode('EngineData', { GearState: 'Reverse', EngineSpeed: 1000 }));
    await until(() => aux.lastValue('EngineSpeed') === 1000, 'a frame');
    await assert.rejects(aux.waitForSignal('EngineSpeed', 1500, { timeoutMs: 5 }), (error: Error) => error.name === 'AssertionError' && /^EngineData\.EngineSpeed did not become 1500 rpm within 5 ms; last value 1000 rpm, received [\d.]+ s before$/.test(error.message));
    await assert.rejects(aux.waitForSignal('GearState', 'Turbo'), /"Turbo" is not one of its value labels/);
  });

  it('waits for the next frame of a message', async () => {
    const { aux, ecu } = await setup();
    const next = aux.waitForMessage('MuxMessage', { where: (m: DecodedMessage) => m.signals.MuxId!.raw === 2, timeoutMs: GUARD_MS });
    await ecu.send(dbc.encode('MuxMessage', { Voltage: 3 }));
    await ecu.send(dbc.encode('MuxMessage', { Gear: 'R' }));
    assert.equal((await next).signals.Gear!.label, 'R');
  });

  it('keeps a periodic message going with the DBC cycle time, picks up new values, stops on request and at stop', async () => {
    const { aux, seen } = await setup();
    const periodic = aux.startPeriodic('MuxMessage', { Voltage: 5 }, { cycleMs: 2 });
    assert.equal(aux.startPeriodic('EngineData').cycleMs, 100, 'GenMsgCycleTime from the DBC');
    await until(() => seen.filter((f) => f.can.id === 768).length >= 3, 'three periodic frames');
    await aux.setSignals({ Voltage: 7.5 });
    await until(() => seen.some((f) => f.can.id === 768 && dbc.decode(f)!.signals.Voltage?.value === 7.5), 'the new value');
    periodic.stop();
    assert.deepEqual(aux.periodicMessages.map((p) => p.message), ['EngineData']);
    assert.throws(() => aux.startPeriodic('FloatData'), /message FloatData has no cycle time .* pass \{ cycleMs \}/);
    await aux.deleteInstance();
    assert.deepEqual(aux.periodicMessages, []);
    assert.ok(periodic.sent >= 3);
  });

  it('sets signals of messages that are not periodic by sending them once, keeping the values set before', async () => {
    const { aux, seen } = await setup();
    await aux.setSignals({ EngineSpeed: 1000, GearState: 'Drive' });
    await aux.setSignal('Torque', 5);
    await until(() => seen.length === 2, 'two frames');
    const last = dbc.decode(seen[1]!)!.signals;
    assert.deepEqual([last.EngineSpeed!.value, last.GearState!.label, last.Torque!.value], [1000, 'Drive', 5]);
  });

  it('ends the waits under way when it stops', async () => {
    const { aux } = await setup();
    const waiting = aux.waitForSignal('EngineSpeed', 1, { timeoutMs: GUARD_MS });
    await aux.deleteInstance();
    await assert.rejects(waiting, (error: Error) => isKisoError(error, 'KISO_AUX_NOT_RUNNING') && /stopped while a wait was under way/.test(error.message));
  });

  it('is not usable before it starts', async () => {
    const { a } = memoryCanPair();
    const aux = new CanAuxiliary({ dbc: 'coverage.dbc' }, { name: 'can', log: silentLogger(), connectors: { com: a }, baseDir: path.dirname(FIXTURE) });
    await assert.rejects(aux.sendMessage('EngineData'), (error: Error) => isKisoError(error, 'KISO_AUX_NOT_RUNNING'));
  });
});

describe('CanAuxiliary and UdsAuxiliary in a station YAML', () => {
  async function load(auxConfig: string): Promise<{ config?: Record<string, unknown>; error?: string }> {
    const { loadStationConfig } = await import('../../src/config/load.js');
    const dir = mkdtempSync(path.join(tmp, 'station-'));
    writeFileSync(path.join(dir, 'bus.dbc'), `${HEADER}BO_ 100 A: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|0] "" ECU\n`);
    const file = path.join(dir, 'station.yaml');
    writeFileSync(file, `auxiliaries:\n  can:\n    connectors: { com: bus }\n    type: pykiso.lib.auxiliaries.can_auxiliary:CanAuxiliary\n    config:\n${auxConfig}\n  diag:\n    connectors: { com: bus2 }\n    type: UdsAuxiliary\n    config: { request_id: 0x7E0, response_id: 0x7E8, tp_layer: { block_size: 8, padding: false } }\nconnectors:\n  bus: { type: CCVirtualCan }\n  bus2: { type: CCVirtualCan }\n`);
    try {
      const station = await loadStationConfig(file);
      return { config: station.auxiliaries.get('can')!.config };
    } catch (error) {
      return { error: (error as Error).message.replaceAll(dir + path.sep, '') };
    }
  }

  it('resolves the dbc path against the YAML file\'s folder (dbc, or pykiso\'s dbc_file)', async () => {
    const { config } = await load('      dbc: bus.dbc');
    assert.ok(path.isAbsolute(config!.dbc as string) && (config!.dbc as string).endsWith(`${path.sep}bus.dbc`));
    assert.equal(config!.allow_out_of_range, false);
    const pykiso = await load('      dbc_file: ./bus.dbc');
    assert.ok(path.isAbsolute(pykiso.config!.dbc_file as string));
  });

  it('reports a missing dbc key and a typo before anything opens', async () => {
    const missing = (await load('      allow_out_of_range: true')).error!;
    assert.match(missing, /auxiliaries\.can\.config\.dbc: missing required key "dbc"/);
    assert.doesNotMatch(missing, /dbc_file/);

    assert.match((await load('      dbc: bus.dbc\n      allow_out_of_rnage: true')).error!, /unknown key "allow_out_of_rnage" \(did you mean "allow_out_of_range"\?\)/);
  });
});
