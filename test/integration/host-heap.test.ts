import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { registerBuiltins } from '../../src/builtins.js';
import { loadStationConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logging.js';
import { HOST_SEMI_SPACE_MIB } from '../../src/processing/host-process.js';
import { StationRuntime } from '../../src/station/station.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/valid');

describe("a host process's heap", () => {
  it('has a young generation of one size, whatever the host allocates (V8 would grow its own to 32 MiB), and major GCs on call', async () => {
    registerBuiltins();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kiso-young-')), 'station.yaml');
    writeFileSync(file, `auxiliaries:
  heap:
    connectors: { com: chan }
    type: ${path.join(FIXTURES, 'heap_auxiliary.ts')}:HeapAuxiliary
connectors:
  chan: { type: CCLoopback, config: { processing: true } }
`);
    const station = await StationRuntime.build(await loadStationConfig(file), silentLogger());
    try {
      await station.start(['heap']);
      const heap = station.auxiliary('heap') as unknown as { churn(mib: number): Promise<number>; canCollect(): Promise<boolean> };
      const fixed = 2 * HOST_SEMI_SPACE_MIB * 1024 * 1024;
      assert.equal(await heap.churn(64), fixed);
      assert.equal(await heap.churn(256), fixed);
      // IpcGarbageBound needs it.
      assert.equal(await heap.canCollect(), true);
    } finally {
      await station.stopAll();
    }
  });
});
