import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { IsoTpTransport, type IsoTpOptions } from '../../src/can/isotp.js';
import { PcapWriter } from '../../src/can/pcap.js';
import { UDS_SERVICES, UdsClient, UdsNegativeResponseError } from '../../src/can/uds.js';
import { UdsServer, xorKey } from '../../src/can/uds-server.js';
import { VirtualCanConnector } from '../../src/connectors/virtual-can.js';
import { canFrame, type CanFrame } from '../../src/can/frame.js';
import { silentLogger } from '../../src/core/logging.js';

/**
 * kiso's pcap writer, ISO-TP and UDS against a decoder no one here wrote:
 * Wireshark's tshark (Debian package tshark). Traffic runs over kiso's
 * virtual CAN bus; a third connector on the bus writes it to a pcap file
 * (LINKTYPE_CAN_SOCKETCAN); tshark, told which ids carry ISO-TP and that
 * ISO-TP carries UDS, reassembles it and names every service, DID and NRC.
 * The test compares what tshark reads with what kiso meant to send.
 */
function tsharkMissing(): string | undefined {
  const probe = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `tshark is not installed (apt-get install tshark): ${probe.error.message}`;
  if (probe.status !== 0) return `tshark --version failed: ${probe.stderr}`;
  return undefined;
}

const skipReason = tsharkMissing();
if (skipReason) console.log(`SKIPPED: pcap/ISO-TP/UDS checks against Wireshark: ${skipReason}`);

const work = mkdtempSync(path.join(tmpdir(), 'kiso-tshark-'));
// tshark reads "decode ISO-TP payloads as UDS" from its config folder under $HOME.
const home = path.join(work, 'home');
mkdirSync(path.join(home, '.config', 'wireshark'), { recursive: true });
writeFileSync(path.join(home, '.config', 'wireshark', 'decode_as_entries'), 'decode_as_entry: iso15765.subdissector,,(none),UDS\n');
after(() => rmSync(work, { recursive: true, force: true }));

const GUARD_MS = 10_000;
const TESTER = 0x7e0;
const ECU = 0x7e8;
const VIN = 'WDD2221821A123456';

function tshark(file: string, fields: string[], extra: string[] = []): Array<Record<string, string>> {
  const run = spawnSync('tshark', ['-r', file, '-2', '-o', `iso15765.can.ids:0x${TESTER.toString(16)}-0x${ECU.toString(16)}`, ...extra, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    env: { ...process.env, HOME: home },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`tshark failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => Object.fromEntries(line.split('|').map((value, i) => [fields[i]!, value])));
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');
const num = (text: string | undefined): number => Number(text);

let port = 44000 + Math.floor(Math.random() * 10_000);

/** Two kiso ISO-TP ends and a pcap-writing listener on a fresh virtual CAN bus. */
async function bench(name: string, tester: Partial<IsoTpOptions>, ecu: Partial<IsoTpOptions>) {
  const config = { channel: '239.74.163.2', port: port++ };
  const context = (n: string) => ({ name: n, log: silentLogger(), baseDir: work });
  const testerBus = new VirtualCanConnector(config, context('tester'));
  const ecuBus = new VirtualCanConnector(config, context('ecu'));
  const sniffer = new VirtualCanConnector(config, context('sniffer'));
  const file = path.join(work, `${name}.pcap`);
  const pcap = new PcapWriter(file);
  const captured: CanFrame[] = [];
  sniffer.attach((message) => {
    captured.push(message as CanFrame);
    pcap.write(message as CanFrame);
  });
  await sniffer.open();
  await testerBus.open();
  await ecuBus.open();
  const testerTp = new IsoTpTransport(testerBus, { txId: TESTER, rxId: ECU, ...tester });
  const ecuTp = new IsoTpTransport(ecuBus, { txId: ECU, rxId: TESTER, ...ecu });
  // What kiso meant to send, message by message, in order.
  const intended: Array<{ id: number; payload: Uint8Array }> = [];
  for (const [tp, id] of [[testerTp, TESTER], [ecuTp, ECU]] as const) {
    const send = tp.send.bind(tp);
    tp.send = (payload, options) => {
      intended.push({ id, payload: Uint8Array.from(payload) });
      return send(payload, options);
    };
  }
  return {
    file,
    testerTp,
    ecuTp,
    intended,
    captured,
    /** Closes everything once the sniffer has seen `frames` frames (every frame sent). */
    async finish(): Promise<void> {
      const expected = testerBus.stats.sent + ecuBus.stats.sent;
      const deadline = Date.now() + GUARD_MS;
      while (captured.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      testerTp.close();
      ecuTp.close();
      await testerBus.close();
      await ecuBus.close();
      await sniffer.close();
      pcap.close();
      assert.equal(captured.length, expected, 'the listener saw every frame sent on the bus');
    },
  };
}

const UDS_FIELDS = [
  'frame.number', 'can.id', 'iso15765.message_type', 'iso15765.data_length', 'iso15765.frame_length', 'iso15765.sequence_number',
  'iso15765.flow_status', 'iso15765.flow_control.bs', 'iso15765.flow_control.stmin', 'iso15765.reassembled.length',
  'uds.sid', 'uds.reply', 'uds.rdbi.data_identifier', 'uds.rdbi.data_record', 'uds.wdbi.data_identifier', 'uds.wdbi.data_record',
  'uds.dsc.type', 'uds.sa.type', 'uds.sa.seed', 'uds.sa.key', 'uds.rc.type', 'uds.rc.identifier', 'uds.err.sid', 'uds.err.code', '_ws.col.Info',
];

/** Checks one UDS message as tshark reassembled it against the bytes kiso sent. */
function checkUdsRow(row: Record<string, string>, sent: { id: number; payload: Uint8Array }, where: string): void {
  const p = sent.payload;
  assert.equal(num(row['can.id']), sent.id, `${where}: CAN id`);
  const length = row['iso15765.reassembled.length'] || row['iso15765.data_length'];
  assert.equal(num(length), p.length, `${where}: message length`);
  const info = row['_ws.col.Info']!.replace(/\s+/g, '');
  if (p[0] === 0x7f) {
    assert.equal(num(row['uds.sid']), 0x3f, `${where}: negative response`);
    assert.equal(num(row['uds.err.sid']), p[1], `${where}: refused service`);
    assert.equal(num(row['uds.err.code']), p[2], `${where}: NRC`);
    assert.ok(info.includes(UDS_SERVICES[p[1]!]!), `${where}: tshark names the refused service ${UDS_SERVICES[p[1]!]} in "${row['_ws.col.Info']}"`);
    return;
  }
  const sid = p[0]! & ~0x40;
  assert.equal(num(row['uds.sid']), sid, `${where}: service id`);
  assert.equal(num(row['uds.reply']), p[0]! & 0x40 ? 1 : 0, `${where}: request or reply`);
  assert.ok(info.includes(UDS_SERVICES[sid]!), `${where}: tshark names the service ${UDS_SERVICES[sid]} in "${row['_ws.col.Info']}"`);
  const did = (p[1]! << 8) | p[2]!;
  switch (sid) {
    case 0x22:
      assert.equal(num(row['uds.rdbi.data_identifier']), did, `${where}: DID`);
      if (p[0] === 0x62) assert.equal(row['uds.rdbi.data_record'], hex(p.subarray(3)), `${where}: data record`);
      break;
    case 0x2e:
      assert.equal(num(row['uds.wdbi.data_identifier']), did, `${where}: DID`);
      if (p[0] === 0x2e) assert.equal(row['uds.wdbi.data_record'], hex(p.subarray(3)), `${where}: data record`);
      break;
    case 0x10:
      assert.equal(num(row['uds.dsc.type']), p[1], `${where}: session`);
      break;
    case 0x27:
      assert.equal(num(row['uds.sa.type']), p[1], `${where}: security level`);
      if (p[0] === 0x67 && p[1]! % 2 === 1) assert.equal(row['uds.sa.seed'], hex(p.subarray(2)), `${where}: seed`);
      if (p[0] === 0x27 && p[1]! % 2 === 0) assert.equal(row['uds.sa.key'], hex(p.subarray(2)), `${where}: key`);
      break;
    case 0x31:
      assert.equal(num(row['uds.rc.type']), p[1], `${where}: routine control type`);
      assert.equal(num(row['uds.rc.identifier']), (p[2]! << 8) | p[3]!, `${where}: routine`);
      break;
    default:
  }
}

describe('traces in Wireshark (tshark)', { skip: skipReason }, () => {
  it('the pcap writer: tshark reads every kind of frame back as written (classic, extended, remote, CAN FD with BRS/ESI)', () => {
    const file = path.join(work, 'kinds.pcap');
    const frames = [
      canFrame({ id: 0x123, data: [1, 2, 3], timestamp: 1700000000.25 }),
      canFrame({ id: 0x1abcdef, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8], timestamp: 1700000000.5 }),
      canFrame({ id: 0x7ff, data: [], timestamp: 1700000000.75 }),
      canFrame({ id: 0x125, remote: true, dlc: 4, timestamp: 1700000001 }),
      canFrame({ id: 0x124, fd: true, brs: true, data: Array.from({ length: 12 }, (_, i) => i), timestamp: 1700000001.000001 }),
      canFrame({ id: 0x18daf110, fd: true, esi: true, data: Array.from({ length: 64 }, (_, i) => 255 - i), timestamp: 1700000002.999999 }),
    ];
    const writer = new PcapWriter(file);
    for (const frame of frames) writer.write(frame);
    writer.close();
    const rows = tshark(file, ['frame.time_epoch', 'can.id', 'can.len', 'can.flags.xtd', 'can.flags.rtr', 'canfd.flags.brs', 'canfd.flags.esi', 'data.data']);
    assert.equal(rows.length, frames.length);
    frames.forEach((frame, i) => {
      const row = rows[i]!;
      const where = `frame ${i + 1}`;
      assert.equal(Number(row['frame.time_epoch']).toFixed(6), frame.timestamp!.toFixed(6), `${where}: timestamp`);
      // Wireshark 4.0 lists both as protocol "can"; only a CAN FD frame has the FD flag fields.
      assert.equal(row['canfd.flags.brs'] !== '', frame.can.fd, `${where}: classic or FD`);
      assert.equal(num(row['can.id']), frame.can.id, `${where}: id`);
      assert.equal(num(row['can.len']), frame.can.remote ? 4 : frame.data.length, `${where}: length`);
      if (!frame.can.fd) {
        assert.equal(row['can.flags.xtd'], frame.can.extended ? '1' : '0', `${where}: extended flag`);
        assert.equal(row['can.flags.rtr'], frame.can.remote ? '1' : '0', `${where}: remote flag`);
      } else {
        assert.equal(row['canfd.flags.brs'], frame.can.brs ? '1' : '0', `${where}: BRS`);
        assert.equal(row['canfd.flags.esi'], frame.can.esi ? '1' : '0', `${where}: ESI`);
      }
      if (!frame.can.remote && frame.data.length > 0) assert.equal(row['data.data'], hex(frame.data), `${where}: data`);
    });
  });

  it('UDS over ISO-TP on classic CAN: single and multi-frame transfers, flow control with block size and STmin, negative responses', async () => {
    // The ECU asks for blocks of 2 frames 5 ms apart; the tester for everything at once.
    const run = await bench('uds-classic', {}, { blockSize: 2, stMinMs: 5 });
    const client = new UdsClient(run.testerTp, { p2Ms: GUARD_MS, testerPresentPeriodMs: 0 });
    const server = new UdsServer(run.ecuTp, {
      dids: { 0xf190: Buffer.from(VIN) },
      writableDids: [0x0101],
      routines: { 0xff00: () => Uint8Array.of(0x00) },
      responsePending: { 0x31: 1 },
    });
    server.start();
    try {
      assert.equal(Buffer.from(await client.readDataByIdentifier(0xf190)).toString(), VIN);
      await assert.rejects(client.readDataByIdentifier(0x1234), (error: Error) => error instanceof UdsNegativeResponseError && error.nrcName === 'requestOutOfRange');
      await client.diagnosticSessionControl('extended');
      await assert.rejects(client.securityAccess(1, () => [0, 0, 0, 0]), (error: Error) => error instanceof UdsNegativeResponseError && error.nrcName === 'invalidKey');
      await client.securityAccess(1, (seed) => xorKey(seed));
      await client.writeDataByIdentifier(0x0101, Uint8Array.from({ length: 40 }, (_, i) => i));
      await client.routineControl('start', 0xff00);
      await client.testerPresent();
    } finally {
      client.close();
      await server.stop();
      await run.finish();
    }

    const rows = tshark(run.file, UDS_FIELDS);
    assert.equal(rows.length, run.captured.length, 'tshark reads every frame of the trace');
    const messages = rows.filter((row) => row['uds.sid'] !== '');
    assert.equal(messages.length, run.intended.length, `tshark reassembles ${messages.length} UDS messages, kiso sent ${run.intended.length}`);
    run.intended.forEach((sent, i) => checkUdsRow(messages[i]!, sent, `UDS message ${i + 1} (${hex(sent.payload).slice(0, 16)})`));

    // NRC names as Wireshark spells them.
    const infos = messages.map((row) => row['_ws.col.Info']!);
    assert.ok(infos.some((info) => /Read Data By Identifier \(SID: Request Out of Range\)/.test(info)), infos.join('\n'));
    assert.ok(infos.some((info) => /Security Access \(SID: Invalid Key\)/.test(info)), infos.join('\n'));
    assert.ok(infos.some((info) => /Routine Control \(SID: Request correctly received, but response is pending\)/.test(info)), infos.join('\n'));

    // Multi-frame: first frames announce the whole length; flow controls carry each side's BS and STmin.
    const firstFrames = rows.filter((row) => num(row['iso15765.message_type']) === 1);
    assert.deepEqual(firstFrames.map((row) => [num(row['can.id']), num(row['iso15765.frame_length'])]), [[ECU, 3 + VIN.length], [TESTER, 43]]);
    const flowControls = rows.filter((row) => num(row['iso15765.message_type']) === 3);
    assert.deepEqual(flowControls.map((row) => [num(row['can.id']), num(row['iso15765.flow_status']), num(row['iso15765.flow_control.bs']), num(row['iso15765.flow_control.stmin'])]), [
      [TESTER, 0, 0, 0],
      [ECU, 0, 2, 5],
      [ECU, 0, 2, 5],
      [ECU, 0, 2, 5],
    ]);
    // The tester never sends more than a block (2 consecutive frames) between the ECU's flow controls.
    let inBlock = 0;
    let sequence = 0;
    for (const row of rows) {
      const type = num(row['iso15765.message_type']);
      if (num(row['can.id']) === ECU && type === 3) inBlock = 0;
      if (num(row['can.id']) === TESTER && type === 1) sequence = 0;
      if (num(row['can.id']) === TESTER && type === 2) {
        assert.ok(++inBlock <= 2, `frame ${row['frame.number']}: more consecutive frames than the block size`);
        assert.equal(num(row['iso15765.sequence_number']), ++sequence & 0x0f, `frame ${row['frame.number']}: sequence number`);
      }
    }
  });

  it('ISO-TP on CAN FD: 64-byte frames, an escape single frame and an escape first frame (over 4095 bytes)', async () => {
    const run = await bench('isotp-fd', { fd: true, brs: true }, { fd: true, brs: true });
    const long = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff);
    try {
      await run.testerTp.send(Uint8Array.of(0x22, 0xf1, 0x90));
      assert.equal((await run.ecuTp.receive({ timeoutMs: GUARD_MS }))!.length, 3);
      await run.ecuTp.send(Uint8Array.of(0x62, 0xf1, 0x90, ...Buffer.from(VIN)));
      assert.equal((await run.testerTp.receive({ timeoutMs: GUARD_MS }))!.length, 20);
      await run.testerTp.send(Uint8Array.of(0x2e, 0x02, 0x00, ...long));
      assert.deepEqual((await run.ecuTp.receive({ timeoutMs: GUARD_MS }))!.subarray(3), long);
    } finally {
      await run.finish();
    }
    const rows = tshark(run.file, ['canfd.flags.brs', 'can.len', ...UDS_FIELDS]);
    assert.ok(rows.every((row) => row['canfd.flags.brs'] === '1'), 'every frame is CAN FD with bit-rate switch');
    const messages = rows.filter((row) => row['uds.sid'] !== '');
    assert.equal(messages.length, 3);
    checkUdsRow(messages[0]!, run.intended[0]!, 'single frame');
    assert.equal(num(rows[0]!['can.len']), 8, 'a short single frame keeps the classic layout, padded to 8 bytes');
    checkUdsRow(messages[1]!, run.intended[1]!, 'escape single frame');
    assert.equal(num(rows[1]!['can.len']), 24, 'a 22-byte escape single frame in a 24-byte FD frame');
    checkUdsRow(messages[2]!, run.intended[2]!, 'escape first frame');
    const first = rows.find((row) => num(row['iso15765.message_type']) === 1)!;
    assert.equal(num(first['iso15765.frame_length']), 5003);
    assert.equal(num(first['can.len']), 64);
  });
});
