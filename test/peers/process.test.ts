import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LineSplitter, ProcessConnector, returnCode, type ProcessConnectorConfig } from '../../src/connectors/process.js';
import { processCommand, processOutput, type ProcessOutput } from '../../src/connectors/process-message.js';
import { isKisoError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/message.js';
import { connectorContext, connectorTestFile } from '../helpers/connector-tests.js';
import { PYTHON, waitUntil } from './peer-helpers.js';

// CCProcess against real processes: /bin/sh, cat, node and python3 programs. Each wait
// is bounded only to turn a hang into a failure; nothing asserts on time.

const { opened } = connectorTestFile();
const HAS_PYTHON = spawnSync(PYTHON, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;
const NODE = process.execPath;
const dir = mkdtempSync(path.join(tmpdir(), 'kiso-ccprocess-'));

function make(config: ProcessConnectorConfig = {}, baseDir = dir): ProcessConnector {
  return new ProcessConnector({ args: [], ...config }, { ...connectorContext('process1'), baseDir });
}

/** Everything a connector delivers, read as pykiso's dicts. */
function collect(connector: ProcessConnector): { messages: Message[]; outputs: () => ProcessOutput[]; exit: () => Promise<number> } {
  const messages: Message[] = [];
  connector.attach((message) => messages.push(message));
  const outputs = (): ProcessOutput[] => messages.map((message) => processOutput(message)!);
  return {
    messages,
    outputs,
    async exit() {
      await waitUntil(() => messages.some((message) => message.channel === 'exit'), 'the exit message');
      return (outputs().find((output) => 'exit' in output) as { exit: number }).exit;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids a program wrote on its stdout, one per line, as `pid=N`. */
function pidsIn(outputs: ProcessOutput[]): number[] {
  return outputs.flatMap((output) => ('stdout' in output ? [...output.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])) : []));
}

describe('CCProcess: output, input and exit of a real process', () => {
  it('delivers each stdout line of /bin/sh as a message on channel stdout, then its exit code', async () => {
    const connector = await opened(make({ executable: '/bin/sh', args: ['-c', 'echo hello; echo pykiso'] }));
    const { outputs, exit, messages } = collect(connector);
    await connector.send(processCommand({ command: 'start' }));
    assert.equal(await exit(), 0);
    assert.deepEqual(outputs(), [{ stdout: 'hello\n' }, { stdout: 'pykiso\n' }, { exit: 0 }]);
    assert.ok(messages.every((message) => typeof message.timestamp === 'number'));
  });

  it("pykiso's example: a start message with executable and args, stdin written by send, stderr piped", { skip: HAS_PYTHON ? false : `${PYTHON} is missing` }, async () => {
    const connector = await opened(make({ pipe_stdin: true, pipe_stderr: true }));
    const { outputs, exit, messages } = collect(connector);
    // pykiso's test_process.py, its sleeps replaced by waiting for stdin: each output comes after the test saw the one before.
    const program = 'import sys\nprint(sys.stdin.readline().strip()); sys.stdout.flush()\nsys.stdin.readline(); print("error", file=sys.stderr); sys.stderr.flush()\nsys.stdin.readline(); print("hello"); print("pykiso")\n';
    await connector.send(processCommand({ command: 'start', executable: PYTHON, args: ['-c', program] }));
    await connector.send('hi\r\n');
    await waitUntil(() => messages.length === 1, 'the echo of hi');
    await connector.send('\n');
    await waitUntil(() => messages.length === 2, 'the error line');
    await connector.send('\n');
    assert.equal(await exit(), 0);
    assert.deepEqual(outputs(), [{ stdout: 'hi\n' }, { stderr: 'error\n' }, { stdout: 'hello\n' }, { stdout: 'pykiso\n' }, { exit: 0 }]);
    assert.deepEqual(messages.map((message) => message.channel), ['stdout', 'stderr', 'stdout', 'stdout', 'exit']);
  });

  it('cat echoes what is sent, line by line; closing the connector ends it', async () => {
    const connector = await opened(make({ executable: 'cat', pipe_stdin: true, start_on_open: true }));
    const { outputs, messages } = collect(connector);
    const pid = connector.pid!;
    assert.ok(alive(pid));
    await connector.send('one\ntwo\n');
    await connector.send(Buffer.from('three\n'));
    await waitUntil(() => messages.length === 3, 'three lines back');
    assert.deepEqual(outputs(), [{ stdout: 'one\n' }, { stdout: 'two\n' }, { stdout: 'three\n' }]);
    await connector.close();
    assert.equal(alive(pid), false, 'cat is gone after close()');
    assert.equal(messages.length, 3, 'no exit message once the connector is closed');
  });

  it('a node program that writes stderr: stderr lines come on channel stderr, a partial last line too', async () => {
    const connector = await opened(make({ executable: NODE, args: ['-e', 'process.stderr.write("warn 1\\nwarn 2"); process.stdout.write("out\\n")'], pipe_stderr: true, start_on_open: true }));
    const { outputs, exit } = collect(connector);
    assert.equal(await exit(), 0);
    const got = outputs();
    assert.deepEqual(got.filter((output) => 'stderr' in output), [{ stderr: 'warn 1\n' }, { stderr: 'warn 2' }]);
    assert.deepEqual(got.filter((output) => 'stdout' in output), [{ stdout: 'out\n' }]);
    assert.deepEqual(got.at(-1), { exit: 0 }, 'the exit comes after both streams');
  });

  it('exit code 3 is delivered as {exit: 3}, and a write after the exit is a clear error', async () => {
    const connector = await opened(make({ executable: '/bin/sh', args: ['-c', 'exit 3'], pipe_stdin: true, start_on_open: true }));
    const { exit } = collect(connector);
    assert.equal(await exit(), 3);
    assert.equal(connector.exitCode, 3);
    assert.equal(connector.running, false);
    await assert.rejects(connector.send('late\n'), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /exited with 3/.test((error as Error).message));
  });

  it('a process killed by a signal exits with minus the signal number (Python returncode) and its name', async () => {
    const connector = await opened(make({ executable: 'sleep', args: ['100'], start_on_open: true }));
    const { exit, messages } = collect(connector);
    process.kill(connector.pid!, 'SIGKILL');
    assert.equal(await exit(), -9);
    assert.equal(Buffer.from(messages.at(-1)!.data).toString(), 'exit -9 SIGKILL');
    assert.deepEqual(processOutput(messages.at(-1)!), { exit: -9, signal: 'SIGKILL' });
    assert.equal(returnCode(null, 'SIGTERM'), -15);
  });

  it('close() ends the whole process tree: the shell and its background children', async () => {
    const connector = await opened(make({ executable: '/bin/sh', args: ['-c', 'sleep 100 & echo pid=$!; sleep 100 & echo pid=$!; echo pid=$$; wait'], start_on_open: true }));
    const { outputs } = collect(connector);
    await waitUntil(() => pidsIn(outputs()).length === 3, 'the pids of the shell and its two children');
    const pids = pidsIn(outputs());
    assert.ok(pids.every(alive));
    await connector.close();
    assert.deepEqual(pids.filter(alive), [], 'no orphan is left');
  });

  it('close() kills a process that ignores SIGTERM, after terminate_timeout_ms', async () => {
    const connector = await opened(make({ executable: NODE, args: ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'], start_on_open: true, terminate_timeout_ms: 200 }));
    const { messages } = collect(connector);
    await waitUntil(() => messages.length === 1, 'ready');
    const pid = connector.pid!;
    await connector.close();
    assert.equal(alive(pid), false);
  });

  it('a stop message ends the process and its exit message follows; a new start runs again', async () => {
    const connector = await opened(make({ executable: 'sleep', args: ['100'], start_on_open: true }));
    const { exit, messages } = collect(connector);
    const first = connector.pid!;
    await connector.send(processCommand({ command: 'stop' }));
    assert.equal(await exit(), -15);
    assert.equal(alive(first), false);
    await connector.send(processCommand({ command: 'start', executable: '/bin/sh', args: ['-c', 'echo again'] }));
    await waitUntil(() => messages.filter((message) => message.channel === 'exit').length === 2, 'the second exit');
    assert.deepEqual(messages.slice(1).map((message) => processOutput(message)), [{ stdout: 'again\n' }, { exit: 0 }]);
  });

  it('starting while the process runs is refused, as in pykiso', async () => {
    const connector = await opened(make({ executable: 'sleep', args: ['100'], start_on_open: true }));
    await assert.rejects(connector.send(processCommand({ command: 'start' })), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_SEND') && /still running/.test((error as Error).message));
    assert.equal(connector.running, true);
  });

  it('binary mode delivers the bytes as read, undecoded', async () => {
    const connector = await opened(make({ executable: NODE, args: ['-e', 'process.stdout.write(Buffer.from([0xff, 0x00, 0x0a, 0x41]))'], text: false, start_on_open: true }));
    const { exit, messages } = collect(connector);
    await exit();
    const bytes = Buffer.concat(messages.filter((message) => message.channel === 'stdout').map((message) => message.data));
    assert.deepEqual([...bytes], [0xff, 0x00, 0x0a, 0x41]);
  });

  it('text mode decodes the process encoding (latin-1) and delivers UTF-8; sent text is written in latin-1', async () => {
    const connector = await opened(make({ executable: NODE, args: ['-e', 'process.stdin.once("data", (d) => { process.stdout.write(Buffer.from([...d, 0xe9, 0x0a])); process.exit(0); })'], pipe_stdin: true, encoding: 'latin-1', start_on_open: true }));
    const { outputs, exit } = collect(connector);
    await connector.send('ü');
    await exit();
    assert.deepEqual(outputs()[0], { stdout: 'üé\n' });
  });

  it('cwd and env reach the process; a relative executable resolves against the YAML folder', async () => {
    writeFileSync(path.join(dir, 'where.sh'), '#!/bin/sh\necho "$(pwd) $KISO_TEST_VALUE"\n', { mode: 0o755 });
    const connector = await opened(make({ executable: './where.sh', env: { KISO_TEST_VALUE: 42, PATH: process.env.PATH ?? '/usr/bin:/bin' }, start_on_open: true }));
    const { outputs, exit } = collect(connector);
    await exit();
    assert.deepEqual(outputs()[0], { stdout: `${dir} 42\n` });
  });

  it('shell: true runs the command line through /bin/sh', async () => {
    const connector = await opened(make({ executable: 'echo a | tr a b', shell: true, start_on_open: true }));
    const { outputs, exit } = collect(connector);
    await exit();
    assert.deepEqual(outputs()[0], { stdout: 'b\n' });
  });
});

describe('CCProcess: what is refused, and never crashes', () => {
  it('a missing executable is KISO_CONNECTOR_OPEN at open with start_on_open, naming it', async () => {
    const connector = make({ executable: '/no/such/program', start_on_open: true });
    await assert.rejects(connector.open(), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_OPEN') && /cannot start "\/no\/such\/program".*ENOENT/.test((error as Error).message));
    assert.equal(connector.isOpen, false);
  });

  it('a missing executable in a start message rejects that send; the connector stays usable', async () => {
    const connector = await opened(make());
    await assert.rejects(connector.send(processCommand({ command: 'start', executable: '/no/such/program' })), /ENOENT/);
    await assert.rejects(connector.send(processCommand({ command: 'start' })), /no executable to start/);
    const { exit } = collect(connector);
    await connector.send(processCommand({ command: 'start', executable: '/bin/true' }));
    assert.equal(await exit(), 0);
  });

  it('malformed commands and messages are KISO_CONNECTOR_INVALID_MESSAGE', async () => {
    const connector = await opened(make({ executable: 'cat', pipe_stdin: true }));
    const invalid = (error: unknown): boolean => isKisoError(error, 'KISO_CONNECTOR_INVALID_MESSAGE');
    await assert.rejects(connector.send({ command: 'explode' } as unknown as Message), invalid);
    await assert.rejects(connector.send({ data: new Uint8Array(0), command: 'start', args: 'not a list' } as unknown as Message), invalid);
    await assert.rejects(connector.send({ data: new Uint8Array(0), command: 'start', executable: 5 } as unknown as Message), invalid);
    await assert.rejects(connector.send({ data: 'text' } as unknown as Message), invalid);
    assert.equal(connector.running, false);
  });

  it('stdin data without pipe_stdin, or before a start, is a clear error', async () => {
    const noPipe = await opened(make({ executable: 'sleep', args: ['100'], start_on_open: true }));
    await assert.rejects(noPipe.send('x'), /pipe_stdin is false/);
    const notStarted = await opened(make({ pipe_stdin: true }));
    await assert.rejects(notStarted.send('x'), /no process was started/);
  });

  it('text that never ends a line is delivered in bounded pieces; \\r\\n split across reads is one newline', () => {
    const splitter = new LineSplitter(4);
    assert.deepEqual(splitter.push('abcdefghij'), ['abcd', 'efgh']);
    assert.deepEqual(splitter.push('\r'), []);
    assert.deepEqual(splitter.push('\nx\ry'), ['ij\n', 'x\n']);
    assert.deepEqual(splitter.flush(), ['y']);
    assert.deepEqual(splitter.flush(), []);
  });
});
