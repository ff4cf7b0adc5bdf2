import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommunicationAuxiliary } from '../../src/auxiliaries/communication.js';
import { Auxiliary } from '../../src/core/auxiliary.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { MemoryConnector } from '../helpers/memory-connector.js';

function makeAux(config: { receive_buffer_size?: number } = {}, connector = new MemoryConnector()) {
  const aux = new CommunicationAuxiliary(config, { name: 'aux1', log: silentLogger(), connectors: { com: connector }, baseDir: process.cwd() });
  return { aux, connector };
}

describe('auxiliary lifecycle (pykiso verbs)', () => {
  it('createInstance opens its connectors and deleteInstance closes them', async () => {
    const { aux, connector } = makeAux();
    assert.equal(aux.state, 'idle');
    await aux.createInstance();
    assert.equal(aux.state, 'running');
    assert.equal(connector.isOpen, true);
    await aux.deleteInstance();
    assert.equal(aux.state, 'stopped');
    assert.equal(connector.isOpen, false);
  });

  it('a failing connector makes createInstance reject and leaves nothing open', async () => {
    const { aux, connector } = makeAux({}, new MemoryConnector('mem', { failOpen: 'no such port /dev/ttyX' }));
    await assert.rejects(aux.createInstance(), /no such port \/dev\/ttyX/);
    assert.equal(aux.state, 'idle');
    assert.equal(connector.isOpen, false);
  });

  it('send on an auxiliary that never started is a clear error, not a silent drop', async () => {
    const { aux, connector } = makeAux();
    await assert.rejects(aux.send('x'), (error: unknown) => isKisoError(error, 'KISO_AUX_NOT_RUNNING') && /aux1.*idle.*never started/.test((error as Error).message));
    assert.equal(connector.sent.length, 0);
  });

  it('suspend closes the connectors and rejects commands until resume', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    await aux.suspend();
    assert.equal(aux.state, 'suspended');
    assert.equal(connector.isOpen, false);
    await assert.rejects(aux.send('x'), (error: unknown) => isKisoError(error, 'KISO_AUX_NOT_RUNNING') && /suspended.*resume\(\)/.test((error as Error).message));
    await assert.rejects(aux.runCommand('send', 'x'), /suspended/);
    await aux.resume();
    await aux.send('after resume');
    assert.equal(Buffer.from(connector.sent.at(-1)!.data).toString(), 'after resume');
    await aux.stop();
  });

  it('stop makes later commands fail, and createInstance starts it again', async () => {
    const { aux } = makeAux();
    await aux.createInstance();
    await aux.stop();
    await assert.rejects(aux.send('x'), /stopped/);
    await aux.createInstance();
    await aux.send('again');
    await aux.stop();
  });
});

describe('auxiliary locking', () => {
  it('a second locker waits until unlockIt', async () => {
    const { aux } = makeAux();
    await aux.lockIt();
    const order: string[] = [];
    const second = aux.lockIt(1000).then(() => order.push('second got it'));
    order.push('first releases');
    aux.unlockIt();
    await second;
    assert.deepEqual(order, ['first releases', 'second got it']);
    aux.unlockIt();
    assert.equal(aux.isLocked, false);
  });

  it('a second locker times out with a clear error', async () => {
    const { aux } = makeAux();
    await aux.lockIt();
    await assert.rejects(aux.lockIt(20), (error: unknown) => isKisoError(error, 'KISO_AUX_LOCK_TIMEOUT') && /aux1.*locked.*20 ms/.test((error as Error).message));
    aux.unlockIt();
    await aux.lockIt(20);
  });
});

describe('auxiliary commands', () => {
  it('runCommand queues a report for waitAndGetReport', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    const report = await aux.runCommand('send', 'hello');
    assert.deepEqual(report, { command: 'send', ok: true, value: true });
    assert.deepEqual(await aux.waitAndGetReport({ timeoutMs: 100 }), { command: 'send', ok: true, value: true });
    assert.equal(await aux.waitAndGetReport({ timeoutMs: 10 }), undefined);
    assert.equal(Buffer.from(connector.sent[0]!.data).toString(), 'hello');
    await aux.stop();
  });

  it('an unknown command gives a failed report naming it', async () => {
    const { aux } = makeAux();
    await aux.createInstance();
    const report = await aux.runCommand('fly', undefined);
    assert.equal(report?.ok, false);
    assert.match(report!.error!, /no command "fly"/);
    await aux.stop();
  });

  it('abortCommand ends a running non-blocking command and its report says aborted', async () => {
    const { aux } = makeAux();
    await aux.createInstance();
    await aux.runCommand('receive', 10_000, { blocking: false });
    await aux.abortCommand();
    const report = await aux.waitAndGetReport({ timeoutMs: 100 });
    assert.equal(report?.command, 'receive');
    assert.equal(report?.aborted, true);
    await aux.stop();
  });

  it('a command timeout aborts it', async () => {
    const { aux } = makeAux();
    await aux.createInstance();
    const report = await aux.runCommand('receive', 10_000, { timeoutMs: 20 });
    assert.equal(report?.ok, false);
    assert.match(report!.error!, /timed out after 20 ms/);
    await aux.stop();
  });
});

describe('receive buffer', () => {
  it('receive returns messages in order and undefined on timeout', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    connector.inject('a');
    connector.inject('b');
    assert.equal(Buffer.from((await aux.receive())!.data).toString(), 'a');
    assert.equal(Buffer.from((await aux.receive())!.data).toString(), 'b');
    assert.equal(await aux.receive({ timeoutMs: 5 }), undefined);
    await aux.stop();
  });

  it('a waiting receive gets a message that arrives later', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    const pending = aux.receive({ timeoutMs: 1000 });
    setImmediate(() => connector.inject('late'));
    assert.equal(Buffer.from((await pending)!.data).toString(), 'late');
    await aux.stop();
  });

  it('is bounded: an overflow drops the oldest and counts them', async () => {
    const { aux, connector } = makeAux({ receive_buffer_size: 3 });
    await aux.createInstance();
    for (let i = 0; i < 10; i++) connector.inject(`m${i}`);
    assert.equal(aux.droppedCount, 7);
    const kept: string[] = [];
    for (let message = await aux.receive({ timeoutMs: 0 }); message; message = await aux.receive({ timeoutMs: 0 })) kept.push(Buffer.from(message.data).toString());
    assert.deepEqual(kept, ['m7', 'm8', 'm9']);
    await aux.stop();
  });

  it('clearBuffer discards unread messages', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    connector.inject('x');
    connector.inject('y');
    assert.equal(aux.clearBuffer(), 2);
    assert.equal(await aux.receive({ timeoutMs: 0 }), undefined);
    await aux.stop();
  });

  it('stop wakes a waiting receive', async () => {
    const { aux } = makeAux();
    await aux.createInstance();
    const pending = aux.receive({ timeoutMs: 60_000 });
    await aux.stop();
    assert.equal(await pending, undefined);
  });
});

describe('connector malformed input', () => {
  it('is counted per kind, never thrown', () => {
    const connector = new MemoryConnector();
    connector.injectGarbage('short frame');
    connector.injectGarbage('short frame');
    connector.injectGarbage('bad checksum');
    assert.equal(connector.stats.malformed, 3);
    assert.deepEqual(connector.malformedCounts(), { 'short frame': 2, 'bad checksum': 1 });
  });
});

describe('user auxiliary types', () => {
  it('can define their own commands on the base class', async () => {
    class Relay extends Auxiliary {
      on = false;
      protected override async executeCommand(command: string, data: unknown): Promise<unknown> {
        if (command === 'switch') return (this.on = data === 'on');
        return super.executeCommand(command, data, new AbortController().signal);
      }
    }
    const relay = new Relay({}, { name: 'relay', log: silentLogger(), connectors: {}, baseDir: process.cwd() });
    await relay.createInstance();
    assert.deepEqual(await relay.runCommand('switch', 'on'), { command: 'switch', ok: true, value: true });
    assert.equal(relay.on, true);
    await relay.stop();
  });
});

describe('connector failure mid-run', () => {
  it('fails a waiting receive and later verbs with an error naming the connector, until restarted', async () => {
    const { aux, connector } = makeAux();
    await aux.createInstance();
    const pending = aux.receive({ timeoutMs: 60_000 });
    connector.vanish(new Error('/dev/ttyUSB0 disappeared'));
    await assert.rejects(pending, /aux1.*connector "mem" failed: \/dev\/ttyUSB0 disappeared/);
    await assert.rejects(aux.send('x'), /connector "mem" failed/);
    assert.ok(aux.fault);
    await aux.deleteInstance();
    await aux.createInstance();
    assert.equal(aux.fault, undefined);
    connector.inject('back');
    assert.equal(Buffer.from((await aux.receive())!.data).toString(), 'back');
    await aux.stop();
  });
});
