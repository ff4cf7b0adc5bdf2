import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli } from '../helpers/cli.js';

// CCProcess and RecordAuxiliary through the built kiso CLI, on real processes and a
// real UDP pair: kiso's example station, pykiso's process.yaml and record_example.yaml
// as pykiso ships them (the Python path swapped), processing: true, and what a wrong
// config says.

const KISO = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;
const PYTHON = '/usr/bin/python3';
const HAS_PYTHON = spawnSync(PYTHON, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-process-record-'));
const freePort = (): number => 20000 + Math.floor(Math.random() * 20000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A station file and its suite folder (suite files by name) in a fresh folder. */
function station(yaml: string, suites: Record<string, string>, suiteDir = 'suites'): string {
  const dir = tmp();
  mkdirSync(path.join(dir, suiteDir));
  for (const [name, text] of Object.entries(suites)) writeFileSync(path.join(dir, suiteDir, name), text);
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** pykiso's examples/process.yaml, key for key; only the Windows Python path is swapped. */
const PYKISO_PROCESS_YAML = (pattern: string, processing = false): string => `auxiliaries:
  # Communication auxiliary to access the process connector
  com_aux:
    connectors:
        # Connect to process1
        com: process1
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  process1:
    config:
      # Executable to start, can be overridden in the test. Here we execute a python program
      executable: ${PYTHON}
      # Arguments to use, can be overridden in the test
      args:
        - -c
        - print("hello");print("pykiso")
      # If the process is invoked by shell
      shell: False
      # Pipe stderr to read it in the test, otherwise it will be printed on the console
      pipe_stderr: True
      # Pipe stdout to read it in the test, otherwise it will be printed on the console
      pipe_stdout: True
      # Attach pipe to stdin to send data to the process, otherwise it will read from the console
      pipe_stdin: True
      # Read/write process data in text mode
      text: True
${processing ? '      processing: True\n' : ''}    type: pykiso.lib.connectors.cc_process:CCProcess

test_suite_list:
- suite_dir: test_process
  test_filter_pattern: '${pattern}'
  test_suite_id: 1
`;

/** pykiso's test_process.py ported: its sleeps become waits for stdin, so each output follows what the test saw. */
const PYKISO_PROCESS_SUITE = `import assert from 'node:assert/strict';
import { defineSuite, processCommand, processOutput } from '${KISO}';
export default defineSuite({ name: 'process', auxiliaries: ['com_aux'], cases: [{ name: 'we communicate with a python process', async run(ctx) {
  const com_aux = ctx.aux('com_aux');
  const program = 'import sys\\nprint(sys.stdin.readline().strip()); sys.stdout.flush()\\nsys.stdin.readline(); print("error", file=sys.stderr); sys.stderr.flush()\\nsys.stdin.readline(); print("hello"); print("pykiso")\\n';
  await com_aux.send(processCommand({ command: 'start', executable: '${PYTHON}', args: ['-c', program] }));
  const receive = async () => processOutput(await com_aux.receive({ timeoutMs: 5000 }));
  await com_aux.send('hi\\n');
  assert.deepEqual(await receive(), { stdout: 'hi\\n' });
  await com_aux.send('\\n');
  assert.deepEqual(await receive(), { stderr: 'error\\n' });
  await com_aux.send('\\n');
  assert.deepEqual(await receive(), { stdout: 'hello\\n' });
  assert.deepEqual(await receive(), { stdout: 'pykiso\\n' });
  assert.equal((await receive()).exit, 0);
} }] });
`;

/** pykiso's examples/record_example.yaml, key for key. */
const PYKISO_RECORD_YAML = `auxiliaries:
  record_aux:
    connectors:
      com: example_channel
    config:
      com: CChannel
      is_active: True
      timeout: 0
      log_folder_path: "examples/test_record"
    type: pykiso.lib.auxiliaries.record_auxiliary:RecordAuxiliary

connectors:
  example_channel:
    config: null
    type: pykiso.lib.connectors.cc_raw_loopback:CCLoopback

test_suite_list:
- suite_dir: test_record
  test_filter_pattern: test_recorder_example.py
  test_suite_id: 1
`;

describe('CCProcess and RecordAuxiliary through the kiso CLI', () => {
  it('examples/templates/process_record.yaml runs: boot log recorded, stdin answered, stderr read, exit 0, log dumped', async () => {
    const logs = tmp();
    const result = await runCli(['-c', 'examples/templates/process_record.yaml', '--no-record'], { env: { KISO_RECORD_DIR: logs, KISO_NODE: process.execPath } });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASSED: 3 passed, 0 failed/);
    const log = readFileSync(path.join(logs, 'device.log'), 'utf8');
    assert.match(log, /^Received data :\nbootloader ok\nfw 1\.4\.2\nsensors: 3 found\nboot complete\n/);
    assert.match(log, /\ntemp=23\n/);
    assert.match(log, /\nunknown command: reboot\n/);
    assert.match(log, /\nbye\nexit 0$/);
  });

  it("pykiso's process.yaml validates as shipped and runs with its suite ported, in this process and with processing: True", { skip: HAS_PYTHON ? false : `${PYTHON} is missing` }, async () => {
    const validate = await runCli(['validate', '-c', station(PYKISO_PROCESS_YAML('test_process.py'), { 'test_process.mjs': PYKISO_PROCESS_SUITE }, 'test_process')]);
    assert.equal(validate.code, 0, validate.stderr);
    for (const processing of [false, true]) {
      const run = await runCli(['-c', station(PYKISO_PROCESS_YAML('test_process.mjs', processing), { 'test_process.mjs': PYKISO_PROCESS_SUITE }, 'test_process'), '--no-record']);
      assert.equal(run.code, 0, `processing: ${processing}\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /PASSED: 1 passed/);
    }
  });

  it("pykiso's record_example.yaml validates as shipped", async () => {
    const result = await runCli(['validate', '-c', station(PYKISO_RECORD_YAML, { 'x.mjs': '' }, 'test_record')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /: OK \(1 connectors, 1 auxiliaries/);
  });

  it('processing: true: the recorder and its process run in a host process; its methods cross IPC; the process tree is gone after the run', async () => {
    const pidFile = path.join(tmp(), 'pids.json');
    const yaml = `auxiliaries:
  record_aux:
    connectors: { com: worker }
    config: { log_file_name: worker.log }
    type: RecordAuxiliary
connectors:
  worker:
    type: CCProcess
    config:
      processing: true
      executable: /bin/sh
      args: ['-c', 'sleep 100 & echo child=$!; echo shell=$$; echo temp=21; echo temp=22; echo ready; wait']
      start_on_open: true
test_suite_list:
  - suite_dir: suites
    test_filter_pattern: 'test_*.mjs'
`;
    const suite = `import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { defineSuite } from '${KISO}';
export default defineSuite({ name: 'hosted recorder', auxiliaries: ['record_aux'], cases: [{ name: 'search and dump', async run(ctx) {
  const record = ctx.aux('record_aux');
  assert.equal(await record.waitForMessageInLog('ready', { timeoutMs: 10000 }), true);
  assert.deepEqual(await record.searchRegexCurrentString('^temp=(\\\\d+)$'), ['21', '22']);
  assert.deepEqual(await record.searchRegexCurrentString(/^temp=2(2)$/m), ['2']);
  const entries = await record.entries();
  assert.ok(entries.every((entry) => entry.channel === 'stdout' && typeof entry.timestamp === 'number'));
  const pids = Object.fromEntries((await record.searchRegexCurrentString('^(child|shell)=(\\\\d+)$')).map(([name, pid]) => [name, Number(pid)]));
  writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify({ ...pids, host: process.pid }));
  assert.equal(await record.dumpToFile(), true);
} }] });
`;
    const file = station(yaml, { 'test_worker.mjs': suite });
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASSED: 1 passed/);
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { child: number; shell: number };
    assert.ok(pids.child > 0 && pids.shell > 0);
    assert.equal(alive(pids.shell), false, 'the shell is gone after the run');
    assert.equal(alive(pids.child), false, "the shell's background child is gone after the run");
    assert.match(readFileSync(path.join(path.dirname(file), 'worker.log'), 'utf8'), /\nready$/);
  });

  it('RecordAuxiliary records a UDP server connector while a client sends to it', async () => {
    const port = freePort();
    const yaml = `auxiliaries:
  client:
    connectors: { com: udp_client }
    type: CommunicationAuxiliary
  record_aux:
    connectors: { com: udp_server }
    type: pykiso.lib.auxiliaries.record_auxiliary:RecordAuxiliary
connectors:
  udp_client:
    type: CCUdp
    config: { dest_ip: 127.0.0.1, dest_port: ${port} }
  udp_server:
    type: CCUdpServer
    config: { dest_ip: 127.0.0.1, dest_port: ${port} }
test_suite_list:
  - suite_dir: suites
    test_filter_pattern: 'test_*.mjs'
`;
    const suite = `import assert from 'node:assert/strict';
import { defineSuite } from '${KISO}';
export default defineSuite({ name: 'udp record', auxiliaries: ['client', 'record_aux'], cases: [{ name: 'what the server receives is in the log', async run(ctx) {
  const client = ctx.aux('client');
  const record = ctx.aux('record_aux');
  assert.equal(record.newLog(), 'Received data :');
  await client.send('hello device');
  await client.send(Uint8Array.of(0xff, 0x00));
  assert.equal(await record.waitForMessageInLog('ff00', { timeoutMs: 5000 }), true);
  assert.equal(record.getData(), 'Received data :\\nhello device\\nff00');
  assert.equal(record.isMessageInLog('hello'), false, 'the wait moved the cursor past it');
  await assert.rejects(record.waitForMessageInLog('never', { timeoutMs: 50 }), /"never" did not show up/);
} }] });
`;
    const result = await runCli(['-c', station(yaml, { 'test_udp.mjs': suite }), '--no-record']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASSED: 1 passed/);
  });

  it('a case errors, and the run goes on, when the process cannot be started or a command is wrong', async () => {
    const yaml = `auxiliaries:
  com_aux:
    connectors: { com: proc }
    type: CommunicationAuxiliary
connectors:
  proc:
    type: CCProcess
    config: { pipe_stdin: true }
test_suite_list:
  - suite_dir: suites
    test_filter_pattern: 'test_*.mjs'
`;
    const suite = `import assert from 'node:assert/strict';
import { defineSuite, processCommand } from '${KISO}';
export default defineSuite({ name: 'broken process', auxiliaries: ['com_aux'], cases: [
  { name: 'missing program', async run(ctx) { await ctx.aux('com_aux').send(processCommand({ command: 'start', executable: '/no/such/program' })); } },
  { name: 'bad command', async run(ctx) { await ctx.aux('com_aux').send({ command: 'explode' }); } },
  { name: 'still usable', async run(ctx) {
    const aux = ctx.aux('com_aux');
    await aux.send(processCommand({ command: 'start', executable: 'cat' }));
    await aux.send('ok\\n');
    assert.equal(Buffer.from((await aux.receive({ timeoutMs: 5000 })).data).toString(), 'ok\\n');
  } },
] });
`;
    const result = await runCli(['-c', station(yaml, { 'test_broken.mjs': suite }), '--no-record']);
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /cannot start "\/no\/such\/program".*ENOENT/);
    assert.match(result.stdout, /unknown command "explode" \(known: start, stop\)/);
    assert.match(result.stdout, /PASS\s+\[\d+\.3\] still usable/);
    assert.match(result.stdout, /1 passed, 0 failed, 2 errors/);
  });

  it('a wrong config is exit 2 before anything starts, each error with its line', async () => {
    const yaml = `auxiliaries:
  record_aux:
    connectors: { com: proc }
    config: { max_file_size: 0, multiproces: true }
    type: RecordAuxiliary
connectors:
  proc:
    type: pykiso.lib.connectors.cc_process:CCProcess
    config:
      start_on_open: true
      encoding: klingon
      args: python3
test_suite_list:
  - suite_dir: suites
    test_filter_pattern: 'test_*.mjs'
`;
    const result = await runCli(['validate', '-c', station(yaml, { 'test_x.mjs': '' })]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /station\.yaml:4:30: auxiliaries\.record_aux\.config\.max_file_size: must be between 1 and 2000000000, got 0 \[RecordAuxiliary config\]/);
    assert.match(result.stderr, /auxiliaries\.record_aux\.config\.multiproces: unknown key "multiproces" \(did you mean "multiprocess"\?\)/);
    assert.match(result.stderr, /station\.yaml:9:5: connectors\.proc\.config\.executable: missing required key "executable" \[CCProcess config\]/);
    assert.match(result.stderr, /connectors\.proc\.config\.encoding: must be one of "utf-8"/);
    assert.match(result.stderr, /connectors\.proc\.config\.args: must be/);
  });
});
