import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';

/** What the "device" answers: the loopback echoes it back, KISO_DEMO_REPLY changes it. */
const REPLY = process.env.KISO_DEMO_REPLY ?? 'OK';

export default defineSuite({
  name: 'step report',
  auxiliaries: ['dut'],
  cases: [
    {
      id: 1,
      name: 'handshake',
      async run(ctx) {
        const dut = ctx.aux<CommunicationAuxiliary>('dut');
        await ctx.step('wake the device', async () => {
          await dut.send('PING');
          const pong = await dut.receive({ timeoutMs: 1000 });
          ctx.check(pong, 'an answer within 1 s');
          ctx.check.equal(Buffer.from(pong!.data).toString(), 'PING', 'the answer echoes the request');
        });
        await ctx.step('read the status', async () => {
          await dut.send(REPLY);
          const status = Buffer.from((await dut.receive({ timeoutMs: 1000 }))!.data).toString();
          ctx.check.equal(status, 'OK', 'status reply');
          ctx.check.match(status, /^[A-Z]+$/, 'reply is upper-case ASCII');
        });
      },
    },
    {
      id: 2,
      name: 'supply and frame',
      measurements: [{ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 } }],
      async run(ctx) {
        const volts = 5.01;
        ctx.measurements.set('supply_voltage', volts);
        ctx.check.near(volts, 5, 0.1, 'supply near 5 V');
        const frame = Uint8Array.of(0x02, 0x10, 0x03);
        ctx.check.includes(frame, 0x10, 'frame carries the command byte');
        ctx.check.within(frame.length, { lower: 3, upper: 8 }, 'frame length');
        // A plain assertion that fails ends the case and is a row of the report too.
        assert.equal(frame[0], 0x02, 'frame starts with STX');
      },
    },
  ],
});
