import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli } from '../helpers/cli.js';

// pykiso's own example stations (examples/templates of eclipse/kiso-testing), written
// here in their documented shape, key for key. Only the hardware is swapped: the PCAN
// channel becomes the virtual CAN bus (on a port of its own per test, so runs never
// share a bus). Everything else a pykiso user wrote must validate and run as it is.

const KISO = pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href;

/** The CAN channel of pykiso's templates, hardware swapped: `interface: pcan` ... becomes the virtual bus. */
const virtualCan = (port: number, processing: boolean): string => `  can_channel:
    config:
${processing ? '      # when using mulitprocessing auxiliary flag processing has to True\n      processing : True\n' : ''}      channel: 239.74.163.2
      port: ${port}
      remote_id : 0x300
      receive_own_messages: true
    type: pykiso.lib.connectors.cc_virtual_can:CCVirtualCan
`;

const MP_PROXY_AUX = (port: number, pattern: string): string => `#__________________________ Auxiliaries section ________________________
auxiliaries:
  proxy_aux:
    connectors:
        com: can_channel
    config:
      aux_list : [aux1, aux2]
      activate_trace : True
      trace_dir: ./suite_mp_proxy
      trace_name: can_trace
      activate_log :
        - pykiso.lib.auxiliaries.mp_proxy_auxiliary
    type: pykiso.lib.auxiliaries.mp_proxy_auxiliary:MpProxyAuxiliary
  aux1:
    connectors:
        com: proxy_com1
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
  aux2:
    connectors:
        com: proxy_com2
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
#__________________________ Connectors section _________________________
connectors:
  proxy_com1:
    config:
      # when using mulitprocessing auxiliary flag processing has to True
      processing : True
    type: pykiso.lib.connectors.cc_mp_proxy:CCMpProxy
  proxy_com2:
    config:
      processing : True
    type: pykiso.lib.connectors.cc_mp_proxy:CCMpProxy
${virtualCan(port, true)}#__________________________ Test Suite section _________________________
test_suite_list:
- suite_dir: suite_mp_proxy
  test_filter_pattern: '${pattern}'
  test_suite_id: 2
`;

const PROXY_AUX = (port: number, pattern: string): string => `auxiliaries:
  proxy_aux:
    connectors:
        com: can_channel
    config:
      aux_list : [aux1, aux2]
      activate_trace : False
      trace_dir: ./suite_proxy
      trace_name: can_trace
      # if False create the auxiliary instance but don't start it
      auto_start: False
    type: pykiso.lib.auxiliaries.dt_proxy_auxiliary:DTProxyAuxiliary
  aux1:
    connectors:
        com: proxy_com1
    config:
      auto_start: False
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
  aux2:
    connectors:
        com: proxy_com2
    config:
      auto_start: False
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  proxy_com1:
    config: ~
    type: pykiso.lib.connectors.cc_dt_proxy:CCDTProxy
  proxy_com2:
    config: ~
    type: pykiso.lib.connectors.cc_dt_proxy:CCDTProxy
${virtualCan(port, false)}test_suite_list:
- suite_dir: suite_proxy
  test_filter_pattern: '${pattern}'
  test_suite_id: 2
`;

const COM_AUX = (pattern: string): string => `auxiliaries:
  com_aux:
    connectors:
        com: loopback_channel
    config:
      auto_start: False
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  loopback_channel:
    type: pykiso.lib.connectors.cc_raw_loopback:CCLoopback
test_suite_list:
- suite_dir: suite_com
  test_filter_pattern: '${pattern}'
  test_suite_id: 3
`;

/** pykiso's config_features: requirements, ENV{} and !include, on a station that works. */
const FEATURES = `auxiliaries:
  com_aux:
    connectors:
        com: chan
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  chan: !include ./channel_config/my_channel_config.yaml
test_suite_list:
- suite_dir: ENV{TEST_SUITE_DIR}
  test_filter_pattern: 'test_*.mjs'
  test_suite_id: 1
requirements:
  - pykiso: '>=0.10.1, <1.0.0'
  - kiso: '>=0.1.0, <99'
  - robotframework: 3.2.2
  - pyyaml: any
`;

/** The suite both proxy templates run (their Python suites ported): aux1 sends, aux2 sees it through the proxy. */
const PROXY_SUITE = `import assert from 'node:assert/strict';
import { defineSuite } from '${KISO}';
export default defineSuite({ name: 'proxy', auxiliaries: ['aux1', 'aux2'], cases: [{ name: 'aux2 sees what aux1 sends', async run(ctx) {
  const aux1 = ctx.aux('aux1');
  const aux2 = ctx.aux('aux2');
  await aux1.send(Uint8Array.of(1, 2, 3));
  for (const aux of [aux2, aux1]) {
    const message = await aux.receive({ timeoutMs: 3000 });
    assert.ok(message, 'the frame came through the proxy');
    assert.equal(message.can?.id, 0x300);
    assert.deepEqual([...message.data], [1, 2, 3]);
  }
} }] });
`;

const COM_SUITE = `import assert from 'node:assert/strict';
import { defineSuite } from '${KISO}';
export default defineSuite({ name: 'com', auxiliaries: ['com_aux'], cases: [{ name: 'echo', async run(ctx) {
  const aux = ctx.aux('com_aux');
  await aux.send(Buffer.from('ping'));
  assert.equal(Buffer.from((await aux.receive({ timeoutMs: 1000 })).data).toString(), 'ping');
} }] });
`;

/** pykiso's proxy suites in their own shape (Python, unchanged): aux1 sends through the proxy, aux2 and aux1 both see it. */
const PROXY_PY = (suiteId: number): string => `import logging
import pykiso
from pykiso.auxiliaries import aux1, aux2, proxy_aux
from pykiso.lib.connectors.cc_raw_loopback import CCLoopback


@pykiso.define_test_parameters(suite_id=${suiteId}, case_id=3, aux_list=[aux1, aux2])
class TestCaseOverride(pykiso.BasicTest):
    def setUp(self):
        logging.info(f"--------------- SETUP: {self.test_suite_id}, {self.test_case_id} ---------------")
        aux1.start()
        aux2.start()
        proxy_aux.start()

    def test_run(self):
        aux1.send_message(b"\\x01\\x02\\x03")
        # aux2 sees it through the proxy, aux1 too (the bus gives back its own frames: receive_own_messages)
        self.assertEqual(aux2.receive_message(timeout_in_s=3), b"\\x01\\x02\\x03")
        self.assertEqual(aux1.receive_message(timeout_in_s=3), b"\\x01\\x02\\x03")

    def tearDown(self):
        logging.info(f"--------------- TEARDOWN: {self.test_suite_id}, {self.test_case_id} ---------------")
`;

/** pykiso's test_com.py as its templates write it. */
const COM_PY = `import logging
import pykiso
from pykiso.auxiliaries import com_aux


@pykiso.define_test_parameters(suite_id=3, case_id=4, aux_list=[com_aux])
class TestCaseOverride(pykiso.BasicTest):
    def setUp(self):
        com_aux.start()
        com_aux.suspend()
        com_aux.resume()

    def test_run(self):
        with com_aux.collect_messages():
            for _ in range(20):
                req = b"\\x02\\x04\\x06"
                state = com_aux.send_message(req)
                self.assertEqual(state, True)
                response = com_aux.receive_message()
                self.assertEqual(response, b"\\x02\\x04\\x06")
        self.assertTrue(com_aux.queue_out.empty())
        com_aux.clear_buffer()
        self.assertTrue(com_aux.queue_out.empty())
`;

function write(yaml: string, suiteDir: string, suite: string, python?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-pykiso-'));
  mkdirSync(path.join(dir, suiteDir));
  writeFileSync(path.join(dir, suiteDir, 'test_ported.mjs'), suite);
  if (python) writeFileSync(path.join(dir, suiteDir, 'test_pykiso.py'), python);
  const file = path.join(dir, 'station.yaml');
  writeFileSync(file, yaml);
  return file;
}

const freePort = (): number => 20000 + Math.floor(Math.random() * 20000);

describe("pykiso's example stations, hardware swapped", () => {
  for (const [name, yaml, suiteDir, suite, python] of [
    ['mp_proxy_aux.yaml', (pattern: string) => MP_PROXY_AUX(freePort(), pattern), 'suite_mp_proxy', PROXY_SUITE, PROXY_PY(2)],
    ['proxy_aux.yaml', (pattern: string) => PROXY_AUX(freePort(), pattern), 'suite_proxy', PROXY_SUITE, PROXY_PY(2)],
    ['com_aux.yaml', COM_AUX, 'suite_com', COM_SUITE, COM_PY],
  ] as const) {
    it(`${name} validates as shipped, with its Python suite pattern`, async () => {
      const result = await runCli(['validate', '-c', write(yaml('test_*.py'), suiteDir, suite)]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /: OK \(/);
    });

    it(`${name} runs with its suite ported (test_*.mjs)`, async () => {
      const result = await runCli(['-c', write(yaml('test_*.mjs'), suiteDir, suite), '--no-record']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /PASSED: 1 passed/);
    });

    it(`${name} runs its pykiso Python suite unchanged (test_*.py)`, { skip: existsSync('/usr/bin/python3') ? false : 'skipped: /usr/bin/python3 is missing' }, async () => {
      const result = await runCli(['-c', write(yaml('test_*.py'), suiteDir, suite, python), '--no-record']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /PASS +\[\d\.\d\] TestCaseOverride\.test_run/);
      assert.match(result.stdout, /PASSED: 1 passed/);
    });
  }

  it('config_features.yaml: requirements are checked (kiso) or noted (pykiso, Python packages), ENV{} and !include work', async () => {
    const file = write(FEATURES, 'suites', COM_SUITE);
    const dir = path.dirname(file);
    mkdirSync(path.join(dir, 'channel_config'));
    writeFileSync(path.join(dir, 'channel_config', 'my_channel_config.yaml'), 'type: pykiso.lib.connectors.cc_raw_loopback:CCLoopback\n');
    const result = await runCli(['-c', file, '--no-record'], { env: { TEST_SUITE_DIR: path.join(dir, 'suites') } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /requirement pykiso >=0\.10\.1, <1\.0\.0: kiso runs pykiso stations itself/);
    assert.match(result.stderr, /requirement robotframework 3\.2\.2: a Python package, not checked by kiso/);
    writeFileSync(file, FEATURES.replace("kiso: '>=0.1.0, <99'", "kiso: '>=99.0'"));
    const unmet = await runCli(['validate', '-c', file], { env: { TEST_SUITE_DIR: path.join(dir, 'suites') } });
    assert.equal(unmet.code, 2);
    assert.match(unmet.stderr, /station\.yaml:\d+:\d+: requirements\[1\]\.kiso: kiso [\d.]+ does not meet the requirement ">=99\.0"/);
  });

  it('a station without connectors: is valid, as in pykiso', async () => {
    const file = write(`auxiliaries:\n  sim:\n    type: ./sim.mjs:Sim\ntest_suite_list:\n- suite_dir: suites\n  test_filter_pattern: 'test_*.mjs'\n`, 'suites', COM_SUITE);
    writeFileSync(path.join(path.dirname(file), 'sim.mjs'), `import { Auxiliary } from '${KISO}';\nexport class Sim extends Auxiliary {}\n`);
    const result = await runCli(['validate', '-c', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /OK \(0 connectors, 1 auxiliaries/);
  });

  it("auto_start in config: and beside it must agree; activate_log must be a list", async () => {
    const file = write(COM_AUX('test_*.mjs').replace('      auto_start: False\n', '      auto_start: False\n      activate_log: pykiso\n').replace('    type: pykiso.lib.auxiliaries.communication', '    auto_start: true\n    type: pykiso.lib.auxiliaries.communication'), 'suite_com', COM_SUITE);
    const result = await runCli(['validate', '-c', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /com_aux\.config\.auto_start: says false, but auto_start beside config says true/);
    assert.match(result.stderr, /com_aux\.config\.activate_log: must be a list of logger names/);
  });
});
