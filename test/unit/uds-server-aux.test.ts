import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { UdsAuxiliary } from '../../src/auxiliaries/uds.js';
import { UdsCallback, UdsServerAuxiliary, formatUdsData } from '../../src/auxiliaries/uds-server.js';
import { UdsNegativeResponseError, UdsNoResponseError } from '../../src/can/uds.js';
import { validateWith } from '../../src/config/schema.js';
import { MemoryCanBus } from '../../src/connectors/memory-can.js';
import type { CanFrame } from '../../src/can/frame.js';
import { silentLogger } from '../../src/core/logging.js';
import { readSchema } from '../../src/core/package-root.js';

/**
 * kiso's UdsAuxiliary (tester) against UdsServerAuxiliary (ECU, pykiso's
 * callbacks) on an in-memory CAN bus, with pykiso's tp_layer keys. A bus tap
 * sees every frame, so the addressing bytes on the wire are checked too.
 */
const GUARD_MS = 10_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(clientConfig: Record<string, unknown> = {}, serverConfig: Record<string, unknown> = {}) {
  const bus = new MemoryCanBus();
  const frames: CanFrame[] = [];
  cleanups.push(bus.tap((frame) => frames.push(frame)));
  const a = bus.connector('tester');
  const b = bus.connector('ecu');
  await a.open();
  await b.open();
  const client = new UdsAuxiliary({ request_id: 0x7e0, response_id: 0x7e8, uds_layer: { p2_ms: GUARD_MS }, ...clientConfig } as never, { name: 'uds', log: silentLogger(), connectors: { com: a }, baseDir: process.cwd() });
  // pykiso's server naming: request_id is what it sends, response_id what it receives.
  const server = new UdsServerAuxiliary({ request_id: 0x7e8, response_id: 0x7e0, ...serverConfig } as never, { name: 'ecu', log: silentLogger(), connectors: { com: b }, baseDir: process.cwd() });
  await server.createInstance();
  await client.createInstance();
  cleanups.push(() => a.close(), () => b.close(), () => server.deleteInstance(), () => client.deleteInstance());
  return { client, server, frames };
}

describe('UdsCallback (pykiso\'s fields)', () => {
  it('builds pykiso\'s responses: positive by default, response_data appended and zero-padded to data_length', () => {
    assert.deepEqual([...new UdsCallback({ request: 0x3e00 }).response], [0x7e, 0x00]);
    assert.deepEqual([...new UdsCallback({ request: 0x1003, response: 0x50031234 }).response], [0x50, 0x03, 0x12, 0x34]);
    assert.deepEqual([...new UdsCallback({ request: 0x220102, response_data: 'DATA', data_length: 6 }).response], [0x62, 0x01, 0x02, 0x44, 0x41, 0x54, 0x41, 0, 0]);
    assert.deepEqual([...new UdsCallback({ request: [0x22, 0xf1, 0x90], response_data: Uint8Array.of(1, 2) }).response], [0x62, 0xf1, 0x90, 1, 2]);
    assert.equal(new UdsCallback({ request: [0x2e, 0x01, 0x02] }).key, '0x2E0102');
    assert.equal(formatUdsData([0x10, 0x03]), '0x1003');
    assert.throws(() => new UdsCallback({ request: [] }), /at least one byte/);
  });
});

describe('UdsServerAuxiliary against UdsAuxiliary', () => {
  it('answers registered requests (prefix match, first registered wins), counts calls, leaves the rest unanswered', async () => {
    const { client, server } = await pair();
    server.registerCallback(0x1003, 0x50031234);
    server.registerCallback(0x220102, undefined, 'DATA', 6);
    server.registerCallback({ request: 0x22, response: [0x7f, 0x22, 0x31] }); // any other DID: requestOutOfRange
    assert.deepEqual(Object.keys(server.callbacks), ['0x1003', '0x220102', '0x22']);

    const session = await client.diagnosticSessionControl('extended');
    assert.equal(session.session, 3);
    client.stopTesterPresent();
    assert.deepEqual([...(await client.readDataByIdentifier(0x0102))], [0x44, 0x41, 0x54, 0x41, 0, 0]);
    const refused = await client.sendUdsRaw([0x22, 0xf1, 0x90]);
    assert.equal(refused.positive, false);
    assert.equal(refused.nrcName, 'requestOutOfRange');
    await assert.rejects(client.request([0x11, 0x01], { timeoutMs: 300 }), UdsNoResponseError);
    assert.equal(server.callbacks['0x1003']!.callCount, 1);
    assert.equal(server.callCount(0x220102), 1);
    assert.equal(server.callCount('0x22'), 1);
    assert.deepEqual(server.receivedRequests(), ['0x1003', '0x220102', '0x22F190', '0x1101']);

    assert.equal(server.unregisterCallback(0x1003), true);
    assert.equal(server.unregisterCallback('0x1003'), false);
    assert.deepEqual(Object.keys(server.callbacks), ['0x220102', '0x22']);
  });

  it('a callback function answers with sendResponse, any number of times (response pending, then the answer); a long response is segmented', async () => {
    const { client, server } = await pair();
    const seen: number[][] = [];
    server.registerCallback(0x1101, undefined, undefined, undefined, async (request, aux) => {
      seen.push([...request]);
      await aux.sendResponse([0x7f, 0x11, 0x78]);
      await aux.sendResponse([0x51, 0x01]);
    });
    const vin = 'WDD2221821A123456';
    server.registerCallback({ request: [0x22, 0xf1, 0x90], response_data: vin });
    assert.deepEqual([...(await client.request([0x11, 0x01]))], [0x51, 0x01]);
    assert.deepEqual(seen, [[0x11, 0x01]]);
    assert.equal(Buffer.from(await client.readDataByIdentifier(0xf190)).toString(), vin);
  });

  it('a failing callback is logged and the server goes on', async () => {
    const { client, server } = await pair();
    server.registerCallback(0x3e00, undefined, undefined, undefined, () => {
      throw new Error('boom');
    });
    server.registerCallback(0x1001);
    await assert.rejects(client.request([0x3e, 0x00], { timeoutMs: 300 }), UdsNoResponseError);
    assert.deepEqual([...(await client.request([0x10, 0x01]))], [0x50, 0x01]);
  });

  it('EXTENDED addressing: n_ta leads every frame sent, frames for another n_sa are ignored', async () => {
    const { client, server, frames } = await pair(
      { tp_layer: { addressing_type: 'EXTENDED', n_sa: 0xf1, n_ta: 0x10 } },
      { tp_layer: { addressing_type: 'EXTENDED', n_sa: 0x10, n_ta: 0xf1 } },
    );
    server.registerCallback({ request: [0x22, 0xf1, 0x90], response_data: 'A'.repeat(20) });
    assert.equal(Buffer.from(await client.readDataByIdentifier(0xf190)).toString(), 'A'.repeat(20));
    const tester = frames.filter((f) => f.can.id === 0x7e0);
    const ecu = frames.filter((f) => f.can.id === 0x7e8);
    assert.ok(tester.length >= 2 && ecu.length >= 3, 'a single frame, a flow control; a first frame and consecutive frames');
    assert.ok(tester.every((f) => f.data[0] === 0x10), 'every tester frame starts with N_TA 0x10');
    assert.ok(ecu.every((f) => f.data[0] === 0xf1), 'every ECU frame starts with N_TA 0xF1');
    assert.deepEqual([...tester[0]!.data.subarray(0, 5)], [0x10, 0x03, 0x22, 0xf1, 0x90], 'address byte, then the single frame PCI');
    assert.equal(ecu[0]!.data[1]! >> 4, 1, 'a first frame after the address byte');
  });

  it('MIXED addressing: n_ae leads every frame both ways', async () => {
    const { client, server, frames } = await pair({ tp_layer: { addressing_type: 'MIXED', n_ae: 0x42 } }, { tp_layer: { addressing_type: 'MIXED', n_ae: 0x42 } });
    server.registerCallback(0x1003);
    assert.equal((await client.diagnosticSessionControl('extended')).session, 3);
    client.stopTesterPresent();
    assert.ok(frames.length >= 2 && frames.every((f) => f.data[0] === 0x42));
  });

  it('discard_neg_resp: negative responses are ignored and a positive one within P2 is taken', async () => {
    const { client, server } = await pair({ tp_layer: { discard_neg_resp: true } });
    server.registerCallback(0x1001, undefined, undefined, undefined, async (_request, aux) => {
      await aux.sendResponse([0x7f, 0x10, 0x22]);
      await aux.sendResponse([0x50, 0x01]);
    });
    assert.deepEqual([...(await client.request([0x10, 0x01]))], [0x50, 0x01]);
    const plain = await pair();
    plain.server.registerCallback(0x1001, undefined, undefined, undefined, async (_request, aux) => {
      await aux.sendResponse([0x7f, 0x10, 0x22]);
    });
    await assert.rejects(plain.client.request([0x10, 0x01]), UdsNegativeResponseError);
  });
});

describe('pykiso\'s tp_layer keys in the schema', () => {
  const check = (config: Record<string, unknown>): string =>
    validateWith(readSchema('auxiliaries/uds.schema.json'), config, ['auxiliaries', 'uds_aux', 'config'])
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');

  it('pykiso\'s uds.yaml tp_layer and uds_layer validate as written', () => {
    assert.equal(
      check({
        odx_file_path: null,
        request_id: 0x123,
        response_id: 0x321,
        uds_layer: { transport_protocol: 'CAN', p2_can_client: 5, p2_can_server: 1 },
        tp_layer: { addressing_type: 'NORMAL', n_sa: 0xff, n_ta: 0xff, n_ae: 0xff, m_type: 'DIAGNOSTICS', discard_neg_resp: false, req_id: 0x123, res_id: 0x321 },
      }),
      '',
    );
  });

  it('says what each addressing needs, and what kiso does not support', () => {
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { addressing_type: 'EXTENDED', n_sa: 0xf1 } }), /tp_layer\.n_ta: missing required key "n_ta" \(EXTENDED addressing puts n_ta before every frame sent/);
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { addressing_type: 'MIXED' } }), /tp_layer\.n_ae: missing required key "n_ae" \(MIXED addressing puts n_ae/);
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { m_type: 'REMOTE_DIAGNOSTICS' } }), /tp_layer\.addressing_type: missing required key "addressing_type" \(m_type REMOTE_DIAGNOSTICS travels with the N_AE of MIXED addressing/);
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { m_type: 'REMOTE_DIAGNOSTICS', addressing_type: 'NORMAL' } }), /tp_layer\.addressing_type: must be "MIXED", got "NORMAL" \(m_type REMOTE_DIAGNOSTICS/);
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { addressing_type: 'FUNCTIONAL' } }), /addressing_type: must be one of "NORMAL", "NORMAL_FIXED", "EXTENDED", "MIXED"/);
    assert.match(check({ request_id: 1, response_id: 2, odx_file_path: './ecu.odx' }), /odx_file_path: must be empty, got "\.\/ecu\.odx"/);
    assert.match(check({ request_id: 1, response_id: 2, tp_layer: { n_ta: 256 } }), /tp_layer\.n_ta: must be between 0 and 255, got 256/);
  });
});
