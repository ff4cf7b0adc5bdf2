import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';

/** Sends a command and returns the device's answer as text. */
async function ask(dut: CommunicationAuxiliary, command: string): Promise<string> {
  await dut.send(command);
  const answer = await dut.receive({ timeoutMs: 2000 });
  assert.ok(answer, `no answer to ${command} within 2 s`);
  return Buffer.from(answer.data).toString();
}

export default defineSuite({
  name: 'device check',
  auxiliaries: ['dut', 'device'],
  cases: [
    {
      id: 1,
      name: 'the device answers',
      async run(ctx) {
        assert.equal(await ask(ctx.aux('dut'), 'PING'), 'PONG');
      },
    },
    {
      id: 2,
      name: 'the firmware is 1.4.2',
      async run(ctx) {
        const version = await ask(ctx.aux('dut'), 'VERSION?');
        ctx.log.info({ version, serial: ctx.dut?.serial_number }, 'firmware version');
        assert.equal(version, '1.4.2', 'wrong firmware');
      },
    },
    {
      id: 3,
      name: 'the supply voltage is in range, ten readings',
      async run(ctx) {
        for (let i = 0; i < 10; i++) {
          const volts = Number(await ask(ctx.aux('dut'), 'VOLT?'));
          assert.ok(volts >= 4.75 && volts <= 5.25, `supply ${volts} V out of 4.75..5.25 V`);
        }
      },
    },
  ],
});
