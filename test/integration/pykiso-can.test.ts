import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

/**
 * pykiso's CAN adapter stations through `kiso validate`: PCAN and Vector as
 * pykiso writes them validate; a CAN adapter kiso has no type for (Kvaser,
 * IXXAT) is exit 2 at its file:line:col, naming CCPythonCan and its interface.
 */
const DIR = 'test/fixtures/pykiso-can';

describe('kiso validate: pykiso\'s CAN adapters', () => {
  it('pykiso\'s PCAN and Vector connector entries validate as written', async () => {
    const result = await runCli(['validate', '-c', `${DIR}/pcan_vector_station.yaml`]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /OK \(2 connectors, 2 auxiliaries/);
  });

  it('an unknown CAN hardware type names CCPythonCan and the interface to set (exit 2, file:line:col)', async () => {
    const result = await runCli(['validate', '-c', `${DIR}/kvaser_station.yaml`]);
    assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
    const lines = result.stderr.split('\n');
    const kvaser = lines.find((line) => line.includes(`${DIR}/kvaser_station.yaml:9:11:`));
    assert.ok(kvaser, result.stderr);
    assert.match(kvaser, /connectors\.can_channel\.type: unknown connector type "pykiso\.lib\.connectors\.cc_kvaser_can:CCKvaserCan"/);
    assert.match(kvaser, /type: CCPythonCan, config: \{ interface: kvaser, channel: 0, bitrate: 500000 \}/);
    assert.doesNotMatch(kvaser, /did you mean/, 'a Kvaser adapter is no misspelt SocketCAN');
    const ixxat = lines.find((line) => line.includes(`${DIR}/kvaser_station.yaml:13:11:`));
    assert.ok(ixxat, result.stderr);
    assert.match(ixxat, /unknown connector type "CCIxxatCan".*type: CCPythonCan, config: \{ interface: ixxat/);
  });

  it('out-of-range PCAN bit timing and an unknown bus state are exit 2 at their line', async () => {
    const result = await runCli(['validate', '-c', `${DIR}/pcan_bad_timing.yaml`]);
    assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /pcan_bad_timing\.yaml:7:14: connectors\.pcan_channel\.config\.state: must be one of "ACTIVE", "PASSIVE"/);
    assert.match(result.stderr, /pcan_bad_timing\.yaml:8:19: connectors\.pcan_channel\.config\.data_tseg2: must be between 1 and 16, got 17 \[CCPCanCan config\]/);
  });
});
