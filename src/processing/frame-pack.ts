import type { Message } from '../core/message.js';

/**
 * Messages packed into one binary buffer per batch. IPC pays per object, not
 * per byte, so a batch of frames crosses as one Buffer instead of thousands
 * of objects.
 *
 * Per message:  u8 flags | u32 CAN id (only with CAN) | f64 timestamp |
 *               u16 data length | data | u8 channel length | channel (UTF-8) |
 *               [u8 address length | address | u16 port] (only with a peer)
 * flags: 1 CAN, 2 extended, 4 remote, 8 FD, 16 BRS, 32 ESI, 64 error frame, 128 peer.
 * A timestamp of NaN means none; a CAN dlc (remote frames) travels in the id word's top bits.
 */
const CAN = 1;
const EXTENDED = 2;
const REMOTE = 4;
const FD = 8;
const BRS = 16;
const ESI = 32;
const ERROR = 64;
const PEER = 128;

const textDecoder = new TextDecoder();

function byteLength(text: string | undefined): number {
  return text ? Buffer.byteLength(text, 'utf8') : 0;
}

/** Bytes `message` takes once packed. */
function packedSize(message: Message): number {
  let size = 1 + (message.can ? 4 : 0) + 8 + 2 + message.data.length + 1 + byteLength(message.channel);
  if (message.peer) size += 1 + byteLength(message.peer.address) + 2;
  return size;
}

export function packMessages(messages: readonly Message[]): Buffer {
  let total = 0;
  for (const message of messages) total += packedSize(message);
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const message of messages) offset = packInto(out, offset, message);
  return out;
}

/** Writes `message` at `offset` of `out` (which has room for it); returns the offset after it. */
function packInto(out: Buffer, offset: number, message: Message): number {
  const can = message.can;
  let flags = 0;
  if (can) {
    flags |= CAN;
    if (can.extended) flags |= EXTENDED;
    if (can.remote) flags |= REMOTE;
    if (can.fd) flags |= FD;
    if (can.brs) flags |= BRS;
    if (can.esi) flags |= ESI;
    if (can.error) flags |= ERROR;
  }
  if (message.peer) flags |= PEER;
  out[offset++] = flags;
  if (can) {
    // 29 id bits + 3 spare: a remote frame's dlc (0..8) goes in bits 29-31 when present.
    const dlc = (can as { dlc?: number }).dlc;
    const dlcBits = can.remote && dlc !== undefined ? (Math.min(dlc, 7) & 7) * 0x20000000 : 0;
    out.writeUInt32LE((can.id + dlcBits) >>> 0, offset);
    offset += 4;
  }
  out.writeDoubleLE(message.timestamp ?? Number.NaN, offset);
  offset += 8;
  const length = message.data.length;
  out.writeUInt16LE(length, offset);
  offset += 2;
  out.set(message.data, offset);
  offset += length;
  offset = writeShortText(out, offset, message.channel);
  if (message.peer) {
    offset = writeShortText(out, offset, message.peer.address);
    out.writeUInt16LE(message.peer.port, offset);
    offset += 2;
  }
  return offset;
}

/**
 * Packs a batch message by message as it is collected, into one buffer it
 * reuses. A batch waiting for its flush holds bytes, not message objects, so
 * a full bus leaves the young generation's collections little to copy. And a
 * batch leaves as a view of that one buffer: Node's `advanced` IPC
 * serialization keeps whatever it serialized alive until the next major GC
 * (a v8.Serializer per message), so a fresh Buffer per batch piled up as
 * external memory between major GCs (~0.1 MiB/s on a full bus, 15 MiB
 * before one came) and set the high-water mark of the process's malloc heap.
 */
export class BatchPacker {
  private buffer: Buffer;
  private offset = 0;
  private messages = 0;

  constructor(initialBytes = 16 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Messages packed since the last take(). */
  get count(): number {
    return this.messages;
  }

  /** Bytes packed since the last take(). */
  get bytes(): number {
    return this.offset;
  }

  add(message: Message): void {
    const end = this.offset + packedSize(message);
    if (end > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.offset);
      this.buffer = grown;
    }
    this.offset = packInto(this.buffer, this.offset, message);
    this.messages++;
  }

  /**
   * The batch packed so far, and starts the next. It is a view of the
   * packer's buffer, valid until the next add(): send or copy it before.
   */
  take(): Buffer {
    const batch = this.buffer.subarray(0, this.offset);
    this.clear();
    return batch;
  }

  clear(): void {
    this.offset = 0;
    this.messages = 0;
  }
}

function writeShortText(out: Buffer, offset: number, text: string | undefined): number {
  if (!text) {
    out[offset] = 0;
    return offset + 1;
  }
  const written = out.write(text, offset + 1, 'utf8');
  out[offset] = written;
  return offset + 1 + written;
}

/** Unpacks a batch; `data` of each message is a view into `buffer` (no copy). */
export function unpackMessages(buffer: Uint8Array): Message[] {
  const view = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const messages: Message[] = [];
  let offset = 0;
  while (offset < view.length) {
    const flags = view[offset++]!;
    let idWord = 0;
    if (flags & CAN) {
      idWord = view.readUInt32LE(offset);
      offset += 4;
    }
    const timestamp = view.readDoubleLE(offset);
    offset += 8;
    const length = view.readUInt16LE(offset);
    offset += 2;
    const message: Message = { data: view.subarray(offset, offset + length) };
    offset += length;
    if (!Number.isNaN(timestamp)) message.timestamp = timestamp;
    const channelLength = view[offset++]!;
    if (channelLength) {
      message.channel = textDecoder.decode(view.subarray(offset, offset + channelLength));
      offset += channelLength;
    }
    if (flags & PEER) {
      const addressLength = view[offset++]!;
      const address = textDecoder.decode(view.subarray(offset, offset + addressLength));
      offset += addressLength;
      message.peer = { address, port: view.readUInt16LE(offset) };
      offset += 2;
    }
    if (flags & CAN) {
      const remote = (flags & REMOTE) !== 0;
      message.can = {
        id: idWord & 0x1fffffff,
        extended: (flags & EXTENDED) !== 0,
        remote,
        fd: (flags & FD) !== 0,
        brs: (flags & BRS) !== 0,
        esi: (flags & ESI) !== 0,
        ...(flags & ERROR ? { error: true } : {}),
        ...(remote ? { dlc: idWord >>> 29 } : {}),
      };
    }
    messages.push(message);
  }
  return messages;
}

