import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BUILTIN_TYPES } from '../../src/builtins.js';
import { COMMAND_NOT_AVAILABLE, decodeTermination, InstrumentControlAuxiliary, validationPasses, type InstrumentControlAuxiliaryConfig } from '../../src/auxiliaries/instrument-control.js';
import { DEFAULT_SCPI, KNOWN_INSTRUMENTS, resolveDialect } from '../../src/auxiliaries/scpi-dialects.js';
import { TcpConnector } from '../../src/connectors/tcp.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { ScpiSimulator, scpiSimMissing } from '../helpers/scpi-sim.js';

const missing = scpiSimMissing();
if (missing) console.log(`InstrumentControlAuxiliary simulator tests skipped: ${missing}`);
const skip = missing ?? false;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('SCPI dialects', () => {
  it('pykiso\'s instrument names select their dialect, in any spelling', () => {
    assert.deepEqual(KNOWN_INSTRUMENTS, ['Elektro-Automatik', 'Rohde&Schwarz']);
    assert.equal(resolveDialect('Elektro-Automatik').name, 'Elektro-Automatik');
    assert.equal(resolveDialect('rohde & schwarz').name, 'Rohde&Schwarz');
    assert.equal(resolveDialect('').name, 'DEFAULT');
    assert.equal(resolveDialect(undefined).commands, DEFAULT_SCPI);
    assert.equal(resolveDialect('').note, undefined);
  });

  it('a dialect changes only where its instruments differ', () => {
    const ea = resolveDialect('Elektro-Automatik').commands;
    assert.deepEqual(ea.outputChannel, { query: null, write: null });
    assert.deepEqual(ea.voltage, DEFAULT_SCPI.voltage);
    const rs = resolveDialect('Rohde&Schwarz').commands;
    assert.deepEqual(rs.voltageLimitHigh, { query: 'VOLT:ALIM?', write: 'VOLT:ALIM' });
    assert.equal(rs.remoteControl.write, null);
    assert.equal(rs.allErrors.query, null);
    assert.equal(rs.nextError.query, 'SYST:ERR?');
  });

  it('an unknown instrument gets the default commands and a note with the closest name', () => {
    const dialect = resolveDialect('Elektro Automatk');
    assert.equal(dialect.name, 'DEFAULT');
    assert.match(dialect.note!, /instrument "Elektro Automatk" is not a known SCPI dialect \(did you mean "Elektro-Automatik"\?\): using the default SCPI commands/);
  });
});

describe('write validation (pykiso\'s rule)', () => {
  it('VALUE{x} accepts the number x in any notation, with units after it', () => {
    assert.equal(validationPasses('12.500', 'VALUE{12.5}'), true);
    assert.equal(validationPasses('1.25000E1', 'VALUE{12.5}'), true);
    assert.equal(validationPasses('12.50 V', 'VALUE{12.5}'), true);
    assert.equal(validationPasses('12.4', 'VALUE{12.5}'), false);
    assert.equal(validationPasses('OFF', 'VALUE{0}'), false);
    assert.equal(validationPasses('', 'VALUE{0}'), false);
  });

  it('words: any of the expected, case-insensitive', () => {
    assert.equal(validationPasses('ON', ['ENABLE', 'ON', '1']), true);
    assert.equal(validationPasses('1', ['ENABLE', 'ON', '1']), true);
    assert.equal(validationPasses('remote', ['REMOTE', 'ON', '1']), true);
    assert.equal(validationPasses('NONE', ['REMOTE', 'ON', '1']), false);
    assert.equal(validationPasses('2', '2'), true);
  });

  it('terminations written with escapes in single quotes mean the bytes', () => {
    assert.equal(decodeTermination('\\r\\n'), '\r\n');
    assert.equal(decodeTermination('\n'), '\n');
    assert.equal(decodeTermination('\\x0a'), '\n');
  });

  it('is registered with pykiso\'s package and module paths', async () => {
    assert.equal(await BUILTIN_TYPES.InstrumentControlAuxiliary.load(), InstrumentControlAuxiliary);
    const aliases = BUILTIN_TYPES.InstrumentControlAuxiliary.aliases as readonly string[];
    assert.ok(aliases.includes('pykiso.lib.auxiliaries.instrument_control_auxiliary:InstrumentControlAuxiliary'));
    assert.ok(aliases.includes('pykiso.lib.auxiliaries.instrument_control_auxiliary.instrument_control_auxiliary:InstrumentControlAuxiliary'));
  });
});

async function simulator(...args: string[]): Promise<ScpiSimulator> {
  const sim = await ScpiSimulator.start(['--tcp', '0', ...args]);
  cleanups.push(() => sim.stop());
  return sim;
}

async function instrument(sim: ScpiSimulator, config: InstrumentControlAuxiliaryConfig = {}): Promise<InstrumentControlAuxiliary> {
  const log = silentLogger();
  const tcp = new TcpConnector({ dest_ip: '127.0.0.1', dest_port: sim.port }, { name: 'scpi_socket', log, baseDir: process.cwd() });
  const aux = new InstrumentControlAuxiliary({ validation_delay_ms: 0, ...config }, { name: 'instr_aux', log, connectors: { com: tcp }, baseDir: process.cwd() });
  cleanups.push(() => aux.deleteInstance());
  await aux.createInstance();
  return aux;
}

describe('InstrumentControlAuxiliary against the SCPI simulator over TCP', () => {
  it('takes remote control on start; write, read and query carry SCPI text', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    assert.equal((await sim.state()).remote, true);
    assert.equal(await aux.query('*IDN?'), 'kiso,SCPI-PSU-SIM,SIM0001,1.0');
    assert.equal(await aux.write('SOUR:VOLT 5'), 'NO_VALIDATION');
    assert.equal(await aux.write('SOUR:VOLT 6', ['SOUR:VOLT?', 'VALUE{6}']), 'SUCCESS');
    assert.equal(await aux.write('SOUR:CURR 1', ['SOUR:CURR?', 'VALUE{2}']), 'FAILURE');
    assert.equal(await aux.write('*IDN?'), 'NO_VALIDATION');
    assert.equal(await aux.read(), 'kiso,SCPI-PSU-SIM,SIM0001,1.0');
    // The helpers object is pykiso's spelling of the same methods.
    assert.equal(await aux.helpers.get_identification(), 'kiso,SCPI-PSU-SIM,SIM0001,1.0');
  });

  it('the helpers drive the supply and read it back in pykiso\'s shapes', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    assert.equal(await aux.set_target_voltage(12.5), 'SUCCESS');
    assert.equal(await aux.set_target_current(1), 'SUCCESS');
    assert.equal(await aux.get_target_voltage(), '12.500');
    assert.equal(await aux.get_output_state(), 'OFF');
    assert.equal(await aux.enable_output(), 'SUCCESS');
    assert.equal(await aux.get_output_state(), 'ON');
    // 12.5 V on the simulator's 10 ohm load wants 1.25 A: the 1 A setting limits it.
    assert.equal(await aux.measure_current(), '1.000');
    assert.equal(await aux.measure_voltage(), '10.000');
    assert.equal(await aux.measure_power(), '10.000');
    const state = await sim.state();
    assert.equal(state.channels[0]!.voltage, 12.5);
    assert.equal(state.channels[0]!.output, true);
    assert.equal(await aux.disable_output(), 'SUCCESS');
    assert.equal((await sim.state()).channels[0]!.output, false);
    assert.equal(await aux.get_nominal_voltage(), '60.000');
    assert.equal(await aux.get_nominal_current(), '20.000');
    assert.equal(await aux.get_nominal_power(), '600.000');
    assert.equal(await aux.get_status_byte(), '0');
    assert.equal(await aux.self_test(), '0');
    assert.equal(await aux.get_remote_control_state(), 'REMOTE');
    assert.equal(await aux.set_target_power(100), 'SUCCESS');
    assert.equal(await aux.get_target_power(), '100.000');
  });

  it('limits: set and read back; a value outside them is refused, FAILURE, and the error is queued', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    assert.equal(await aux.set_voltage_limit_high(30), 'SUCCESS');
    assert.equal(await aux.set_voltage_limit_low(2), 'SUCCESS');
    assert.equal(await aux.set_current_limit_high(5), 'SUCCESS');
    assert.equal(await aux.set_current_limit_low(0.5), 'SUCCESS');
    assert.equal(await aux.set_power_limit_high(150), 'SUCCESS');
    assert.equal(await aux.get_voltage_limit_high(), '30.000');
    assert.equal(await aux.get_voltage_limit_low(), '2.000');
    assert.equal(await aux.get_current_limit_high(), '5.000');
    assert.equal(await aux.get_current_limit_low(), '0.500');
    assert.equal(await aux.get_power_limit_high(), '150.000');
    assert.equal(await aux.set_target_voltage(36), 'FAILURE');
    assert.equal(await aux.set_target_voltage(1000), 'FAILURE');
    assert.equal(await aux.get_status_byte(), '4');
    assert.equal(await aux.get_all_errors(), '-222,"Data out of range",-222,"Data out of range"');
    assert.equal(await aux.get_all_errors(), '0,"No error"');
    assert.equal((await sim.state()).channels[0]!.voltage, 0);
  });

  it('remote control off: setters are refused (FAILURE); on again, they work; reset restores the defaults', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    assert.equal(await aux.set_remote_control_off(), 'SUCCESS');
    assert.equal(await aux.get_remote_control_state(), 'NONE');
    assert.equal(await aux.set_target_voltage(5), 'FAILURE');
    assert.equal(await aux.set_remote_control_on(), 'SUCCESS');
    assert.equal(await aux.set_target_voltage(5), 'SUCCESS');
    assert.equal(await aux.reset(), 'NO_VALIDATION');
    assert.equal(await aux.get_target_voltage(), '0.000');
  });

  it('a query the instrument does not answer is KISO_INSTRUMENT_NO_ANSWER, and the next query gets its own answer', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim, { answer_timeout_ms: 300 });
    await assert.rejects(aux.query('NO:SUCH:THING?'), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_INSTRUMENT_NO_ANSWER'), String(error));
      assert.match(error.message, /auxiliary "instr_aux": no answer from the instrument to "NO:SUCH:THING\?" within 300 ms/);
      return true;
    });
    assert.equal(await aux.query('SYST:ERR?'), '-113,"Undefined header"');
    await assert.rejects(aux.read(), (error: unknown) => isKisoError(error, 'KISO_INSTRUMENT_NO_ANSWER'));
  });

  it('concurrent queries never mix their answers', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    await aux.set_target_voltage(7);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? aux.query('*IDN?') : aux.get_target_voltage())));
    answers.forEach((answer, i) => assert.equal(answer, i % 2 === 0 ? 'kiso,SCPI-PSU-SIM,SIM0001,1.0' : '7.000'));
  });

  it('Elektro-Automatik: no channel selection, so output_channel fails the start clearly', { skip }, async () => {
    const sim = await simulator('--dialect', 'ea');
    const aux = await instrument(sim, { instrument: 'Elektro-Automatik' });
    assert.equal(await aux.get_output_channel(), COMMAND_NOT_AVAILABLE);
    assert.equal(await aux.set_output_channel(2), COMMAND_NOT_AVAILABLE);
    assert.equal(await aux.set_target_voltage(24), 'SUCCESS');
    await aux.deleteInstance();
    const log = silentLogger();
    const tcp = new TcpConnector({ dest_ip: '127.0.0.1', dest_port: sim.port }, { name: 'scpi_socket', log, baseDir: process.cwd() });
    const withChannel = new InstrumentControlAuxiliary({ instrument: 'Elektro-Automatik', output_channel: 2, validation_delay_ms: 0 }, { name: 'instr_aux', log, connectors: { com: tcp }, baseDir: process.cwd() });
    await assert.rejects(withChannel.createInstance(), (error: unknown) => isKisoError(error, 'KISO_AUX_COMMAND') && /output_channel 2 is set, but instrument Elektro-Automatik has no output channel selection/.test(error.message));
    assert.equal(tcp.isOpen, false);
  });

  it('Rohde&Schwarz: output_channel selected on start, ALIM limits, errors read one by one, no lock', { skip }, async () => {
    const sim = await simulator('--dialect', 'rs', '--channels', '3');
    const aux = await instrument(sim, { instrument: 'Rohde&Schwarz', output_channel: 2 });
    const state = await sim.state();
    assert.equal(state.selected, 2);
    assert.deepEqual(state.errors, []);
    assert.equal(await aux.get_output_channel(), '2');
    assert.equal(await aux.set_voltage_limit_high(20), 'SUCCESS');
    assert.equal((await sim.state()).channels[1]!.voltage_limit_high, 20);
    assert.equal(await aux.get_remote_control_state(), COMMAND_NOT_AVAILABLE);
    assert.equal(await aux.get_nominal_voltage(), COMMAND_NOT_AVAILABLE);
    assert.equal(await aux.set_target_voltage(25), 'FAILURE');
    assert.equal(await aux.set_output_channel(3), 'SUCCESS');
    assert.equal(await aux.set_output_channel(9), 'FAILURE');
    assert.equal(await aux.get_all_errors(), '-222,"Data out of range",-222,"Data out of range"');
  });

  it('a setter needs a number', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    await assert.rejects(aux.set_target_voltage('12' as unknown as number), (error: unknown) => isKisoError(error, 'KISO_AUX_COMMAND') && /value must be a finite number, got "12"/.test(error.message));
  });

  it('runCommand carries pykiso\'s verbs', { skip }, async () => {
    const sim = await simulator();
    const aux = await instrument(sim);
    const report = await aux.runCommand('query', '*IDN?');
    assert.deepEqual(report, { command: 'query', ok: true, value: 'kiso,SCPI-PSU-SIM,SIM0001,1.0' });
  });
});
