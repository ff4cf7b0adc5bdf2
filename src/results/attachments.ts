import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A file attached to a test case: kept in memory until the run record stores it. */
export interface Attachment {
  name: string;
  mimeType: string;
  data: Uint8Array;
  size: number;
  sha1: string;
}

export type AttachmentContent = Uint8Array | string | { path: string };

const MIME_BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.pcap': 'application/vnd.tcpdump.pcap',
};

export function guessMimeType(name: string, content?: AttachmentContent): string {
  return MIME_BY_EXTENSION[path.extname(name).toLowerCase()] ?? (typeof content === 'string' ? 'text/plain' : 'application/octet-stream');
}

/** An attachment's name becomes a file name in the store: no folders, nothing hidden. */
function checkName(name: string): void {
  if (typeof name !== 'string' || !name || name.length > 200 || /[/\\\0]/.test(name) || name.startsWith('.')) {
    throw new TypeError(`attachment name ${JSON.stringify(name)} is not valid: a file name without / or \\, not starting with a dot`);
  }
}

/** `ctx.attach(...)`: the case's attachments. A `{ path }` is read at once, so a teardown that deletes the file loses nothing. */
export class CaseAttachments {
  readonly list: Attachment[] = [];

  attach(name: string, content: AttachmentContent, mimeType?: string): Attachment {
    checkName(name);
    if (this.list.some((a) => a.name === name)) throw new TypeError(`attachment "${name}" is already attached to this case`);
    let data: Uint8Array;
    if (typeof content === 'string') data = Buffer.from(content, 'utf8');
    else if (content instanceof Uint8Array) data = new Uint8Array(content);
    else if (content && typeof content.path === 'string') data = readFileSync(content.path);
    else throw new TypeError(`attachment "${name}": give bytes, a string or { path: 'file' }`);
    const attachment: Attachment = {
      name,
      mimeType: mimeType ?? guessMimeType(name, content),
      data,
      size: data.byteLength,
      sha1: createHash('sha1').update(data).digest('hex'),
    };
    this.list.push(attachment);
    return attachment;
  }
}
