import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { loadStationConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logging.js';
import { resolveRunMetadata } from '../../src/station/run-metadata.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

function station(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-record-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const BASE = 'auxiliaries: {}\nconnectors: {}\n';

async function issuesOf(file: string): Promise<string[]> {
  try {
    await loadStationConfig(file, { env: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${path.basename(issue.position?.file ?? '?')}:${issue.position?.line}:${issue.position?.col}: ${issue.message}`);
  }
  return [];
}

describe('station: block', () => {
  it('reads the metadata; numbers YAML typed as numbers stay text', async () => {
    const dir = station({ 'st.yaml': `${BASE}station:\n  name: bench-3\n  procedure_id: FVT1\n  procedure_version: 1.10\n  part_number: 4711\n  revision: B\n  batch_number: W47\n` });
    const config = await loadStationConfig(path.join(dir, 'st.yaml'), { env: {} });
    assert.deepEqual(config.station, { name: 'bench-3', procedureId: 'FVT1', procedureName: undefined, procedureVersion: '1.1', partNumber: '4711', revision: 'B', batchNumber: 'W47' });
  });

  it('reports an unknown key and a missing serial hook file with file:line:col', async () => {
    const dir = station({ 'st.yaml': `${BASE}station:\n  procedure: FVT1\n  serial_hook: ./scanner.ts:readSerial\n` });
    assert.deepEqual(await issuesOf(path.join(dir, 'st.yaml')), [
      'st.yaml:4:3: unknown key "procedure" (did you mean "procedure_id"?); allowed keys here: name, procedure_id, procedure_name, procedure_version, part_number, revision, batch_number, serial_hook, linked_procedures',
      `st.yaml:5:16: serial hook file "./scanner.ts" does not exist (${path.join(dir, 'scanner.ts')}; relative to the YAML file's folder)`,
    ]);
  });
});

describe('limits:', () => {
  const LIMITS = "power board:\n  supply rail:\n    supply_voltage: { lower: 4.75, upper: 5.25 }\n    firmware: { regex: '^1\\.4' }\n";

  it('reads a limits file relative to the YAML', async () => {
    const dir = station({ 'st.yaml': `${BASE}limits: ./limits/power.yaml\n`, 'limits/power.yaml': LIMITS });
    const config = await loadStationConfig(path.join(dir, 'st.yaml'), { env: {} });
    assert.deepEqual(config.limits, { 'power board': { 'supply rail': { supply_voltage: { lower: 4.75, upper: 5.25 }, firmware: { regex: '^1\\.4' } } } });
    assert.ok(config.files.includes(path.join(dir, 'limits/power.yaml')));
  });

  it('takes limits inline too', async () => {
    const dir = station({ 'st.yaml': `${BASE}limits:\n  s:\n    c:\n      v: { upper: 3 }\n` });
    assert.deepEqual((await loadStationConfig(path.join(dir, 'st.yaml'), { env: {} })).limits, { s: { c: { v: { upper: 3 } } } });
  });

  it("reports mistakes in the limits file at the limits file's own file:line:col", async () => {
    const bad = 'power board:\n  supply rail:\n    supply_voltage: { lower: 5.25, upper: 4.75 }\n    current: { uper: 150 }\n    gain: { lower: high }\n    fw: { regex: "(" }\n';
    const dir = station({ 'st.yaml': `${BASE}limits: power.yaml\n`, 'power.yaml': bad });
    const issues = await issuesOf(path.join(dir, 'st.yaml'));
    assert.deepEqual(issues.slice(0, 2), [
      'power.yaml:4:16: unknown key "uper" (did you mean "upper"?); allowed keys here: lower, upper, equals, regex, within [limits file]',
      'power.yaml:5:20: must be a number, got "high" [limits file]',
    ]);
    // The cross-checks run once the shapes are right.
    const dir2 = station({ 'st.yaml': `${BASE}limits: power.yaml\n`, 'power.yaml': 'power board:\n  supply rail:\n    supply_voltage: { lower: 5.25, upper: 4.75 }\n    fw: { regex: "(" }\n' });
    const issues2 = await issuesOf(path.join(dir2, 'st.yaml'));
    assert.equal(issues2.length, 2);
    assert.match(issues2[0]!, /^power\.yaml:3:30: lower limit 5\.25 is above upper limit 4\.75 \[limits file\]$/);
    assert.match(issues2[1]!, /^power\.yaml:4:18: not a valid regular expression/);
  });

  it('names a missing limits file at the `limits:` line', async () => {
    const dir = station({ 'st.yaml': `${BASE}limits: nowhere.yaml\n` });
    const [issue] = await issuesOf(path.join(dir, 'st.yaml'));
    assert.match(issue!, /^st\.yaml:3:9: limits file: cannot read .*nowhere\.yaml.*no such file/);
  });
});

describe('run metadata', () => {
  it('flags win over the YAML; the serial comes from --serial, else from the hook', async () => {
    const dir = station({
      'st.yaml': `${BASE}station:\n  name: bench-3\n  procedure_id: FVT1\n  part_number: PB-100\n  serial_hook: ./scan.ts:readSerial\n`,
      'scan.ts': "export function readSerial(ctx: { station: string }): string { return `  SN-FROM-${ctx.station}  `; }\n",
    });
    const config = await loadStationConfig(path.join(dir, 'st.yaml'), { env: {} });
    const signal = new AbortController().signal;
    const fromHook = await resolveRunMetadata(config, { partNumber: 'PB-200' }, silentLogger(), signal);
    assert.equal(fromHook.serialNumber, 'SN-FROM-bench-3');
    assert.equal(fromHook.partNumber, 'PB-200');
    assert.equal(fromHook.procedureId, 'FVT1');
    const fromFlag = await resolveRunMetadata(config, { serial: 'SN-9', stationName: 'bench-9' }, silentLogger(), signal);
    assert.deepEqual([fromFlag.serialNumber, fromFlag.stationName], ['SN-9', 'bench-9']);
  });

  it('a hook that returns no serial is a KISO_SERIAL_HOOK error', async () => {
    const dir = station({ 'st.yaml': `${BASE}station:\n  serial_hook: ./scan.ts:readSerial\n`, 'scan.ts': "export const readSerial = async () => '';\n" });
    const config = await loadStationConfig(path.join(dir, 'st.yaml'), { env: {} });
    await assert.rejects(resolveRunMetadata(config, {}, silentLogger(), new AbortController().signal), { code: 'KISO_SERIAL_HOOK', message: /returned "", not a serial number/ });
  });
});
