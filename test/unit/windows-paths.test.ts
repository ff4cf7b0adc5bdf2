import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { registerBuiltins } from '../../src/builtins.js';
import { loadStationConfig } from '../../src/config/load.js';
import { portablePath } from '../../src/config/windows-path.js';

registerBuiltins();

describe('a station written on Windows', () => {
  it('resolves .\\ and ..\\ paths in !include and suite_dir', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-winpath-'));
    mkdirSync(path.join(dir, 'station'));
    mkdirSync(path.join(dir, 'common'));
    mkdirSync(path.join(dir, 'station', 'suites', 'can'), { recursive: true });
    writeFileSync(path.join(dir, 'common', 'chan.yaml'), 'type: pykiso.lib.connectors.cc_raw_loopback:CCLoopback\n');
    const file = path.join(dir, 'station', 'station.yaml');
    writeFileSync(
      file,
      'auxiliaries:\n  aux1:\n    connectors: { com: chan }\n    type: CommunicationAuxiliary\nconnectors:\n  chan: !include ..\\common\\chan.yaml\ntest_suite_list:\n  - suite_dir: .\\suites\\can\n    test_filter_pattern: "test_*.ts"\n',
    );
    const config = await loadStationConfig(file);
    assert.equal(config.connectors.get('chan')?.resolved.name, 'CCLoopback');
    assert.equal(config.suites[0]!.suiteDir, path.join(dir, 'station', 'suites', 'can'));
  });

  it('leaves drive paths and POSIX paths as written', () => {
    assert.equal(portablePath('C:\\suites\\can'), 'C:\\suites\\can');
    assert.equal(portablePath('./suites/can'), './suites/can');
    assert.equal(portablePath('..\\common\\aux.yaml'), '../common/aux.yaml');
  });
});
