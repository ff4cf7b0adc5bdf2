import { isIP } from 'node:net';
import { describeError, KisoError } from '../core/errors.js';
import type { Message } from '../core/message.js';

/** Helpers every socket connector (UDP, TCP, virtual CAN) shares. */

/** `host:port`, with IPv6 addresses in brackets. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket error in words, keeping its errno code (ECONNREFUSED, EADDRINUSE…) for searching. */
export function socketErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = describeError(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

export function requireBytes(connector: string, message: Message): Uint8Array {
  if (!(message.data instanceof Uint8Array)) {
    throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `connector "${connector}": message data must be bytes (Uint8Array), got ${typeof message.data}`);
  }
  return message.data;
}
