import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';

export default defineSuite({
  name: 'every outcome',
  auxiliaries: ['aux1'],
  cases: [
    {
      name: 'passes',
      async run(ctx) {
        await ctx.aux<CommunicationAuxiliary>('aux1').send('ok');
      },
    },
    {
      name: 'fails an assertion',
      run(ctx) {
        ctx.log.info('measured 4.2 V');
        assert.equal(4.2, 5.0, 'supply voltage out of range');
      },
    },
    {
      name: 'errors: the device does not answer',
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        aux1.clearBuffer(); // the loopback echoed the first case's message
        const answer = await aux1.receive({ timeoutMs: 10 });
        if (answer === undefined) throw new Error('no answer from the device');
      },
    },
    {
      name: 'times out and still tears down',
      timeout: { run: 200 },
      run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
      teardown(ctx) {
        ctx.log.info('teardown ran after the timeout');
      },
    },
    {
      name: 'is skipped',
      skip: 'needs the climate chamber',
      run() {},
    },
  ],
});
