import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { storedRecords } from '../helpers/records.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import type { RunRecord } from '../../src/results/record/types.js';

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing (Debian's python3)`;
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-py-'));

const LOOPBACK = `auxiliaries:
  com_aux:
    connectors: { com: loopback }
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  loopback: { type: pykiso.lib.connectors.cc_raw_loopback:CCLoopback }
`;

/** A station in a new folder: its YAML and suite folders of Python files. */
function station(yaml: string, folders: Record<string, Record<string, string>>): string {
  const dir = tmp();
  for (const [folder, files] of Object.entries(folders)) {
    mkdirSync(path.join(dir, folder));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, folder, name), text);
  }
  const list = Object.keys(folders).map((folder, index) => `  - { suite_dir: ${folder}, test_filter_pattern: "test_*.py", test_suite_id: ${index + 1} }`);
  writeFileSync(path.join(dir, 'station.yaml'), `${yaml}test_suite_list:\n${list.join('\n')}\n`);
  return path.join(dir, 'station.yaml');
}

function storedRecord(store: string): RunRecord {
  const records = storedRecords(store);
  assert.equal(records.length, 1, `one record in the store: ${records.map((r) => r.id).join(', ')}`);
  return records[0]!;
}

/** kiso's Python processes started with this tag in their environment (other tests' and other checkouts' do not count). */
const pythonAlive = (tag: string): string[] => {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kiso_runner.py') && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`KISO_TEST_TAG=${tag}`)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
};

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('pykiso Python suites', { skip }, () => {
  it("pykiso's template suite runs green: suite setup/teardown, tags, test_ids, the step report, retry_test_case", async () => {
    const dir = tmp();
    const steps = path.join(dir, 'steps.html');
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', 'examples/templates/python_suites.yaml', '--step-report', steps, '--junit', junit], { env: { KISO_STORE: dir } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /PASS +\[1\.1\] SendAndReceive\.test_run[\s\S]*PASS +\[1\.2\] StepReport\.test_run[\s\S]*PASS +\[1\.3\] Retried\.test_run/);
    const record = storedRecord(dir);
    assert.deepEqual(record.phases.map((p) => [p.test_id, p.outcome]), [['1.1', 'PASS'], ['1.2', 'PASS'], ['1.3', 'PASS']]);
    assert.deepEqual(record.phases[0]!.requirements, ['REQ-COM-1']);
    assert.deepEqual(record.phases[0]!.tags, { variant: ['nightly'] });
    // Every assert* is a row: 20 × (sent, echo) + queue empty; the step-report tables are steps.
    assert.equal(record.phases[0]!.checks!.length, 41);
    assert.deepEqual({ ...record.phases[0]!.checks![1]!, timestamp: undefined }, {
      kind: 'assertion', description: 'echo', operator: 'assertEqual', expected: "b'\\x02\\x04\\x06'", actual: "b'\\x02\\x04\\x06'", outcome: 'PASS',
      timestamp: undefined, source_file: 'suite_python/test_com.py', line_number: 31,
    });
    assert.deepEqual(record.phases[1]!.checks!.map((c) => [c.description, c.expected, c.steps]), [['Check voltage device', '4 ± 1', ['Power']], ['answer', "in b'PING'", ['Link']]]);
    // The retried case: its first attempt's failed assert is a row, the case passes as pykiso says.
    assert.deepEqual(record.phases[2]!.checks!.map((c) => c.outcome), ['FAIL', 'PASS']);
    // Python's logging lands in the record, with the suite's file and line, and in JUnit's system-out.
    const logs = record.phases.flatMap((p) => p.logs);
    assert.ok(logs.some((l) => l.message.includes('Attempt: 2/3') && l.logger_name === 'pykiso.test_coordinator.test_case'), JSON.stringify(logs));
    assert.match(readFileSync(junit, 'utf8'), /Retried-1-3\.test_run failed with exception: False is not true : flaky check/);
    assert.match(readFileSync(steps, 'utf8'), /Check voltage device/);
  });

  it('a failing assert fails with its message and line in console, JUnit and record; an exception is ERROR, skipTest SKIP, a sub-test failure fails at the end', async () => {
    const file = station(LOOPBACK, {
      suite: {
        'test_outcomes.py': `import unittest
import pykiso
from pykiso.auxiliaries import com_aux

@pykiso.define_test_parameters(suite_id=1, case_id=1, aux_list=[com_aux])
class Echo(pykiso.BasicTest):
    def test_run(self):
        com_aux.send_message(b"\\x01")
        self.assertEqual(com_aux.receive_message(timeout_in_s=1), b"\\x02", msg="echo is 02")

@pykiso.define_test_parameters(suite_id=1, case_id=2)
class Raises(pykiso.BasicTest):
    def test_run(self):
        {}["missing"]

@pykiso.define_test_parameters(suite_id=1, case_id=3)
class Skips(pykiso.BasicTest):
    def test_run(self):
        self.skipTest("no relay on this bench")

@pykiso.define_test_parameters(suite_id=1, case_id=4)
class SubTests(pykiso.BasicTest):
    def test_run(self):
        with self.subTest("non critical"):
            self.assertFalse(True, msg="some check")
        self.assertTrue(True, msg="still checked")

@unittest.skip("not ready")
@pykiso.define_test_parameters(suite_id=1, case_id=5)
class Marked(pykiso.BasicTest):
    def test_run(self):
        pass

@pykiso.define_test_parameters(suite_id=1, case_id=6)
class BareAssert(pykiso.BasicTest):
    def test_run(self):
        assert 1 + 1 == 3, "arithmetic"
`,
      },
    });
    const dir = path.dirname(file);
    const junit = path.join(dir, 'junit.xml');
    const result = await runCli(['-c', file, '--junit', junit], { env: { KISO_STORE: dir } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /FAIL +\[1\.1\] Echo\.test_run .*\n +AssertionError: b'\\x01' != b'\\x02' : echo is 02 \(test_outcomes\.py:9\)/);
    assert.match(result.stdout, /ERROR +\[1\.2\] Raises\.test_run .*\n +KeyError: 'missing' \(test_outcomes\.py:14\)/);
    assert.match(result.stdout, /SKIP +\[1\.3\] Skips\.test_run/);
    assert.match(result.stdout, /FAIL +\[1\.4\] SubTests\.test_run .*\n +AssertionError: sub-test 'non critical' failed: True is not false : some check/);
    assert.match(result.stdout, /SKIP +\[1\.5\] Marked\.test_run/);
    assert.match(result.stdout, /FAIL +\[1\.6\] BareAssert\.test_run .*\n +AssertionError: arithmetic \(test_outcomes\.py:37\)/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<failure message="b'\\x01' != b'\\x02' : echo is 02 \(test_outcomes\.py:9\)" type="AssertionError">b'\\x01' != b'\\x02' : echo is 02 \(test_outcomes\.py:9\)\nTraceback \(most recent call last\):\n {2}File &quot;[^&]*test_outcomes\.py&quot;, line 9, in test_run/);
    assert.match(xml, /<skipped message="no relay on this bench"/);
    const phases = storedRecord(dir).phases;
    assert.deepEqual(phases.map((p) => p.outcome), ['FAIL', 'ERROR', 'SKIP', 'FAIL', 'SKIP', 'FAIL']);
    assert.deepEqual(phases[0]!.checks!.map((c) => [c.description, c.expected, c.actual, c.outcome, c.line_number]), [['echo is 02', "b'\\x02'", "b'\\x01'", 'FAIL', 9]]);
    assert.deepEqual(phases[3]!.checks!.map((c) => [c.description, c.outcome]), [['some check', 'FAIL'], ['still checked', 'PASS']]);
    assert.deepEqual(phases[5]!.checks!.map((c) => [c.description, c.outcome, c.line_number]), [['arithmetic', 'FAIL', 37]]);
  });

  it('two auxiliaries talk over UDP through kiso: a client and a server', async () => {
    const port = await freeUdpPort();
    const file = station(
      `auxiliaries:
  client: { connectors: { com: udp_client }, type: CommunicationAuxiliary }
  server: { connectors: { com: udp_server }, type: CommunicationAuxiliary }
connectors:
  udp_client: { type: pykiso.lib.connectors.cc_udp:CCUdp, config: { dest_ip: 127.0.0.1, dest_port: ${port} } }
  udp_server: { type: pykiso.lib.connectors.cc_udp_server:CCUdpServer, config: { dest_ip: 127.0.0.1, dest_port: ${port} } }
`,
      {
        suite: {
          'test_udp.py': `import pykiso
from pykiso.auxiliaries import client, server

@pykiso.define_test_parameters(suite_id=1, case_id=1, aux_list=[client, server])
class RequestAnswer(pykiso.BasicTest):
    def test_run(self):
        for i in range(10):
            client.send_message(f"ping {i}".encode())
            self.assertEqual(server.receive_message(timeout_in_s=2), f"ping {i}".encode())
            server.send_message(b"pong")
            self.assertEqual(client.receive_message(timeout_in_s=2), b"pong")
`,
        },
      },
    );
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /PASS +\[1\.1\] RequestAnswer\.test_run/);
  });

  it("CanAuxiliary and UdsAuxiliary from Python with pykiso's names: DBC messages and signals, raw UDS against the simulated ECU", async () => {
    const dir = tmp();
    const suites = path.join(dir, 'suite_can_dbc_uds');
    mkdirSync(suites);
    const example = path.join(ROOT, 'examples/templates/suite_can_dbc_uds');
    writeFileSync(path.join(suites, 'vehicle.dbc'), readFileSync(path.join(example, 'vehicle.dbc')));
    writeFileSync(path.join(suites, 'ecu_simulator.ts'), readFileSync(path.join(example, 'ecu_simulator.ts'), 'utf8').replace(/from 'kiso(\/can)?'/g, (_m, sub: string | undefined) => `from ${JSON.stringify(import.meta.resolve(sub ? 'kiso/can' : 'kiso'))}`));
    writeFileSync(path.join(suites, 'test_can_uds.py'), `import pykiso
from pykiso.auxiliaries import can, diag

@pykiso.define_test_parameters(suite_id=1, case_id=1, aux_list=[can])
class CanSignals(pykiso.BasicTest):
    def test_run(self):
        status = can.wait_for_message("EngineStatus", timeout=2)
        self.assertIsNotNone(status, msg="EngineStatus on the bus")
        self.assertIn("EngineSpeed", status)
        self.assertTrue(can.send_message("EngineCommand", {"IgnitionOn": 1, "TargetSpeed": 1500, "TargetGear": 0}))
        running = can.wait_to_match_message_with_signals("EngineStatus", {"EngineState": "Running"}, timeout=3)
        self.assertEqual(running["EngineState"], "Running")
        self.assertIsInstance(can.get_last_signal("EngineStatus", "EngineSpeed"), (int, float))
        self.assertEqual(can.get_last_message("EngineStatus")["EngineState"], "Running")
        self.assertIsNone(can.wait_to_match_message_with_signals("EngineStatus", {"GearPosition": 4}, timeout=0.2))

@pykiso.define_test_parameters(suite_id=1, case_id=2, aux_list=[diag])
class RawUds(pykiso.BasicTest):
    def test_run(self):
        vin = diag.send_uds_raw([0x22, 0xF1, 0x90])
        self.assertTrue(diag.check_raw_response_positive(vin))
        self.assertEqual(bytes(vin[3:]).decode(), "1KS0EXAMPLE000001")
        refused = diag.send_uds_raw(b"\\x22\\xbe\\xef")
        self.assertEqual(refused[0], 0x7F)
        self.assertEqual(refused[2], 0x31, msg="requestOutOfRange")
        self.assertTrue(diag.check_raw_response_negative(refused))
`);
    const port = 40000 + Math.floor(Math.random() * 20000);
    writeFileSync(path.join(dir, 'station.yaml'), readFileSync(path.join(ROOT, 'examples/templates/can_dbc_uds.yaml'), 'utf8').replace("test_filter_pattern: 'test_*.ts'", "test_filter_pattern: 'test_*.py'"));
    const result = await runCli(['-c', path.join(dir, 'station.yaml'), '--no-record'], { env: { KISO_CAN_PORT: String(port) } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /PASS +\[1\.1\] CanSignals\.test_run[\s\S]*PASS +\[1\.2\] RawUds\.test_run/);
  });

  it('any other pykiso method is the kiso method of the same name in camelCase (RecordAuxiliary); one kiso lacks is an error naming it', async () => {
    const file = station(
      `auxiliaries:
  com_aux: { connectors: { com: loopback }, type: CommunicationAuxiliary }
  record_aux: { connectors: { com: loopback }, type: pykiso.lib.auxiliaries.record_auxiliary:RecordAuxiliary }
connectors:
  loopback: { type: CCLoopback }
`,
      {
        suite: {
          'test_record.py': `import pykiso
from pykiso.auxiliaries import com_aux, record_aux

@pykiso.define_test_parameters(suite_id=1, case_id=1, aux_list=[com_aux, record_aux])
class Records(pykiso.BasicTest):
    def test_run(self):
        com_aux.send_message(b"hello kiso")
        self.assertTrue(record_aux.wait_for_message_in_log("hello kiso", timeout_in_s=2))
        # the wait moved pykiso's cursor past the message: the full log still has it
        self.assertFalse(record_aux.is_message_in_log("kiso"))
        self.assertTrue(record_aux.is_message_in_full_log("kiso"))

@pykiso.define_test_parameters(suite_id=1, case_id=2, aux_list=[com_aux])
class Unknown(pykiso.BasicTest):
    def test_run(self):
        com_aux.levitate(3)
`,
        },
      },
    );
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /PASS +\[1\.1\] Records\.test_run/);
    assert.match(result.stdout, /ERROR +\[1\.2\] Unknown\.test_run .*\n +KisoCallError: KISO_AUX_COMMAND: levitate\(\) is not a method kiso's CommunicationAuxiliary offers to Python suites/);
  });

  it('a step over its define_test_parameters timeout is ERROR, its tearDown still runs, the next case runs in the same process', async () => {
    const file = station(LOOPBACK, {
      suite: {
        'test_timeout.py': `import logging, time
import pykiso

@pykiso.define_test_parameters(suite_id=1, case_id=1, run_timeout=1)
class Slow(pykiso.BasicTest):
    def test_run(self):
        time.sleep(30)
    def tearDown(self):
        logging.info("teardown after the timeout")

@pykiso.define_test_parameters(suite_id=1, case_id=2)
class Next(pykiso.BasicTest):
    def test_run(self):
        self.assertTrue(True)
`,
      },
    });
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] Slow\.test_run .*\n +KisoError: case "Slow\.test_run" timed out after 1000 ms/);
    assert.match(result.stderr, /teardown after the timeout/);
    assert.match(result.stdout, /PASS +\[1\.2\] Next\.test_run/);
  });

  it('a Python process that dies fails the rest of its suite; the next suite gets a new process; every report is written; none is left behind', async () => {
    const file = station(LOOPBACK, {
      crashing: {
        'test_crash.py': `import os, signal
import pykiso

@pykiso.define_test_parameters(suite_id=1, case_id=1)
class Dies(pykiso.BasicTest):
    def test_run(self):
        os.kill(os.getpid(), signal.SIGKILL)

@pykiso.define_test_parameters(suite_id=1, case_id=2)
class AfterTheCrash(pykiso.BasicTest):
    def test_run(self):
        pass
`,
      },
      healthy: {
        'test_fine.py': `import pykiso

@pykiso.define_test_parameters(suite_id=2, case_id=1)
class Fine(pykiso.BasicTest):
    def test_run(self):
        self.assertEqual(1, 1)
`,
      },
    });
    const dir = path.dirname(file);
    const junit = path.join(dir, 'junit.xml');
    const tag = `crash-${process.pid}-${Date.now()}`;
    const result = await runCli(['-c', file, '--junit', junit], { env: { KISO_STORE: dir, KISO_TEST_TAG: tag } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] Dies\.test_run .*\n +KisoError: the Python process exited on SIGKILL/);
    assert.match(result.stdout, /ERROR +\[1\.2\] AfterTheCrash\.test_run .*\n +KisoError in setup: the Python process exited on SIGKILL/);
    assert.match(result.stdout, /PASS +\[2\.1\] Fine\.test_run/);
    assert.match(readFileSync(junit, 'utf8'), /tests="3"/);
    assert.deepEqual(storedRecord(dir).phases.map((p) => p.outcome), ['ERROR', 'ERROR', 'PASS']);
    assert.deepEqual(pythonAlive(tag), []);
  });

  it('a suite file that does not import is exit 1 naming the file, line and error', async () => {
    const file = station(LOOPBACK, { suite: { 'test_broken.py': 'import pykiso\nfrom pykiso.auxiliaries import no_such_aux\n' } });
    const result = await runCli(['-c', file, '--no-record']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /cannot load Python suite .*test_broken\.py:2: ImportError: the station has no auxiliary named 'no_such_aux' \(auxiliaries: com_aux\)/);
  });

  it("-p selects as pykiso does (file.py::Class::method); a pattern that selects nothing is exit 2", async () => {
    const file = station(LOOPBACK, {
      suite: {
        'test_a.py': `import pykiso
@pykiso.define_test_parameters(suite_id=1, case_id=1)
class First(pykiso.BasicTest):
    def test_run(self):
        pass
    def test_other(self):
        pass
@pykiso.define_test_parameters(suite_id=1, case_id=2)
class Second(pykiso.BasicTest):
    def test_run(self):
        pass
`,
      },
    });
    const one = await runCli(['-c', file, '-p', 'test_a.py::First::test_run', '--no-record']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /1 passed, 0 failed, 0 errors, 2 skipped/);
    const none = await runCli(['-c', file, '-p', 'test_a.py::Third::test_run', '--no-record']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /selects no case out of 3/);
  });

  it('Ctrl-C while a Python test runs: the case is ERROR, the reports are written, exit 1, no Python left', async () => {
    const file = station(LOOPBACK, {
      suite: {
        'test_wait.py': `import time
import pykiso
@pykiso.define_test_parameters(suite_id=1, case_id=1)
class Waits(pykiso.BasicTest):
    def test_run(self):
        print("waiting", flush=True)
        time.sleep(60)
`,
      },
    });
    const junit = path.join(path.dirname(file), 'junit.xml');
    const tag = `sigint-${process.pid}-${Date.now()}`;
    const child = spawn(process.execPath, [CLI, '-c', file, '--junit', junit, '--no-record'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', KISO_TEST_TAG: tag } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const started = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), stderr.includes('waiting') && resolve())));
    await started;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /ERROR +\[1\.1\] Waits\.test_run .*\n +KisoError: case "Waits\.test_run" was interrupted/);
    assert.match(readFileSync(junit, 'utf8'), /<error message="case &quot;Waits\.test_run&quot; was interrupted"/);
    assert.deepEqual(pythonAlive(tag), []);
  });
});
