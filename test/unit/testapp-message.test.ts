import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AckType, CommandType, MessageType, ReportType, TlvTag, TokenCounter,
  ackOf, crc16, decodeMessage, describeMessage, encodeMessage, tlvText, tlvValue, type TestAppMessage,
} from '../../src/auxiliaries/testapp/message.js';

// The expected bytes are what pykiso's own Message.serialize() gives for the
// same message (pykiso/message.py run by /usr/bin/python3, token set by hand).
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const PYKISO: Array<[string, TestAppMessage, string]> = [
  ['PING', { type: MessageType.COMMAND, subType: CommandType.PING, token: 0, suiteId: 0, caseId: 0 }, '4000000000000000d0f6'],
  ['TEST_CASE_RUN 1/6', { type: MessageType.COMMAND, subType: CommandType.TEST_CASE_RUN, token: 42, suiteId: 1, caseId: 6 }, '402a0d0000010600bdb8'],
  ['its ACK', { type: MessageType.ACK, subType: AckType.ACK, token: 42, suiteId: 1, caseId: 6 }, '602a000000010600968d'],
  ['ABORT', { type: MessageType.COMMAND, subType: CommandType.ABORT, token: 7, suiteId: 0, caseId: 0 }, '40076300000000006c7e'],
  [
    'REPORT TEST_FAILED with a failure reason',
    { type: MessageType.REPORT, subType: ReportType.TEST_FAILED, token: 200, suiteId: 1, caseId: 16, tlvs: [{ tag: TlvTag.FAILURE_REASON, value: tlvValue('Component busy, could not run') }] },
    '50c801000001101f701d436f6d706f6e656e7420627573792c20636f756c64206e6f742072756ec4ac',
  ],
  [
    'LOG with an integer TLV (2 bytes little-endian) and a bytes TLV',
    { type: MessageType.LOG, subType: 0, token: 255, suiteId: 1, caseId: 15, tlvs: [{ tag: TlvTag.TEST_REPORT, value: tlvValue(513) }, { tag: TlvTag.FAILURE_REASON, value: Uint8Array.of(0, 255) }] },
    '70ff000000010f086e020102700200ffeafc',
  ],
];

describe("TestApp messages (pykiso's message.py)", () => {
  for (const [name, message, bytes] of PYKISO) {
    it(`${name}: the bytes pykiso serializes, and back`, () => {
      assert.equal(hex(encodeMessage(message)), bytes);
      const decoded = decodeMessage(Buffer.from(bytes, 'hex'));
      assert.deepEqual({ ...decoded, errorCode: undefined, reserved: undefined }, { ...message, errorCode: undefined, reserved: undefined });
    });
  }

  it("the CRC is pykiso's get_crc (CRC-16/XMODEM's check value for 123456789)", () => {
    assert.equal(crc16(Buffer.from('123456789')), 12739);
  });

  it('the header: version 1 in bits 6-7, the type in bits 4-5', () => {
    for (const type of Object.values(MessageType)) assert.equal(encodeMessage({ type, subType: 0, token: 1, suiteId: 0, caseId: 0 })[0], 0x40 | (type << 4));
  });

  it('an ACK carries its command\'s token and ids', () => {
    const command: TestAppMessage = { type: MessageType.COMMAND, subType: CommandType.TEST_SUITE_SETUP, token: 99, suiteId: 4, caseId: 0 };
    assert.deepEqual(ackOf(command), { type: MessageType.ACK, subType: AckType.ACK, token: 99, suiteId: 4, caseId: 0 });
    assert.equal(ackOf(command, AckType.NACK).subType, 1);
  });

  it('tokens cycle 0..255 as pykiso\'s counter does', () => {
    const tokens = new TokenCounter();
    const seen = Array.from({ length: 258 }, () => tokens.take());
    assert.deepEqual(seen.slice(254), [254, 255, 0, 1]);
  });

  it('a frame that is not a TestApp message is an error saying why (pykiso only logs it)', () => {
    const good = Buffer.from(PYKISO[4]![2], 'hex');
    assert.throws(() => decodeMessage(good.subarray(0, 9)), /shorter than its 8-byte header/);
    const flipped = Buffer.from(good);
    flipped[10] ^= 1;
    assert.throws(() => decodeMessage(flipped), /CRC 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}/);
    const lengthLies = Buffer.from(good);
    lengthLies[7] = 3;
    lengthLies.writeUInt16LE(crc16(lengthLies.subarray(0, lengthLies.length - 2)), lengthLies.length - 2);
    assert.throws(() => decodeMessage(lengthLies), /payload length 3, but 31 bytes/);
    const fixed = Buffer.from(encodeMessage({ type: MessageType.REPORT, subType: 0, token: 1, suiteId: 1, caseId: 1 }));
    fixed[2] = 7;
    fixed.writeUInt16LE(crc16(fixed.subarray(0, 8)), 8);
    assert.throws(() => decodeMessage(fixed), /sub-type 7 is not one of REPORT's/);
  });

  it('what does not fit is refused: a payload over 255 bytes, a field over 255', () => {
    assert.throws(() => encodeMessage({ type: 1, subType: 0, token: 0, suiteId: 0, caseId: 0, tlvs: [{ tag: 110, value: new Uint8Array(200) }, { tag: 110, value: new Uint8Array(60) }] }), /TLV payload of 264 bytes, at most 255/);
    assert.throws(() => encodeMessage({ type: 0, subType: 3, token: 0, suiteId: 256, caseId: 0 }), /test suite id must be 0\.\.255, got 256/);
    assert.throws(() => tlvValue('é€'), /character "€" of a TLV text must be 0\.\.255/);
  });

  it('describes a message for logs with its TLVs as text', () => {
    const report = decodeMessage(Buffer.from(PYKISO[4]![2], 'hex'));
    assert.equal(tlvText(report.tlvs![0]!), 'Component busy, could not run');
    assert.equal(describeMessage(report), 'REPORT TEST_FAILED (token 200, suite 1, case 16, FAILURE_REASON="Component busy, could not run")');
  });
});
