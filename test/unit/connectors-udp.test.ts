import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { UdpConnector, type UdpConnectorConfig } from '../../src/connectors/udp.js';
import { UdpServerConnector, type UdpServerConnectorConfig } from '../../src/connectors/udp-server.js';
import type { Connector } from '../../src/core/connector.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';
import { connectorContext, connectorTestFile } from '../helpers/connector-tests.js';

const HOST = '127.0.0.1';
const context = connectorContext;
const client = (config: UdpConnectorConfig) => new UdpConnector(config, context('udp_client'));
const server = (config: Partial<UdpServerConnectorConfig> = {}) => new UdpServerConnector({ dest_ip: HOST, dest_port: 0, ...config }, context('udp_server'));

/** Everything opened by a test, closed at the end even when it fails. */
const { opened, cleanups } = connectorTestFile();

function boundPort(connector: UdpServerConnector | UdpConnector): number {
  const address = connector.address();
  assert.ok(address, 'connector must be bound');
  return address.port;
}

/** A plain node:dgram peer on an ephemeral port. */
async function dgramPeer(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

/** A free UDP port: bind port 0 on a probe socket, read it, release it. */
async function freePort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, HOST, () => resolve()));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The next message the connector delivers (a safety timeout, not a timing check). */
function nextMessage(connector: Connector<any>): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      detach();
      reject(new Error(`no message on ${connector.name}`));
    }, 5_000);
    const detach = connector.attach((message) => {
      clearTimeout(timer);
      detach();
      resolve(message);
    });
  });
}

function nextDatagram(socket: Socket): Promise<{ data: Buffer; rinfo: RemoteInfo }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error('no datagram'));
    }, 5_000);
    const onMessage = (data: Buffer, rinfo: RemoteInfo) => {
      clearTimeout(timer);
      resolve({ data, rinfo });
    };
    socket.once('message', onMessage);
  });
}

function sendFrom(socket: Socket, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(text, port, HOST, (error) => (error ? reject(error) : resolve())));
}

const text = (message: Message) => Buffer.from(message.data).toString('utf8');

describe('UdpConnector and UdpServerConnector', () => {
  it('round-trips between a client and a server connector, both directions', async () => {
    const udpServer = await opened(server());
    const port = boundPort(udpServer);
    const udpClient = await opened(client({ dest_ip: HOST, dest_port: port }));

    const atServer = nextMessage(udpServer);
    await udpClient.send('ping');
    const request = await atServer;
    assert.equal(text(request), 'ping');
    assert.deepEqual(request.peer, { address: HOST, port: boundPort(udpClient) });
    assert.equal(typeof request.timestamp, 'number');

    const atClient = nextMessage(udpClient);
    await udpServer.send('pong');
    const answer = await atClient;
    assert.equal(text(answer), 'pong');
    assert.deepEqual(answer.peer, { address: HOST, port });
  });

  it('client talks to a plain node:dgram peer', async () => {
    const peer = await dgramPeer();
    const udpClient = await opened(client({ dest_ip: HOST, dest_port: peer.address().port }));
    const atPeer = nextDatagram(peer);
    await udpClient.send(Uint8Array.from([0xde, 0xad]));
    const { data, rinfo } = await atPeer;
    assert.deepEqual([...data], [0xde, 0xad]);

    const atClient = nextMessage(udpClient);
    await sendFrom(peer, 'answer', rinfo.port);
    assert.equal(text(await atClient), 'answer');
  });

  it('resolves a host name (localhost) as dest_ip', async () => {
    const peer = await dgramPeer();
    const udpClient = await opened(client({ dest_ip: 'localhost', dest_port: peer.address().port }));
    const atPeer = nextDatagram(peer);
    await udpClient.send('by name');
    assert.equal((await atPeer).data.toString(), 'by name');
  });

  it('client sends from source_port when given', async () => {
    const peer = await dgramPeer();
    const sourcePort = await freePort();
    const udpClient = await opened(client({ dest_ip: HOST, dest_port: peer.address().port, source_port: sourcePort }));
    assert.equal(boundPort(udpClient), sourcePort);
    const atPeer = nextDatagram(peer);
    await udpClient.send('x');
    assert.equal((await atPeer).rinfo.port, sourcePort);
  });

  it('server talks to a plain node:dgram peer', async () => {
    const udpServer = await opened(server());
    const peer = await dgramPeer();
    const atServer = nextMessage(udpServer);
    await sendFrom(peer, 'hello', boundPort(udpServer));
    const message = await atServer;
    assert.equal(text(message), 'hello');
    assert.deepEqual(message.peer, { address: HOST, port: peer.address().port });

    const atPeer = nextDatagram(peer);
    await udpServer.send('welcome');
    assert.equal((await atPeer).data.toString(), 'welcome');
  });

  it('server answers the last peer that wrote, or the peer the message names', async () => {
    const udpServer = await opened(server());
    const port = boundPort(udpServer);
    const first = await dgramPeer();
    const second = await dgramPeer();

    let arrived = nextMessage(udpServer);
    await sendFrom(first, 'from first', port);
    await arrived;
    arrived = nextMessage(udpServer);
    await sendFrom(second, 'from second', port);
    await arrived;

    const atSecond = nextDatagram(second);
    await udpServer.send('to last');
    assert.equal((await atSecond).data.toString(), 'to last');

    const atFirst = nextDatagram(first);
    await udpServer.send({ data: Buffer.from('to first'), peer: { address: HOST, port: first.address().port } });
    assert.equal((await atFirst).data.toString(), 'to first');
  });

  it('server send before any peer wrote is KISO_CONNECTOR_SEND', async () => {
    const udpServer = await opened(server());
    await assert.rejects(udpServer.send('nobody'), (error) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /no peer has written/.test(error.message));
  });

  it('server binding a port in use is KISO_CONNECTOR_OPEN naming host:port', async () => {
    const peer = await dgramPeer();
    const port = peer.address().port;
    const busy = server({ dest_port: port });
    await assert.rejects(busy.open(), (error) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && error.message.includes(`${HOST}:${port}`) && /EADDRINUSE/.test(error.message));
    assert.equal(busy.isOpen, false);
  });

  it('client with an unresolvable host name is KISO_CONNECTOR_OPEN naming it', async () => {
    const udpClient = client({ dest_ip: 'no-such-host.invalid', dest_port: 9 });
    await assert.rejects(udpClient.open(), (error) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && error.message.includes('no-such-host.invalid:9'));
  });

  it('close is idempotent and releases the port', async () => {
    const first = server();
    await first.open();
    const port = boundPort(first);
    await first.close();
    await first.close();
    assert.equal(first.address(), undefined);
    const again = await opened(server({ dest_port: port }));
    assert.equal(boundPort(again), port);
    // The same instance opens again, too.
    await again.close();
    await again.open();
    assert.equal(boundPort(again), port);
  });

  it('send while closed is KISO_CONNECTOR_CLOSED', async () => {
    const udpClient = client({ dest_ip: HOST, dest_port: 9 });
    await assert.rejects(udpClient.send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    const udpServer = server();
    await udpServer.open();
    await udpServer.close();
    await assert.rejects(udpServer.send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
  });

  it('drops and counts a datagram larger than max_msg_size', async () => {
    const udpServer = await opened(server({ max_msg_size: 4 }));
    const peer = await dgramPeer();
    const arrived = nextMessage(udpServer);
    await sendFrom(peer, 'too long', boundPort(udpServer));
    await sendFrom(peer, 'ok', boundPort(udpServer));
    assert.equal(text(await arrived), 'ok');
    assert.deepEqual(udpServer.malformedCounts(), { 'datagram larger than max_msg_size': 1 });
  });

  it('rejects a message that cannot fit one datagram', async () => {
    const peer = await dgramPeer();
    const udpClient = await opened(client({ dest_ip: HOST, dest_port: peer.address().port }));
    await assert.rejects(udpClient.send(new Uint8Array(70_000)), (error) => isKisoError(error, 'KISO_CONNECTOR_INVALID_MESSAGE'));
  });
});
