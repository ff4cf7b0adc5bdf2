import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { DUTAuxiliary } from '../../src/auxiliaries/dut.js';
import { SimulatedAuxiliary } from '../../src/auxiliaries/simulated.js';
import { CommandType, MessageType, decodeMessage, encodeMessage } from '../../src/auxiliaries/testapp/message.js';
import { UdpServerConnector } from '../../src/connectors/udp-server.js';
import { UdpConnector } from '../../src/connectors/udp.js';
import { silentLogger } from '../../src/core/logging.js';

// pykiso's virtual station in small: a DUTAuxiliary on CCUdp and a SimulatedAuxiliary
// on CCUdpServer, talking over UDP on loopback. Short waits keep the lost-communication
// scenarios quick; the integration test runs them with pykiso's own waits.

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function pair() {
  const port = await freeUdpPort();
  const context = (name: string) => ({ name, log: silentLogger(), baseDir: tmpdir() });
  const server = new UdpServerConnector({ dest_ip: '127.0.0.1', dest_port: port }, context('chan2'));
  const client = new UdpConnector({ dest_ip: '127.0.0.1', dest_port: port }, context('chan1'));
  const sim = new SimulatedAuxiliary({}, { ...context('aux_virtual'), connectors: { com: server } });
  const dut = new DUTAuxiliary({}, { ...context('aux_udp'), connectors: { com: client } });
  await sim.createInstance();
  await dut.createInstance(); // PING → ACK
  return { sim, dut, port, stop: async () => { await dut.deleteInstance(); await sim.deleteInstance(); } };
}

const quick = { ackTimeoutMs: 150, reportTimeoutMs: 150, abortTimeoutMs: 150 };

describe('DUTAuxiliary and SimulatedAuxiliary over UDP (pykiso\'s TestApp)', () => {
  it('a successful case: setup, run and teardown each acknowledged and reported TEST_PASS', async () => {
    const { dut, sim, stop } = await pair();
    try {
      for (const command of ['TEST_CASE_SETUP', 'TEST_CASE_RUN', 'TEST_CASE_TEARDOWN'] as const) {
        const result = await dut.testAppStep(command, 1, 14);
        assert.deepEqual(result, { outcome: 'passed', command, suiteId: 1, caseId: 14, reportType: 'TEST_PASS', tlvs: {}, logs: [] });
      }
      assert.deepEqual(sim.played.map((p) => [p.scenario, p.step, p.response]), [['handle_successful', 1, 'ack_with_report_ok'], ['handle_successful', 2, 'ack_with_report_ok'], ['handle_successful', 3, 'ack_with_report_ok']]);
    } finally {
      await stop();
    }
  });

  it('a failed report carries its failure reason; logs come with the report', async () => {
    const { dut, stop } = await pair();
    try {
      assert.equal((await dut.testAppStep('TEST_CASE_SETUP', 1, 16)).outcome, 'passed');
      const run = await dut.testAppStep('TEST_CASE_RUN', 1, 16);
      assert.equal(run.outcome, 'failed');
      assert.equal(run.reportType, 'TEST_FAILED');
      assert.match(run.tlvs.FAILURE_REASON!, /could not run$/);
      assert.match(run.reason!, /the DUT reports TEST_CASE_RUN of suite 1 case 16 FAILED: .*could not run/);
      assert.deepEqual(run.logs, ['log 1 of 2 of the simulated DUT, suite 1 case 16', 'log 2 of 2 of the simulated DUT, suite 1 case 16']);
      const ok = await dut.testAppStep('TEST_CASE_RUN', 1, 15); // a new case id: its own playbook, from the start (setup answer: ok)
      assert.equal(ok.outcome, 'passed');
      assert.deepEqual((await dut.testAppStep('TEST_CASE_RUN', 1, 15)).logs.length, 2);
    } finally {
      await stop();
    }
  });

  it('not implemented is its own outcome', async () => {
    const { dut, stop } = await pair();
    try {
      const setup = await dut.testAppStep('TEST_SUITE_SETUP', 3, 0);
      assert.equal(setup.outcome, 'not_implemented');
      assert.equal(setup.reportType, 'TEST_NOT_IMPLEMENTED');
    } finally {
      await stop();
    }
  });

  it('lost ACK: the command goes twice, then ABORT, which the device acknowledges (pykiso\'s 1/4)', async () => {
    const { dut, sim, stop } = await pair();
    try {
      const result = await dut.testAppStep('TEST_CASE_SETUP', 1, 4, quick);
      assert.equal(result.outcome, 'no_ack');
      assert.match(result.reason!, /no ACK within 0\.15 s, command sent 2 times/);
      assert.equal(result.abortAcknowledged, true);
      assert.deepEqual(sim.played.map((p) => p.response), ['nothing', 'nothing', 'ack']);
    } finally {
      await stop();
    }
  });

  it('lost report: ABORT unanswered twice restarts the auxiliary each time, which still answers after (pykiso\'s 1/5)', async () => {
    const { dut, sim, stop } = await pair();
    try {
      const result = await dut.testAppStep('TEST_CASE_SETUP', 1, 5, quick);
      assert.equal(result.outcome, 'no_report');
      assert.equal(result.abortAcknowledged, false);
      assert.deepEqual(sim.played.map((p) => p.response), ['ack', 'nothing', 'nothing']);
      assert.equal(dut.isRunning, true); // restarted: PING acknowledged
      assert.equal((await dut.testAppStep('TEST_CASE_RUN', 1, 5, quick)).outcome, 'passed');
    } finally {
      await stop();
    }
  });

  it('a device that does not answer PING: the auxiliary does not start, and says why', async () => {
    const port = await freeUdpPort();
    const client = new UdpConnector({ dest_ip: '127.0.0.1', dest_port: port }, { name: 'chan1', log: silentLogger(), baseDir: tmpdir() });
    const dut = new DUTAuxiliary({ ping_timeout_ms: 100 }, { name: 'aux_udp', log: silentLogger(), baseDir: tmpdir(), connectors: { com: client } });
    await assert.rejects(dut.createInstance(), /DUT auxiliary "aux_udp": the device did not acknowledge PING within 0\.1 s/);
    assert.equal(dut.isRunning, false);
  });

  it('the DUT acknowledges what the device sends, and drops frames that are not TestApp messages', async () => {
    const port = await freeUdpPort();
    const device = createSocket('udp4');
    await new Promise<void>((resolve) => device.bind(port, '127.0.0.1', resolve));
    const seen: Array<{ type: number; subType: number; token: number }> = [];
    device.on('message', (data, peer) => {
      const message = decodeMessage(data);
      seen.push({ type: message.type, subType: message.subType, token: message.token });
      if (message.type !== MessageType.COMMAND) return;
      const answer = (m: Parameters<typeof encodeMessage>[0]) => device.send(encodeMessage(m), peer.port, peer.address);
      device.send(Buffer.from('garbage!!!!'), peer.port, peer.address);
      answer({ type: MessageType.ACK, subType: 0, token: message.token, suiteId: message.suiteId, caseId: message.caseId });
      if (message.subType === CommandType.TEST_CASE_RUN) answer({ type: MessageType.REPORT, subType: 0, token: 77, suiteId: 1, caseId: 1 });
    });
    const client = new UdpConnector({ dest_ip: '127.0.0.1', dest_port: port }, { name: 'chan1', log: silentLogger(), baseDir: tmpdir() });
    const dut = new DUTAuxiliary({}, { name: 'aux_udp', log: silentLogger(), baseDir: tmpdir(), connectors: { com: client } });
    try {
      await dut.createInstance();
      assert.equal((await dut.testAppStep('TEST_CASE_RUN', 1, 1)).outcome, 'passed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      // PING, RUN, then the ACK of the report (its token, 77)
      assert.deepEqual(seen.map((m) => [m.type, m.subType]), [[0, 0], [0, 13], [2, 0]]);
      assert.equal(seen[2]!.token, 77);
    } finally {
      await dut.deleteInstance();
      device.close();
    }
  });
});
