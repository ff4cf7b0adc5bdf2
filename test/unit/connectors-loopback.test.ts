import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopbackConnector } from '../../src/connectors/loopback.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';

function loopback(): LoopbackConnector {
  return new LoopbackConnector({}, { name: 'loop', log: silentLogger(), baseDir: process.cwd() });
}

/** Resolves with the first `count` messages; rejects if they do not come (a safety net, not a timing check). */
function collect(connector: LoopbackConnector, count: number): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages arrived`)), 10_000);
    const detach = connector.attach((message) => {
      got.push(message);
      if (got.length === count) {
        clearTimeout(timer);
        detach();
        resolve(got);
      }
    });
  });
}

describe('LoopbackConnector', () => {
  it('echoes a sent message back asynchronously, with a timestamp', async () => {
    const connector = loopback();
    await connector.open();
    const received = collect(connector, 1);
    const seen: Message[] = [];
    connector.attach((message) => seen.push(message));
    const before = Date.now() / 1000;
    const sending = connector.send(Uint8Array.from([1, 2, 3]));
    assert.equal(seen.length, 0, 'delivery must not happen inside send()');
    await sending;
    const [message] = await received;
    assert.deepEqual([...message!.data], [1, 2, 3]);
    assert.equal(typeof message!.timestamp, 'number');
    assert.ok(message!.timestamp! >= before - 1);
    assert.deepEqual(connector.stats, { sent: 1, received: 1, malformed: 0 });
    await connector.close();
  });

  it('keeps the transport fields and copies the bytes', async () => {
    const connector = loopback();
    await connector.open();
    const received = collect(connector, 1);
    const data = Uint8Array.from([9, 9]);
    await connector.send({ data, channel: 'vcan0', can: { id: 0x123, extended: false, remote: false, fd: false, brs: false, esi: false } });
    data[0] = 0;
    const [message] = await received;
    assert.deepEqual([...message!.data], [9, 9]);
    assert.equal(message!.channel, 'vcan0');
    assert.equal(message!.can?.id, 0x123);
    await connector.close();
  });

  it('sends text as UTF-8', async () => {
    const connector = loopback();
    await connector.open();
    const received = collect(connector, 1);
    await connector.send('héllo');
    const [message] = await received;
    assert.equal(Buffer.from(message!.data).toString('utf8'), 'héllo');
    await connector.close();
  });

  it('delivers 1,000 messages in the order they were sent', async () => {
    const connector = loopback();
    await connector.open();
    const received = collect(connector, 1000);
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 1000; i++) {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, i);
      sends.push(connector.send(data));
    }
    await Promise.all(sends);
    const messages = await received;
    assert.deepEqual(
      messages.map((m) => new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength).getUint32(0)),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    await connector.close();
  });

  it('rejects sends while closed with KISO_CONNECTOR_CLOSED, and close is idempotent', async () => {
    const connector = loopback();
    await assert.rejects(connector.send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    await connector.open();
    await connector.close();
    await connector.close();
    assert.equal(connector.isOpen, false);
    await assert.rejects(connector.send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    await connector.open();
    const received = collect(connector, 1);
    await connector.send('again');
    assert.equal(Buffer.from((await received)[0]!.data).toString(), 'again');
    await connector.close();
  });

  it('drops what is in flight when closed before delivery', async () => {
    const connector = loopback();
    await connector.open();
    const seen: Message[] = [];
    connector.attach((message) => seen.push(message));
    const sending = connector.send('late');
    const closing = connector.close();
    await Promise.all([sending, closing]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 0);
  });

  it('rejects data that is not bytes with KISO_CONNECTOR_INVALID_MESSAGE', async () => {
    const connector = loopback();
    await connector.open();
    await assert.rejects(connector.send({ data: 'text' as unknown as Uint8Array }), (error) => isKisoError(error, 'KISO_CONNECTOR_INVALID_MESSAGE'));
    await connector.close();
  });
});
