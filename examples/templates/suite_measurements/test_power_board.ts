import { defineSuite, type CaseContext, type CommunicationAuxiliary } from 'kiso';

/**
 * A power board's functional test. The board is simulated: each reading is
 * sent through the loopback connector and read back, as a real board would
 * answer a query on its UART. Set KISO_DEMO_SUPPLY=5.6 to see a FAIL.
 */

async function query(ctx: CaseContext, request: string, answer: string): Promise<string> {
  const dut = ctx.aux<CommunicationAuxiliary>('dut');
  await dut.send(answer); // the loopback plays the board: what we send is what it "answers"
  const reply = await dut.receive({ timeoutMs: 1000, signal: ctx.signal });
  if (!reply) throw new Error(`no answer to ${request}`);
  return Buffer.from(reply.data).toString('utf8');
}

export default defineSuite({
  name: 'power board',
  auxiliaries: ['dut'],
  cases: [
    {
      id: 1,
      name: 'supply rail',
      measurements: [
        // Design limits; the station's limits file replaces them with the production ones.
        { name: 'supply_voltage', units: 'V', limits: { lower: 4.5, upper: 5.5 }, docstring: '5 V rail at the test point TP1' },
        { name: 'idle_current', units: 'mA', limits: { upper: 200 } },
      ],
      async run(ctx) {
        const volts = Number(await query(ctx, 'MEAS:VOLT?', process.env.KISO_DEMO_SUPPLY ?? '4.98'));
        ctx.measurements.set('supply_voltage', volts);
        ctx.measurements.set('idle_current', Number(await query(ctx, 'MEAS:CURR?', '121.5')));
        ctx.log.info({ volts }, 'supply rail measured');
      },
    },
    {
      id: 2,
      name: 'identity',
      measurements: [
        { name: 'firmware_version', docstring: 'reported by the board over UART' },
        { name: 'self_test_passed', limits: { equals: true } },
      ],
      async run(ctx) {
        ctx.measurements.set('firmware_version', await query(ctx, 'FW?', '1.4.2'));
        ctx.measurements.set('self_test_passed', (await query(ctx, 'SELFTEST?', 'OK')) === 'OK');
        ctx.attach('device_info.json', JSON.stringify({ firmware: '1.4.2', bootloader: '0.9.1' }, null, 2));
      },
    },
    {
      id: 3,
      name: 'load step response',
      measurements: [
        {
          name: 'load_step',
          dimensions: [{ name: 'time', units: 'ms' }, { name: 'current', units: 'mA' }, { name: 'voltage', units: 'V' }],
          limits: { lower: 4.6, upper: 5.3 },
          docstring: 'rail voltage while the load steps from 0 to 800 mA',
        },
      ],
      async run(ctx) {
        const csv = ['time_ms,current_mA,voltage_V'];
        for (let t = 0; t <= 20; t++) {
          const current = t < 5 ? 0 : 800;
          // A rail that dips when the load steps in and recovers: a damped ring.
          const voltage = t < 5 ? 5.0 : 5.0 - 0.3 * Math.exp(-(t - 5) / 3) * Math.cos((t - 5) * 1.2);
          const answer = await query(ctx, `MEAS:VOLT? @${t}ms`, voltage.toFixed(3));
          ctx.measurements.addRow('load_step', [t, current, Number(answer)]);
          csv.push(`${t},${current},${answer}`);
        }
        ctx.attach('load_step.csv', csv.join('\n'));
        // An undeclared measurement, recorded on the spot with its own limits.
        ctx.measure('recovery_time', 9.5, { units: 'ms', limits: { upper: 15 } });
      },
    },
  ],
});
