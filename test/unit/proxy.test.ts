import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CommunicationAuxiliary } from '../../src/auxiliaries/communication.js';
import { ProxyAuxiliary } from '../../src/auxiliaries/proxy.js';
import { canFrame, parseCandumpLog } from '../../src/can/frame.js';
import { loadStationConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';
import { StationRuntime } from '../../src/station/station.js';
import { ProxyConnector } from '../../src/connectors/proxy.js';
import { MemoryConnector } from '../helpers/memory-connector.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

const text = (message: Message | undefined): string => Buffer.from(message!.data).toString();

function proxyStation(names: string[], config: Partial<ConstructorParameters<typeof ProxyAuxiliary>[0]> = {}) {
  const bus = new MemoryConnector('can_channel');
  const log = silentLogger();
  const proxy = new ProxyAuxiliary({ aux_list: names, ...config }, { name: 'proxy_aux', log, connectors: { com: bus }, baseDir: process.cwd() });
  const connectors = new Map(names.map((name) => [name, new ProxyConnector({}, { name: `${name}_com`, log, baseDir: '.' })]));
  const auxiliaries = new Map(names.map((name) => [name, new CommunicationAuxiliary({}, { name, log, connectors: { com: connectors.get(name)! }, baseDir: '.' })]));
  proxy.bindStation({ connectorsOf: (name) => (connectors.has(name) ? { com: connectors.get(name)! } : undefined) });
  return { bus, proxy, auxiliaries };
}

describe('ProxyAuxiliary in one process', () => {
  it('a frame from the bus reaches every attached auxiliary', async () => {
    const { bus, proxy, auxiliaries } = proxyStation(['aux1', 'aux2', 'aux3']);
    for (const aux of auxiliaries.values()) await aux.createInstance();
    assert.equal(proxy.state, 'running', 'opening a proxy connector starts the proxy');
    bus.inject('from the device');
    for (const aux of auxiliaries.values()) assert.equal(text(await aux.receive({ timeoutMs: 100 })), 'from the device');
    for (const aux of auxiliaries.values()) await aux.stop();
    await proxy.stop();
  });

  it('a frame one auxiliary sends goes out on the bus and to the others, in order, not back to the sender', async () => {
    const { bus, proxy, auxiliaries } = proxyStation(['aux1', 'aux2', 'aux3']);
    for (const aux of auxiliaries.values()) await aux.createInstance();
    const [aux1, aux2, aux3] = [...auxiliaries.values()] as [CommunicationAuxiliary, CommunicationAuxiliary, CommunicationAuxiliary];
    for (let i = 0; i < 50; i++) await aux1.send(`m${i}`);
    bus.inject('device answer');
    assert.deepEqual(bus.sent.map((m) => text(m)), Array.from({ length: 50 }, (_, i) => `m${i}`));
    for (const other of [aux2, aux3]) {
      for (let i = 0; i < 50; i++) assert.equal(text(await other.receive({ timeoutMs: 100 })), `m${i}`);
      assert.equal(text(await other.receive({ timeoutMs: 100 })), 'device answer');
    }
    assert.equal(text(await aux1.receive({ timeoutMs: 100 })), 'device answer', 'the sender gets only the bus frame');
    for (const aux of auxiliaries.values()) await aux.stop();
    await proxy.stop();
  });

  it('traces both directions in candump log format that reads back, on one channel, never back in time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-'));
    const { bus, proxy, auxiliaries } = proxyStation(['aux1', 'aux2'], { activate_trace: true, trace_dir: dir, trace_name: 'can_trace' });
    for (const aux of auxiliaries.values()) await aux.createInstance();
    await auxiliaries.get('aux1')!.send(canFrame({ id: 0x123, data: [0xde, 0xad] }));
    bus.inject(new Uint8Array());
    (bus as unknown as { deliver(m: Message): void }).deliver(canFrame({ id: 0x1abcdef, extended: true, data: [1], timestamp: 1700000000.5 }));
    for (const aux of auxiliaries.values()) await aux.stop();
    await proxy.stop();
    const lines = readFileSync(path.join(dir, 'can_trace.log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 3);
    // one bus, one channel: the frame aux1 sent is on the physical connector's channel too
    assert.match(lines[0]!, /^\(\d+\.\d{6}\) can_channel 123#DEAD T$/);
    assert.match(lines[1]!, /^\(\d+\.\d{6}\) can_channel # R$/);
    // a frame stamped by another clock, before the line before it, is written at that line's time
    const stamps = lines.map((line) => Number(/^\((\d+\.\d+)\)/.exec(line)![1]));
    assert.ok(stamps[0]! <= stamps[1]! && stamps[1]! === stamps[2]!, stamps.join(' '));
    assert.match(lines[2]!, / can_channel 01ABCDEF#01 R$/);
    const frame = parseCandumpLog(lines[0]!.replace(/ T$/, ''));
    assert.equal(frame.can.id, 0x123);
  });

  it('rotates the trace past trace_max_bytes instead of dropping frames', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-'));
    const { bus, proxy, auxiliaries } = proxyStation(['aux1'], { activate_trace: true, trace_dir: dir, trace_name: 't', trace_max_bytes: 2000 });
    await auxiliaries.get('aux1')!.createInstance();
    for (let i = 0; i < 500; i++) {
      (bus as unknown as { deliver(m: Message): void }).deliver(canFrame({ id: 0x100, data: [i & 0xff] }));
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await auxiliaries.get('aux1')!.stop();
    await proxy.stop();
    const files = readdirSync(dir).sort();
    assert.ok(files.length > 1, `expected rotation, got ${files.join(', ')}`);
    const total = files.reduce((sum, file) => sum + readFileSync(path.join(dir, file), 'utf8').trim().split('\n').length, 0);
    assert.equal(total, 500);
  });
});

describe('proxy wiring from YAML', () => {
  it('two auxiliaries on one physical connector get a proxy inserted, with a note', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-autoproxy-'));
    writeFileSync(
      path.join(dir, 'station.yaml'),
      'auxiliaries:\n  aux1:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\n  aux2:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\nconnectors:\n  chan:\n    type: CCLoopback\n',
    );
    const config = await loadStationConfig(path.join(dir, 'station.yaml'));
    assert.match(config.notes[0]!, /connector "chan" is used by "aux1" and "aux2": kiso inserted ProxyAuxiliary "proxy_chan"/);
    assert.deepEqual(config.auxiliaries.get('proxy_chan')!.config.aux_list, ['aux1', 'aux2']);
    const station = await StationRuntime.build(config, silentLogger());
    await station.start(['aux1', 'aux2']);
    const aux1 = station.auxiliary('aux1') as CommunicationAuxiliary;
    const aux2 = station.auxiliary('aux2') as CommunicationAuxiliary;
    await aux1.send('hello');
    // aux2 gets the frame from aux1, then (as everyone) the loopback's echo from the "bus"
    assert.equal(text(await aux2.receive({ timeoutMs: 200 })), 'hello');
    assert.equal(text(await aux2.receive({ timeoutMs: 200 })), 'hello');
    assert.equal(text(await aux1.receive({ timeoutMs: 200 })), 'hello');
    await station.stopAll();
  });
});

describe('pcap trace', () => {
  it('writes the proxy traffic as a pcap file Wireshark opens', async () => {
    const { readCanPcap } = await import('../../src/can/pcap.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-trace-'));
    const { bus, proxy, auxiliaries } = proxyStation(['aux1', 'aux2'], { activate_trace: true, trace_dir: dir, trace_name: 'bus', trace_format: 'pcap' });
    for (const aux of auxiliaries.values()) await aux.createInstance();
    await auxiliaries.get('aux1')!.send(canFrame({ id: 0x7e0, data: [0x02, 0x10, 0x03] }));
    (bus as unknown as { deliver(m: Message): void }).deliver(canFrame({ id: 0x7e8, data: [0x06, 0x50, 0x03], timestamp: 1700000000.25 }));
    bus.inject('not a CAN frame');
    for (const aux of auxiliaries.values()) await aux.stop();
    await proxy.stop();
    const records = readCanPcap(readFileSync(path.join(dir, 'bus.pcap')));
    assert.equal(records.length, 2);
    assert.equal(records[1]!.frame.can.id, 0x7e8);
  });
});
