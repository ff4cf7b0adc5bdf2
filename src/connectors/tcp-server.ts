import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds, type Message, type PeerAddress } from '../core/message.js';
import { formatHostPort, requireBytes, socketErrorText } from './socket-common.js';
import { DEFAULT_TCP_MAX_MSG_SIZE, destroySocket, splitChunk, writeSocket } from './tcp.js';

export interface TcpServerConnectorConfig {
  /** Local address to listen on: an IPv4/IPv6 address or a host name. */
  dest_ip: string;
  /** Local port to listen on (0 picks a free one; `address()` tells which). */
  dest_port: number;
  /** Most bytes delivered in one message; bigger chunks are split. */
  max_msg_size?: number;
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

/** Host names listen on their IPv4 address first, as pykiso's AF_INET sockets do. */
async function resolveListenAddress(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  const found = await lookup(host, { all: true });
  const chosen = found.find((entry) => entry.family === 4) ?? found[0];
  if (!chosen) throw new Error(`host name "${host}" resolves to no address`);
  return chosen.address;
}

function peerKey(peer: PeerAddress): string {
  return formatHostPort(peer.address, peer.port);
}

/**
 * A TCP server: listens on dest_ip:dest_port, accepts any number of clients
 * and delivers each chunk a client sends with `message.peer` set to it.
 *
 * `send` goes to `message.peer` when the message names one (a client that is
 * not connected is a KISO_CONNECTOR_SEND error), else to the most recently
 * connected client still connected: when a device reboots and reconnects
 * before its old connection is noticed dead, the answer goes to the new one,
 * and a message is never written twice. No client connected is a
 * KISO_CONNECTOR_SEND error. A client leaving is logged, not an error: the
 * server keeps listening for the next one.
 */
export class TcpServerConnector extends Connector<TcpServerConnectorConfig> {
  private server: Server | undefined;
  /** Connected clients, in connection order (a Map keeps insertion order). */
  private readonly clients = new Map<string, Socket>();

  private get endpoint(): string {
    const bound = this.address();
    return formatHostPort(bound?.address ?? this.config.dest_ip, bound?.port ?? this.config.dest_port);
  }

  /** The address and port actually listened on, while open. */
  address(): PeerAddress | undefined {
    const info = this.server?.address() as AddressInfo | null | undefined;
    return info ? { address: info.address, port: info.port } : undefined;
  }

  /** The clients connected now, oldest first. */
  connectedPeers(): PeerAddress[] {
    return [...this.clients.values()].flatMap((socket) => (socket.remoteAddress !== undefined && socket.remotePort !== undefined ? [{ address: socket.remoteAddress, port: socket.remotePort }] : []));
  }

  protected override async doOpen(): Promise<void> {
    const wanted = formatHostPort(this.config.dest_ip, this.config.dest_port);
    let host: string;
    try {
      host = await resolveListenAddress(this.config.dest_ip);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `TCP server "${this.name}" cannot resolve ${wanted}: ${socketErrorText(error)}`, { cause: error });
    }
    const server = createServer((socket) => this.onClient(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        server.close();
        reject(new KisoError('KISO_CONNECTOR_OPEN', `TCP server "${this.name}" cannot listen on ${wanted}: ${socketErrorText(error)}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen({ host, port: this.config.dest_port, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (error) => {
      this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `TCP server "${this.name}" on ${this.endpoint} failed: ${socketErrorText(error)}`, { cause: error }));
    });
    this.server = server;
    this.log.info({ connector: this.name, address: this.endpoint }, 'TCP server listening');
  }

  protected override async doClose(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const clients = [...this.clients.values()];
    this.clients.clear();
    // server.close() waits for every accepted connection to end: drop them first.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all(clients.map((socket) => destroySocket(socket)));
    await closed;
  }

  protected override async doSend(message: Message): Promise<void> {
    const data = requireBytes(this.name, message);
    if (!this.server) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `TCP server "${this.name}" is not listening: cannot send`);
    }
    let socket: Socket | undefined;
    let to: string;
    if (message.peer) {
      to = peerKey(message.peer);
      socket = this.clients.get(to);
      if (!socket) {
        const connected = [...this.clients.keys()];
        throw new KisoError('KISO_CONNECTOR_SEND', `TCP server "${this.name}" on ${this.endpoint} cannot send to ${to}: that client is not connected (connected: ${connected.length ? connected.join(', ') : 'none'})`);
      }
    } else {
      const newest = [...this.clients.entries()].at(-1);
      if (!newest) {
        throw new KisoError('KISO_CONNECTOR_SEND', `TCP server "${this.name}" on ${this.endpoint} cannot send: no client is connected`);
      }
      [to, socket] = newest;
    }
    try {
      await writeSocket(socket, data);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_SEND', `TCP server "${this.name}" cannot send to client ${to}: ${socketErrorText(error)}`, { cause: error });
    }
  }

  private onClient(socket: Socket): void {
    if (socket.remoteAddress === undefined || socket.remotePort === undefined) {
      // Already gone before we saw it: nothing to talk to.
      socket.destroy();
      return;
    }
    const peer: PeerAddress = { address: socket.remoteAddress, port: socket.remotePort };
    const key = peerKey(peer);
    this.clients.set(key, socket);
    socket.setNoDelay(true);
    this.log.info({ connector: this.name, client: key }, 'TCP client connected');
    const maxSize = this.config.max_msg_size ?? DEFAULT_TCP_MAX_MSG_SIZE;
    socket.on('data', (chunk: Buffer) => {
      const timestamp = nowSeconds();
      for (const data of splitChunk(chunk, maxSize)) this.deliver({ data, timestamp, peer });
    });
    socket.on('error', (error) => {
      this.log.warn({ connector: this.name, client: key, err: error }, `TCP client ${key} connection error: ${socketErrorText(error)}`);
    });
    socket.on('close', () => {
      // Only forget the socket if it is still the one registered under that key.
      if (this.clients.get(key) === socket) {
        this.clients.delete(key);
        this.log.info({ connector: this.name, client: key }, 'TCP client disconnected');
      }
    });
  }
}
