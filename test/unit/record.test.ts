import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findAll, LOG_HEADER, RecordAuxiliary, toRegExp, type RecordAuxiliaryConfig } from '../../src/auxiliaries/record.js';
import { LoopbackConnector } from '../../src/connectors/loopback.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';

// RecordAuxiliary fed by a real connector: CCLoopback echoes what the test sends, so
// every message reaches the recorder exactly as a device's would.

function make(config: RecordAuxiliaryConfig = {}, baseDir = mkdtempSync(path.join(tmpdir(), 'kiso-record-'))) {
  const loopback = new LoopbackConnector({}, { name: 'loop', log: silentLogger(), baseDir });
  const record = new RecordAuxiliary(config, { name: 'record_aux', log: silentLogger(), connectors: { com: loopback }, baseDir });
  /** Sends through the loopback and resolves once the recorder has it. */
  const feed = async (...messages: Array<string | Uint8Array | Message>): Promise<void> => {
    for (const message of messages) await loopback.send(message);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { record, loopback, feed, baseDir };
}

describe("RecordAuxiliary: pykiso's log", () => {
  it("reads as pykiso's record example: header, then each message on a line; newLog moves the cursor", async () => {
    const { record, feed } = make({ is_active: true, timeout: 0, com: 'CChannel' } as RecordAuxiliaryConfig);
    await record.createInstance();
    assert.equal(record.newLog(), LOG_HEADER);
    await feed('log1');
    assert.equal(record.newLog(), '\nlog1');
    await feed('log2');
    assert.equal(record.previousLog(), '\nlog2');
    assert.equal(record.newLog(), '\nlog2');
    assert.equal(record.newLog(), '');
    assert.equal(record.getData(), `${LOG_HEADER}\nlog1\nlog2`);
    assert.deepEqual(record.searchRegexCurrentString('log\\d'), ['log1', 'log2']);
    record.clearBuffer();
    assert.equal(record.getData(), '');
    assert.equal(record.isLogEmpty(), true);
    assert.equal(await record.dumpToFile('record_example.txt'), false, 'an empty log is not dumped');
    record.stopRecording();
    await feed('not recorded');
    record.startRecording();
    assert.equal(record.newLog(), LOG_HEADER);
    await feed('log3');
    assert.equal(record.newLog(), '\nlog3');
    await record.deleteInstance();
  });

  it('isMessageInLog looks after the cursor (and moves it) by default, or in the whole log', async () => {
    const { record, feed } = make();
    await record.createInstance();
    await feed('boot ok', 'ready');
    assert.equal(record.isMessageInLog('boot ok'), true);
    assert.equal(record.isMessageInLog('boot ok'), false, 'the cursor moved past it');
    assert.equal(record.isMessageInLog('boot ok', { fromCursor: false }), true);
    assert.equal(record.isMessageInFullLog('ready'), true);
    assert.equal(record.isMessageInLog(/^rea/m, { fromCursor: false, setCursor: false }), true);
    await record.deleteInstance();
  });

  it('waitForMessageInLog resolves when the message arrives, even split over two messages', async () => {
    const { record, feed } = make();
    await record.createInstance();
    const waiting = record.waitForMessageInLog('step 2\nstep 3', { timeoutMs: 10_000 });
    await feed('step 1', 'step 2');
    await feed('step 3');
    assert.equal(await waiting, true);
    assert.equal(record.newLog(), '', 'the cursor is at the end');
    await record.deleteInstance();
  });

  it('waitForMessageInLog throws after its timeout, or resolves false with exceptionOnFailure: false', async () => {
    const { record, feed } = make();
    await record.createInstance();
    await feed('something else');
    await assert.rejects(record.waitForMessageInLog('never', { timeoutMs: 20 }), (error: unknown) => isKisoError(error, 'KISO_AUX_COMMAND') && /"never" did not show up in the log of "record_aux" within 20 ms/.test((error as Error).message));
    assert.equal(await record.waitForMessageInLog('never', { timeoutMs: 20, exceptionOnFailure: false }), false);
    await record.deleteInstance();
  });

  it('a wait ends when the auxiliary stops, and waiting on a stopped auxiliary is refused', async () => {
    const { record } = make();
    await record.createInstance();
    const waiting = record.waitForMessageInLog('never', { timeoutMs: 60_000 });
    await record.deleteInstance();
    await assert.rejects(waiting, /stopped while waiting/);
    await assert.rejects(record.waitForMessageInLog('x'), (error: unknown) => isKisoError(error, 'KISO_AUX_NOT_RUNNING'));
    assert.equal(record.getData(), LOG_HEADER, 'the log stays readable after the stop');
  });

  it('manual_start_record: nothing is recorded until startRecording()', async () => {
    const { record, feed } = make({ manual_start_record: true });
    await record.createInstance();
    await feed('before');
    assert.equal(record.getData(), '');
    record.startRecording();
    await feed('after');
    assert.equal(record.getData(), `${LOG_HEADER}\nafter`);
    await record.deleteInstance();
  });

  it('records CAN ids first (pykiso remote_id), non-UTF-8 bytes in hex, one trailing newline not doubled, empty messages not at all', async () => {
    const { record, feed } = make();
    await record.createInstance();
    await feed({ data: Buffer.from('frame'), can: { id: 0x300, extended: false, remote: false, fd: false, brs: false, esi: false } });
    await feed(Uint8Array.of(0xff, 0x00), 'line\n', new Uint8Array(0));
    assert.equal(record.getData(), `${LOG_HEADER}\n768    frame\nff00\nline`);
    await record.deleteInstance();
  });

  it('keeps every message with its time and channel; mark() and entries() give what came after', async () => {
    const { record, feed, loopback } = make();
    await record.createInstance();
    const stamps: number[] = [];
    loopback.attach((message) => stamps.push(message.timestamp!));
    await feed({ data: Buffer.from('a'), channel: 'stdout' });
    const mark = record.mark();
    await feed('b');
    const all = record.entries();
    assert.equal(all.length, 2);
    assert.deepEqual(all[0], { seq: 0, timestamp: stamps[0], line: 'a', channel: 'stdout' }, "the connector's receive time");
    assert.deepEqual(record.entries(mark).map((entry) => entry.line), ['b']);
    await record.deleteInstance();
  });
});

describe('RecordAuxiliary: bounded', () => {
  it('past max_entries the oldest messages are dropped and counted; the cursor never points at dropped text', async () => {
    const { record, feed } = make({ max_entries: 3 });
    await record.createInstance();
    record.newLog();
    await feed('m1', 'm2', 'm3', 'm4', 'm5');
    assert.equal(record.droppedCount, 2);
    assert.equal(record.getData(), `${LOG_HEADER}\nm3\nm4\nm5`);
    assert.equal(record.newLog(), '\nm3\nm4\nm5');
    assert.deepEqual(record.entries().map((entry) => entry.seq), [2, 3, 4]);
    await record.deleteInstance();
  });

  it('past max_file_size characters the oldest go; one message bigger than the log keeps its end', async () => {
    const { record, feed } = make({ max_file_size: 10 });
    await record.createInstance();
    await feed('aaaa', 'bbbb', 'cccc');
    assert.equal(record.getData(), `${LOG_HEADER}\nbbbb\ncccc`);
    await feed('0123456789abcdef');
    assert.equal(record.getData(), `${LOG_HEADER}6789abcdef`);
    assert.equal(record.droppedCount, 3);
    await record.deleteInstance();
  });

  it('stays bounded under a flood', async () => {
    const { record, loopback } = make({ max_entries: 1000 });
    await record.createInstance();
    for (let i = 0; i < 20_000; i++) void loopback.send(`message ${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(record.entries().length, 1000);
    assert.equal(record.droppedCount, 19_000);
    assert.equal(record.entries()[0]!.line, 'message 19000');
    await record.deleteInstance();
  });
});

describe('RecordAuxiliary: files', () => {
  it('dumpToFile writes the log in log_folder_path (relative to the station folder), appends with mode a, timestamps on request', async () => {
    const { record, feed, baseDir } = make({ log_folder_path: 'logs', log_file_name: 'default.log' });
    await record.createInstance();
    await feed('first');
    assert.equal(await record.dumpToFile('sub/run.txt'), true);
    assert.equal(readFileSync(path.join(baseDir, 'logs/sub/run.txt'), 'utf8'), `${LOG_HEADER}\nfirst`);
    assert.equal(await record.dumpToFile('sub/run.txt', { mode: 'a', data: '\nextra' }), true);
    assert.equal(readFileSync(path.join(baseDir, 'logs/sub/run.txt'), 'utf8'), `${LOG_HEADER}\nfirst\nextra`);
    assert.equal(await record.dumpToFile(undefined, { timestamps: true }), true);
    assert.match(readFileSync(path.join(baseDir, 'logs/default.log'), 'utf8'), /^Received data :\n\(\d+\.\d{6}\) first$/);
    await assert.rejects(record.dumpToFile('x', { mode: 'r' as 'w' }), /mode must be w, w\+, a or a\+/);
    await record.deleteInstance();
  });

  it('dumpToFile without a name and without log_file_name says what to do', async () => {
    const { record, feed } = make();
    await record.createInstance();
    await feed('x');
    await assert.rejects(record.dumpToFile(), /needs a file name \(give a file name, or set log_file_name\)/);
    await record.deleteInstance();
  });

  it('searchRegexInFile and searchRegexInFolder search the log folder as re.findall does', async () => {
    const baseDir = mkdtempSync(path.join(tmpdir(), 'kiso-record-'));
    mkdirSync(path.join(baseDir, 'logs', 'nested'), { recursive: true });
    writeFileSync(path.join(baseDir, 'logs', 'a.log'), 'temp=21\ntemp=22\n');
    writeFileSync(path.join(baseDir, 'logs', 'b.log'), 'nothing\n');
    const { record } = make({ log_folder_path: 'logs' }, baseDir);
    assert.deepEqual(await record.searchRegexInFile('^temp=(\\d+)$', 'a.log'), ['21', '22']);
    assert.equal(await record.searchRegexInFile('x', 'missing.log'), undefined);
    assert.deepEqual(await record.searchRegexInFolder('temp=\\d+'), { 'a.log': ['temp=21', 'temp=22'], 'b.log': [] });
    const { record: nowhere } = make({ log_folder_path: 'no_such_folder' }, baseDir);
    await assert.rejects(nowhere.searchRegexInFolder('x'), (error: unknown) => isKisoError(error, 'KISO_AUX_COMMAND') && /log folder .*no_such_folder cannot be read/.test((error as Error).message));
  });
});

describe("RecordAuxiliary: Python's regular expressions", () => {
  it('translates named groups and leading inline flags; findall returns groups as Python does', () => {
    assert.deepEqual(findAll(toRegExp('(?P<key>\\w+)=(?P<value>\\d+)'), 'a=1 b=2'), [['a', '1'], ['b', '2']]);
    assert.deepEqual(findAll(toRegExp('(?P<word>ab)(?P=word)'), 'abab ab'), ['ab']);
    assert.deepEqual(findAll(toRegExp('(?i)^error'), 'ERROR one\nerror two\nno error'), ['ERROR', 'error']);
    assert.deepEqual(findAll(toRegExp(/x(y)?/), 'x xy'), ['', 'y']);
    assert.deepEqual(findAll(toRegExp('a*'), 'baa'), ['', 'aa', '']);
  });

  it('a malformed pattern is a clear KISO_AUX_COMMAND error, never a crash', async () => {
    const { record, feed } = make();
    await record.createInstance();
    await feed('x');
    assert.throws(() => record.searchRegexCurrentString('(unclosed'), (error: unknown) => isKisoError(error, 'KISO_AUX_COMMAND') && /invalid regular expression "\(unclosed"/.test((error as Error).message));
    assert.throws(() => record.searchRegexCurrentString('(?x)a b'), /inline flag \(\?x\) has no JavaScript equivalent/);
    assert.throws(() => record.setData(5 as unknown as string), /setData takes text/);
    await assert.rejects(record.waitForMessageInLog(5 as unknown as string), /takes text or a RegExp/);
    await record.deleteInstance();
  });
});
