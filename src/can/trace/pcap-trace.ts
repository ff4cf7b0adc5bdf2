import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PcapWriter } from '../pcap.js';
import { isCanFrame } from '../frame.js';
import type { Message } from '../../core/message.js';
import type { Direction } from './trace-writer.js';

/**
 * The proxy trace as a pcap file (link type 227, LINKTYPE_CAN_SOCKETCAN):
 * Wireshark opens it and decodes ISO-TP and UDS. pcap has no source or
 * direction column for this link type, so only the frames are kept; messages
 * that are not CAN frames cannot be written and are counted instead.
 */
export class PcapTrace {
  private readonly writer: PcapWriter;
  readonly files: string[];
  lines = 0;
  /** Messages that were not CAN frames. */
  skipped = 0;

  constructor(options: { dir: string; name: string }) {
    mkdirSync(options.dir, { recursive: true });
    const file = path.join(options.dir, `${options.name}.pcap`);
    this.writer = new PcapWriter(file);
    this.files = [file];
  }

  get file(): string {
    return this.files[0]!;
  }

  record(message: Message, _source: string, _direction: Direction): void {
    if (!isCanFrame(message)) {
      this.skipped++;
      return;
    }
    this.writer.write(message.timestamp === undefined ? { ...message, timestamp: Date.now() / 1000 } : message);
    this.lines++;
  }

  async close(): Promise<void> {
    this.writer.close();
  }
}
