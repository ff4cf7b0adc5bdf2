import type { RemoteInfo, Socket } from 'node:dgram';
import { Connector } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { nowSeconds, type Message, type PeerAddress } from '../core/message.js';
import { formatHostPort, requireBytes, socketErrorText } from './socket-common.js';
import {
  DEFAULT_UDP_MAX_MSG_SIZE, bindUdp, closeUdp, maxDatagram, peerOf,
  resolveAddress, sendDatagram, type ResolvedAddress,
} from './udp.js';

export interface UdpServerConnectorConfig {
  /** Local address to bind: an IPv4/IPv6 address or a host name. */
  dest_ip: string;
  /** Local port to bind (0 picks a free one; `address()` tells which). */
  dest_port: number;
  /** Largest datagram accepted on receive; bigger ones are dropped and counted. */
  max_msg_size?: number;
  /** Run this connector and its auxiliary in their own OS process. */
  processing?: boolean;
}

/**
 * pykiso's CCUdpServer: binds dest_ip:dest_port and delivers every datagram
 * with `message.peer` set to its sender.
 *
 * `send` goes to `message.peer` when the message names one, else to the last
 * peer that wrote (pykiso's behaviour: with several peers, answer each before
 * reading again, or name the peer). Sending before any peer wrote is a
 * KISO_CONNECTOR_SEND error, since there is nowhere to send to.
 */
export class UdpServerConnector extends Connector<UdpServerConnectorConfig> {
  private socket: Socket | undefined;
  private local: ResolvedAddress | undefined;
  private lastPeer: PeerAddress | undefined;

  private get maxMsgSize(): number {
    return this.config.max_msg_size ?? DEFAULT_UDP_MAX_MSG_SIZE;
  }

  private get endpoint(): string {
    const bound = this.address();
    return formatHostPort(bound?.address ?? this.config.dest_ip, bound?.port ?? this.config.dest_port);
  }

  /** The address and port actually bound, while open. */
  address(): PeerAddress | undefined {
    if (!this.socket) return undefined;
    const { address, port } = this.socket.address();
    return { address, port };
  }

  protected override async doOpen(): Promise<void> {
    const wanted = formatHostPort(this.config.dest_ip, this.config.dest_port);
    try {
      this.local = await resolveAddress(this.config.dest_ip);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `UDP server "${this.name}" cannot resolve ${wanted}: ${socketErrorText(error)}`, { cause: error });
    }
    let socket: Socket;
    try {
      socket = await bindUdp(this.local.family, this.config.dest_port, this.local.address);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_OPEN', `UDP server "${this.name}" cannot bind ${wanted}: ${socketErrorText(error)}`, { cause: error });
    }
    socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
    socket.on('error', (error) => this.onSocketError(error));
    this.socket = socket;
    this.lastPeer = undefined;
    this.log.info({ connector: this.name, address: this.endpoint }, 'UDP server listening');
  }

  protected override async doClose(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.lastPeer = undefined;
    if (socket) await closeUdp(socket);
  }

  protected override async doSend(message: Message): Promise<void> {
    const data = requireBytes(this.name, message);
    const { socket, local } = this;
    if (!socket || !local) {
      throw new KisoError('KISO_CONNECTOR_CLOSED', `UDP server "${this.name}" has no socket (it failed earlier): close and reopen it`);
    }
    const peer = message.peer ?? this.lastPeer;
    if (!peer) {
      throw new KisoError('KISO_CONNECTOR_SEND', `UDP server "${this.name}" on ${this.endpoint} cannot send: no peer has written to it yet, and the message names no peer`);
    }
    const limit = maxDatagram(local.family);
    if (data.length > limit) {
      throw new KisoError('KISO_CONNECTOR_INVALID_MESSAGE', `UDP server "${this.name}": a ${data.length}-byte message does not fit in one datagram (at most ${limit} bytes)`);
    }
    try {
      await sendDatagram(socket, data, peer.port, peer.address);
    } catch (error) {
      throw new KisoError('KISO_CONNECTOR_SEND', `UDP server "${this.name}" cannot send to ${formatHostPort(peer.address, peer.port)}: ${socketErrorText(error)}`, { cause: error });
    }
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    const peer = peerOf(rinfo);
    // The sender becomes the answer's address even if its datagram is dropped: it did write.
    this.lastPeer = peer;
    if (data.length > this.maxMsgSize) {
      this.malformed('datagram larger than max_msg_size', { size: data.length, max_msg_size: this.maxMsgSize, peer: formatHostPort(rinfo.address, rinfo.port) });
      return;
    }
    this.deliver({ data, timestamp: nowSeconds(), peer });
  }

  private onSocketError(error: Error): void {
    const endpoint = this.endpoint;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) void closeUdp(socket);
    this.fail(new KisoError('KISO_CONNECTOR_CLOSED', `UDP server "${this.name}" on ${endpoint} lost its socket: ${socketErrorText(error)}`, { cause: error }));
  }
}
