import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { IsoTpTransport } from '../../src/can/isotp.js';
import { memoryCanPair } from '../../src/connectors/memory-can.js';
import { UdsServer, xorKey, type UdsServerOptions } from '../../src/can/uds-server.js';
import { NRC, NRC_NAMES, UdsClient, UdsInvalidResponseError, UdsNegativeResponseError, UdsNoResponseError, formatDtc, nrcName, type UdsClientOptions } from '../../src/can/uds.js';

/** Failure guard for waits: a hang becomes a failure, never a timing assertion. */
const GUARD_MS = 10_000;
const VIN = 'WDD2221821A123456';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(serverOptions: UdsServerOptions | null = {}, clientOptions: UdsClientOptions = {}) {
  const { a, b } = memoryCanPair();
  await a.open();
  await b.open();
  const testerTp = new IsoTpTransport(a, { txId: 0x7e0, rxId: 0x7e8 });
  const ecuTp = new IsoTpTransport(b, { txId: 0x7e8, rxId: 0x7e0 });
  const client = new UdsClient(testerTp, { p2Ms: GUARD_MS, ...clientOptions });
  const server = serverOptions === null ? undefined : new UdsServer(ecuTp, { dids: { 0xf190: Buffer.from(VIN) }, ...serverOptions });
  server?.start();
  cleanups.push(() => a.close(), () => b.close(), () => testerTp.close(), () => ecuTp.close(), () => client.close(), () => server?.stop());
  return { client, server, ecuTp, testerTp };
}

async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: any[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the request succeeded`);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + GUARD_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('UDS client', () => {
  it('reads a DID over a multi-frame response (the VIN)', async () => {
    const { client } = await setup();
    const vin = await client.readDataByIdentifier(0xf190);
    assert.equal(Buffer.from(vin).toString(), VIN);
  });

  it('turns a negative response into a typed error with the NRC name', async () => {
    const { client } = await setup();
    const error = await rejectsWith(client.readDataByIdentifier(0x1234), UdsNegativeResponseError);
    assert.equal(error.code, 'KISO_UDS_NEGATIVE_RESPONSE');
    assert.equal(error.sid, 0x22);
    assert.equal(error.serviceName, 'ReadDataByIdentifier');
    assert.equal(error.nrc, 0x31);
    assert.equal(error.nrcName, 'requestOutOfRange');
    assert.equal(error.message, 'ReadDataByIdentifier (22 12 34) refused: requestOutOfRange (NRC 0x31)');
  });

  it('returns a negative response as data through requestRaw', async () => {
    const { client } = await setup();
    const response = await client.requestRaw([0x22, 0x12, 0x34]);
    assert.equal(response.positive, false);
    assert.equal(response.nrc, 0x31);
    assert.equal(response.nrcName, 'requestOutOfRange');
    assert.deepEqual([...response.data], [0x7f, 0x22, 0x31]);
  });

  it('waits out "response pending" (0x78) with P2*, past P2', async () => {
    const { client, server } = await setup({ responsePending: { 0x22: 3 } }, { p2Ms: 200, p2StarMs: GUARD_MS });
    assert.equal(Buffer.from(await client.readDataByIdentifier(0xf190)).toString(), VIN);
    assert.equal(server!.requests.length, 1);
  });

  it('fails with UdsNoResponseError naming P2 when nothing answers', async () => {
    const { client } = await setup(null, { p2Ms: 20 });
    const error = await rejectsWith(client.readDataByIdentifier(0xf190), UdsNoResponseError);
    assert.equal(error.code, 'KISO_UDS_NO_RESPONSE');
    assert.match(error.message, /ReadDataByIdentifier \(22 F1 90\): no response within P2 = 20 ms/);
  });

  it('opens a session, keeps it alive with tester present, and stops at the default session', async () => {
    const { client, server } = await setup({ p2ServerMaxMs: 50, p2StarServerMaxMs: 2000 }, { testerPresentPeriodMs: 5 });
    const info = await client.diagnosticSessionControl('extended');
    assert.deepEqual(info, { session: 3, p2ServerMaxMs: 50, p2StarServerMaxMs: 2000 });
    assert.equal(server!.session, 3);
    assert.ok(client.testerPresentRunning);
    await until(() => server!.requests.filter((r) => r[0] === 0x3e && r[1] === 0x80).length >= 2, 'two tester present requests');
    await client.diagnosticSessionControl('default');
    assert.equal(client.testerPresentRunning, false);
    assert.equal(server!.session, 1);
  });

  it('unlocks security access through a seed/key hook, and reports an invalid key', async () => {
    const { client, server } = await setup();
    await client.diagnosticSessionControl(3);
    const wrong = await rejectsWith(client.securityAccess(1, (seed) => seed), UdsNegativeResponseError);
    assert.equal(wrong.nrcName, 'invalidKey');
    const seen: number[][] = [];
    const result = await client.securityAccess(1, (seed, level) => {
      seen.push([...seed, level]);
      return xorKey(seed);
    });
    assert.deepEqual(result, { seed: Uint8Array.of(0x12, 0x34, 0x56, 0x78), alreadyUnlocked: false });
    assert.deepEqual(seen, [[0x12, 0x34, 0x56, 0x78, 1]]);
    assert.equal(server!.unlockedLevel, 1);
    assert.equal((await client.securityAccess(1, () => assert.fail('no key for an unlocked level'))).alreadyUnlocked, true);
  });

  it('writes a DID in the extended session and reads it back; refuses it in the default session', async () => {
    const { client } = await setup({ dids: { 0x0101: Uint8Array.of(0) }, writableDids: [0x0101] });
    const refused = await rejectsWith(client.writeDataByIdentifier(0x0101, [5]), UdsNegativeResponseError);
    assert.equal(refused.nrcName, 'serviceNotSupportedInActiveSession');
    await client.diagnosticSessionControl('extended');
    await client.writeDataByIdentifier(0x0101, [1, 2, 3]);
    assert.deepEqual([...(await client.readDataByIdentifier(0x0101))], [1, 2, 3]);
  });

  it('starts a routine and returns its status record', async () => {
    const { client } = await setup({ routines: { 0xff00: (control, data) => Uint8Array.of(control, ...data, 0x00) } });
    assert.deepEqual([...(await client.routineControl('start', 0xff00, [0xaa]))], [1, 0xaa, 0x00]);
    assert.deepEqual([...(await client.routineControl('requestResults', 0xff00))], [3, 0x00]);
    assert.equal((await rejectsWith(client.routineControl('start', 0x1234), UdsNegativeResponseError)).nrcName, 'requestOutOfRange');
  });

  it('reads and clears DTCs', async () => {
    const dtcs = [{ dtc: 0x012345, status: 0x09, code: 'P0123-45' }, { dtc: 0xc10000, status: 0x08, code: 'U0100-00' }];
    const { client } = await setup({ dtcs: [...dtcs] });
    assert.deepEqual(await client.reportNumberOfDtcByStatusMask(0x01), { availabilityMask: 0xff, format: 1, count: 1 });
    assert.deepEqual(await client.reportDtcByStatusMask(0xff), { availabilityMask: 0xff, dtcs });
    assert.deepEqual((await client.reportSupportedDtc()).dtcs.map((d) => d.code), ['P0123-45', 'U0100-00']);
    await client.clearDiagnosticInformation();
    assert.deepEqual((await client.reportDtcByStatusMask(0xff)).dtcs, []);
  });

  it('resets the ECU: back to the default session, keep-alive stopped', async () => {
    const { client, server } = await setup();
    await client.diagnosticSessionControl('programming');
    assert.deepEqual(await client.ecuReset('softReset'), { resetType: 3 });
    assert.equal(client.session, 1);
    assert.equal(client.testerPresentRunning, false);
    assert.equal(server!.session, 1);
  });

  it('skips responses that answer something else, and checks the echoed DID', async () => {
    const { client, ecuTp } = await setup(null);
    const ecu = (async () => {
      const request = await ecuTp.receive({ timeoutMs: GUARD_MS });
      assert.deepEqual([...request!], [0x22, 0xf1, 0x90]);
      await ecuTp.send(Uint8Array.of(0x7f, 0x3e, 0x12)); // a negative answer to some tester present
      await ecuTp.send(Uint8Array.of(0x62, 0xf1, 0x91, 0x01)); // a positive answer for the wrong DID
    })();
    await rejectsWith(client.readDataByIdentifier(0xf190), UdsInvalidResponseError);
    await ecu;
  });

  it('sends tester present with the suppress bit and expects no answer', async () => {
    const { client, server } = await setup();
    await client.testerPresent();
    await client.testerPresent({ suppressResponse: false });
    await until(() => server!.requests.length === 2, 'both requests');
    assert.deepEqual(server!.requests.map((r) => [...r]), [[0x3e, 0x80], [0x3e, 0x00]]);
  });

  it('names every NRC and formats DTCs as SAE J2012 codes', () => {
    assert.equal(NRC_NAMES[0x78], 'requestCorrectlyReceivedResponsePending');
    assert.equal(NRC.securityAccessDenied, 0x33);
    assert.equal(nrcName(0x40), 'reservedByExtendedDataLinkSecurityDocument');
    assert.equal(nrcName(0xf3), 'vehicleManufacturerSpecificConditionsNotCorrect');
    assert.equal(nrcName(0x01), 'ISOSAEReserved');
    assert.equal(formatDtc(0x9a1b2c), 'B1A1B-2C');
    assert.equal(formatDtc(0x4fffff), 'C0FFF-FF');
  });
});

describe('UdsAuxiliary', () => {
  async function station(config: Record<string, unknown>, serverOptions: UdsServerOptions = {}) {
    const { UdsAuxiliary } = await import('../../src/auxiliaries/uds.js');
    const { silentLogger } = await import('../../src/core/logging.js');
    const { a, b } = memoryCanPair();
    await b.open();
    const ecuTp = new IsoTpTransport(b, { txId: 0x7e8, rxId: 0x7e0 });
    const server = new UdsServer(ecuTp, { dids: { 0xf190: Buffer.from(VIN) }, ...serverOptions });
    server.start();
    const aux = new UdsAuxiliary({ request_id: 0x7e0, response_id: 0x7e8, ...config } as never, { name: 'uds', log: silentLogger(), connectors: { com: a }, baseDir: process.cwd() });
    await aux.createInstance();
    cleanups.push(() => b.close(), () => ecuTp.close(), () => server.stop(), () => aux.deleteInstance());
    return { aux, server };
  }

  it('speaks UDS through its connector with the configured ISO-TP and UDS layers', async () => {
    const { aux, server } = await station({ tp_layer: { block_size: 4, st_min_ms: 0, padding: false, n_bs_ms: 500 }, uds_layer: { p2_ms: GUARD_MS, tester_present_period_ms: 5 } });
    assert.equal(Buffer.from(await aux.readDataByIdentifier(0xf190)).toString(), VIN);
    assert.equal(aux.isotp.timeouts.N_Bs, 500);
    await aux.diagnosticSessionControl('extended');
    await until(() => server!.requests.some((r) => r[0] === 0x3e), 'tester present while the session is open');
    const error = await rejectsWith(aux.readDataByIdentifier(0xbeef), UdsNegativeResponseError);
    assert.equal(error.nrcName, 'requestOutOfRange');
  });

  it('unlocks security access with the securityKeyHook', async () => {
    const { aux, server } = await station({});
    await aux.diagnosticSessionControl(3);
    await assert.rejects(async () => aux.securityAccess(1), /needs a key function/);
    aux.securityKeyHook = (seed) => xorKey(seed);
    await aux.securityAccess(1);
    assert.equal(server!.unlockedLevel, 1);
  });

  it('has pykiso\'s raw verbs: sendUdsRaw, checkRawResponsePositive/Negative, soft and hard reset', async () => {
    const { aux } = await station({ uds_layer: { p2_can_client: 5 } });
    const positive = await aux.sendUdsRaw([0x22, 0xf1, 0x90]);
    assert.equal(aux.checkRawResponsePositive(positive), true);
    const negative = await aux.sendUdsRaw([0x22, 0x00, 0x01]);
    assert.equal(aux.checkRawResponseNegative(negative), true);
    assert.throws(() => aux.checkRawResponsePositive(negative), { name: 'AssertionError', message: 'negative UDS response: requestOutOfRange (NRC 0x31)' });
    assert.deepEqual(await aux.softReset(), { resetType: 3 });
    assert.deepEqual(await aux.hardReset(), { resetType: 1 });
    assert.equal(aux.client.p2Ms, 5000);
  });

  it('keeps tester present going for the length of a block (pykiso\'s tester_present_sender)', async () => {
    const { aux, server } = await station({});
    await aux.withTesterPresent(() => until(() => server!.requests.filter((r) => r[0] === 0x3e).length >= 2, 'tester present'), 5);
    assert.equal(aux.client.testerPresentRunning, false);
  });

  it('runs pykiso-style commands', async () => {
    const { aux } = await station({});
    const report = await aux.runCommand('send_uds_raw', [0x22, 0xf1, 0x90]);
    assert.equal(report!.ok, true);
    assert.equal((report!.value as { positive: boolean }).positive, true);
  });
});
