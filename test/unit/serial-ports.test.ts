import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { registerBuiltins } from '../../src/builtins.js';
import { ConfigError } from '../../src/config/issues.js';
import { loadStationConfig } from '../../src/config/load.js';
import { describeListError, describeQuery, matchingPorts, parseUsbId, selectPort, type ListedPort } from '../../src/connectors/serial-ports.js';
import { SerialConnector, StreamFramer, waitForDsr } from '../../src/connectors/serial.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';

registerBuiltins();

// What serialport's SerialPort.list() gives on Linux (udev): ids as lower-case hex text.
const PORTS: ListedPort[] = [
  { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'A10KDSLR', manufacturer: 'FTDI' },
  { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', serialNumber: 'B20XQ7', manufacturer: 'FTDI' },
  { path: '/dev/ttyACM0', vendorId: '2341', productId: '0043', serialNumber: '8573531303', manufacturer: 'Arduino (www.arduino.cc)' },
  { path: '/dev/ttyS0' },
];

const KISO_OPEN = (check: (message: string) => void) => (error: unknown) => {
  assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
  check(error.message);
  return true;
};

describe('finding a serial port by vid/pid/serial_number', () => {
  it('reads USB ids as numbers or hex text', () => {
    assert.equal(parseUsbId(0x0403), 0x0403);
    assert.equal(parseUsbId('0403'), 0x0403);
    assert.equal(parseUsbId('0x6001'), 0x6001);
    assert.equal(parseUsbId('EA60'), 0xea60);
    assert.throws(() => parseUsbId('ftdi'), RangeError);
    assert.equal(describeQuery({ vid: 1027, pid: '6001', serial_number: 'A1' }), 'vid 0403, pid 6001, serial_number A1');
  });

  it('every given key must match (pykiso YAML gives vid and pid as integers)', () => {
    assert.deepEqual(matchingPorts(PORTS, { vid: 0x2341, pid: 0x0043 }).map((p) => p.path), ['/dev/ttyACM0']);
    assert.deepEqual(matchingPorts(PORTS, { vid: 1027, pid: 24577 }).map((p) => p.path), ['/dev/ttyUSB0', '/dev/ttyUSB1']);
    assert.deepEqual(matchingPorts(PORTS, { vid: 0x0403, pid: 0x6001, serial_number: 'B20XQ7' }).map((p) => p.path), ['/dev/ttyUSB1']);
    assert.deepEqual(matchingPorts(PORTS, { serial_number: 'A10KDSLR' }).map((p) => p.path), ['/dev/ttyUSB0']);
    assert.deepEqual(matchingPorts(PORTS, { vid: '0403', serial_number: '8573531303' }), []);
    // Upper-case ids (Windows) and a 0x prefix match too.
    assert.deepEqual(matchingPorts([{ path: 'COM3', vendorId: '10C4', productId: '0xEA60' }], { vid: 0x10c4, pid: 0xea60 }).map((p) => p.path), ['COM3']);
  });

  it('one match is the port to open', () => {
    assert.equal(selectPort(PORTS, { serial_number: 'B20XQ7' }, 'serial connector "uart"'), '/dev/ttyUSB1');
  });

  it('no match names what was asked and every port found', () => {
    assert.throws(() => selectPort(PORTS, { vid: 0x10c4, pid: 0xea60 }, 'serial connector "uart"'), KISO_OPEN((message) => {
      assert.match(message, /serial connector "uart": no serial port matches vid 10c4, pid ea60/);
      assert.match(message, /\/dev\/ttyUSB0 \(0403:6001, serial A10KDSLR, FTDI\)/);
      assert.match(message, /\/dev\/ttyACM0 \(2341:0043, serial 8573531303, Arduino/);
      assert.match(message, /\/dev\/ttyS0 \(no USB ids\)/);
    }));
    assert.throws(() => selectPort([], { serial_number: 'X' }, 'serial connector "uart"'), KISO_OPEN((message) => assert.match(message, /no serial ports were found at all/)));
  });

  it('several matches are an error naming them, never the first one picked', () => {
    assert.throws(() => selectPort(PORTS, { vid: 0x0403, pid: 0x6001 }, 'serial connector "uart"'), KISO_OPEN((message) => {
      assert.match(message, /2 serial ports match vid 0403, pid 6001: \/dev\/ttyUSB0 .*; \/dev\/ttyUSB1 /);
      assert.match(message, /add serial_number to pick one/);
    }));
  });

  it('a listing that fails for want of udevadm says so', () => {
    const error = Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT', path: 'udevadm' });
    assert.match(describeListError(error), /udevadm is not installed \(Debian package udev\).*set port instead/);
  });

  it('the connector opens what the list names and fails clearly when nothing matches', async () => {
    const saved = SerialConnector.listPorts;
    try {
      SerialConnector.listPorts = async () => PORTS;
      const serial = new SerialConnector({ vid: 0x10c4 }, { name: 'uart', log: silentLogger(), baseDir: process.cwd() });
      await assert.rejects(serial.open(), KISO_OPEN((message) => assert.match(message, /no serial port matches vid 10c4: the ports found are \/dev\/ttyUSB0/)));
      SerialConnector.listPorts = async () => {
        throw Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT', path: 'udevadm' });
      };
      await assert.rejects(serial.open(), KISO_OPEN((message) => assert.match(message, /cannot list the serial ports to find vid 10c4: udevadm is not installed/)));
      const both = new SerialConnector({ port: '/dev/ttyUSB0', serial_number: 'A10KDSLR' }, { name: 'uart', log: silentLogger(), baseDir: process.cwd() });
      await assert.rejects(both.open(), KISO_OPEN((message) => assert.match(message, /both port \(\/dev\/ttyUSB0\) and serial_number A10KDSLR are set; keep the path or the ids/)));
    } finally {
      SerialConnector.listPorts = saved;
    }
  });
});

describe('CCSerial pyserial keys', () => {
  it('timeout (seconds) is the default receive timeout of the port', () => {
    const context = { name: 'uart', log: silentLogger(), baseDir: process.cwd() };
    assert.equal(new SerialConnector({ port: '/dev/null', timeout: 2.5 }, context).defaultReceiveTimeoutMs, 2500);
    assert.equal(new SerialConnector({ port: '/dev/null', timeout: 0 }, context).defaultReceiveTimeoutMs, 0);
    assert.equal(new SerialConnector({ port: '/dev/null', timeout: null }, context).defaultReceiveTimeoutMs, undefined);
  });

  it('inter_byte_timeout: raw bytes are held until the gap, cut at max_message_size', () => {
    const framer = new StreamFramer({ mode: 'raw' }, 4, () => assert.fail('nothing is malformed'), true);
    assert.deepEqual(framer.push(Buffer.from('ab')), []);
    assert.deepEqual(framer.push(Buffer.from('cdef')).map(String), ['abcd']);
    assert.equal(String(framer.flush()), 'ef');
    assert.equal(framer.flush(), undefined);
  });

  it('inter_byte_timeout: a gap ends a partial delimited or fixed message; the tail of an oversized run is dropped', () => {
    const delimited = new StreamFramer({ mode: 'delimiter' }, 8, () => {}, true);
    assert.deepEqual(delimited.push(Buffer.from('one\ntw')).map(String), ['one']);
    assert.equal(String(delimited.flush()), 'tw');
    const fixed = new StreamFramer({ mode: 'fixed', length: 3 }, 8, () => {}, true);
    assert.deepEqual(fixed.push(Buffer.from('abcde')).map(String), ['abc']);
    assert.equal(String(fixed.flush()), 'de');
    const kinds: string[] = [];
    const oversized = new StreamFramer({ mode: 'delimiter' }, 4, (kind) => kinds.push(kind), true);
    assert.deepEqual(oversized.push(Buffer.from('abcdefgh')), []);
    assert.equal(oversized.flush(), undefined);
    assert.deepEqual(oversized.push(Buffer.from('ok\n')).map(String), ['ok']);
    assert.deepEqual(kinds, ['oversized message']);
  });

  it('dsrdtr: a send waits for DSR, gives up at write_timeout, and stops when the port goes', async () => {
    let reads = 0;
    assert.equal(await waitForDsr(async () => ++reads >= 3, { pollMs: 1, stopped: () => undefined }), 'ready');
    assert.equal(reads, 3);
    assert.equal(await waitForDsr(async () => false, { timeoutMs: 20, pollMs: 1, stopped: () => undefined }), 'timeout');
    let gone: string | undefined;
    const waiting = waitForDsr(async () => {
      gone = 'closed';
      return false;
    }, { pollMs: 1, stopped: () => gone });
    assert.equal(await waiting, 'stopped');
  });

  it('the schema takes pykiso\'s keys and opens by ids without port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-serial-keys-'));
    const station = (config: string) => `auxiliaries:\n  com_aux:\n    connectors:\n        com: serial\n    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary\nconnectors:\n  serial:\n    config:\n${config}    type: pykiso.lib.connectors.cc_serial:CCSerial\n`;
    writeFileSync(path.join(dir, 'ok.yaml'), station('      vid: 0x0403\n      pid: 0x6001\n      serial_number: A10KDSLR\n      baudrate: 9600\n      timeout: 1.5\n      write_timeout: 2\n      dsrdtr: True\n      inter_byte_timeout: 0.05\n'));
    const config = await loadStationConfig(path.join(dir, 'ok.yaml'));
    assert.equal(config.connectors.get('serial')!.config.dsrdtr, true);
    writeFileSync(path.join(dir, 'hex.yaml'), station("      vid: '0403'\n      pid: 6001\n      timeout: null\n"));
    await loadStationConfig(path.join(dir, 'hex.yaml'));
    writeFileSync(path.join(dir, 'none.yaml'), station('      baudrate: 9600\n'));
    await assert.rejects(loadStationConfig(path.join(dir, 'none.yaml')), (error: unknown) => error instanceof ConfigError && /connectors\.serial\.config\.port: missing required key "port"/.test(error.message));
    writeFileSync(path.join(dir, 'bad.yaml'), station("      vid: ftdi\n      write_timeout: -1\n"));
    await assert.rejects(loadStationConfig(path.join(dir, 'bad.yaml')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /config\.vid: "ftdi" does not match/);
      assert.match(error.message, /config\.write_timeout: must be between 0 and 86400, got -1/);
      return true;
    });
  });
});
