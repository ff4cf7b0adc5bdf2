import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeUdpPort } from '../helpers/peers.js';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { storedRecords } from '../helpers/records.js';
import type { PhaseRecord, RunRecord } from '../../src/results/record/types.js';

// pykiso's examples/virtual.yaml and its test_suite_virtual suites as pykiso ships
// them: a DUTAuxiliary on CCUdp drives pykiso's TestApp protocol against a
// SimulatedAuxiliary on CCUdpServer (UDP on loopback), whose scenario table makes
// most cases fail on purpose. Each file runs through the built CLI in a kiso run of
// its own (-p FILE), all at once: the lost-communication cases wait pykiso's own
// timeouts (5 s per ACK, sent twice; 10 s per report and ABORT), 40 s per file.

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? false : `skipped: ${PYTHON} is missing (Debian's python3)`;

/** pykiso's examples/virtual.yaml, its port made free. */
const VIRTUAL_YAML = (port: number): string => `auxiliaries:
  aux_virtual:
    connectors:
        com: chan2
    config: null
    type: pykiso.lib.auxiliaries.simulated_auxiliary:SimulatedAuxiliary
  aux_udp:
    connectors:
        com: chan1
    config: null
    type: pykiso.lib.auxiliaries.dut_auxiliary:DUTAuxiliary
connectors:
  chan1:
    config: {dest_ip : '127.0.0.1', dest_port: ${port}}
    type: pykiso.lib.connectors.cc_udp:CCUdp
  chan2:
    config: {dest_ip : '127.0.0.1', dest_port: ${port}}
    type: pykiso.lib.connectors.cc_udp_server:CCUdpServer
test_suite_list:
- suite_dir: test_suite_virtual
  test_filter_pattern: '*.py'
  test_suite_id: 1
`;

const HEADER = `import pykiso

from pykiso.auxiliaries import aux_virtual, aux_udp  # isort:skip
`;

/** A pykiso test class as the example files write them. */
const remote = (base: string, name: string, params: string): string => `

@pykiso.define_test_parameters(${params})
class ${name}(pykiso.${base}):
    pass
`;

const SUITES: Record<string, string> = {
  'test_case_setup.py': HEADER + [
    ['ReportFailedDuringSetup', 2], ['ReportNotImplementedDuringSetup', 3], ['LostComDuringSetupAck', 4], ['LostComDuringSetupReport', 5],
  ].map(([name, id]) => remote('RemoteTest', name as string, `suite_id=1, case_id=${id}, aux_list=[aux_udp]`)).join(''),
  'test_case_run.py': HEADER + [
    ['ReportFailedDuringRun', 6], ['ReportNotImplementedDuringRun', 7], ['LostComDuringRunAck', 8], ['LostComDuringRunReport', 9],
    ['Successful', 14], ['SuccessfulWithLog', 15], ['ReportFailedDuringRunWithLog', 16],
  ].map(([name, id]) => remote('RemoteTest', name as string, `suite_id=1, case_id=${id}, aux_list=[aux_udp], run_timeout=2`)).join(''),
  'test_case_teardown.py': HEADER + [
    ['ReportFailedDuringTearDown', 10], ['ReportNotImplementedDuringTearDown', 11], ['LostComDuringTearDownAck', 12], ['LostComDuringTearDownReport', 13],
  ].map(([name, id]) => remote('RemoteTest', name as string, `suite_id=1, case_id=${id}, aux_list=[aux_udp]`)).join(''),
  'test_suite_setup.py': HEADER + [
    ['ReportFailedDuringSetup', 2], ['ReportNotImplementedDuringSetup', 3], ['LostComDuringSetupAck', 4], ['LostComDuringSetupReport', 5],
  ].map(([name, id]) => remote('RemoteTestSuiteSetup', name as string, `suite_id=${id}, aux_list=[aux_udp]`)).join(''),
  'test_suite_teardown.py': HEADER + [
    ['ReportFailedDuringTearDown', 6], ['ReportNotImplementedDuringTearDown', 7], ['LostComDuringTearDownAck', 8], ['LostComDuringTearDownReport', 9],
  ].map(([name, id]) => remote('RemoteTestSuiteTeardown', name as string, `suite_id=${id}, aux_list=[aux_udp]`)).join(''),
};

/** pykiso's virtual station in a new folder, with a free port. */
async function virtualStation(): Promise<{ dir: string; yaml: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-virtual-'));
  mkdirSync(path.join(dir, 'test_suite_virtual'));
  for (const [name, text] of Object.entries(SUITES)) writeFileSync(path.join(dir, 'test_suite_virtual', name), text);
  const yaml = path.join(dir, 'virtual.yaml');
  writeFileSync(yaml, VIRTUAL_YAML(await freeUdpPort()));
  return { dir, yaml };
}

function storedRecord(store: string): RunRecord {
  const records = storedRecords(store);
  assert.equal(records.length, 1, records.map((r) => r.id).join(', '));
  return records[0]!;
}

const REASON = /(Component busy|fatal error occur|Overvoltage situation happen), could not run/;

/** What pykiso gives each case: [test id, name, outcome, what the error (or skip reason) says]. */
type Expected = Array<[string, string, PhaseRecord['outcome'], RegExp?]>;

const EXPECTED: Record<string, Expected> = {
  'test_case_setup.py': [
    ['1.2', 'ReportFailedDuringSetup.test_run', 'FAIL', /the DUT reports TEST_CASE_SETUP of suite 1 case 2 FAILED: /],
    ['1.3', 'ReportNotImplementedDuringSetup.test_run', 'PASS'],
    ['1.4', 'LostComDuringSetupAck.test_run', 'FAIL', /no response received from the DUT \(aux_udp\) for TEST_CASE_SETUP of suite 1 case 4: no ACK within 5 s, command sent 2 times/],
    ['1.5', 'LostComDuringSetupReport.test_run', 'FAIL', /no report received from the DUT \(aux_udp\) for TEST_CASE_SETUP of suite 1 case 5 within 10 s/],
  ],
  'test_case_run.py': [
    ['1.6', 'ReportFailedDuringRun.test_run', 'FAIL', /the DUT reports TEST_CASE_RUN of suite 1 case 6 FAILED: /],
    // pykiso lets a test the device has not implemented pass; kiso says SKIP (never a silent green).
    ['1.7', 'ReportNotImplementedDuringRun.test_run', 'SKIP', /the DUT reports TEST_CASE_RUN of suite 1 case 7 not implemented/],
    ['1.8', 'LostComDuringRunAck.test_run', 'FAIL', /no response received from the DUT \(aux_udp\) for TEST_CASE_RUN of suite 1 case 8: no ACK within 5 s/],
    ['1.9', 'LostComDuringRunReport.test_run', 'FAIL', /no report received from the DUT \(aux_udp\) for TEST_CASE_RUN of suite 1 case 9 within 2 s/],
    ['1.14', 'Successful.test_run', 'PASS'],
    ['1.15', 'SuccessfulWithLog.test_run', 'PASS'],
    ['1.16', 'ReportFailedDuringRunWithLog.test_run', 'FAIL', /the DUT reports TEST_CASE_RUN of suite 1 case 16 FAILED: /],
  ],
  'test_case_teardown.py': [
    ['1.10', 'ReportFailedDuringTearDown.test_run', 'FAIL', /the DUT reports TEST_CASE_TEARDOWN of suite 1 case 10 FAILED: /],
    ['1.11', 'ReportNotImplementedDuringTearDown.test_run', 'PASS'],
    ['1.12', 'LostComDuringTearDownAck.test_run', 'FAIL', /no ACK within 5 s/],
    ['1.13', 'LostComDuringTearDownReport.test_run', 'FAIL', /no report received .* TEST_CASE_TEARDOWN of suite 1 case 13 within 10 s/],
  ],
  // pykiso runs the suite setups and teardowns of the folder as tests of their own (suite ids 2..9, case 0).
  'test_suite_setup.py': [
    ['1.0', 'ReportFailedDuringSetup.test_suite_setUp', 'FAIL', /the DUT reports TEST_SUITE_SETUP of suite 2 case 0 FAILED: /],
    ['1.0', 'ReportNotImplementedDuringSetup.test_suite_setUp', 'PASS'],
    ['1.0', 'LostComDuringSetupAck.test_suite_setUp', 'FAIL', /TEST_SUITE_SETUP of suite 4 case 0: no ACK within 5 s, command sent 2 times/],
    ['1.0', 'LostComDuringSetupReport.test_suite_setUp', 'FAIL', /no report received .* TEST_SUITE_SETUP of suite 5 case 0 within 10 s/],
  ],
  'test_suite_teardown.py': [
    ['1.0', 'ReportFailedDuringTearDown.test_suite_tearDown', 'FAIL', /the DUT reports TEST_SUITE_TEARDOWN of suite 6 case 0 FAILED: /],
    ['1.0', 'ReportNotImplementedDuringTearDown.test_suite_tearDown', 'PASS'],
    ['1.0', 'LostComDuringTearDownAck.test_suite_tearDown', 'FAIL', /TEST_SUITE_TEARDOWN of suite 8 case 0: no ACK within 5 s/],
    ['1.0', 'LostComDuringTearDownReport.test_suite_tearDown', 'FAIL', /no report received .* TEST_SUITE_TEARDOWN of suite 9 case 0 within 10 s/],
  ],
};

describe("pykiso's virtual station (examples/virtual.yaml): DUTAuxiliary against SimulatedAuxiliary over UDP", { skip }, () => {
  it('each test_suite_virtual file gets the outcomes pykiso gives its cases, exit 1 (cases fail on purpose)', { timeout: 180_000 }, async () => {
    const runs = await Promise.all(Object.keys(EXPECTED).map(async (file) => {
      const { dir, yaml } = await virtualStation();
      const junit = path.join(dir, 'junit.xml');
      const result = await runCli(['-c', yaml, '-p', file, '--junit', junit], { env: { KISO_STORE: dir }, timeoutMs: 150_000 });
      return { file, dir, junit, result };
    }));
    for (const { file, dir, junit, result } of runs) {
      const context = `${file}\n${result.stdout}${result.stderr}`;
      assert.equal(result.code, 1, context);
      const record = storedRecord(dir);
      const expected = EXPECTED[file]!;
      assert.deepEqual(record.phases.map((p) => [p.test_id, p.name, p.outcome]), expected.map(([id, name, outcome]) => [id, name, outcome]), context);
      for (const [index, [, name, outcome, says]] of expected.entries()) {
        const phase = record.phases[index]!;
        if (outcome === 'PASS') {
          assert.equal(phase.error, undefined, `${name}: ${JSON.stringify(phase.error)}`);
          continue;
        }
        const text = outcome === 'SKIP' ? phase.skip_reason : phase.error?.message;
        assert.match(text ?? '', says!, `${name}: ${text}`);
        if (outcome === 'FAIL') assert.match(result.stdout, new RegExp(`FAIL +\\[${phase.test_id.replace('.', '\\.')}\\] ${name.replace('.', '\\.')} .*\\n +AssertionError`), context);
        // A failed report fails with the device's reason, as a row of the step report with what was expected.
        if (/FAILED: $/.test(says!.source)) {
          assert.match(phase.error!.message, REASON);
          assert.ok(phase.checks?.some((c) => c.outcome === 'FAIL' && c.operator === 'assertEqual' && c.expected === "'TEST_PASS'" && c.actual === "'TEST_FAILED'"), JSON.stringify(phase.checks));
        }
      }
      assert.equal(record.counts.total, expected.length);
      assert.match(readFileSync(junit, 'utf8'), new RegExp(`tests="${expected.length}"`));
    }
    // What the device logged reaches the case's log, and the logs come before the report.
    const run = runs.find((r) => r.file === 'test_case_run.py')!;
    const phases = storedRecord(run.dir).phases;
    for (const id of ['1.15', '1.16']) {
      const logs = phases.find((p) => p.test_id === id)!.logs.map((l) => l.message).filter((m) => m.startsWith('DUT log'));
      assert.deepEqual(logs, [1, 2].map((n) => `DUT log (aux_udp): log ${n} of 2 of the simulated DUT, suite 1 case ${id.slice(2)}`));
    }
    // Lost communication: the ABORT kiso sends is acknowledged or restarts the auxiliary, as pykiso's cleanup_and_skip does.
    assert.match(run.result.stdout + run.result.stderr, /the DUT did not acknowledge ABORT within 10 s \(attempt 2 of 2\): restarting "aux_udp"/);
  });

  it('kiso validate takes the station as pykiso ships it (config: null, the pykiso paths)', async () => {
    const { yaml } = await virtualStation();
    const result = await runCli(['validate', '-c', yaml]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});
