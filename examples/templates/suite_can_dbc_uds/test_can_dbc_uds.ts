import assert from 'node:assert/strict';
import { defineSuite, type CanAuxiliary, type UdsAuxiliary } from 'kiso';
import { xorKey } from 'kiso/can';

/**
 * The engine ECU through its DBC signals and its UDS diagnostics. The test
 * talks in signal names and values (EngineSpeed in rpm, GearPosition "D")
 * and in UDS services; no byte is written by hand. Every call is awaited and
 * takes data, not functions, so the suite runs unchanged when the
 * auxiliaries' connectors say processing: true.
 */
export default defineSuite({
  name: 'engine ECU: DBC signals and UDS',
  auxiliaries: ['can', 'diag', 'ecu'],
  async teardown(ctx) {
    await ctx.aux<CanAuxiliary>('can').stopPeriodic();
  },
  cases: [
    {
      id: 1,
      name: 'the ECU reports its state every cycle',
      async run(ctx) {
        const can = ctx.aux<CanAuxiliary>('can');
        const status = await can.waitForMessage('EngineStatus', { timeoutMs: 2000, signal: ctx.signal });
        assert.equal(status.signals.EngineState!.label, 'Off');
        const battery = await can.waitForMessage('BatteryStatus', { timeoutMs: 2000, signal: ctx.signal });
        ctx.measure('battery_voltage', battery.signals.BatteryVoltage!.value, { units: 'V', limits: { lower: 11.5, upper: 14.8 } });
        // A multiplexed message: each frame carries one page.
        const page1 = await can.waitForMessage('EngineDiagnostics', { where: { DiagPage: 1 }, timeoutMs: 2000, signal: ctx.signal });
        assert.ok(page1.signals.RunHours!.value > 1000);
      },
    },
    {
      id: 2,
      name: 'the engine follows the requested speed and gear',
      requirements: ['REQ-ENG-12'],
      async run(ctx) {
        const can = ctx.aux<CanAuxiliary>('can');
        // EngineCommand goes out every 50 ms (GenMsgCycleTime) for the rest of the suite.
        await can.startPeriodic('EngineCommand', { IgnitionOn: 'On', TargetSpeed: 1500, TargetGear: 'P' });
        const running = await can.waitForSignal('EngineState', 'Running', { timeoutMs: 3000, signal: ctx.signal });
        ctx.log.info({ state: running.label }, 'engine started');
        const speed = await can.waitForSignal('EngineSpeed', 1500, { timeoutMs: 3000, signal: ctx.signal });
        ctx.measure('engine_speed', speed.value, { units: 'rpm', limits: { lower: 1450, upper: 1550 } });
        await can.setSignals({ TargetGear: 'D', TargetSpeed: 2200 });
        await can.waitForSignal('GearPosition', 'D', { timeoutMs: 3000, signal: ctx.signal });
        await can.waitForSignal('EngineSpeed', { min: 2200 }, { timeoutMs: 3000, signal: ctx.signal });
        assert.equal((await can.lastSignal('GearPosition'))!.label, 'D');
      },
    },
    {
      id: 3,
      name: 'UDS: the ECU identifies itself (VIN, part number)',
      async run(ctx) {
        const diag = ctx.aux<UdsAuxiliary>('diag');
        const vin = Buffer.from(await diag.readDataByIdentifier(0xf190)).toString('ascii');
        assert.match(vin, /^[A-HJ-NPR-Z0-9]{17}$/, 'a 17-character VIN');
        ctx.measure('vin', vin);
        assert.equal(Buffer.from(await diag.readDataByIdentifier(0xf187)).toString('ascii'), 'KISO-ECU-0001');
      },
    },
    {
      id: 4,
      name: 'UDS: a live DID agrees with the CAN signal',
      async run(ctx) {
        const can = ctx.aux<CanAuxiliary>('can');
        const diag = ctx.aux<UdsAuxiliary>('diag');
        const data = await diag.readDataByIdentifier(0x0100);
        const overUds = (data[0]! << 8) | data[1]!;
        const onCan = (await can.lastValue('EngineSpeed'))!;
        assert.ok(Math.abs(overUds - onCan) <= 2 * 200, `engine speed over UDS ${overUds} rpm, on CAN ${onCan} rpm`);
      },
    },
    {
      id: 5,
      name: 'UDS: extended session, security access, then a protected write',
      async run(ctx) {
        const diag = ctx.aux<UdsAuxiliary>('diag');
        await assert.rejects(diag.writeDataByIdentifier(0x0200, [0x02, 0x00]), { code: 'KISO_UDS_NEGATIVE_RESPONSE', message: /serviceNotSupportedInActiveSession/ });
        const session = await diag.diagnosticSessionControl('extended'); // tester present now keeps it open
        ctx.log.info(session, 'extended session');
        // securityAccess(0x01, (seed) => xorKey(seed)) does both steps; done apart, they also work with processing: true.
        const seed = await diag.requestSeed(0x01);
        await diag.sendKey(0x01, xorKey(seed));
        await diag.writeDataByIdentifier(0x0200, [0x02, 0x00]);
        assert.deepEqual([...(await diag.readDataByIdentifier(0x0200))], [0x02, 0x00]);
        assert.deepEqual([...(await diag.routineControl('start', 0x0203))], [0x00], 'self test passes while the engine runs');
        await diag.diagnosticSessionControl('default');
      },
    },
    {
      id: 6,
      name: 'UDS: refusals come back as named negative responses; DTCs read',
      async run(ctx) {
        const diag = ctx.aux<UdsAuxiliary>('diag');
        await assert.rejects(diag.readDataByIdentifier(0xbeef), { code: 'KISO_UDS_NEGATIVE_RESPONSE', message: /requestOutOfRange \(NRC 0x31\)/ });
        const { dtcs } = await diag.reportDtcByStatusMask(0xff);
        assert.deepEqual(dtcs.map((dtc) => dtc.code), ['P0116-00']);
      },
    },
  ],
});
