import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { loadStationConfig } from '../../src/config/load.js';
import { registerBuiltins } from '../../src/builtins.js';

registerBuiltins();

// Issue 17: config errors say where, say why, and never show a secret.

function stationFile(text: string, name = 'station.yaml'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-config-faults-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError a station file gets; fails when it loads. */
async function configError(text: string, env: NodeJS.ProcessEnv = {}): Promise<{ error: ConfigError; file: string }> {
  const file = stationFile(text);
  try {
    await loadStationConfig(file, { env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { error, file };
  }
  assert.fail('the station loaded');
}

const UDP = (port: string, ip = '127.0.0.1') => `auxiliaries:
  aux1:
    connectors: { com: chan }
    type: CommunicationAuxiliary
connectors:
  chan:
    type: CCUdp
    config:
      dest_ip: ${ip}
      dest_port: ${port}
`;

describe('a value from ENV{} in a config error', () => {
  it('is shown as ENV{NAME}, never its content', async () => {
    const { error } = await configError(UDP('ENV{PORT}', 'ENV{IP}'), { PORT: 'tok-2222SECRET', IP: 'not an address SECRET' });
    assert.doesNotMatch(error.message, /SECRET/);
    assert.match(error.message, /station\.yaml:10:18: connectors\.chan\.config\.dest_port: must be a whole number, got ENV\{PORT\}/);
    assert.match(error.message, /dest_ip: [^\n]*got ENV\{IP\}/);
  });

  it('inside a longer text and in checks other than the schema', async () => {
    const { error } = await configError(`auxiliaries:
  aux1:
    connectors: { com: "chan-ENV{SUFFIX}" }
    type: CommunicationAuxiliary
connectors:
  chan:
    type: CCLoopback
`, { SUFFIX: 'SECRET123' });
    assert.doesNotMatch(error.message, /SECRET123/);
    assert.match(error.message, /chan-ENV\{SUFFIX\}/);
  });

  it('a number out of range from ENV{} too', async () => {
    const { error } = await configError(UDP('ENV{PORT}'), { PORT: '987654' });
    assert.doesNotMatch(error.message, /987654/);
    assert.match(error.message, /dest_port: must be between 1 and 65535, got ENV\{PORT\}|dest_port: must be [^\n]*ENV\{PORT\}/);
  });
});

describe('YAML values kiso cannot use', () => {
  it('an undefined alias is an error at its position, not a default or a missing key', async () => {
    const { error } = await configError(`auxiliaries:
  aux1:
    connectors: { com: chan }
    type: *nonexistent
connectors:
  chan:
    type: CCLoopback
`);
    assert.match(error.message, /station\.yaml:4:11: auxiliaries\.aux1\.type: \*nonexistent refers to no anchor/);
    assert.doesNotMatch(error.message, /missing required key/);
    assert.equal(error.issues.length, 1, error.message);
  });

  it('an undefined alias on an optional value is an error, not the default', async () => {
    const { error } = await configError(UDP('*nope'));
    assert.match(error.message, /station\.yaml:10:18: connectors\.chan\.config\.dest_port: \*nope refers to no anchor/);
  });

  for (const [written, words] of [['.nan', /\.nan is "not a number"/], ['1e400', /1e400 is infinity \(too large for a number\)/], ['-.inf', /-\.inf is minus infinity/]] as const) {
    it(`${written} is an error`, async () => {
      const { error } = await configError(UDP(written));
      assert.match(error.message, new RegExp(`station\\.yaml:10:18: connectors\\.chan\\.config\\.dest_port: ${words.source}`));
    });
  }

  it('!!python/... tags are errors, with their position', async () => {
    const { error } = await configError(`auxiliaries:
  aux1:
    connectors: { com: chan }
    type: CommunicationAuxiliary
    config:
      ids: !!python/tuple [1, 2]
      obj: !!python/object:can.Message { arbitration_id: 1 }
connectors:
  chan:
    type: CCLoopback
`);
    assert.match(error.message, /station\.yaml:6:\d+: [^\n]*!!python\/tuple is a PyYAML tag/);
    assert.match(error.message, /station\.yaml:7:\d+: [^\n]*!!python\/object:can\.Message is a PyYAML tag/);
  });
});

describe('an empty station file', () => {
  for (const [what, text, words] of [['empty', '', /the file is empty/], ['comment-only', '# a station\n# to be written\n', /the file is empty \(it has only comments/], ['only ---', '---\n', /the file is empty \(it has only comments, `---` or `~`\)/]] as const) {
    it(`${what}: an error at file:1:1 that says so`, async () => {
      const { error } = await configError(text);
      assert.match(error.message, new RegExp(`station\\.yaml:1:1: ${words.source}`));
    });
  }
});
