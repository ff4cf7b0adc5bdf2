import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { freeUdpPort, pythonCanMissing } from '../helpers/peers.js';
import { fileURLToPath } from 'node:url';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { validateWith } from '../../src/config/schema.js';
import { PCanCanConnector, VectorCanConnector, type PCanCanConfig, type VectorCanConfig } from '../../src/connectors/pykiso-can.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { readSchema } from '../../src/core/package-root.js';
import { Cleanups, PYTHON, PythonPeer, collect, waitUntil, type PeerEvent } from './peer-helpers.js';

/**
 * pykiso's PCAN and Vector station configs, with only `interface` /
 * `bustype` swapped (pykiso's own keys), open through the python-can bridge
 * and exchange frames with a separate python-can process on python-can's
 * udp_multicast bus; on python-can's in-process `virtual` bus the bridge
 * hears its own frames. Every other pykiso key is passed as pykiso passes it.
 */

const GROUP = '239.74.163.2';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const missing = pythonCanMissing();
const skip = missing ? `skipped: ${missing}` : false;
if (missing) console.log(`skipped: pykiso CAN adapter tests: ${missing}`);

const cleanups = new Cleanups();
after(() => cleanups.run());

/** The config as a station hands it over: validated, defaults filled in. */
function validated<T>(schema: string, config: Record<string, unknown>): T {
  const problems = validateWith(readSchema(schema), config, ['connectors', 'can_channel', 'config']);
  assert.deepEqual(problems, []);
  return config as T;
}

const context = (name: string) => ({ name, log: silentLogger(), baseDir: ROOT });

/** pykiso's config_connectors.yaml PCAN entry. */
const PYKISO_PCAN = {
  interface: 'pcan',
  channel: 'PCAN_USBBUS1',
  state: 'ACTIVE',
  bitrate: 500000,
  is_fd: true,
  f_clock_mhz: 80,
  nom_brp: 2,
  nom_tseg1: 63,
  nom_tseg2: 16,
  nom_sjw: 16,
  data_brp: 4,
  data_tseg1: 7,
  data_tseg2: 2,
  data_sjw: 2,
  is_extended_id: false,
  remote_id: 0x123,
  logging_activated: true,
  bus_error_warning_filter: true,
};

/** pykiso's config_connectors.yaml Vector entry. */
const PYKISO_VECTOR = {
  bustype: 'vector',
  poll_interval: 0.01,
  rx_queue_size: 524288,
  serial: 0,
  channel: 3,
  bitrate: 500000,
  data_bitrate: 2000000,
  fd: true,
  app_name: null,
  is_extended_id: false,
  remote_id: 0x456,
};

function peerFrame(event: PeerEvent): { id: number; fd: boolean; brs: boolean; extended: boolean; data: string } {
  return event.frame as never;
}

async function peerOn(port: number): Promise<PythonPeer> {
  const peer = await PythonPeer.start('python_can_peer.py', [JSON.stringify({ interface: 'udp_multicast', channel: GROUP, kwargs: { port, fd: true } })]);
  cleanups.add(() => peer.stop());
  return peer;
}

async function exchange(kiso: PCanCanConnector | VectorCanConnector, peer: PythonPeer, remoteId: number): Promise<void> {
  const received = collect(kiso);
  await kiso.send(Uint8Array.of(0xde, 0xad)); // plain bytes: remote_id, CAN FD as pykiso sends them
  const plain = peerFrame(await peer.next((e) => peerFrame(e)?.id === remoteId, 'the plain-bytes frame at the peer'));
  assert.equal(plain.data, 'dead');
  assert.equal(plain.fd, true);
  await kiso.send(canFrame({ id: 0x1abcdef, extended: true, data: [1, 2, 3] }));
  const extended = peerFrame(await peer.next((e) => peerFrame(e)?.id === 0x1abcdef, 'the extended frame at the peer'));
  assert.equal(extended.extended, true);
  peer.send({ send: { id: 0x321, data: 'cafe' } });
  peer.send({ send: { id: 0x654, fd: true, brs: true, data: 'ab'.repeat(12) } });
  const byId = (id: number) => received.find((m) => m.can?.id === id) as CanFrame | undefined;
  await waitUntil(() => !!byId(0x321) && !!byId(0x654), 'the peer frames at kiso');
  assert.equal(Buffer.from(byId(0x321)!.data).toString('hex'), 'cafe');
  assert.equal(byId(0x654)!.can.fd, true);
  assert.equal(byId(0x654)!.data.length, 12);
  assert.equal(kiso.stats.malformed, 0);
}

describe('pykiso\'s CCPCanCan and CCVectorCan through python-can', { skip }, () => {
  it('CCPCanCan: pykiso\'s PCAN config with interface udp_multicast opens and exchanges frames with a python-can peer', async () => {
    const port = await freeUdpPort();
    const peer = await peerOn(port);
    const config = validated<PCanCanConfig>('connectors/pcan-can.schema.json', { ...PYKISO_PCAN, interface: 'udp_multicast', channel: GROUP, bus_kwargs: { port } });
    const kiso = new PCanCanConnector(config, context('pcan_channel'));
    cleanups.add(() => kiso.close());
    await kiso.open();
    assert.equal(kiso.bridgeBus().kwargs.nom_tseg1, 63, 'the PCAN bit timing went to python-can');
    assert.equal(kiso.bridgeBus().kwargs.state, 'ACTIVE');
    await exchange(kiso, peer, 0x123);
    await kiso.close();
  });

  it('CCVectorCan: pykiso\'s Vector config with bustype udp_multicast opens and exchanges frames with a python-can peer', async () => {
    const port = await freeUdpPort();
    const peer = await peerOn(port);
    const config = validated<VectorCanConfig>('connectors/vector-can.schema.json', { ...PYKISO_VECTOR, bustype: 'udp_multicast', channel: GROUP, bus_kwargs: { port } });
    const kiso = new VectorCanConnector(config, context('can_channel'));
    cleanups.add(() => kiso.close());
    await kiso.open();
    assert.equal(kiso.bridgeBus().kwargs.rx_queue_size, 524288);
    await exchange(kiso, peer, 0x456);
    await kiso.close();
  });

  it('on python-can\'s virtual bus (every pykiso key passed, state as a BusState) the bridge hears its own frames', async () => {
    const pcan = new PCanCanConnector(
      validated<PCanCanConfig>('connectors/pcan-can.schema.json', { ...PYKISO_PCAN, interface: 'virtual', channel: `pcan-${process.pid}`, state: 'passive', bus_kwargs: { receive_own_messages: true } }),
      context('pcan_virtual'),
    );
    cleanups.add(() => pcan.close());
    await pcan.open();
    const received = collect(pcan);
    await pcan.send(Uint8Array.of(1, 2, 3));
    await waitUntil(() => received.length === 1, 'the frame back from the virtual bus');
    assert.equal(received[0]!.can?.id, 0x123);
    assert.equal(received[0]!.can?.fd, true);
    await pcan.close();
  });

  it('pykiso\'s Vector config as it is fails to open on Linux with python-can\'s reason; serial AUTO with no Vector device says so', async () => {
    const vector = new VectorCanConnector(validated<VectorCanConfig>('connectors/vector-can.schema.json', { ...PYKISO_VECTOR }), context('vector'));
    cleanups.add(() => vector.close());
    await assert.rejects(vector.open(), (error: unknown) => {
      assert.ok(isKisoError(error, 'KISO_CONNECTOR_OPEN'), String(error));
      assert.match(error.message, /interface vector channel 3/);
      assert.match(error.message, /only supported on Windows|vxlapi|Vector/);
      return true;
    });
    const auto = new VectorCanConnector(validated<VectorCanConfig>('connectors/vector-can.schema.json', { ...PYKISO_VECTOR, serial: 'AUTO' }), context('vector_auto'));
    cleanups.add(() => auto.close());
    await assert.rejects(auto.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /serial: AUTO found no Vector device|only supported on Windows|vxlapi/.test(error.message));
  });

  it('a state python-can does not know (past the schema) is an open error naming it', async () => {
    const kiso = new PCanCanConnector({ interface: 'virtual', channel: `bad-${process.pid}`, state: 'SLEEPY' }, context('bad_state'));
    cleanups.add(() => kiso.close());
    await assert.rejects(kiso.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /state 'SLEEPY' is not a python-can BusState \(ACTIVE, PASSIVE/.test(error.message));
  });
});
