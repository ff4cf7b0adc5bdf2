import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { loadStationConfig } from '../../src/config/load.js';
import { loadYaml } from '../../src/config/yaml-source.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const LOOPBACK_STATION = `
auxiliaries:
  aux1:
    connectors: { com: chan }
    type: CommunicationAuxiliary
connectors:
  chan:
    type: CCLoopback
`;

describe('ENV{} substitution', () => {
  it('keeps the YAML type of a whole-value substitution', () => {
    const dir = tempDir({ 'a.yaml': 'port: ENV{PORT=5000}\nhex: ENV{ID=0x300}\nflag: ENV{FLAG=true}\nname: ENV{NAME=can0}\n' });
    const { data, issues } = loadYaml(path.join(dir, 'a.yaml'), {});
    assert.deepEqual(issues, []);
    assert.deepEqual(data, { port: 5000, hex: 0x300, flag: true, name: 'can0' });
  });

  it('takes the variable over the default, and interpolates inside text', () => {
    const dir = tempDir({ 'a.yaml': 'port: ENV{PORT=5000}\nurl: "tcp://ENV{HOST=localhost}:ENV{PORT=5000}/x"\n' });
    const { data } = loadYaml(path.join(dir, 'a.yaml'), { PORT: '6000', HOST: 'bench-3' });
    assert.deepEqual(data, { port: 6000, url: 'tcp://bench-3:6000/x' });
  });

  it('names an unset variable with no default, with its position', () => {
    const dir = tempDir({ 'a.yaml': 'a: 1\nport: ENV{NOPE}\n' });
    const { issues } = loadYaml(path.join(dir, 'a.yaml'), {});
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /NOPE is not set/);
    assert.deepEqual({ line: issues[0]!.position!.line, col: issues[0]!.position!.col }, { line: 2, col: 7 });
  });
});

describe('!include', () => {
  it('splices another file, and positions inside it name that file', () => {
    const dir = tempDir({ 'main.yaml': 'connectors: !include shared/conn.yaml\n', 'shared/conn.yaml': 'chan:\n  type: CCLoopback\n' });
    const { data, sources, issues } = loadYaml(path.join(dir, 'main.yaml'), {});
    assert.deepEqual(issues, []);
    assert.deepEqual(data, { connectors: { chan: { type: 'CCLoopback' } } });
    const position = sources.locate(['connectors', 'chan', 'type'])!;
    assert.equal(position.file, path.join(dir, 'shared/conn.yaml'));
    assert.equal(position.line, 2);
  });

  it('can be merged with <<, the including file winning', () => {
    const dir = tempDir({ 'main.yaml': 'settings:\n  <<: !include base.yaml\n  b: 3\n', 'base.yaml': 'a: 1\nb: 2\n' });
    assert.deepEqual(loadYaml(path.join(dir, 'main.yaml'), {}).data, { settings: { a: 1, b: 3 } });
  });

  it('reports an include cycle instead of looping', () => {
    const dir = tempDir({ 'a.yaml': 'x: !include b.yaml\n', 'b.yaml': 'y: !include a.yaml\n' });
    const { issues } = loadYaml(path.join(dir, 'a.yaml'), {});
    assert.match(issues[0]!.message, /includes itself/);
  });
});

describe('anchors and aliases', () => {
  it('resolve to the anchored value', () => {
    const dir = tempDir({ 'a.yaml': 'base: &b { type: CCLoopback }\nother: *b\n' });
    assert.deepEqual(loadYaml(path.join(dir, 'a.yaml'), {}).data, { base: { type: 'CCLoopback' }, other: { type: 'CCLoopback' } });
  });
});

describe('loadStationConfig', () => {
  it('resolves pykiso type paths to the built-ins and fills defaults', async () => {
    const dir = tempDir({
      'station.yaml': `
auxiliaries:
  aux1:
    connectors: { com: udp }
    type: pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary
connectors:
  udp:
    type: pykiso.lib.connectors.cc_udp:CCUdp
    config: { dest_ip: 127.0.0.1, dest_port: 5000 }
`,
    });
    const config = await loadStationConfig(path.join(dir, 'station.yaml'));
    assert.equal(config.auxiliaries.get('aux1')!.resolved.name, 'CommunicationAuxiliary');
    assert.equal(config.connectors.get('udp')!.resolved.name, 'CCUdp');
    assert.equal(config.auxiliaries.get('aux1')!.autoStart, true);
  });

  it('resolves suite_dir against the YAML folder, not the current directory', async () => {
    const dir = tempDir({ 'cfg/station.yaml': `${LOOPBACK_STATION}test_suite_list:\n  - suite_dir: suites\n`, 'cfg/suites/.keep': '' });
    const config = await loadStationConfig(path.join(dir, 'cfg/station.yaml'));
    assert.equal(config.suites[0]!.suiteDir, path.join(dir, 'cfg/suites'));
    assert.equal(config.suites[0]!.pattern, 'test*.ts');
    assert.equal(config.suites[0]!.suiteId, 1);
  });

  it('loads a user connector written in TypeScript, with no build step', async () => {
    const dir = tempDir({
      'station.yaml': 'auxiliaries:\n  aux1:\n    connectors: { com: mine }\n    type: CommunicationAuxiliary\nconnectors:\n  mine:\n    type: ./my_connector.ts:MyConnector\n    config: { greeting: 42 }\n',
      'my_connector.ts': `
import { Connector } from '${path.resolve('src/core/connector.ts')}';
export class MyConnector extends Connector<{ greeting: string }> {
  static override configSchema = { type: 'object', properties: { greeting: { type: 'string' } }, additionalProperties: false };
  protected async doOpen(): Promise<void> {}
  protected async doClose(): Promise<void> {}
  protected async doSend(): Promise<void> {}
}
`,
    });
    await assert.rejects(loadStationConfig(path.join(dir, 'station.yaml')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /station\.yaml:8:25: connectors\.mine\.config\.greeting: must be text, got number 42/);
      return true;
    });
  });

  it('collects every problem before throwing', async () => {
    const dir = tempDir({ 'station.yaml': 'auxiliaries:\n  aux1:\n    connectors: { com: nope }\n    type: Nope\nconnectors: {}\nextra: 1\n' });
    await assert.rejects(loadStationConfig(path.join(dir, 'station.yaml')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.issues.length, 2, error.message);
      return true;
    });
  });
});
