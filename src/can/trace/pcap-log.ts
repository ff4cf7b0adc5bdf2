import { closeSync, openSync, writeSync } from 'node:fs';
import { CANFD_BRS, CANFD_ESI, CANFD_FDF, CANFD_MTU, CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_MTU, CAN_RTR_FLAG, LINKTYPE_CAN_SOCKETCAN, PcapWriter } from '../pcap.js';
import { KisoError } from '../../core/errors.js';
import type { BinaryLogFormat, FrameFileWriter } from './log-format.js';
import { frameDlc, noteMalformed, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * pcap and pcapng with link type 227 (LINKTYPE_CAN_SOCKETCAN), what
 * Wireshark, tshark and capinfos read. Classic pcap has no place for the
 * channel or the direction; pcapng keeps both: one interface (IDB, with
 * `if_name`) per channel, and each packet's direction in its `epb_flags`
 * option (1 inbound = Rx, 2 outbound = Tx), which Wireshark shows as
 * `frame.packet_flags_direction`.
 */
const SHB = 0x0a0d0d0a;
const IDB = 1;
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BUFFER_BYTES = 64 * 1024;

function canBody(frame: TraceFrame): Buffer {
  const { can } = frame;
  const mtu = can.fd ? CANFD_MTU : CAN_MTU;
  const body = Buffer.alloc(mtu);
  const idField = (can.id & (can.extended ? 0x1fffffff : 0x7ff)) | (can.extended ? CAN_EFF_FLAG : 0) | (can.remote ? CAN_RTR_FLAG : 0) | (can.error ? CAN_ERR_FLAG : 0);
  body.writeUInt32BE(idField >>> 0, 0);
  body[4] = can.remote ? frameDlc(frame) : frame.data.length;
  body[5] = can.fd ? CANFD_FDF | (can.brs ? CANFD_BRS : 0) | (can.esi ? CANFD_ESI : 0) : 0;
  if (!can.remote) body.set(frame.data.subarray(0, mtu - 8), 8);
  return body;
}

function frameOfBody(body: Buffer, timestamp: number): TraceFrame | string {
  if (body.length < 8) return `a SocketCAN record of ${body.length} bytes (8 at least)`;
  const idField = body.readUInt32BE(0);
  const length = body[4]!;
  const flags = body[5]!;
  const fd = body.length === CANFD_MTU || (flags & CANFD_FDF) !== 0;
  const remote = (idField & CAN_RTR_FLAG) !== 0;
  const extended = (idField & CAN_EFF_FLAG) !== 0;
  const error = (idField & CAN_ERR_FLAG) !== 0;
  if (length > (fd ? 64 : 8) && !remote) return `length ${length} does not fit a ${fd ? 'CAN FD' : 'CAN'} frame`;
  if (!remote && 8 + length > body.length) return `length ${length} but only ${body.length - 8} data bytes captured`;
  return {
    data: remote ? new Uint8Array(0) : Uint8Array.from(body.subarray(8, 8 + length)),
    timestamp,
    can: { id: idField & (extended ? 0x1fffffff : error ? 0x1fffffff : 0x7ff), extended, remote, fd: fd && !remote, brs: fd && (flags & CANFD_BRS) !== 0, esi: fd && (flags & CANFD_ESI) !== 0, ...(error ? { error: true } : {}), ...(remote ? { dlc: length } : {}) },
  };
}

interface Interface {
  linkType: number;
  /** Units per second of its timestamps. */
  resolution: number;
  name?: string;
}

/** Reads pcap (µs or ns, either byte order) and pcapng, streaming. */
export async function* readPcap(chunks: AsyncIterable<Buffer>, stats: ReadStats): AsyncGenerator<TraceFrame> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  let kind: 'pcap' | 'pcapng' | undefined;
  let little = true;
  let nanos = false;
  let interfaces: Interface[] = [];
  const u32 = (buffer: Buffer, at: number): number => (little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
  const u16 = (buffer: Buffer, at: number): number => (little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at));
  const emit = (body: Buffer, timestamp: number, at: number, extra: Partial<TraceFrame>): TraceFrame | undefined => {
    const frame = frameOfBody(body, timestamp);
    if (typeof frame === 'string') {
      noteMalformed(stats, at, `${body.length} bytes`, frame);
      return undefined;
    }
    stats.frames++;
    return Object.assign(frame, extra);
  };
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    if (kind === undefined) {
      if (pending.length < 24) continue;
      const magic = pending.readUInt32LE(0);
      if (magic === SHB) kind = 'pcapng';
      else if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d || magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
        kind = 'pcap';
        little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
        nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
        const linkType = u32(pending, 20) & 0x0fffffff;
        if (linkType !== LINKTYPE_CAN_SOCKETCAN) throw new KisoError('KISO_TRACE_READ', `pcap link type ${linkType} is not LINKTYPE_CAN_SOCKETCAN (227)`);
        at = 24;
      } else throw new KisoError('KISO_TRACE_READ', `not a pcap or pcapng file (magic 0x${magic.toString(16)})`);
    }
    if (kind === 'pcap') {
      while (at + 16 <= pending.length) {
        const included = u32(pending, at + 8);
        if (included > 262_144) throw new KisoError('KISO_TRACE_READ', `pcap record at byte ${offset + at} claims ${included} bytes: the file is damaged`);
        if (at + 16 + included > pending.length) break;
        const timestamp = u32(pending, at) + u32(pending, at + 4) / (nanos ? 1e9 : 1e6);
        const frame = emit(pending.subarray(at + 16, at + 16 + included), timestamp, offset + at, {});
        at += 16 + included;
        if (frame) yield frame;
      }
    } else {
      while (at + 12 <= pending.length) {
        let type = pending.readUInt32LE(at);
        if (type === SHB) {
          const magic = pending.readUInt32LE(at + 8);
          little = magic === BYTE_ORDER_MAGIC;
          if (!little && pending.readUInt32BE(at + 8) !== BYTE_ORDER_MAGIC) throw new KisoError('KISO_TRACE_READ', `pcapng section at byte ${offset + at} has no byte-order magic`);
        }
        type = u32(pending, at);
        const length = u32(pending, at + 4);
        if (length < 12 || length % 4 !== 0 || length > 16 * 1024 * 1024) throw new KisoError('KISO_TRACE_READ', `pcapng block at byte ${offset + at} has length ${length}: the file is damaged`);
        if (at + length > pending.length) break;
        const block = pending.subarray(at, at + length);
        const blockAt = offset + at;
        at += length;
        if (type === SHB) {
          interfaces = [];
          continue;
        }
        if (type === IDB) {
          const iface: Interface = { linkType: u16(block, 8), resolution: 1e6 };
          for (const [code, value] of options(block, 16, length - 4, u16)) {
            if (code === 2) iface.name = value.toString('utf8').replace(/\0+$/, '');
            if (code === 9 && value.length >= 1) iface.resolution = value[0]! & 0x80 ? 2 ** (value[0]! & 0x7f) : 10 ** value[0]!;
          }
          interfaces.push(iface);
          continue;
        }
        if (type === EPB) {
          const iface = interfaces[u32(block, 8)];
          if (!iface || iface.linkType !== LINKTYPE_CAN_SOCKETCAN) {
            stats.skipped++;
            continue;
          }
          const ticks = u32(block, 12) * 2 ** 32 + u32(block, 16);
          const captured = u32(block, 20);
          let direction: TraceFrame['direction'];
          for (const [code, value] of options(block, 28 + captured + ((4 - (captured % 4)) % 4), length - 4, u16)) {
            if (code === 2 && value.length >= 4) {
              const flags = u32(value, 0) & 0x3;
              direction = flags === 1 ? 'Rx' : flags === 2 ? 'Tx' : undefined;
            }
          }
          const extra: Partial<TraceFrame> = {};
          if (iface.name !== undefined) extra.channel = iface.name;
          if (direction) extra.direction = direction;
          const frame = emit(block.subarray(28, 28 + captured), Math.floor(ticks / iface.resolution) + (ticks % iface.resolution) / iface.resolution, blockAt, extra);
          if (frame) yield frame;
          continue;
        }
        if (type === SPB && interfaces[0]?.linkType === LINKTYPE_CAN_SOCKETCAN) {
          const original = u32(block, 8);
          const frame = emit(block.subarray(12, 12 + Math.min(original, length - 16)), 0, blockAt, interfaces[0].name !== undefined ? { channel: interfaces[0].name } : {});
          if (frame) yield frame;
          continue;
        }
        stats.skipped++;
      }
    }
    offset += at;
    pending = Buffer.from(pending.subarray(at));
  }
  if (kind === undefined) throw new KisoError('KISO_TRACE_READ', 'not a pcap file (shorter than its header)');
  if (pending.length > 0) noteMalformed(stats, offset, `${pending.length} bytes`, 'the file ends inside a record (truncated)');
}

function* options(block: Buffer, from: number, to: number, u16: (buffer: Buffer, at: number) => number): Generator<[number, Buffer]> {
  let at = from;
  while (at + 4 <= to) {
    const code = u16(block, at);
    const length = u16(block, at + 2);
    if (code === 0) return;
    yield [code, block.subarray(at + 4, at + 4 + length)];
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
}

/** Classic pcap through PcapWriter (frames only: no channel, no direction). */
class PcapFileWriter implements FrameFileWriter {
  private readonly writer: PcapWriter;
  count = 0;
  readonly refused = new Map<string, number>();
  constructor(readonly path: string) {
    this.writer = new PcapWriter(path, { flushIntervalMs: 0 });
  }
  write(frame: TraceFrame): boolean {
    this.writer.write(frame);
    this.count++;
    return true;
  }
  close(): void {
    this.writer.close();
  }
}

function option(code: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
  padded.writeUInt16LE(code, 0);
  padded.writeUInt16LE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function block(type: number, body: Buffer): Buffer {
  const length = 12 + body.length;
  const out = Buffer.alloc(length);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(length, 4);
  body.copy(out, 8);
  out.writeUInt32LE(length, length - 4);
  return out;
}

/** pcapng: one interface per channel (named), each packet with its direction flag; microsecond timestamps. */
export class PcapngWriter implements FrameFileWriter {
  private fd: number | undefined;
  private readonly interfaces = new Map<string, number>();
  private parts: Buffer[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  count = 0;
  readonly refused = new Map<string, number>();

  constructor(
    readonly path: string,
    options: { flushIntervalMs?: number } = {},
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `cannot create pcapng file ${path}: ${(error as Error).message}`, { cause: error });
    }
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
    shb.writeUInt16LE(1, 4);
    shb.writeUInt16LE(0, 6);
    shb.writeBigInt64LE(-1n, 8); // section length unknown
    this.push(block(SHB, Buffer.concat([shb, option(4, Buffer.from('kiso')), Buffer.alloc(4)])));
    const interval = options.flushIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.flush(), interval);
      this.timer.unref();
    }
  }

  write(frame: TraceFrame): boolean {
    if (this.fd === undefined) throw new KisoError('KISO_CONNECTOR_CLOSED', `pcapng file ${this.path} is closed`);
    const channel = frame.channel ?? 'can0';
    let index = this.interfaces.get(channel);
    if (index === undefined) {
      index = this.interfaces.size;
      this.interfaces.set(channel, index);
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(LINKTYPE_CAN_SOCKETCAN, 0);
      idb.writeUInt32LE(CANFD_MTU, 4);
      this.push(block(IDB, Buffer.concat([idb, option(2, Buffer.from(channel)), option(9, Buffer.from([6])), Buffer.alloc(4)])));
    }
    const body = canBody(frame);
    const micros = BigInt(Math.round(frame.timestamp * 1e6));
    const head = Buffer.alloc(20);
    head.writeUInt32LE(index, 0);
    head.writeUInt32LE(Number(micros >> 32n), 4);
    head.writeUInt32LE(Number(micros & 0xffffffffn), 8);
    head.writeUInt32LE(body.length, 12);
    head.writeUInt32LE(body.length, 16);
    const parts = [head, body];
    if (frame.direction) {
      const flags = Buffer.alloc(4);
      flags.writeUInt32LE(frame.direction === 'Rx' ? 1 : 2, 0);
      parts.push(option(2, flags), Buffer.alloc(4));
    }
    this.push(block(EPB, Buffer.concat(parts)));
    this.count++;
    return true;
  }

  private push(part: Buffer): void {
    this.parts.push(part);
    this.bytes += part.length;
    if (this.bytes >= BUFFER_BYTES) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.bytes === 0) return;
    const buffer = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    let done = 0;
    while (done < buffer.length) done += writeSync(this.fd, buffer, done, buffer.length - done);
  }

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

export const pcapFormat: BinaryLogFormat = { kind: 'binary', name: 'pcap', read: readPcap, writer: (path: string) => new PcapFileWriter(path) };
export const pcapngFormat: BinaryLogFormat = { kind: 'binary', name: 'pcapng', read: readPcap, writer: (path: string) => new PcapngWriter(path, { flushIntervalMs: 0 }) };
