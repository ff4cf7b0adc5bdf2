import { closeSync, openSync, writeSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { FD_LENGTHS, dlcToLength } from '../frame.js';
import { KisoError } from '../../core/errors.js';
import type { BinaryLogFormat, FrameFileWriter } from './log-format.js';
import { channelName, channelNumber, frameDlc, msFloor, noteMalformed, type ReadStats, type TraceFrame } from './trace-frame.js';

/**
 * Vector's Binary Logging Format (.blf), the layout python-can's BLFWriter
 * and BLFReader use (after Toby Lorenz' vector_blf): a 144-byte file header
 * ("LOGG", sizes, object count, start and stop as local SYSTEMTIMEs to the
 * millisecond), then LOG_CONTAINER objects ("LOBJ", type 10) holding zlib
 * compressed runs of objects, which may continue from one container into
 * the next. Read: CAN_MESSAGE (1), CAN_MESSAGE2 (86), CAN_ERROR_EXT (73),
 * CAN_FD_MESSAGE (100), CAN_FD_MESSAGE_64 (101); other objects are skipped
 * and counted. Written: 1, 73 and 100, timestamps in nanoseconds from the
 * start (the first frame's time, floored to the millisecond, so that every
 * timestamp survives to the microsecond).
 *
 * The reader holds one container (128 KiB uncompressed) and one object at
 * a time: a 1 GB log reads in constant memory.
 */
const FILE_HEADER_SIZE = 144;
const OBJ_BASE_SIZE = 16;
const CAN_MESSAGE = 1;
const LOG_CONTAINER = 10;
const CAN_ERROR_EXT = 73;
const CAN_MESSAGE2 = 86;
const CAN_FD_MESSAGE = 100;
const CAN_FD_MESSAGE_64 = 101;
const CAN_MSG_EXT = 0x80000000;
const REMOTE_FLAG = 0x80;
const DIR = 0x1;
const MAX_CONTAINER = 128 * 1024;
const LOBJ = 0x4a424f4c; // "LOBJ" little endian

function systemTime(target: Buffer, at: number, timestamp: number | undefined): void {
  if (timestamp === undefined || timestamp < 631152000) {
    target.fill(0, at, at + 16);
    return;
  }
  const date = new Date(Math.round(timestamp * 1000));
  const parts = [date.getFullYear(), date.getMonth() + 1, date.getDay(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  parts.forEach((value, index) => target.writeUInt16LE(value, at + index * 2));
}

function fromSystemTime(source: Buffer, at: number): number {
  const year = source.readUInt16LE(at);
  if (year === 0) return 0;
  const field = (index: number): number => source.readUInt16LE(at + index * 2);
  return new Date(year, field(1) - 1, field(3), field(4), field(5), field(6), field(7)).getTime() / 1000;
}

/** The uncompressed objects of a BLF file, container by container, with the tail of an object that continues in the next one carried over. */
async function* objects(chunks: AsyncIterable<Buffer>, stats: ReadStats, header: { start: number }): AsyncGenerator<{ type: number; body: Buffer; headerVersion: number; offset: number }> {
  let pending: Buffer = Buffer.alloc(0);
  let fileOffset = 0;
  let headerSeen = false;
  let inner = Buffer.alloc(0);
  const take = function* (this: void, data: Buffer): Generator<{ type: number; body: Buffer; headerVersion: number; offset: number }> {
    let buffer = inner.length ? Buffer.concat([inner, data]) : data;
    let at = 0;
    while (at + OBJ_BASE_SIZE <= buffer.length) {
      if (buffer.readUInt32LE(at) !== LOBJ) {
        // Padding (python-can pads by size % 4, Vector aligns): the next object starts within a few bytes.
        const next = buffer.indexOf('LOBJ', at, 'latin1');
        // Padding at the end of a container: the object follows in the next one.
        if (next < 0 && buffer.length - at <= 8) break;
        if (next < 0 || next - at > 8) {
          noteMalformed(stats, fileOffset, `${Math.min(buffer.length - at, 16)} bytes`, 'no BLF object ("LOBJ") where one should start inside a container');
          at = next < 0 ? buffer.length : next;
          continue;
        }
        at = next;
        continue;
      }
      const size = buffer.readUInt32LE(at + 8);
      if (size < OBJ_BASE_SIZE) {
        noteMalformed(stats, fileOffset, `object of ${size} bytes`, 'BLF object smaller than its header');
        at += 4;
        continue;
      }
      if (at + size > buffer.length) break;
      yield { type: buffer.readUInt32LE(at + 12), headerVersion: buffer.readUInt16LE(at + 6), body: buffer.subarray(at, at + size), offset: fileOffset };
      at += size;
    }
    inner = Buffer.from(buffer.subarray(at));
    buffer = Buffer.alloc(0);
  };
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    if (!headerSeen) {
      if (pending.length < 72) continue;
      if (pending.toString('latin1', 0, 4) !== 'LOGG') throw new KisoError('KISO_TRACE_READ', 'not a BLF file (it does not start with "LOGG")');
      const headerSize = pending.readUInt32LE(4);
      if (pending.length < headerSize) continue;
      header.start = fromSystemTime(pending, 40);
      pending = pending.subarray(headerSize);
      fileOffset = headerSize;
      headerSeen = true;
    }
    let at = 0;
    while (at + OBJ_BASE_SIZE <= pending.length) {
      if (pending.readUInt32LE(at) !== LOBJ) {
        const next = pending.indexOf('LOBJ', at, 'latin1');
        if (next < 0) {
          // Keep 3 bytes: "LOBJ" may straddle the chunk boundary.
          noteMalformed(stats, fileOffset + at, `${pending.length - at} bytes`, 'bytes between BLF objects that are no object');
          at = Math.max(at, pending.length - 3);
          break;
        }
        if (next - at > 3) noteMalformed(stats, fileOffset + at, `${next - at} bytes`, 'bytes between BLF objects that are no object');
        at = next;
        continue;
      }
      const size = pending.readUInt32LE(at + 8);
      if (size < OBJ_BASE_SIZE) {
        noteMalformed(stats, fileOffset + at, `object of ${size} bytes`, 'BLF object smaller than its header');
        at += 4;
        continue;
      }
      if (at + size > pending.length) break;
      const type = pending.readUInt32LE(at + 12);
      const object = pending.subarray(at, at + size);
      const objectOffset = fileOffset + at;
      at += size + (size % 4);
      if (type !== LOG_CONTAINER) {
        yield { type, headerVersion: object.readUInt16LE(6), body: object, offset: objectOffset };
        continue;
      }
      const headerSize = object.readUInt16LE(4);
      const method = object.readUInt16LE(headerSize);
      const data = object.subarray(headerSize + 16);
      let uncompressed: Buffer;
      if (method === 0) uncompressed = data;
      else if (method === 2) {
        try {
          uncompressed = inflateSync(data);
        } catch (error) {
          noteMalformed(stats, objectOffset, `container of ${size} bytes`, `zlib: ${(error as Error).message}`);
          continue;
        }
      } else {
        noteMalformed(stats, objectOffset, `container of ${size} bytes`, `unknown compression method ${method}`);
        continue;
      }
      yield* take(uncompressed);
    }
    fileOffset += Math.min(at, pending.length);
    pending = Buffer.from(pending.subarray(Math.min(at, pending.length)));
  }
  if (!headerSeen) throw new KisoError('KISO_TRACE_READ', 'not a BLF file (shorter than its header)');
  if (pending.length >= OBJ_BASE_SIZE) noteMalformed(stats, fileOffset, `${pending.length} bytes`, 'the file ends inside a BLF object (truncated)');
  if (inner.length >= OBJ_BASE_SIZE) noteMalformed(stats, fileOffset, `${inner.length} bytes`, 'the last container ends inside an object (truncated)');
}

/** One BLF object → a frame (undefined: not a CAN frame object). */
export function blfFrame(object: { type: number; body: Buffer; headerVersion: number }, start: number): TraceFrame | undefined {
  const { type, body, headerVersion } = object;
  let at = body.readUInt16LE(4);
  if (headerVersion !== 1 && headerVersion !== 2) return undefined;
  const flags = body.readUInt32LE(OBJ_BASE_SIZE);
  const ticks = Number(body.readBigUInt64LE(OBJ_BASE_SIZE + 8));
  const timestamp = start + (flags === 1 ? ticks / 1e5 : ticks / 1e9);
  if (at === 0) at = OBJ_BASE_SIZE + (headerVersion === 1 ? 16 : 24);
  if (type === CAN_MESSAGE || type === CAN_MESSAGE2) {
    const channel = body.readUInt16LE(at);
    const msgFlags = body[at + 2]!;
    const dlc = body[at + 3]!;
    const id = body.readUInt32LE(at + 4);
    const remote = (msgFlags & REMOTE_FLAG) !== 0;
    const length = Math.min(8, dlc);
    return {
      data: remote ? new Uint8Array(0) : Uint8Array.from(body.subarray(at + 8, at + 8 + length)),
      timestamp,
      channel: channelName(channel),
      direction: (msgFlags & DIR) !== 0 ? 'Tx' : 'Rx',
      can: { id: id & 0x1fffffff, extended: (id & CAN_MSG_EXT) !== 0, remote, fd: false, brs: false, esi: false, ...(remote ? { dlc } : {}) },
    };
  }
  if (type === CAN_ERROR_EXT) {
    const channel = body.readUInt16LE(at);
    const dlc = body[at + 10]!;
    const id = body.readUInt32LE(at + 16);
    return {
      data: Uint8Array.from(body.subarray(at + 24, at + 24 + Math.min(8, dlc))),
      timestamp,
      channel: channelName(channel),
      can: { id: id & 0x1fffffff, extended: (id & CAN_MSG_EXT) !== 0, remote: false, fd: false, brs: false, esi: false, error: true },
    };
  }
  if (type === CAN_FD_MESSAGE) {
    const channel = body.readUInt16LE(at);
    const msgFlags = body[at + 2]!;
    const dlc = body[at + 3]!;
    const id = body.readUInt32LE(at + 4);
    const fdFlags = body[at + 13]!;
    const valid = body[at + 14]!;
    const fd = (fdFlags & 0x1) !== 0;
    const remote = (msgFlags & REMOTE_FLAG) !== 0;
    const length = Math.min(valid, fd ? 64 : 8);
    return {
      data: remote ? new Uint8Array(0) : Uint8Array.from(body.subarray(at + 20, at + 20 + length)),
      timestamp,
      channel: channelName(channel),
      direction: (msgFlags & DIR) !== 0 ? 'Tx' : 'Rx',
      can: { id: id & 0x1fffffff, extended: (id & CAN_MSG_EXT) !== 0, remote, fd, brs: fd && (fdFlags & 0x2) !== 0, esi: fd && (fdFlags & 0x4) !== 0, ...(remote ? { dlc } : {}) },
    };
  }
  if (type === CAN_FD_MESSAGE_64) {
    const channel = body[at]!;
    const dlc = body[at + 1]!;
    const valid = body[at + 2]!;
    const id = body.readUInt32LE(at + 4);
    const fdFlags = body.readUInt32LE(at + 12);
    const direction = body[at + 34]!;
    const fd = (fdFlags & 0x1000) !== 0;
    const remote = (fdFlags & 0x10) !== 0;
    const length = Math.min(valid, fd ? 64 : 8);
    return {
      data: remote ? new Uint8Array(0) : Uint8Array.from(body.subarray(at + 40, at + 40 + length)),
      timestamp,
      channel: channelName(channel),
      direction: direction ? 'Tx' : 'Rx',
      can: { id: id & 0x1fffffff, extended: (id & CAN_MSG_EXT) !== 0, remote, fd, brs: fd && (fdFlags & 0x2000) !== 0, esi: fd && (fdFlags & 0x4000) !== 0, ...(remote ? { dlc } : {}) },
    };
  }
  return undefined;
}

export async function* readBlf(chunks: AsyncIterable<Buffer>, stats: ReadStats): AsyncGenerator<TraceFrame> {
  const header = { start: 0 };
  for await (const object of objects(chunks, stats, header)) {
    let frame: TraceFrame | undefined;
    try {
      frame = blfFrame(object, header.start);
    } catch (error) {
      noteMalformed(stats, object.offset, `object type ${object.type}, ${object.body.length} bytes`, `too short for its type (${(error as Error).message})`);
      continue;
    }
    if (!frame) {
      stats.skipped++;
      continue;
    }
    const problem = frame.can.fd && !frame.can.remote && !(FD_LENGTHS as readonly number[]).includes(frame.data.length);
    if (problem) {
      noteMalformed(stats, object.offset, `object type ${object.type}`, `${frame.data.length} bytes is not a CAN FD length`);
      continue;
    }
    stats.frames++;
    yield frame;
  }
}

/** A streaming BLF writer: objects go into 128 KiB containers, compressed as each fills; the file header is rewritten on close. */
export class BlfWriter implements FrameFileWriter {
  private fd: number | undefined;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private fileBytes = FILE_HEADER_SIZE;
  private uncompressedBytes = FILE_HEADER_SIZE;
  private start: number | undefined;
  private stop: number | undefined;
  count = 0;
  readonly refused = new Map<string, number>();

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new KisoError('KISO_TRACE_READ', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
    }
    writeSync(this.fd, this.header());
  }

  write(frame: TraceFrame): boolean {
    if (this.fd === undefined) throw new KisoError('KISO_CONNECTOR_CLOSED', `${this.path} is closed`);
    const { can } = frame;
    const channel = channelNumber(frame.channel);
    const id = (can.id >>> 0) | (can.extended ? CAN_MSG_EXT : 0);
    const flags = (can.remote ? REMOTE_FLAG : 0) | (frame.direction === 'Tx' ? DIR : 0);
    let type: number;
    let data: Buffer;
    if (can.error) {
      type = CAN_ERROR_EXT;
      data = Buffer.alloc(32);
      data.writeUInt16LE(channel, 0);
      data[10] = Math.min(8, frame.data.length);
      data.writeUInt32LE(id >>> 0, 16);
      data.set(frame.data.subarray(0, 8), 24);
    } else if (can.fd) {
      type = CAN_FD_MESSAGE;
      data = Buffer.alloc(84);
      data.writeUInt16LE(channel, 0);
      data[2] = flags;
      data[3] = frameDlc(frame);
      data.writeUInt32LE(id >>> 0, 4);
      data[13] = 0x1 | (can.brs ? 0x2 : 0) | (can.esi ? 0x4 : 0);
      data[14] = frame.data.length;
      data.set(frame.data, 20);
    } else {
      type = CAN_MESSAGE;
      data = Buffer.alloc(16);
      data.writeUInt16LE(channel, 0);
      data[2] = flags;
      data[3] = can.remote ? frameDlc(frame) : frame.data.length;
      data.writeUInt32LE(id >>> 0, 4);
      data.set(frame.data.subarray(0, 8), 8);
    }
    this.addObject(type, data, frame.timestamp);
    this.count++;
    return true;
  }

  private addObject(type: number, data: Buffer, timestamp: number): void {
    this.start ??= msFloor(timestamp);
    this.stop = timestamp;
    const head = Buffer.alloc(32);
    head.write('LOBJ', 0, 'latin1');
    head.writeUInt16LE(32, 4);
    head.writeUInt16LE(1, 6);
    head.writeUInt32LE(32 + data.length, 8);
    head.writeUInt32LE(type, 12);
    head.writeUInt32LE(2, 16); // TIME_ONE_NANS
    head.writeBigUInt64LE(BigInt(Math.max(0, Math.round((timestamp - this.start) * 1e6))) * 1000n, 24);
    this.parts.push(head, data);
    this.partBytes += head.length + data.length;
    const padding = data.length % 4;
    if (padding) {
      this.parts.push(Buffer.alloc(padding));
      this.partBytes += padding;
    }
    if (this.partBytes >= MAX_CONTAINER) this.flushContainer(false);
  }

  private flushContainer(all: boolean): void {
    if (this.fd === undefined || this.partBytes === 0) return;
    let buffer = Buffer.concat(this.parts, this.partBytes);
    while (buffer.length >= MAX_CONTAINER || (all && buffer.length > 0)) {
      const chunk = buffer.subarray(0, MAX_CONTAINER);
      buffer = buffer.subarray(chunk.length);
      const compressed = deflateSync(chunk);
      const container = Buffer.alloc(32);
      container.write('LOBJ', 0, 'latin1');
      container.writeUInt16LE(16, 4);
      container.writeUInt16LE(1, 6);
      const size = 32 + compressed.length;
      container.writeUInt32LE(size, 8);
      container.writeUInt32LE(LOG_CONTAINER, 12);
      container.writeUInt16LE(2, 16); // zlib deflate
      container.writeUInt32LE(chunk.length, 24);
      const padding = Buffer.alloc(size % 4);
      for (const part of [container, compressed, padding]) writeSync(this.fd, part);
      this.fileBytes += size + padding.length;
      this.uncompressedBytes += 32 + chunk.length;
    }
    this.parts = buffer.length ? [Buffer.from(buffer)] : [];
    this.partBytes = buffer.length;
  }

  private header(): Buffer {
    const header = Buffer.alloc(FILE_HEADER_SIZE);
    header.write('LOGG', 0, 'latin1');
    header.writeUInt32LE(FILE_HEADER_SIZE, 4);
    // application id 0 (unknown), version 0.0.0; binlog 2.6.8.1 as python-can writes
    header.set([0, 0, 0, 0, 2, 6, 8, 1], 8);
    header.writeBigUInt64LE(BigInt(this.fileBytes), 16);
    header.writeBigUInt64LE(BigInt(this.uncompressedBytes), 24);
    header.writeUInt32LE(this.count, 32);
    systemTime(header, 40, this.start);
    systemTime(header, 56, this.stop);
    return header;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flushContainer(true);
      writeSync(this.fd, this.header(), 0, FILE_HEADER_SIZE, 0);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export const blfFormat: BinaryLogFormat = {
  kind: 'binary',
  name: 'blf',
  read: readBlf,
  writer: (path: string) => new BlfWriter(path),
};

/** For tests: the DLC → length rule BLF uses for FD objects. */
export const blfLength = dlcToLength;
