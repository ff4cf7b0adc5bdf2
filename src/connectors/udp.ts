import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds, type Message, type PeerAddress } from '../core/message.js';
import { formatHostPort, requireBytes, socketErrorText } from './socket-common.js';

export interface UdpConnectorConfig {
  /** Where datagrams go: an IPv4/IPv6 address or a host name. */
  dest_ip: string;
  dest_port: number;
  /** Largest datagram accepted on receive; bigger ones are dropped and counted. */
  max_msg_size?: number;
  /** Local port to bind; a free one when absent. */
  source_port?: number;
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

/** pykiso receives with recv(256) on its UDP channels. */
export const DEFAULT_UDP_MAX_MSG_SIZE = 256;

/** Largest UDP payload over IPv4 / IPv6 (65535 minus the IP and UDP headers). */
const MAX_DATAGRAM = { udp4: 65_507, udp6: 65_527 } as const;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves an address or host name. Host names prefer IPv4, as pykiso (which
 * only opens AF_INET sockets) does: `localhost` means 127.0.0.1, so a kiso
 * connector and a pykiso or embedded peer meet on the same address.
 */
export async function resolveAddress(host: string): Promise<ResolvedAddress> {
  const literal = isIP(host);
  if (literal === 4 || literal === 6) return { address: host, family: literal };
  const found = await lookup(host, { all: true });
  const chosen = found.find((entry) => entry.family === 4) ?? found[0];
  if (!chosen) throw new Error(`host name "${host}" resolves to no address`);
  return { address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}


export function maxDatagram(family: 4 | 6): number {
  return family === 6 ? MAX_DATAGRAM.udp6 : MAX_DATAGRAM.udp4;
}

export function peerOf(rinfo: RemoteInfo): PeerAddress {
  return { address: rinfo.address, port: rinfo.port };
}

/** Binds a fresh UDP socket, resolving once bound or rejecting with the bind error. */
export function bindUdp(family: 4 | 6, port: number, address?: string): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      void closeUdp(socket);
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // Already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release.
      resolve();
    }
  });
}

export function sendDatagram(socket: Socket, data: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(data, port, address, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * pykiso's CCUdp: a UDP client socket. Sends every message as one datagram to
 * dest_ip:dest_port and delivers every datagram the socket receives, from
 * whoever sent it (`message.peer` tells who), as pykiso's recv() does.
 *
 * The socket is bound on open (to `source_port`, or a free port) so answers
 * that arrive before the first send are not lost. A datagram larger than
 * `max_msg_size` is dropped and counted, where pykiso would silently
 * truncate it; raise `max_msg_size` if the device sends bigger ones.
 * `message.peer` is ignored on send: a client talks to its destination only.
 */
export class UdpConnector extends Connector<UdpConnectorConfig> {
  private socket: Socket | undefined;
  private destination: ResolvedAddress | undefined;

  private get maxMsgSize(): number {
    return this.config.max_msg_size ?? DEFAULT_UDP_MAX_MSG_SIZE;
  }

  private get target(): string {
    return formatHostPort(this.config.dest_ip, this.config.dest_port);
  }

  /** The local address and port the socket is bound to, while open. */
  address(): PeerAddress | undefined {
    if (!this.socket) return undefined;
    const { address, port } = this.socket.address();
    return { address, port };
  }

  protected override async doOpen(): Promise<void> {
    try {
      this.destination = await resolveAddress(this.config.dest_ip);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `UDP connector "${this.name}" cannot resolve its destination ${this.target}: ${socketErrorText(error)}`, { cause: error });
    }
    const sourcePort = this.config.source_port ?? 0;
    let socket: Socket;
    try {
      socket = await bindUdp(this.destination.family, sourcePort);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `UDP connector "${this.name}" (to ${this.target}) cannot bind local port ${sourcePort}: ${socketErrorText(error)}`, { cause: error });
    }
    socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
    socket.on('error', (error) => this.onSocketError(error));
    this.socket = socket;
  }

  protected override async doClose(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await closeUdp(socket);
  }

  protected override async doSend(message: Message): Promise<void> {
    const data = requireBytes(this.name, message);
    const { socket, destination } = this;
    if (!socket || !destination) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `UDP connector "${this.name}" to ${this.target} has no socket (it failed earlier): close and reopen it`);
    }
    const limit = maxDatagram(destination.family);
    if (data.length > limit) {
      throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `UDP connector "${this.name}": a ${data.length}-byte message does not fit in one datagram (at most ${limit} bytes)`);
    }
    try {
      await sendDatagram(socket, data, this.config.dest_port, destination.address);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_SEND', `UDP connector "${this.name}" cannot send to ${this.target}: ${socketErrorText(error)}`, { cause: error });
    }
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    if (data.length > this.maxMsgSize) {
      this.malformed('datagram larger than max_msg_size', { size: data.length, max_msg_size: this.maxMsgSize, peer: formatHostPort(rinfo.address, rinfo.port) });
      return;
    }
    this.deliver({ data, timestamp: nowSeconds(), peer: peerOf(rinfo) });
  }

  /** An error outside any call leaves the socket unusable: release it and say so. */
  private onSocketError(error: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) void closeUdp(socket);
    this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `UDP connector "${this.name}" to ${this.target} lost its socket: ${socketErrorText(error)}`, { cause: error }));
  }
}
