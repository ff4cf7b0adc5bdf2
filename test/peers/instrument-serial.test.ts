import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstrumentControlAuxiliary, type InstrumentControlAuxiliaryConfig } from '../../src/auxiliaries/instrument-control.js';
import { SerialConnector, type SerialConnectorConfig } from '../../src/connectors/serial.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { ScpiSimulator } from '../helpers/scpi-sim.js';
import { peerTestFile, PtyPair } from './peer-helpers.js';

// InstrumentControlAuxiliary over CCSerial: the SCPI power-supply simulator on the far
// end of a socat pty pair, on pyserial, as an instrument on its RS-232 port.
const { skip, cleanups } = peerTestFile('instrument over serial');

async function station(serial: Omit<SerialConnectorConfig, 'port'> = {}, config: InstrumentControlAuxiliaryConfig = {}, simArgs: string[] = []): Promise<{ aux: InstrumentControlAuxiliary; sim: ScpiSimulator }> {
  const pty = await PtyPair.start();
  cleanups.add(() => pty.stop());
  const sim = await ScpiSimulator.start(['--serial', pty.b, ...simArgs]);
  cleanups.add(() => sim.stop());
  const log = silentLogger();
  const connector = new SerialConnector({ port: pty.a, baudrate: 9600, ...serial }, { name: 'psu_serial', log, baseDir: process.cwd() });
  const aux = new InstrumentControlAuxiliary({ validation_delay_ms: 0, ...config }, { name: 'instr_aux', log, connectors: { com: connector }, baseDir: process.cwd() });
  cleanups.add(() => aux.deleteInstance());
  await aux.createInstance();
  return { aux, sim };
}

describe('InstrumentControlAuxiliary over CCSerial (socat pty pair)', () => {
  it('identifies the instrument and drives its output', { skip }, async () => {
    const { aux, sim } = await station();
    assert.equal(await aux.get_identification(), 'kiso,SCPI-PSU-SIM,SIM0001,1.0');
    assert.equal(await aux.set_target_voltage(5), 'SUCCESS');
    assert.equal(await aux.set_target_current(0.2), 'SUCCESS');
    assert.equal(await aux.enable_output(), 'SUCCESS');
    assert.equal(await aux.measure_voltage(), '2.000');
    assert.equal(await aux.measure_current(), '0.200');
    assert.deepEqual((await sim.state()).channels[0], {
      voltage: 5, current: 0.2, power: 600, voltage_limit_low: 0, voltage_limit_high: 60,
      current_limit_low: 0, current_limit_high: 20, power_limit_high: 600, output: true,
    });
    assert.equal(await aux.disable_output(), 'SUCCESS');
    assert.equal(await aux.measure_voltage(), '0.000');
  });

  it('CRLF commands and answers split in any chunks; CCSerial raw framing needs nothing else', { skip }, async () => {
    const { aux } = await station({ framing: { mode: 'raw' } }, { write_termination: '\\r\\n', instrument: 'Elektro-Automatik' }, ['--dialect', 'ea']);
    for (let i = 0; i < 20; i++) assert.equal(await aux.query('*IDN?'), 'kiso,SCPI-PSU-SIM,SIM0001,1.0');
    assert.equal(await aux.set_voltage_limit_high(40), 'SUCCESS');
    assert.equal(await aux.set_target_voltage(41), 'FAILURE');
    assert.equal(await aux.get_all_errors(), '-222,"Data out of range"');
  });

  it('CCSerial timeout is the answer timeout: an unanswered query fails with it', { skip }, async () => {
    const { aux } = await station({ timeout: 0.3 });
    await assert.rejects(aux.query('NOT:A:QUERY?'), (error: unknown) => isKisoError(error, 'KISO_INSTRUMENT_NO_ANSWER') && /within 300 ms/.test(error.message));
    assert.equal(await aux.query('SYST:ERR?'), '-113,"Undefined header"');
  });
});
