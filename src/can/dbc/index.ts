import { canFrame, fdPaddedLength, type CanFrame } from '../frame.js';
import { KisoError } from '../../core/errors.js';
import type { Message } from '../../core/message.js';
import { suggest } from '../../core/suggest.js';
import { decodeSignals, encodeSignals, type DecodedMessage, type EncodeOptions, type SignalInput } from './codec.js';
import { loadDbc, parseDbc } from './parse.js';
import type { DbcDatabase, DbcMessage, DbcSignal } from './types.js';

export { DbcError } from './types.js';
export type { DbcDatabase, DbcMessage, DbcSignal, ValueType } from './types.js';
export type { DecodedMessage, DecodedSignal, EncodeOptions, RawValue, SignalInput } from './codec.js';
export { decodeSignals, encodeSignals, extractRaw, insertRaw, toRaw, toPhysical, rawRange } from './codec.js';
export { parseDbc, loadDbc } from './parse.js';

function idKey(id: number, extended: boolean): number {
  // Ids are at most 29 bits, so bit 29 tells extended from standard without a string key.
  return extended ? id + 0x20000000 : id;
}

/**
 * A loaded DBC with the lookups a test needs: messages by name or id,
 * signals by name (or `Message.Signal` when a name is in several messages),
 * and frames encoded from and decoded into signal values.
 */
export class Dbc {
  private readonly byName = new Map<string, DbcMessage>();
  private readonly byId = new Map<number, DbcMessage>();
  private readonly signalOwners = new Map<string, DbcMessage[]>();

  constructor(readonly database: DbcDatabase) {
    for (const message of database.messages) {
      this.byName.set(message.name, message);
      this.byId.set(idKey(message.id, message.extended), message);
      for (const signal of message.signals) {
        const owners = this.signalOwners.get(signal.name) ?? [];
        owners.push(message);
        this.signalOwners.set(signal.name, owners);
      }
    }
  }

  static load(path: string, displayName = path): Dbc {
    return new Dbc(loadDbc(path, displayName));
  }

  static parse(text: string, file = '<dbc>'): Dbc {
    return new Dbc(parseDbc(text, file));
  }

  get messages(): readonly DbcMessage[] {
    return this.database.messages;
  }

  /** The message with this name, or a KISO_DBC_SIGNAL error listing close names. */
  message(name: string): DbcMessage {
    const message = this.byName.get(name);
    if (!message) throw new KisoError('KISO_DBC_SIGNAL', `${this.database.file} has no message "${name}"${closeNames(name, [...this.byName.keys()])}`);
    return message;
  }

  messageById(id: number, extended: boolean): DbcMessage | undefined {
    return this.byId.get(idKey(id, extended));
  }

  /** A signal by name, or by `Message.Signal`; an error when unknown or in several messages. */
  signal(name: string): DbcSignal {
    const dot = name.indexOf('.');
    if (dot > 0) {
      const message = this.message(name.slice(0, dot));
      const signal = message.signalsByName.get(name.slice(dot + 1));
      if (!signal) throw new KisoError('KISO_DBC_SIGNAL', `message ${message.name} has no signal "${name.slice(dot + 1)}"${closeNames(name.slice(dot + 1), message.signals.map((s) => s.name))}`);
      return signal;
    }
    const owners = this.signalOwners.get(name);
    if (!owners) throw new KisoError('KISO_DBC_SIGNAL', `${this.database.file} has no signal "${name}"${closeNames(name, [...this.signalOwners.keys()])}`);
    if (owners.length > 1) throw new KisoError('KISO_DBC_SIGNAL', `signal "${name}" is in several messages (${owners.map((m) => m.name).join(', ')}): write ${owners.map((m) => `"${m.name}.${name}"`).join(' or ')}`);
    return owners[0]!.signalsByName.get(name)!;
  }

  /** The frame that carries `values` (unset signals at their initial value). */
  encode(messageName: string, values: Readonly<Record<string, SignalInput>> = {}, options: EncodeOptions = {}): CanFrame {
    const message = this.message(messageName);
    return frameOf(message, encodeSignals(message, values, options));
  }

  /** The signals of a received frame, or undefined for a frame the DBC does not describe (or a too short one). */
  decode(frame: Message): DecodedMessage | undefined {
    const can = frame.can;
    if (!can || can.remote || can.error) return undefined;
    const message = this.byId.get(idKey(can.id, can.extended));
    if (!message) return undefined;
    const signals = decodeSignals(message, frame.data);
    if (!signals) return undefined;
    const decoded: DecodedMessage = { name: message.name, id: message.id, extended: message.extended, signals };
    if (frame.timestamp !== undefined) decoded.timestamp = frame.timestamp;
    return decoded;
  }
}

/** A CAN frame for a message's payload: FD when the DBC says so (padded to a valid FD length). */
export function frameOf(message: DbcMessage, data: Uint8Array): CanFrame {
  let payload = data;
  if (message.fd && ![0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64].includes(payload.length)) {
    payload = new Uint8Array(fdPaddedLength(payload.length));
    payload.set(data);
  }
  return canFrame({ id: message.id, extended: message.extended, fd: message.fd, brs: message.brs, data: payload });
}

function closeNames(name: string, candidates: readonly string[]): string {
  const lower = name.toLowerCase();
  const close = [...new Set([...suggest(name, candidates), ...candidates.filter((candidate) => candidate.toLowerCase().includes(lower))])].slice(0, 3);
  return close.length ? ` (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : '';
}
