import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary, type Message } from 'kiso';

const REQUEST_ID = 0x300;
const RESPONSE_ID = 0x301;

const bytes = (message: Message | undefined): number[] => [...(message?.data ?? [])];

/** The next frame with `id` (other traffic on the bus is skipped). */
async function nextWithId(aux: CommunicationAuxiliary, id: number, timeoutMs = 2000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await aux.receive({ timeoutMs: Math.max(1, deadline - Date.now()) });
    assert.ok(message, `no frame with id 0x${id.toString(16)} within ${timeoutMs} ms`);
    if (message.can?.id === id) return message;
  }
}

export default defineSuite({
  name: 'shared CAN channel through MpProxyAuxiliary',
  auxiliaries: ['aux1', 'aux2', 'device'],
  setup(ctx) {
    ctx.aux<CommunicationAuxiliary>('aux1').clearBuffer();
    ctx.aux<CommunicationAuxiliary>('aux2').clearBuffer();
  },
  cases: [
    {
      id: 1,
      name: 'aux1 pings the device and both auxiliaries see the answer',
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        const aux2 = ctx.aux<CommunicationAuxiliary>('aux2');
        await aux1.send(Uint8Array.of(0x01)); // plain bytes go out with the channel's remote_id (0x300)
        assert.deepEqual(bytes(await nextWithId(aux1, RESPONSE_ID)), [0x01, 0x00]);
        // aux2 sees aux1's request (forwarded by the proxy), then the device's answer
        assert.deepEqual(bytes(await nextWithId(aux2, REQUEST_ID)), [0x01]);
        assert.deepEqual(bytes(await nextWithId(aux2, RESPONSE_ID)), [0x01, 0x00]);
      },
    },
    {
      id: 2,
      name: 'aux2 reads the version',
      async run(ctx) {
        const aux2 = ctx.aux<CommunicationAuxiliary>('aux2');
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        await aux2.send({ data: Uint8Array.of(0x02), can: { id: REQUEST_ID, extended: false, remote: false, fd: false, brs: false, esi: false } });
        const answer = await nextWithId(aux2, RESPONSE_ID);
        assert.deepEqual(bytes(answer), [0x02, 1, 4, 2], 'version 1.4.2');
        ctx.log.info({ version: bytes(answer).slice(1).join('.') }, 'device version');
        assert.deepEqual(bytes(await nextWithId(aux1, RESPONSE_ID)), [0x02, 1, 4, 2]);
      },
    },
    {
      id: 3,
      name: 'a burst of 200 echo requests comes back complete and in order to both',
      async run(ctx) {
        const aux1 = ctx.aux<CommunicationAuxiliary>('aux1');
        const aux2 = ctx.aux<CommunicationAuxiliary>('aux2');
        for (let i = 0; i < 200; i++) await aux1.send(Uint8Array.of(0x03, i >> 8, i & 0xff));
        for (const aux of [aux1, aux2]) {
          for (let i = 0; i < 200; i++) assert.deepEqual(bytes(await nextWithId(aux, RESPONSE_ID)), [0x03, i >> 8, i & 0xff]);
        }
      },
    },
  ],
});
