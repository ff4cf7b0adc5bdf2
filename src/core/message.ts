/**
 * What crosses a connector: bytes plus the transport's own fields. One shape
 * for every transport keeps auxiliaries, proxies and IPC transport-agnostic.
 */
export interface CanFields {
  /** Arbitration id: 11 bits, or 29 bits when `extended`. */
  id: number;
  extended: boolean;
  /** Remote transmission request (classic CAN only). */
  remote: boolean;
  /** CAN FD frame. */
  fd: boolean;
  /** Bit-rate switch (FD only). */
  brs: boolean;
  /** Error state indicator (FD only). */
  esi: boolean;
  /** An error frame reported by the controller. */
  error?: boolean;
  /** Data length code of a remote frame (it carries no data); other frames take their length from `data`. */
  dlc?: number;
}

export interface PeerAddress {
  address: string;
  port: number;
}

export interface Message {
  data: Uint8Array;
  /** Receive (or send) time, seconds since the Unix epoch, as candump and python-can use. */
  timestamp?: number;
  /** Channel or interface name the message travelled on. */
  channel?: string;
  /** Present on CAN frames. */
  can?: CanFields;
  /** The far end of a datagram or stream; on send, a server connector uses it to pick the client. */
  peer?: PeerAddress;
}

/** What `send` accepts: a full message, raw bytes, or text (sent as UTF-8). */
export type Sendable = Message | Uint8Array | string;

export function toMessage(value: Sendable): Message {
  if (typeof value === 'string') return { data: Buffer.from(value, 'utf8') };
  if (value instanceof Uint8Array) return { data: value };
  return value;
}

/**
 * Now, in seconds since the Unix epoch, to the microsecond: the one clock of
 * frames kiso stamps (sent and received), so that traces never go backwards.
 * It is the wall clock at process start plus the monotonic clock since.
 */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}
