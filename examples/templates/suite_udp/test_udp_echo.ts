import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';

/** The "device" (server) answers each request with the same bytes reversed. */
async function answerOnce(server: CommunicationAuxiliary): Promise<void> {
  const request = await server.receive({ timeoutMs: 2000 });
  assert.ok(request, 'the server got no request');
  await server.send({ data: Buffer.from(request.data).reverse(), peer: request.peer });
}

export default defineSuite({
  name: 'UDP request and answer',
  auxiliaries: ['client', 'server'],
  cases: [
    {
      id: 1,
      name: 'the device answers a request',
      requirements: ['REQ-UDP-1'],
      async run(ctx) {
        const client = ctx.aux<CommunicationAuxiliary>('client');
        const server = ctx.aux<CommunicationAuxiliary>('server');
        await client.send(Buffer.from('ping'));
        await answerOnce(server);
        const answer = await client.receive({ timeoutMs: 2000 });
        assert.ok(answer, 'no answer within 2 s');
        assert.equal(Buffer.from(answer.data).toString(), 'gnip');
      },
    },
    {
      id: 2,
      name: 'ten requests, ten answers, in order',
      async run(ctx) {
        const client = ctx.aux<CommunicationAuxiliary>('client');
        const server = ctx.aux<CommunicationAuxiliary>('server');
        for (let i = 0; i < 10; i++) {
          await client.send(`req-${i}`);
          await answerOnce(server);
          const answer = await client.receive({ timeoutMs: 2000 });
          assert.equal(Buffer.from(answer!.data).toString(), `req-${i}`.split('').reverse().join(''));
        }
      },
    },
  ],
});
