import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { loadSlots } from '../../src/slots/duts.js';
import { planUnits } from '../../src/slots/plan.js';
import { defineSuite } from '../../src/runner/suite-api.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

const noop = () => {};

describe('work units for --dist load', () => {
  it('keeps a suite with a setup whole, groups cases by their group tag, splits the rest', () => {
    const withSetup = { file: '/s/a.ts', suiteId: 1, definition: defineSuite({ setup: noop, cases: [{ name: 'a1', run: noop }, { name: 'a2', run: noop }] }) };
    const grouped = {
      file: '/s/b.ts',
      suiteId: 1,
      definition: defineSuite({
        cases: [
          { name: 'b1', tags: { group: 'flash' }, run: noop },
          { name: 'b2', run: noop },
          { id: 7, name: 'b3', tags: { group: 'flash' }, run: noop },
          { name: 'b4', run: noop },
        ],
      }),
    };
    const broken = { file: '/s/c.ts', suiteId: 2, loadError: new Error('syntax') };
    assert.deepEqual(planUnits([withSetup, grouped, broken]), [
      { file: '/s/a.ts', suiteId: 1, caseIds: [1, 2] },
      { file: '/s/b.ts', suiteId: 1, caseIds: [1, 7] },
      { file: '/s/b.ts', suiteId: 1, caseIds: [2] },
      { file: '/s/b.ts', suiteId: 1, caseIds: [4] },
      { file: '/s/c.ts', suiteId: 2, caseIds: [] },
    ]);
  });
});

describe('fixture slots from YAML', () => {
  const station = (duts: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-duts-'));
    writeFileSync(path.join(dir, 'scanner.ts'), "export function scan({ slot }: { slot: number }): string { return `SCAN-${slot * 11}`; }\n");
    writeFileSync(
      path.join(dir, 'station.yaml'),
      `duts:\n${duts}\nauxiliaries:\n  aux1:\n    connectors: { com: udp }\n    type: CommunicationAuxiliary\nconnectors:\n  udp: { type: CCUdp, config: { dest_ip: "\${dut.host}", dest_port: "\${dut.port}" } }\n`,
    );
    return path.join(dir, 'station.yaml');
  };

  it('fills ${dut.NAME} per slot with its YAML type, reads serials from a hook, skips empty slots', async () => {
    const slots = await loadSlots(
      station(['  - { slot: 2, serial_hook: "./scanner.ts:scan", host: 127.0.0.1, port: 5002 }', '  - { slot: 1, serial_number: SN-1, host: localhost, port: 5001 }', '  - { slot: 3, present: false }'].join('\n')),
    );
    assert.ok(slots);
    assert.deepEqual(slots.map((slot) => [slot.slot, slot.serial, slot.present]), [[1, 'SN-1', true], [2, 'SCAN-22', true], [3, 'slot-3', false]]);
    assert.deepEqual(slots[0]!.config!.connectors.get('udp')!.config, { dest_ip: 'localhost', dest_port: 5001, max_msg_size: 256, processing: false });
    assert.equal(slots[1]!.config!.connectors.get('udp')!.config.dest_port, 5002);
    assert.equal(slots[2]!.config, undefined);
  });

  it('rejects a slot listed twice and a device without a serial number', async () => {
    await assert.rejects(loadSlots(station(['  - { slot: 1, serial_number: A, host: h, port: 1 }', '  - { slot: 1, serial_number: B, host: h, port: 2 }', '  - { slot: 2, host: h, port: 3 }'].join('\n'))), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /slot 1 is listed twice/);
      assert.match(error.message, /slot 2 has a device but no serial number/);
      return true;
    });
  });

  it('is undefined for a station without slots', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-duts-'));
    writeFileSync(path.join(dir, 'station.yaml'), 'auxiliaries: {}\nconnectors: {}\n');
    assert.equal(await loadSlots(path.join(dir, 'station.yaml')), undefined);
  });
});
