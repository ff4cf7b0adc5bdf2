import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { freeUdpPort, pythonCanMissing } from '../helpers/peers.js';
import { fileURLToPath } from 'node:url';
import { UdsServerAuxiliary } from '../../src/auxiliaries/uds-server.js';
import { PCanCanConnector } from '../../src/connectors/pykiso-can.js';
import { silentLogger } from '../../src/core/logging.js';
import { Cleanups, PYTHON, PythonPeer, type PeerEvent } from './peer-helpers.js';

/**
 * pykiso's UdsServerAuxiliary against ISO-TP frames a python-can process
 * sends: kiso's server sits on a CCPCanCan (pykiso's PCAN keys, interface
 * udp_multicast) behind the python-can bridge; python/python_can_peer.py is
 * the tester on the same python-can udp_multicast bus, and the test writes
 * each ISO-TP frame itself (single, first, consecutive, flow control), so
 * kiso's framing is checked against bytes no kiso code produced.
 */

const GROUP = '239.74.163.2';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REQUEST_ID = 0x7e0;
const RESPONSE_ID = 0x7e8;

const missing = pythonCanMissing();
const skip = missing ? `skipped: ${missing}` : false;
if (missing) console.log(`skipped: UDS server peer tests: ${missing}`);

const cleanups = new Cleanups();
after(() => cleanups.run());

interface PeerFrame {
  id: number;
  data: string;
}

async function station(tpLayer: Record<string, unknown> = {}): Promise<{ ecu: UdsServerAuxiliary; peer: PythonPeer }> {
  const port = await freeUdpPort();
  const peer = await PythonPeer.start('python_can_peer.py', [JSON.stringify({ interface: 'udp_multicast', channel: GROUP, kwargs: { port, fd: false } })]);
  cleanups.add(() => peer.stop());
  const bus = new PCanCanConnector({ interface: 'udp_multicast', channel: GROUP, state: 'ACTIVE', is_fd: false, logging_activated: false, bus_kwargs: { port, fd: false } }, { name: 'can_channel', log: silentLogger(), baseDir: ROOT });
  const ecu = new UdsServerAuxiliary({ request_id: RESPONSE_ID, response_id: REQUEST_ID, tp_layer: tpLayer }, { name: 'uds_aux', log: silentLogger(), connectors: { com: bus }, baseDir: ROOT });
  cleanups.add(() => ecu.deleteInstance());
  await bus.open();
  cleanups.add(() => bus.close());
  await ecu.createInstance();
  return { ecu, peer };
}

/** The peer puts one classic frame on the bus (8 bytes, padded 0xCC as kiso pads). */
function send(peer: PythonPeer, bytes: number[]): void {
  const padded = [...bytes, ...Array<number>(Math.max(0, 8 - bytes.length)).fill(0xcc)];
  peer.send({ send: { id: REQUEST_ID, data: Buffer.from(padded).toString('hex') } });
}

/** The next frame the ECU sent, as bytes. */
async function ecuFrame(peer: PythonPeer, what: string): Promise<number[]> {
  const event = await peer.next((e: PeerEvent) => (e.frame as PeerFrame | undefined)?.id === RESPONSE_ID, what);
  return [...Buffer.from((event.frame as PeerFrame).data, 'hex')];
}

describe('UdsServerAuxiliary against a python-can tester', { skip }, () => {
  it('answers single-frame requests with single frames, and a long response as first + consecutive frames after the tester\'s flow control', async () => {
    const { ecu, peer } = await station();
    ecu.registerCallback(0x1003, 0x50031234);
    const vin = 'WDD2221821A123456';
    ecu.registerCallback({ request: [0x22, 0xf1, 0x90], response_data: vin });

    send(peer, [0x02, 0x10, 0x03]);
    assert.deepEqual(await ecuFrame(peer, 'the session response'), [0x04, 0x50, 0x03, 0x12, 0x34, 0xcc, 0xcc, 0xcc]);

    send(peer, [0x03, 0x22, 0xf1, 0x90]);
    const first = await ecuFrame(peer, 'the first frame of the VIN');
    const length = 3 + vin.length;
    assert.deepEqual(first.slice(0, 5), [0x10, length, 0x62, 0xf1, 0x90]);
    send(peer, [0x30, 0x00, 0x00]); // flow control: continue, no block limit, no STmin
    const payload = first.slice(2);
    for (let sequence = 1; payload.length < length; sequence++) {
      const frame = await ecuFrame(peer, `consecutive frame ${sequence}`);
      assert.equal(frame[0], 0x20 | (sequence & 0x0f));
      payload.push(...frame.slice(1));
    }
    assert.equal(Buffer.from(payload.slice(3, length)).toString(), vin);
    assert.equal(ecu.callCount(0x1003), 1);
  });

  it('receives a multi-frame request (sends the flow control) and answers it', async () => {
    const { ecu, peer } = await station({ block_size: 0, st_min_ms: 0 });
    const written: number[][] = [];
    ecu.registerCallback(0x2ef190, undefined, undefined, undefined, async (request, aux) => {
      written.push([...request]);
      await aux.sendResponse([0x6e, 0xf1, 0x90]);
    });
    const record = Array.from({ length: 10 }, (_, i) => 0x40 + i);
    const request = [0x2e, 0xf1, 0x90, ...record];
    send(peer, [0x10, request.length, ...request.slice(0, 6)]);
    assert.deepEqual((await ecuFrame(peer, 'the flow control')).slice(0, 3), [0x30, 0x00, 0x00]);
    send(peer, [0x21, ...request.slice(6, 13)]);
    assert.deepEqual((await ecuFrame(peer, 'the write response')).slice(0, 4), [0x03, 0x6e, 0xf1, 0x90]);
    assert.deepEqual(written, [request]);
  });

  it('EXTENDED addressing (pykiso\'s n_sa / n_ta): only frames for its address, answers start with the tester\'s', async () => {
    const { ecu, peer } = await station({ addressing_type: 'EXTENDED', n_sa: 0x10, n_ta: 0xf1 });
    ecu.registerCallback(0x3e00);
    send(peer, [0x22, 0x02, 0x3e, 0x00]); // for ECU 0x22: not this one
    send(peer, [0x10, 0x02, 0x3e, 0x00]);
    assert.deepEqual(await ecuFrame(peer, 'the tester present response'), [0xf1, 0x02, 0x7e, 0x00, 0xcc, 0xcc, 0xcc, 0xcc]);
    assert.equal(ecu.callCount(0x3e00), 1, 'the frame for another address was not answered');
  });
});
