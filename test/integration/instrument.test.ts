import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli } from '../helpers/cli.js';
import { ScpiSimulator, scpiSimMissing } from '../helpers/scpi-sim.js';

// pykiso's power_supply_control_RS_remote.yaml, key for key (an R&S supply on its SCPI
// socket, the address from ENV), with the simulator standing in for the supply and its
// Python suite ported to a TypeScript suite, run through the built CLI.

const missing = scpiSimMissing();
if (missing) console.log(`instrument integration test skipped: ${missing}`);
const KISO = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;

const STATION = (processing: boolean): string => `# Connection to the remote Rohde & Schwartz power supply
auxiliaries:
  instr_aux:
    connectors:
      com: Socket
    config:
      instrument: "Rohde&Schwarz"
      output_channel: 1
      validation_delay_ms: 0
    type: pykiso.lib.auxiliaries.instrument_control_auxiliary:InstrumentControlAuxiliary
connectors:
  Socket:
    config:
      dest_ip: 'ENV{POWER_SUPPLY_IP}'
      dest_port: ENV{POWER_SUPPLY_PORT}
${processing ? '      processing: True\n' : ''}    type: pykiso.lib.connectors.cc_tcp_ip:CCTcpip
test_suite_list:
- suite_dir: test_suite_with_instruments
  test_filter_pattern: 'test*.ts'
  test_suite_id: 1
`;

// pykiso's examples/test_suite_with_instruments scenario: read the instrument, apply 36 V, measure, switch off, try 1000 V.
const SUITE = `import assert from 'node:assert/strict';
import { defineSuite, type InstrumentControlAuxiliary } from '${KISO}';

export default defineSuite({
  name: 'power supply control',
  auxiliaries: ['instr_aux'],
  cases: [
    {
      id: 1,
      name: 'general information',
      async run(ctx) {
        const instr = ctx.aux<InstrumentControlAuxiliary>('instr_aux');
        assert.equal(await instr.query('*IDN?'), 'R&S,NGP-SIM,101,1.0');
        assert.equal(await instr.get_status_byte(), '0');
        assert.equal(await instr.self_test(), '0');
        assert.equal(await instr.get_output_channel(), '1');
        assert.equal(await instr.get_nominal_voltage(), 'COMMAND_NOT_AVAILABLE');
      },
    },
    {
      id: 2,
      name: 'apply 36 V on the selected channel',
      async run(ctx) {
        const instr = ctx.aux<InstrumentControlAuxiliary>('instr_aux');
        assert.equal(await instr.set_target_voltage(36.0), 'SUCCESS');
        assert.equal(await instr.set_target_current(1.0), 'SUCCESS');
        assert.equal(await instr.enable_output(), 'SUCCESS');
        ctx.log.info({ voltage: await instr.measure_voltage(), current: await instr.measure_current() }, 'measured');
        assert.equal(await instr.measure_voltage(), '10.000');
        assert.equal(await instr.measure_current(), '1.000');
        assert.equal(await instr.disable_output(), 'SUCCESS');
        assert.equal(await instr.set_target_voltage(1000), 'FAILURE');
        assert.equal(await instr.get_all_errors(), '-222,"Data out of range"');
      },
    },
  ],
});
`;

function write(processing: boolean): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-instrument-'));
  mkdirSync(path.join(dir, 'test_suite_with_instruments'));
  writeFileSync(path.join(dir, 'test_suite_with_instruments', 'test_power_supply_control.ts'), SUITE);
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, STATION(processing));
  return file;
}

describe('InstrumentControlAuxiliary through the kiso CLI', { skip: missing ?? false }, () => {
  const sims: ScpiSimulator[] = [];
  after(async () => {
    for (const sim of sims) await sim.stop();
  });

  for (const processing of [false, true]) {
    it(`pykiso's R&S station runs its ported suite against the simulated supply${processing ? ' (processing: True)' : ''}`, async () => {
      const sim = await ScpiSimulator.start(['--tcp', '0', '--dialect', 'rs', '--channels', '2', '--idn', 'R&S,NGP-SIM,101,1.0']);
      sims.push(sim);
      const result = await runCli(['-c', write(processing), '--no-record'], { env: { POWER_SUPPLY_IP: '127.0.0.1', POWER_SUPPLY_PORT: String(sim.port) } });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /PASSED: 2 passed/);
      const state = await sim.state();
      assert.equal(state.selected, 1);
      assert.equal(state.channels[0]!.voltage, 36);
      assert.equal(state.channels[0]!.output, false);
    });
  }

  it('a typo in the instrument name is a warning naming the known dialects, not a silent default', async () => {
    const sim = await ScpiSimulator.start(['--tcp', '0', '--dialect', 'rs', '--channels', '2', '--idn', 'R&S,NGP-SIM,101,1.0']);
    sims.push(sim);
    const file = write(false);
    writeFileSync(file, STATION(false).replace('"Rohde&Schwarz"', '"Rohde Schwartz"'));
    const result = await runCli(['-c', file, '--no-record'], { env: { POWER_SUPPLY_IP: '127.0.0.1', POWER_SUPPLY_PORT: String(sim.port) } });
    assert.match(`${result.stdout}\n${result.stderr}`, /instrument "Rohde Schwartz" is not a known SCPI dialect \(did you mean "Rohde&Schwarz"\?\)/);
  });
});
