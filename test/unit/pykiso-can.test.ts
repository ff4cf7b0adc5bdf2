import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSchema } from '../../src/core/package-root.js';
import { validateWith } from '../../src/config/schema.js';
import { pcanBusArguments, pcanNotes, vectorBusArguments, PCanCanConnector, VectorCanConnector, type PCanCanConfig, type VectorCanConfig } from '../../src/connectors/pykiso-can.js';
import { silentLogger } from '../../src/core/logging.js';

/**
 * CCPCanCan and CCVectorCan: each pykiso config becomes the can.Bus(...)
 * call pykiso's own connector makes (cc_pcan_can.py, cc_vector_can.py).
 * The configs go through the type's schema first, as a station's do, so
 * the schema defaults take part.
 */
function validated<T>(schema: string, config: Record<string, unknown>): T {
  const copy = structuredClone(config);
  const problems = validateWith(readSchema(schema), copy, ['connectors', 'can', 'config']);
  assert.deepEqual(problems, []);
  return copy as T;
}

const pcan = (config: Record<string, unknown>) => pcanBusArguments(validated<PCanCanConfig>('connectors/pcan-can.schema.json', config));
const vector = (config: Record<string, unknown>) => vectorBusArguments(validated<VectorCanConfig>('connectors/vector-can.schema.json', config));

describe('CCPCanCan → python-can Bus arguments', () => {
  it('pykiso\'s example (interface, channel, state only) opens as pykiso\'s defaults do', () => {
    assert.deepEqual(pcan({ interface: 'pcan', channel: 'PCAN_USBBUS1', state: 'ACTIVE' }), {
      interface: 'pcan',
      channel: 'PCAN_USBBUS1',
      kwargs: {
        state: 'ACTIVE',
        bitrate: 500000,
        fd: true,
        f_clock_mhz: 80,
        nom_brp: 2,
        nom_tseg1: 63,
        nom_tseg2: 16,
        nom_sjw: 16,
        data_brp: 4,
        data_tseg1: 7,
        data_tseg2: 2,
        data_sjw: 2,
        can_filters: null,
      },
    });
  });

  it('an empty config is the same call (every key has pykiso\'s default)', () => {
    assert.deepEqual(pcan({}), pcan({ interface: 'pcan', channel: 'PCAN_USBBUS1', state: 'ACTIVE' }));
    assert.deepEqual(pcanBusArguments({}), pcan({}), 'the translation applies the defaults itself too');
  });

  it('pykiso\'s config_connectors.yaml PCAN entry: bit timing, filters, FD, passive state', () => {
    const args = pcan({
      interface: 'pcan',
      channel: 'PCAN_USBBUS2',
      state: 'passive',
      bitrate: 250000,
      is_fd: true,
      enable_brs: true,
      f_clock_mhz: 40,
      nom_brp: 1,
      nom_tseg1: 127,
      nom_tseg2: 32,
      nom_sjw: 32,
      data_brp: 2,
      data_tseg1: 15,
      data_tseg2: 4,
      data_sjw: 4,
      is_extended_id: false,
      remote_id: 0x123,
      can_filters: [{ can_id: 0x123, can_mask: 0xfff, extended: false }],
      logging_activated: true,
      trace_path: './traces',
      trace_size: 10,
      strategy_trc_file: 'testCase',
      merge_trc_logs: false,
    });
    assert.deepEqual(args, {
      interface: 'pcan',
      channel: 'PCAN_USBBUS2',
      kwargs: {
        state: 'PASSIVE',
        bitrate: 250000,
        fd: true,
        f_clock_mhz: 40,
        nom_brp: 1,
        nom_tseg1: 127,
        nom_tseg2: 32,
        nom_sjw: 32,
        data_brp: 2,
        data_tseg1: 15,
        data_tseg2: 4,
        data_sjw: 4,
        can_filters: [{ can_id: 0x123, can_mask: 0xfff, extended: false }],
      },
    });
  });

  it('classic CAN (is_fd: false): fd false, bitrate used; bus_error_warning_filter drops the driver\'s bus-error lines; bus_kwargs come last', () => {
    const args = pcan({ is_fd: false, bitrate: 125000, bus_error_warning_filter: true, bus_kwargs: { auto_reset: true, state: 'PASSIVE' } });
    assert.equal(args.kwargs.fd, false);
    assert.equal(args.kwargs.bitrate, 125000);
    assert.equal(args.kwargs.auto_reset, true);
    assert.equal(args.kwargs.state, 'PASSIVE');
    assert.deepEqual(args.drop_log_prefixes, { 'can.pcan': ['Bus error: an error counter'] });
  });

  it('out-of-range bit timing and an unknown state are config errors naming the key', () => {
    const problems = validateWith(readSchema('connectors/pcan-can.schema.json'), { nom_brp: 0, data_tseg2: 17, f_clock_mhz: 16, state: 'SLEEPY' }, ['c']);
    const text = problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n');
    assert.match(text, /c\.nom_brp: must be between 1 and 1024, got 0/);
    assert.match(text, /c\.data_tseg2: must be between 1 and 16, got 17/);
    assert.match(text, /c\.f_clock_mhz: must be one of 20, 24, 30, 40, 60, 80/);
    assert.match(text, /c\.state: must be one of "ACTIVE", "PASSIVE"/);
  });

  it('plain-bytes sends are CAN FD by default (pykiso\'s is_fd: true), classic with is_fd: false', () => {
    const fd = new PCanCanConnector({ remote_id: 0x7e0 }, { name: 'p', log: silentLogger(), baseDir: '.' });
    assert.equal(fd.toFrame({ data: Uint8Array.of(1) }).can.fd, true);
    const classic = new PCanCanConnector({ remote_id: 0x7e0, is_fd: false }, { name: 'p', log: silentLogger(), baseDir: '.' });
    assert.equal(classic.toFrame({ data: Uint8Array.of(1) }).can.fd, false);
    assert.deepEqual(fd.bridgeBus(), pcanBusArguments({}));
  });

  it('says what the PCAN trace keys do in kiso', () => {
    assert.match(pcanNotes({ trace_path: './t', logging_activated: true }).join('\n'), /trace_path.*not written by kiso.*activate_trace/);
    assert.deepEqual(pcanNotes({ logging_activated: false }), []);
    assert.match(pcanNotes({ is_fd: false, enable_brs: true, logging_activated: false }).join('\n'), /enable_brs has no effect/);
  });
});

describe('CCVectorCan → python-can Bus arguments', () => {
  it('pykiso\'s config_connectors.yaml Vector entry', () => {
    const args = vector({
      bustype: 'vector',
      poll_interval: 0.01,
      rx_queue_size: 524288,
      serial: 0, // YAML 0000
      channel: 3,
      bitrate: 500000,
      data_bitrate: 2000000,
      fd: true,
      app_name: null,
      can_filters: [{ can_id: 0x123, can_mask: 0xfff, extended: false }],
      is_extended_id: false,
    });
    assert.deepEqual(args, {
      interface: 'vector',
      channel: 3,
      kwargs: {
        poll_interval: 0.01,
        rx_queue_size: 524288,
        serial: 0,
        app_name: null,
        bitrate: 500000,
        data_bitrate: 2000000,
        fd: true,
        bitrate_switch: false,
        can_filters: [{ can_id: 0x123, can_mask: 0xfff, extended: false }],
      },
    });
  });

  it('an empty config is pykiso\'s defaults: channel 3, no serial, no app_name (a global channel index)', () => {
    assert.deepEqual(vector({}), {
      interface: 'vector',
      channel: 3,
      kwargs: { poll_interval: 0.01, rx_queue_size: 524288, serial: null, app_name: null, bitrate: 500000, data_bitrate: 2000000, fd: true, bitrate_switch: false, can_filters: null },
    });
    assert.deepEqual(vectorBusArguments({}), vector({}));
  });

  it('serial AUTO is looked up by the bridge (vector only); a serial written as text becomes a number; app_name and channel lists pass', () => {
    const auto = vector({ serial: 'AUTO', app_name: 'CANoe', channel: [0, 1], enable_brs: true, fd: true });
    assert.equal(auto.vector_serial_auto, true);
    assert.equal(auto.kwargs.serial, null);
    assert.equal(auto.kwargs.app_name, 'CANoe');
    assert.deepEqual(auto.channel, [0, 1]);
    assert.equal(auto.kwargs.bitrate_switch, true);
    assert.equal(vector({ serial: '12345' }).kwargs.serial, 12345);
    const elsewhere = vector({ bustype: 'udp_multicast', serial: 'auto', channel: '239.74.163.2', bus_kwargs: { port: 43999 } });
    assert.equal(elsewhere.vector_serial_auto, undefined);
    assert.equal(elsewhere.interface, 'udp_multicast');
    assert.equal(elsewhere.kwargs.port, 43999);
  });

  it('a serial that is no number nor AUTO, and a bad channel, are config errors', () => {
    const problems = validateWith(readSchema('connectors/vector-can.schema.json'), { serial: 'first', channel: -1 }, ['c']);
    const text = problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n');
    assert.match(text, /c\.serial/);
    assert.match(text, /c\.channel/);
  });

  it('plain-bytes sends follow fd (pykiso sends is_fd=self.fd), unless is_fd says otherwise', () => {
    const context = { name: 'v', log: silentLogger(), baseDir: '.' };
    assert.equal(new VectorCanConnector({ remote_id: 1 }, context).toFrame({ data: Uint8Array.of(1) }).can.fd, true);
    assert.equal(new VectorCanConnector({ remote_id: 1, fd: false }, context).toFrame({ data: Uint8Array.of(1) }).can.fd, false);
    assert.equal(new VectorCanConnector({ remote_id: 1, fd: true, is_fd: false }, context).toFrame({ data: Uint8Array.of(1) }).can.fd, false);
  });
});
