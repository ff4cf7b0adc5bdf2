import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDelimiter, SerialConnector, StreamFramer, type SerialConnectorConfig } from '../../src/connectors/serial.js';
import { BUILTIN_TYPES } from '../../src/builtins.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { collect, peerTestFile, PtyPair, PythonPeer, waitUntil } from './peer-helpers.js';

const { skip, cleanups } = peerTestFile('serial');

function connector(config: SerialConnectorConfig, name = 'uart'): SerialConnector {
  const serial = new SerialConnector(config, { name, log: silentLogger(), baseDir: process.cwd() });
  cleanups.add(() => serial.close());
  return serial;
}

async function pair(): Promise<PtyPair> {
  const pty = await PtyPair.start();
  cleanups.add(() => pty.stop());
  return pty;
}

async function peer(port: string, ...args: string[]): Promise<PythonPeer> {
  const started = await PythonPeer.start('serial_peer.py', [port, ...args]);
  cleanups.add(() => started.stop());
  return started;
}

const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');
const totalBytes = (messages: Array<{ data: Uint8Array }>) => messages.reduce((sum, message) => sum + message.data.length, 0);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('serial framing (no port needed)', () => {
  const run = (framer: StreamFramer, chunks: string[]) => chunks.flatMap((chunk) => framer.push(Buffer.from(chunk, 'latin1')).map(text));

  it('finds a multi-byte delimiter split across reads', () => {
    const framer = new StreamFramer({ mode: 'delimiter', delimiter: '\\r\\n' }, 100, () => assert.fail('nothing is malformed'));
    assert.deepEqual(run(framer, ['ab\r', '\ncd\r', '\n', '\r', '\nef']), ['ab', 'cd']);
    assert.equal(framer.pendingBytes, 2);
  });

  it('drops an oversized run once, up to the next delimiter, across reads', () => {
    const kinds: string[] = [];
    const framer = new StreamFramer({ mode: 'delimiter' }, 4, (kind) => kinds.push(kind));
    assert.deepEqual(run(framer, ['abcdef', 'ghijkl', 'mn\nok\n', 'toolong\n', 'x\n']), ['ok', 'x']);
    assert.deepEqual(kinds, ['oversized message', 'oversized message']);
    assert.equal(framer.pendingBytes, 0);
  });

  it('cuts fixed-length messages whatever the read sizes', () => {
    const framer = new StreamFramer({ mode: 'fixed', length: 3 }, 100, () => {});
    assert.deepEqual(run(framer, ['a', 'bcde', 'fghij', 'k']), ['abc', 'def', 'ghi']);
    assert.equal(framer.pendingBytes, 2);
  });

  it('decodes C escapes and byte lists', () => {
    assert.deepEqual([...parseDelimiter('\\r\\n')], [13, 10]);
    assert.deepEqual([...parseDelimiter('\n')], [10]);
    assert.deepEqual([...parseDelimiter('\\x02END')], [2, 0x45, 0x4e, 0x44]);
    assert.deepEqual([...parseDelimiter([0x7e])], [0x7e]);
    assert.deepEqual([...parseDelimiter('\\\\')], [0x5c]);
  });

  it('is registered as CCSerial, serial and pykiso cc_serial:CCSerial', async () => {
    assert.equal(await BUILTIN_TYPES.CCSerial.load(), SerialConnector);
    assert.ok((BUILTIN_TYPES.CCSerial.aliases as readonly string[]).includes('pykiso.lib.connectors.cc_serial:CCSerial'));
  });
});

describe('SerialConnector against pyserial over a socat pty pair', () => {
  it('carries bytes both ways (raw framing)', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a });
    const received = collect(serial);
    await serial.open();

    await far.request({ op: 'write', hex: Buffer.from('hello from the device').toString('hex') });
    await waitUntil(() => totalBytes(received) >= 21, 'the device bytes');
    assert.equal(received.map((message) => text(message.data)).join(''), 'hello from the device');
    assert.ok(received.every((message) => typeof message.timestamp === 'number'));

    far.send({ op: 'read', count: 13, timeout: 10 });
    await serial.send('hello, device');
    const read = await far.next((event) => event.ok === 'read', 'the peer to read');
    assert.equal(Buffer.from(String(read.hex), 'hex').toString(), 'hello, device');
    assert.equal(serial.stats.sent, 1);
  });

  it('raw framing splits chunks bigger than max_message_size', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, framing: { mode: 'raw' }, max_message_size: 7 });
    const received = collect(serial);
    await serial.open();
    const payload = 'abcdefghijklmnopqrstuvwxyz0123456789';
    await far.request({ op: 'write', hex: Buffer.from(payload).toString('hex') });
    await waitUntil(() => totalBytes(received) >= payload.length, 'all bytes');
    assert.equal(received.map((message) => text(message.data)).join(''), payload);
    assert.ok(received.every((message) => message.data.length >= 1 && message.data.length <= 7));
  });

  it('delimiter framing: text escapes, pieces split across reads, delimiter stripped', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, framing: { mode: 'delimiter', delimiter: '\\r\\n' } });
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: Buffer.from('one\r\ntwo\r\n\r\nthree\r\npart').toString('hex'), pieces: 7 });
    await waitUntil(() => received.length >= 3, 'three lines');
    await far.request({ op: 'write', hex: Buffer.from('ial\r\n').toString('hex') });
    await waitUntil(() => received.length >= 4, 'the fourth line');
    assert.deepEqual(received.map((message) => text(message.data)), ['one', 'two', 'three', 'partial']);
  });

  it('delimiter framing: byte-list delimiter kept when keep_delimiter is set', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, framing: { mode: 'delimiter', delimiter: [0x7e], keep_delimiter: true } });
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: '01027e0304057e', pieces: 3 });
    await waitUntil(() => received.length >= 2, 'two frames');
    assert.deepEqual(received.map((message) => Buffer.from(message.data).toString('hex')), ['01027e', '0304057e']);
  });

  it('fixed framing: messages of length bytes; a partial one left at close is counted', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, framing: { mode: 'fixed', length: 4 } });
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: '00010203040506070809', pieces: 3 });
    await waitUntil(() => received.length >= 2, 'two messages');
    await far.request({ op: 'write', hex: '0a0b0c' });
    await waitUntil(() => received.length >= 3, 'the third message');
    assert.deepEqual(received.map((message) => Buffer.from(message.data).toString('hex')), ['00010203', '04050607', '08090a0b']);
    await serial.close();
    assert.equal(serial.malformedCounts()['incomplete message'], 1);
  });

  it('delimiter framing: a run longer than max_message_size is dropped and counted once; the next message arrives', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, framing: { mode: 'delimiter', delimiter: '\n' }, max_message_size: 16 });
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: Buffer.from(`${'x'.repeat(100)}\nok\n`).toString('hex'), pieces: 5 });
    await waitUntil(() => received.length >= 1, 'the message after the oversized one');
    assert.deepEqual(received.map((message) => text(message.data)), ['ok']);
    assert.equal(serial.malformedCounts()['oversized message'], 1);
    assert.equal(serial.stats.malformed, 1);
  });

  it('moves 1 MB from the device to kiso with nothing lost', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a });
    const chunks: Uint8Array[] = [];
    serial.attach((message) => chunks.push(message.data));
    await serial.open();
    const size = 1024 * 1024;
    const written = await far.request({ op: 'write_random', count: size, seed: 7 }, 60_000);
    await waitUntil(() => totalBytes(chunks.map((data) => ({ data }))) >= size, '1 MB at kiso', 60_000);
    const all = Buffer.concat(chunks);
    assert.equal(all.length, size);
    assert.equal(sha256(all), written.sha256);
  });

  it('moves 1 MB from kiso to the device with nothing lost', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a });
    await serial.open();
    const payload = randomBytes(1024 * 1024);
    far.send({ op: 'read', count: payload.length, timeout: 60 });
    // Several sends, as a test would: 16 × 64 KiB.
    for (let offset = 0; offset < payload.length; offset += 65_536) await serial.send(payload.subarray(offset, offset + 65_536));
    const read = await far.next((event) => event.ok === 'read', 'the peer to read 1 MB', 60_000);
    assert.equal(read.bytes, payload.length);
    assert.equal(read.sha256, sha256(payload));
  });

  it('a port that does not exist fails to open with KISO_CONNECTOR_OPEN naming it', { skip }, async () => {
    const pty = await pair();
    const path = join(pty.a, '..', 'no-such-port');
    const serial = connector({ port: path });
    await assert.rejects(serial.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, new RegExp(path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
      assert.match(error.message, /no such port/);
      assert.match(error.message, /"uart"/);
      return true;
    });
    assert.equal(serial.isOpen, false);
  });

  it('a busy port (opened twice) fails the second open clearly', { skip }, async () => {
    const pty = await pair();
    const first = connector({ port: pty.a }, 'first');
    await first.open();
    const second = connector({ port: pty.a }, 'second');
    await assert.rejects(second.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.ok(error.message.includes(pty.a), error.message);
      assert.match(error.message, /busy/);
      assert.match(error.message, /"second"/);
      return true;
    });
    // The first one is unaffected.
    const far = await peer(pty.b);
    const received = collect(first);
    await far.request({ op: 'write', hex: '2a' });
    await waitUntil(() => received.length >= 1, 'a byte on the first connector');
  });

  it('a port held exclusively by another program (pyserial exclusive=True) is busy', { skip }, async () => {
    const pty = await pair();
    await peer(pty.a, '--exclusive');
    const serial = connector({ port: pty.a });
    await assert.rejects(serial.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && error.message.includes(pty.a) && /busy/.test(error.message));
  });

  it('reports a port that vanishes mid-run (socat killed) through onError, and later sends reject clearly', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a });
    const errors: Error[] = [];
    serial.onError((error) => errors.push(error));
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: '01' });
    await waitUntil(() => received.length >= 1, 'traffic before the failure');

    await pty.stop();
    await waitUntil(() => errors.length >= 1, 'the vanished-port error');
    assert.equal(errors.length, 1);
    assert.ok(isKisoError(errors[0], 'KISO_CONNECTOR_CLOSED'));
    assert.ok(errors[0]!.message.includes(pty.a), errors[0]!.message);
    assert.match(errors[0]!.message, /vanished/);

    await assert.rejects(serial.send('after'), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED') && error.message.includes(pty.a));
    await serial.close();
    assert.equal(serial.isOpen, false);
  });
});
