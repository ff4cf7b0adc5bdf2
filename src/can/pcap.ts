import { closeSync, openSync, writeSync } from 'node:fs';
import type { CanFrame } from './frame.js';
import { KisoError } from '../core/errors.js';

/**
 * CAN traffic as a pcap file Wireshark and tshark open: link type 227
 * (LINKTYPE_CAN_SOCKETCAN), each frame as the kernel's `struct can_frame`
 * (16 bytes) or `struct canfd_frame` (72 bytes), what libpcap captures on a
 * SocketCAN interface:
 *
 *   can_id u32 BIG endian (LINKTYPE_CAN_SOCKETCAN is network byte order),
 *          with CAN_EFF_FLAG / CAN_RTR_FLAG / CAN_ERR_FLAG in the top bits
 *   len    u8   payload length
 *   flags  u8   CAN FD: CANFD_BRS 0x01, CANFD_ESI 0x02, CANFD_FDF 0x04
 *   res0, res1/len8_dlc u8
 *   data   8 bytes (classic) or 64 bytes (FD), zero past `len`
 *
 * Wireshark 4.0 (Debian 12, checked with tshark) tells CAN FD from classic by
 * the CANFD_FDF flag alone: a 72-byte record without it shows as classic CAN,
 * a 20-byte one with it as CAN FD. Older Wiresharks went by the 72-byte
 * length (CANFD_MTU). Writing the full kernel structure with FDF set
 * satisfies both.
 */
export const LINKTYPE_CAN_SOCKETCAN = 227;
export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;
export const CAN_ERR_FLAG = 0x20000000;
export const CANFD_BRS = 0x01;
export const CANFD_ESI = 0x02;
export const CANFD_FDF = 0x04;
export const CAN_MTU = 16;
export const CANFD_MTU = 72;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const DEFAULT_BUFFER_BYTES = 64 * 1024;

/** The 24-byte pcap global header (little endian, microsecond timestamps). */
export function pcapGlobalHeader(linkType = LINKTYPE_CAN_SOCKETCAN, snapLength = 65_535): Buffer {
  const header = Buffer.alloc(GLOBAL_HEADER_BYTES);
  header.writeUInt32LE(PCAP_MAGIC_US, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  header.writeUInt32LE(0, 12); // sigfigs
  header.writeUInt32LE(snapLength, 16);
  header.writeUInt32LE(linkType, 20);
  return header;
}

/** Writes one frame's pcap record (record header + SocketCAN structure) into `target` at `offset`; returns the bytes written. */
export function writeCanRecord(frame: CanFrame, target: Buffer, offset: number, timestamp = frame.timestamp ?? Date.now() / 1000): number {
  const { can } = frame;
  const mtu = can.fd ? CANFD_MTU : CAN_MTU;
  let seconds = Math.floor(timestamp);
  let micros = Math.round((timestamp - seconds) * 1e6);
  if (micros >= 1_000_000) {
    seconds += 1;
    micros -= 1_000_000;
  }
  target.writeUInt32LE(seconds >>> 0, offset);
  target.writeUInt32LE(micros, offset + 4);
  target.writeUInt32LE(mtu, offset + 8);
  target.writeUInt32LE(mtu, offset + 12);
  const at = offset + RECORD_HEADER_BYTES;
  const idField = (can.id & (can.extended ? 0x1fffffff : 0x7ff)) | (can.extended ? CAN_EFF_FLAG : 0) | (can.remote ? CAN_RTR_FLAG : 0) | (can.error ? CAN_ERR_FLAG : 0);
  target.writeUInt32BE(idField >>> 0, at);
  const dlc = (can as typeof can & { dlc?: number }).dlc;
  target[at + 4] = can.remote ? (dlc ?? 0) : frame.data.length;
  target[at + 5] = can.fd ? CANFD_FDF | (can.brs ? CANFD_BRS : 0) | (can.esi ? CANFD_ESI : 0) : 0;
  target[at + 6] = 0;
  target[at + 7] = 0;
  target.fill(0, at + 8, at + mtu);
  if (!can.remote) target.set(frame.data.subarray(0, mtu - 8), at + 8);
  return RECORD_HEADER_BYTES + mtu;
}

export interface PcapWriterOptions {
  /** Bytes kept in memory before they go to the file (default 64 KiB). */
  bufferBytes?: number;
  /** Also write the buffer out this often, so a killed run leaves its trace (default 1000 ms; 0: only when full). */
  flushIntervalMs?: number;
}

/**
 * A streaming pcap writer for CAN frames: `new PcapWriter(path)`,
 * `write(frame)` for each frame, `close()` at the end. Frames are buffered
 * and written synchronously in large chunks, so `write` is cheap, errors
 * surface at the call that hits them, and nothing stays open after close().
 */
export class PcapWriter {
  private fd: number | undefined;
  private buffer: Buffer;
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Frames written so far. */
  count = 0;

  constructor(
    readonly path: string,
    options: PcapWriterOptions = {},
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `cannot create pcap file ${path}: ${(error as Error).message}`, { cause: error });
    }
    this.buffer = Buffer.alloc(Math.max(options.bufferBytes ?? DEFAULT_BUFFER_BYTES, RECORD_HEADER_BYTES + CANFD_MTU + GLOBAL_HEADER_BYTES));
    pcapGlobalHeader().copy(this.buffer, 0);
    this.used = GLOBAL_HEADER_BYTES;
    const interval = options.flushIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.flush(), interval);
      this.timer.unref();
    }
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  write(frame: CanFrame): void {
    if (this.fd === undefined) throw new KisoError('KISO_CONNECTOR_CLOSED', `pcap file ${this.path} is closed`);
    if (this.used + RECORD_HEADER_BYTES + CANFD_MTU > this.buffer.length) this.flush();
    this.used += writeCanRecord(frame, this.buffer, this.used);
    this.count++;
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buffer, done, this.used - done);
    this.used = 0;
  }

  /** Flushes and closes the file; idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export interface PcapRecord {
  timestamp: number;
  frame: CanFrame;
}

/** Reads a LINKTYPE_CAN_SOCKETCAN pcap back (either byte order, µs or ns timestamps); for tests and tools. */
export function readCanPcap(file: Uint8Array): PcapRecord[] {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < GLOBAL_HEADER_BYTES) throw new Error('not a pcap file: shorter than its header');
  const magicLE = bytes.readUInt32LE(0);
  const little = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magic = little ? magicLE : bytes.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`not a pcap file (magic 0x${magicLE.toString(16)})`);
  const nanos = magic === 0xa1b23c4d;
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const linkType = u32(20) & 0x0fffffff;
  if (linkType !== LINKTYPE_CAN_SOCKETCAN) throw new Error(`pcap link type ${linkType} is not LINKTYPE_CAN_SOCKETCAN (227)`);
  const records: PcapRecord[] = [];
  let at = GLOBAL_HEADER_BYTES;
  while (at + RECORD_HEADER_BYTES <= bytes.length) {
    const timestamp = u32(at) + u32(at + 4) / (nanos ? 1e9 : 1e6);
    const included = u32(at + 8);
    const body = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + included);
    at += RECORD_HEADER_BYTES + included;
    if (body.length < 8) throw new Error(`pcap record at byte ${at - included} is too short for a SocketCAN header`);
    const idField = body.readUInt32BE(0);
    const length = body[4]!;
    const flags = body[5]!;
    const fd = included === CANFD_MTU || (flags & CANFD_FDF) !== 0;
    const remote = (idField & CAN_RTR_FLAG) !== 0;
    const extended = (idField & CAN_EFF_FLAG) !== 0;
    const can = {
      id: idField & (extended ? 0x1fffffff : 0x7ff),
      extended,
      remote,
      fd,
      brs: fd && (flags & CANFD_BRS) !== 0,
      esi: fd && (flags & CANFD_ESI) !== 0,
      ...((idField & CAN_ERR_FLAG) !== 0 ? { error: true } : {}),
      ...(remote ? { dlc: length } : {}),
    };
    records.push({ timestamp, frame: { data: remote ? new Uint8Array(0) : Uint8Array.from(body.subarray(8, 8 + length)), can, timestamp } });
  }
  return records;
}
