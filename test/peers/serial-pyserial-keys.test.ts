import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from 'pino';
import { SerialConnector, type SerialConnectorConfig } from '../../src/connectors/serial.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { collect, peerTestFile, PtyPair, PythonPeer, waitUntil } from './peer-helpers.js';

// pykiso CCSerial's pyserial keys (write_timeout, inter_byte_timeout, dsrdtr) and
// opening by USB ids, against pyserial on the far end of a socat pty pair.
const { skip, cleanups } = peerTestFile('serial pyserial keys');

/** A logger that keeps the warnings, to see what kiso said. */
function warningLogger(warnings: string[]): Logger {
  const silent = silentLogger();
  const logger: Logger = new Proxy(silent, {
    get(target, key) {
      if (key === 'warn') return (...args: unknown[]) => warnings.push(String(args.find((arg) => typeof arg === 'string')));
      if (key === 'child') return () => logger;
      return Reflect.get(target, key);
    },
  });
  return logger;
}

function connector(config: SerialConnectorConfig, log: Logger = silentLogger()): SerialConnector {
  const serial = new SerialConnector(config, { name: 'uart', log, baseDir: process.cwd() });
  cleanups.add(() => serial.close());
  return serial;
}

async function pair(): Promise<PtyPair> {
  const pty = await PtyPair.start();
  cleanups.add(() => pty.stop());
  return pty;
}

async function peer(port: string): Promise<PythonPeer> {
  const started = await PythonPeer.start('serial_peer.py', [port]);
  cleanups.add(() => started.stop());
  return started;
}

const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');

describe('CCSerial pyserial keys over a socat pty pair', () => {
  it('write_timeout: a send the far end never reads rejects naming write_timeout; the port stays usable for closing', { skip }, async () => {
    const pty = await pair();
    await peer(pty.b); // opens the far end and reads nothing
    const serial = connector({ port: pty.a, write_timeout: 0.2 });
    await serial.open();
    // Far more than the pty buffers and socat hold together: it cannot all be taken while nobody reads.
    await assert.rejects(serial.send(Buffer.alloc(4 * 1024 * 1024, 0x55)), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_SEND'), String(error));
      assert.match(error.message, /serial connector "uart": serial port .* did not take 4194304 byte\(s\) within write_timeout \(0\.2 s\)/);
      return true;
    });
    await serial.close();
    assert.equal(serial.isOpen, false);
  });

  it('write_timeout: a send the far end reads resolves', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const serial = connector({ port: pty.a, write_timeout: 30 });
    await serial.open();
    far.send({ op: 'read', count: 5, timeout: 10 });
    await serial.send('hello');
    const read = await far.next((event) => event.ok === 'read', 'the peer to read');
    assert.equal(Buffer.from(String(read.hex), 'hex').toString(), 'hello');
  });

  it('inter_byte_timeout: bytes written in pieces are one message; the next burst after the gap is another', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    // 2 s of quiet ends a message; the peer's pieces come 20 ms apart.
    const serial = connector({ port: pty.a, inter_byte_timeout: 2 });
    const received = collect(serial);
    await serial.open();
    await far.request({ op: 'write', hex: Buffer.from('abcdefghi').toString('hex'), pieces: 3 });
    await waitUntil(() => received.length >= 1, 'the first message');
    await far.request({ op: 'write', hex: Buffer.from('jkl').toString('hex') });
    await waitUntil(() => received.length >= 2, 'the second message');
    assert.deepEqual(received.map((message) => text(message.data)), ['abcdefghi', 'jkl']);
  });

  it('dsrdtr on a port without modem lines (a pty) warns once and still sends', { skip }, async () => {
    const pty = await pair();
    const far = await peer(pty.b);
    const warnings: string[] = [];
    const serial = connector({ port: pty.a, dsrdtr: true, write_timeout: 5 }, warningLogger(warnings));
    await serial.open();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /dsrdtr is set but serial port .* has no modem control lines .*sends do not wait for DSR/);
    far.send({ op: 'read', count: 2, timeout: 10 });
    await serial.send('ok');
    const read = await far.next((event) => event.ok === 'read', 'the peer to read');
    assert.equal(Buffer.from(String(read.hex), 'hex').toString(), 'ok');
  });

  it('opens the port the list names for serial_number (vid/pid alone match two adapters)', { skip }, async () => {
    const pty = await pair();
    const other = await pair();
    const far = await peer(pty.b);
    const saved = SerialConnector.listPorts;
    cleanups.add(() => {
      SerialConnector.listPorts = saved;
    });
    // Two identical FTDI adapters, as serialport lists them; the ptys stand for the devices.
    SerialConnector.listPorts = async () => [
      { path: other.a, vendorId: '0403', productId: '6001', serialNumber: 'FT1', manufacturer: 'FTDI' },
      { path: pty.a, vendorId: '0403', productId: '6001', serialNumber: 'FT2', manufacturer: 'FTDI' },
    ];
    const ambiguous = connector({ vid: 0x0403, pid: 0x6001 });
    await assert.rejects(ambiguous.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /2 serial ports match vid 0403, pid 6001/.test(error.message));
    const serial = connector({ vid: 0x0403, pid: 0x6001, serial_number: 'FT2' });
    const received = collect(serial);
    await serial.open();
    assert.equal(serial.path, pty.a);
    await far.request({ op: 'write', hex: Buffer.from('found').toString('hex') });
    await waitUntil(() => received.map((m) => text(m.data)).join('') === 'found', 'the bytes of the found port');
    SerialConnector.listPorts = saved;
  });
});
