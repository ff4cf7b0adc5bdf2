import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

/**
 * One kiso run: kiso's UdsAuxiliary (tester) against pykiso's
 * UdsServerAuxiliary (ECU) on kiso's virtual CAN bus, the callbacks
 * registered by a TypeScript suite (pykiso's test_uds_server.py, ported),
 * with pykiso's tp_layer keys in each addressing mode kiso's ISO-TP has.
 */
const STATION = 'test/fixtures/pykiso-can/uds_server_station.yaml';

/** A UDP port nobody uses now: each run gets a bus of its own. */
async function freePort(): Promise<string> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, () => resolve()));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return String(port);
}

describe('UdsServerAuxiliary in a kiso run', () => {
  for (const addressing of ['NORMAL', 'EXTENDED', 'MIXED']) {
    it(`the suite's callbacks answer kiso's UdsAuxiliary (${addressing} addressing)`, async () => {
      const result = await runCli(['-c', STATION], { env: { KISO_CAN_PORT: await freePort(), KISO_UDS_ADDRESSING: addressing }, timeoutMs: 60_000 });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /PASSED: 2 passed, 0 failed, 0 errors, 0 skipped/);
      assert.match(result.stderr, /UDS server: unregistered request received: 0x1103/);
    });
  }

  it('kiso validate: the station validates; an unsupported addressing value is exit 2 at its line', async () => {
    const ok = await runCli(['validate', '-c', STATION]);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    const bad = await runCli(['validate', '-c', STATION], { env: { KISO_UDS_ADDRESSING: 'FUNCTIONAL' } });
    assert.equal(bad.code, 2, `${bad.stdout}\n${bad.stderr}`);
    assert.match(bad.stderr, /uds_server_station\.yaml:16:26: auxiliaries\.uds_aux\.config\.tp_layer\.addressing_type: must be one of "NORMAL", "NORMAL_FIXED", "EXTENDED", "MIXED", got ENV\{KISO_UDS_ADDRESSING=NORMAL\} \[UdsAuxiliary config\]/);
    assert.match(bad.stderr, /uds_server_station\.yaml:\d+:\d+: auxiliaries\.ecu_aux\.config\.tp_layer\.addressing_type: .*\[UdsServerAuxiliary config\]/);
  });
});
