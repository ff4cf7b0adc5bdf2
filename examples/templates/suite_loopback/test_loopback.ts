import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';

export default defineSuite({
  name: 'loopback',
  auxiliaries: ['aux1'],
  setup(ctx) {
    ctx.aux<CommunicationAuxiliary>('aux1').clearBuffer();
  },
  cases: [
    {
      id: 1,
      name: 'a message comes back unchanged',
      tags: { variant: ['nightly'] },
      requirements: ['REQ-LOOP-1'],
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        await aux1.send(Buffer.from([0x01, 0x02, 0x03]));
        const echo = await aux1.receive({ timeoutMs: 1000 });
        assert.ok(echo, 'nothing came back within 1 s');
        assert.deepEqual([...echo.data], [0x01, 0x02, 0x03]);
      },
    },
    {
      id: 2,
      name: 'messages come back in order',
      tags: { variant: ['nightly', 'quick'] },
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        for (let i = 0; i < 100; i++) await aux1.send(`frame ${i}`);
        for (let i = 0; i < 100; i++) {
          const message = await aux1.receive({ timeoutMs: 1000 });
          assert.equal(Buffer.from(message!.data).toString(), `frame ${i}`);
        }
      },
    },
    {
      id: 3,
      name: 'pykiso commands: runCommand and waitAndGetReport',
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        await aux1.runCommand('send', 'hello');
        const report = await aux1.waitAndGetReport({ timeoutMs: 1000 });
        assert.equal(report?.ok, true);
        const received = await aux1.receive();
        assert.equal(Buffer.from(received!.data).toString(), 'hello');
        ctx.log.info({ bytes: received!.data.length }, 'got the echo back');
      },
    },
  ],
});
