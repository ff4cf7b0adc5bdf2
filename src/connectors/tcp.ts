import { connect, type Socket } from 'node:net';
import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds, type Message, type PeerAddress } from '../core/message.js';
import { formatHostPort, requireBytes, socketErrorText } from './socket-common.js';

export interface TcpConnectorConfig {
  /** The server to connect to: an IPv4/IPv6 address or a host name. */
  dest_ip: string;
  dest_port: number;
  /** Most bytes delivered in one message; bigger chunks are split. */
  max_msg_size?: number;
  /** How long `open` waits for the connection. */
  connect_timeout_ms?: number;
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

/** pykiso's CCTcpip reads with recv(max_msg_size), max_msg_size=256. */
export const DEFAULT_TCP_MAX_MSG_SIZE = 256;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;


/**
 * TCP is a byte stream, so a "message" is what one read returned, as with
 * pykiso's recv(max_msg_size): a chunk bigger than max_msg_size is cut into
 * pieces of at most that size, in order.
 */
export function splitChunk(chunk: Buffer, maxSize: number): Buffer[] {
  if (chunk.length <= maxSize) return [chunk];
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < chunk.length; offset += maxSize) pieces.push(chunk.subarray(offset, offset + maxSize));
  return pieces;
}

/** Writes and resolves once the bytes are handed to the kernel. */
export function writeSocket(socket: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/** Destroys a socket and waits until its handle is released. */
export function destroySocket(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

/**
 * pykiso's CCTcpip: a TCP client. `open` connects to dest_ip:dest_port
 * (KISO_CONNECTOR_OPEN naming host:port when refused or after
 * connect_timeout_ms); every chunk read is delivered as one message.
 *
 * The peer closing the connection mid-run is reported through `onError` as
 * KISO_CONNECTOR_CLOSED; later sends reject with the same code until the
 * connector is closed and opened again (kiso does not reconnect behind the
 * test's back: a device that dropped the link is a finding).
 */
export class TcpConnector extends Connector<TcpConnectorConfig> {
  private socket: Socket | undefined;
  /** Why the connection is gone, once the peer closed it or it broke. */
  private lost: string | undefined;
  private closing = false;

  private get target(): string {
    return formatHostPort(this.config.dest_ip, this.config.dest_port);
  }

  protected override async doOpen(): Promise<void> {
    const timeoutMs = this.config.connect_timeout_ms ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.closing = false;
    this.lost = undefined;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.config.dest_ip, port: this.config.dest_port });
      const timer = setTimeout(() => {
        settle(new Error(`no connection after ${timeoutMs} ms (connect_timeout_ms)`));
      }, timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        if (!error) return resolve(socket);
        socket.destroy();
        reject(new KisoError('KISO_CONNECTOR_OPEN', `TCP connector "${this.name}" cannot connect to ${this.target}: ${socketErrorText(error)}`, { cause: error }));
      };
      const onConnect = () => {
        this.watch(socket);
        settle();
      };
      const onError = (error: Error) => settle(error);
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
    this.socket = socket;
  }

  protected override async doClose(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await destroySocket(socket);
  }

  protected override async doSend(message: Message): Promise<void> {
    const data = requireBytes(this.name, message);
    const socket = this.socket;
    if (!socket || this.lost !== undefined) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `TCP connector "${this.name}": the connection to ${this.target} is gone (${this.lost ?? 'not connected'}); close and reopen the connector`);
    }
    try {
      await writeSocket(socket, data);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_SEND', `TCP connector "${this.name}" cannot send to ${this.target}: ${socketErrorText(error)}`, { cause: error });
    }
  }

  /** Listeners for the connected socket's whole life, attached before anything can arrive. */
  private watch(socket: Socket): void {
    // Test traffic is small request/answer exchanges: send at once, don't batch (Nagle).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk, socket));
    socket.on('end', () => {
      this.lost ??= 'closed by the peer';
    });
    socket.on('error', (error) => {
      this.lost ??= socketErrorText(error);
    });
    socket.on('close', () => this.onClosed());
  }

  private onData(chunk: Buffer, socket: Socket): void {
    const peer: PeerAddress | undefined = socket.remoteAddress !== undefined && socket.remotePort !== undefined
      ? { address: socket.remoteAddress, port: socket.remotePort }
      : undefined;
    const timestamp = nowSeconds();
    for (const data of splitChunk(chunk, this.config.max_msg_size ?? DEFAULT_TCP_MAX_MSG_SIZE)) {
      this.deliver(peer ? { data, timestamp, peer } : { data, timestamp });
    }
  }

  private onClosed(): void {
    if (this.closing) return;
    this.lost ??= 'closed by the peer';
    this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `TCP connector "${this.name}": the connection to ${this.target} was lost mid-run (${this.lost})`));
  }
}
