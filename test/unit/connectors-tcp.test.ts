import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { TcpConnector, type TcpConnectorConfig } from '../../src/connectors/tcp.js';
import { TcpServerConnector, type TcpServerConnectorConfig } from '../../src/connectors/tcp-server.js';
import type { Connector } from '../../src/core/connector.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';
import { connectorContext, connectorTestFile } from '../helpers/connector-tests.js';

const HOST = '127.0.0.1';
const context = connectorContext;
const client = (config: Partial<TcpConnectorConfig> & { dest_port: number }) => new TcpConnector({ dest_ip: HOST, ...config }, context('tcp_client'));
const server = (config: Partial<TcpServerConnectorConfig> = {}) => new TcpServerConnector({ dest_ip: HOST, dest_port: 0, ...config }, context('tcp_server'));

/** Everything opened by a test, closed at the end even when it fails. */
const { opened, cleanups } = connectorTestFile();

function boundPort(connector: TcpServerConnector): number {
  const address = connector.address();
  assert.ok(address, 'server must be listening');
  return address.port;
}

/** A plain node:net server on an ephemeral port; resolves with it and a promise of its first client. */
async function netServer(): Promise<{ server: Server; port: number; firstClient: Promise<Socket> }> {
  const sockets = new Set<Socket>();
  let onFirst: (socket: Socket) => void = () => {};
  const firstClient = new Promise<Socket>((resolve) => (onFirst = resolve));
  const netServerInstance = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onFirst(socket);
  });
  await new Promise<void>((resolve) => netServerInstance.listen(0, HOST, () => resolve()));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => netServerInstance.close(() => resolve()));
  });
  const address = netServerInstance.address();
  assert.ok(address && typeof address === 'object');
  return { server: netServerInstance, port: address.port, firstClient };
}

/** A plain node:net client connected to `port`. */
async function netClient(port: number): Promise<Socket> {
  const socket = connect(port, HOST);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanups.push(() => {
    socket.destroy();
  });
  return socket;
}

/** A port nothing listens on: listen on 0, read it, stop listening. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, HOST, () => resolve()));
  const address = probe.address();
  assert.ok(address && typeof address === 'object');
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}

/** Collects messages until `bytes` bytes arrived (TCP may merge or split writes). */
function receiveBytes(connector: Connector<any>, bytes: number): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      detach();
      reject(new Error(`only ${total} of ${bytes} bytes arrived on ${connector.name}`));
    }, 5_000);
    const detach = connector.attach((message) => {
      got.push(message);
      total += message.data.length;
      if (total >= bytes) {
        clearTimeout(timer);
        detach();
        resolve(got);
      }
    });
  });
}

function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`only ${total} of ${bytes} bytes arrived`));
    }, 5_000);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
  });
}

function nextError(connector: Connector<any>): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no error reported by ${connector.name}`)), 5_000);
    connector.onError((error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

const joined = (messages: Message[]) => Buffer.concat(messages.map((m) => m.data)).toString('utf8');

/** Waits until the server counts `count` clients (accept and disconnect are seen asynchronously); polls, asserts no timing. */
async function clientsConnected(tcpServer: TcpServerConnector, count: number): Promise<void> {
  for (let i = 0; i < 500 && tcpServer.connectedPeers().length !== count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(tcpServer.connectedPeers().length, count);
}

describe('TcpConnector and TcpServerConnector', () => {
  it('round-trips between a client and a server connector, both directions', async () => {
    const tcpServer = await opened(server());
    const tcpClient = await opened(client({ dest_port: boundPort(tcpServer) }));

    const atServer = receiveBytes(tcpServer, 4);
    await tcpClient.send('ping');
    const request = await atServer;
    assert.equal(joined(request), 'ping');
    assert.equal(request[0]!.peer?.address, HOST);
    assert.equal(typeof request[0]!.timestamp, 'number');

    const atClient = receiveBytes(tcpClient, 4);
    await tcpServer.send('pong');
    const answer = await atClient;
    assert.equal(joined(answer), 'pong');
    assert.deepEqual(answer[0]!.peer, { address: HOST, port: boundPort(tcpServer) });
  });

  it('client talks to a plain node:net server', async () => {
    const peer = await netServer();
    const tcpClient = await opened(client({ dest_port: peer.port }));
    const socket = await peer.firstClient;
    const atPeer = readBytes(socket, 3);
    await tcpClient.send(Uint8Array.from([1, 2, 3]));
    assert.deepEqual([...(await atPeer)], [1, 2, 3]);

    const atClient = receiveBytes(tcpClient, 6);
    socket.write('answer');
    assert.equal(joined(await atClient), 'answer');
  });

  it('server talks to a plain node:net client', async () => {
    const tcpServer = await opened(server());
    const socket = await netClient(boundPort(tcpServer));
    const atServer = receiveBytes(tcpServer, 5);
    socket.write('hello');
    const messages = await atServer;
    assert.equal(joined(messages), 'hello');
    assert.deepEqual(messages[0]!.peer, { address: HOST, port: socket.localPort });

    const atPeer = readBytes(socket, 7);
    await tcpServer.send('welcome');
    assert.equal((await atPeer).toString(), 'welcome');
  });

  it('splits a chunk larger than max_msg_size, keeping the bytes in order', async () => {
    const peer = await netServer();
    const tcpClient = await opened(client({ dest_port: peer.port, max_msg_size: 100 }));
    const socket = await peer.firstClient;
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const atClient = receiveBytes(tcpClient, payload.length);
    socket.write(payload);
    const messages = await atClient;
    assert.ok(messages.every((m) => m.data.length <= 100));
    assert.ok(messages.length >= 10);
    assert.deepEqual(Buffer.concat(messages.map((m) => m.data)), payload);
  });

  it('connecting to a closed port is KISO_CONNECTOR_OPEN naming host:port', async () => {
    const port = await closedPort();
    const tcpClient = client({ dest_port: port });
    await assert.rejects(tcpClient.open(), (error) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && error.message.includes(`${HOST}:${port}`) && /ECONNREFUSED/.test(error.message));
    assert.equal(tcpClient.isOpen, false);
  });

  it('listening on a port in use is KISO_CONNECTOR_OPEN naming host:port', async () => {
    const peer = await netServer();
    const busy = server({ dest_port: peer.port });
    await assert.rejects(busy.open(), (error) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && error.message.includes(`${HOST}:${peer.port}`) && /EADDRINUSE/.test(error.message));
  });

  it('reports a peer closing the connection mid-run, and later sends reject', async () => {
    const peer = await netServer();
    const tcpClient = await opened(client({ dest_port: peer.port }));
    const socket = await peer.firstClient;
    const reported = nextError(tcpClient);
    socket.end();
    const error = await reported;
    assert.ok(isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    assert.match(error.message, new RegExp(`${HOST}:${peer.port}`));
    await assert.rejects(tcpClient.send('too late'), (sendError) => isKisoError(sendError, 'KISO_CONNECTOR_CLOSED') && sendError.message.includes(`${HOST}:${peer.port}`));
    // Closing after the loss is clean, and reopening connects anew.
    await tcpClient.close();
    await tcpClient.open();
    assert.equal(tcpClient.isOpen, true);
  });

  it('reports a reset connection (peer destroyed) too', async () => {
    const peer = await netServer();
    const tcpClient = await opened(client({ dest_port: peer.port }));
    const socket = await peer.firstClient;
    const reported = nextError(tcpClient);
    socket.resetAndDestroy();
    assert.ok(isKisoError(await reported, 'KISO_CONNECTOR_CLOSED'));
  });

  it('server sends to the named peer, else to the most recent client', async () => {
    const tcpServer = await opened(server());
    const port = boundPort(tcpServer);
    const older = await netClient(port);
    await clientsConnected(tcpServer, 1);
    const newer = await netClient(port);
    await clientsConnected(tcpServer, 2);

    const atNewer = readBytes(newer, 6);
    await tcpServer.send('newest');
    assert.equal((await atNewer).toString(), 'newest');

    const atOlder = readBytes(older, 5);
    await tcpServer.send({ data: Buffer.from('older'), peer: { address: HOST, port: older.localPort! } });
    assert.equal((await atOlder).toString(), 'older');

    await assert.rejects(tcpServer.send({ data: Buffer.from('x'), peer: { address: HOST, port: 1 } }), (error) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /not connected/.test(error.message));

    // The newest leaving makes the older one the target again.
    newer.destroy();
    await clientsConnected(tcpServer, 1);
    const again = readBytes(older, 5);
    await tcpServer.send('again');
    assert.equal((await again).toString(), 'again');
  });

  it('server send with no client connected is KISO_CONNECTOR_SEND', async () => {
    const tcpServer = await opened(server());
    await assert.rejects(tcpServer.send('nobody'), (error) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /no client is connected/.test(error.message));
  });

  it('close is idempotent, drops clients and releases the port', async () => {
    const tcpServer = server();
    await tcpServer.open();
    const port = boundPort(tcpServer);
    const socket = await netClient(port);
    await clientsConnected(tcpServer, 1);
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await tcpServer.close();
    await tcpServer.close();
    await gone;
    assert.equal(tcpServer.address(), undefined);
    const again = await opened(server({ dest_port: port }));
    assert.equal(boundPort(again), port);

    const tcpClient = client({ dest_port: port });
    await tcpClient.open();
    await tcpClient.close();
    await tcpClient.close();
    assert.equal(tcpClient.isOpen, false);
  });

  it('send while closed is KISO_CONNECTOR_CLOSED', async () => {
    await assert.rejects(client({ dest_port: 9 }).send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
    await assert.rejects(server().send('x'), (error) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
  });

  it('does not report an error when the connector itself closes', async () => {
    const peer = await netServer();
    const tcpClient = client({ dest_port: peer.port });
    const errors: Error[] = [];
    tcpClient.onError((error) => errors.push(error));
    await tcpClient.open();
    await peer.firstClient;
    await tcpClient.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors, []);
  });
});
