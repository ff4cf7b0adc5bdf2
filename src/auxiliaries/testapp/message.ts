import { KisoError } from '../../core/errors.js';

/**
 * pykiso's TestApp message (pykiso/message.py), the frame a DUT auxiliary
 * and the test app on a device exchange:
 *
 * | byte 0: version (bits 6-7, always 1) and type (bits 4-5) | token | sub-type | error code |
 * | reserved | test suite id | test case id | payload length | TLVs ... | CRC-16 (2 bytes, little-endian) |
 *
 * A TLV is tag (1 byte), length (1 byte), value. The CRC covers everything
 * before it. pykiso packs multi-byte fields with the host's byte order
 * (struct "H"): little-endian on every machine it runs on, and here.
 */

export const MessageType = { COMMAND: 0, REPORT: 1, ACK: 2, LOG: 3 } as const;
export const CommandType = {
  PING: 0,
  TEST_SECTION_SETUP: 1,
  TEST_SUITE_SETUP: 2,
  TEST_CASE_SETUP: 3,
  TEST_SECTION_RUN: 11,
  TEST_SUITE_RUN: 12,
  TEST_CASE_RUN: 13,
  TEST_SECTION_TEARDOWN: 21,
  TEST_SUITE_TEARDOWN: 22,
  TEST_CASE_TEARDOWN: 23,
  ABORT: 99,
} as const;
export const ReportType = { TEST_PASS: 0, TEST_FAILED: 1, TEST_NOT_IMPLEMENTED: 2 } as const;
export const AckType = { ACK: 0, NACK: 1 } as const;
export const LogType = { RESERVED: 0 } as const;
/** The TLV tags pykiso knows. */
export const TlvTag = { TEST_REPORT: 110, FAILURE_REASON: 112 } as const;

export type MessageTypeName = keyof typeof MessageType;
export type CommandTypeName = keyof typeof CommandType;

const SUB_TYPES: Record<number, Record<string, number>> = { 0: CommandType, 1: ReportType, 2: AckType, 3: LogType };
const TYPE_NAMES = Object.keys(MessageType) as MessageTypeName[];

export const HEADER_SIZE = 8;
export const CRC_SIZE = 2;
export const MAX_PAYLOAD_SIZE = 0xff;
const VERSION = 1;

export interface Tlv {
  tag: number;
  value: Uint8Array;
}

export interface TestAppMessage {
  type: number;
  subType: number;
  /** 0..255: a command's ACK carries the command's token. */
  token: number;
  errorCode?: number;
  reserved?: number;
  suiteId: number;
  caseId: number;
  tlvs?: Tlv[];
}

/** pykiso's Message.get_crc: a CRC-16 (CCITT polynomial, byte-swapped update). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc = ((crc >> 8) | (crc << 8)) & 0xffff;
    crc ^= byte;
    crc ^= (crc & 0xff) >> 4;
    crc ^= (crc << 12) & 0xffff;
    crc ^= ((crc & 0xff) << 5) & 0xffff;
  }
  return crc;
}

const byte = (value: number, what: string): number => {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `TestApp message: ${what} must be 0..255, got ${value}`);
  return value;
};

/** A TLV value as pykiso makes one: text as its character codes, an integer as 2 bytes little-endian, bytes as they are. */
export function tlvValue(value: string | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `TestApp TLV: an integer value must be 0..65535, got ${value}`);
    return Uint8Array.of(value & 0xff, value >> 8);
  }
  return Uint8Array.from(value, (char) => byte(char.codePointAt(0)!, `character "${char}" of a TLV text`));
}

/** pykiso's Message.serialize. */
export function encodeMessage(message: TestAppMessage): Uint8Array {
  const tlvs = message.tlvs ?? [];
  const payloadLength = tlvs.reduce((sum, tlv) => sum + 2 + tlv.value.length, 0);
  if (payloadLength > MAX_PAYLOAD_SIZE) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `TestApp message: TLV payload of ${payloadLength} bytes, at most ${MAX_PAYLOAD_SIZE}`);
  if (!(message.type in SUB_TYPES)) throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `TestApp message: type must be 0..3, got ${message.type}`);
  const out = new Uint8Array(HEADER_SIZE + payloadLength + CRC_SIZE);
  out[0] = (VERSION << 6) | (message.type << 4);
  out[1] = byte(message.token, 'token');
  out[2] = byte(message.subType, 'sub-type');
  out[3] = byte(message.errorCode ?? 0, 'error code');
  out[4] = byte(message.reserved ?? 0, 'reserved');
  out[5] = byte(message.suiteId, 'test suite id');
  out[6] = byte(message.caseId, 'test case id');
  out[7] = payloadLength;
  let at = HEADER_SIZE;
  for (const tlv of tlvs) {
    out[at++] = byte(tlv.tag, 'TLV tag');
    out[at++] = byte(tlv.value.length, 'TLV length');
    out.set(tlv.value, at);
    at += tlv.value.length;
  }
  const crc = crc16(out.subarray(0, at));
  out[at] = crc & 0xff;
  out[at + 1] = crc >> 8;
  return out;
}

/**
 * pykiso's Message.parse_packet, strict where pykiso only logs: a frame
 * too short, with a wrong CRC, a payload length that disagrees with its
 * size, a truncated TLV or an unknown type / sub-type is an error.
 */
export function decodeMessage(bytes: Uint8Array): TestAppMessage {
  const bad = (why: string): KisoError => new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `not a TestApp message (${bytes.length} bytes): ${why}`);
  if (bytes.length < HEADER_SIZE + CRC_SIZE) throw bad(`shorter than its ${HEADER_SIZE}-byte header and ${CRC_SIZE}-byte CRC`);
  const body = bytes.subarray(0, bytes.length - CRC_SIZE);
  const crc = bytes[bytes.length - 2]! | (bytes[bytes.length - 1]! << 8);
  const expected = crc16(body);
  if (crc !== expected) throw bad(`CRC 0x${crc.toString(16).padStart(4, '0')}, expected 0x${expected.toString(16).padStart(4, '0')}`);
  const type = (bytes[0]! & 0x30) >> 4;
  const subType = bytes[2]!;
  if (!Object.values(SUB_TYPES[type]!).includes(subType)) throw bad(`sub-type ${subType} is not one of ${TYPE_NAMES[type]}'s`);
  const payloadLength = bytes[7]!;
  if (HEADER_SIZE + payloadLength !== body.length) throw bad(`payload length ${payloadLength}, but ${body.length - HEADER_SIZE} bytes between header and CRC`);
  const tlvs: Tlv[] = [];
  for (let at = HEADER_SIZE; at < body.length; ) {
    if (at + 2 > body.length) throw bad(`TLV at byte ${at} has no length`);
    const tag = body[at]!;
    const length = body[at + 1]!;
    if (at + 2 + length > body.length) throw bad(`TLV ${tag} at byte ${at} says ${length} bytes, ${body.length - at - 2} are left`);
    tlvs.push({ tag, value: Uint8Array.from(body.subarray(at + 2, at + 2 + length)) });
    at += 2 + length;
  }
  const message: TestAppMessage = { type, subType, token: bytes[1]!, errorCode: bytes[3]!, reserved: bytes[4]!, suiteId: bytes[5]!, caseId: bytes[6]! };
  if (tlvs.length) message.tlvs = tlvs;
  return message;
}

/** pykiso's tokens: a counter cycling 0..255, one per message made. */
export class TokenCounter {
  private next = 0;
  take(): number {
    const token = this.next;
    this.next = (this.next + 1) % 256;
    return token;
  }
}

/** pykiso's generate_ack_message: the ACK (or NACK) of `message`, with its token and ids. */
export function ackOf(message: TestAppMessage, ackType: number = AckType.ACK): TestAppMessage {
  return { type: MessageType.ACK, subType: ackType, token: message.token, suiteId: message.suiteId, caseId: message.caseId };
}

/** A TLV value as text (pykiso shows them as characters). */
export const tlvText = (tlv: Tlv): string => String.fromCharCode(...tlv.value);

/** The message's name, e.g. `REPORT TEST_FAILED`, for logs. */
export function messageName(message: Pick<TestAppMessage, 'type' | 'subType'>): string {
  const table = SUB_TYPES[message.type];
  const sub = table ? Object.entries(table).find(([, value]) => value === message.subType)?.[0] : undefined;
  return `${TYPE_NAMES[message.type] ?? `type ${message.type}`} ${sub ?? message.subType}`;
}

/** One line for logs: name, token, ids and the TLVs as text. */
export function describeMessage(message: TestAppMessage): string {
  const tlvs = (message.tlvs ?? []).map((tlv) => `${tlvTagName(tlv.tag)}=${JSON.stringify(tlvText(tlv))}`);
  return `${messageName(message)} (token ${message.token}, suite ${message.suiteId}, case ${message.caseId}${tlvs.length ? `, ${tlvs.join(', ')}` : ''})`;
}

export function tlvTagName(tag: number): string {
  return Object.entries(TlvTag).find(([, value]) => value === tag)?.[0] ?? `tag ${tag}`;
}
