import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const DIR = 'test/fixtures/broken';

/**
 * Each broken station: where the error must point (file:line:col, relative to
 * the repository root) and the words the message must contain.
 */
const TABLE: Array<{ file: string; at: string; words: RegExp[] }> = [
  { file: 'top_level_typo.yaml', at: 'top_level_typo.yaml:1:1', words: [/unknown key "auxiliary"/, /did you mean "auxiliaries"/] },
  { file: 'top_level_typo.yaml', at: 'top_level_typo.yaml:1:1', words: [/missing required key "auxiliaries"/] },
  { file: 'connector_key_typo.yaml', at: 'connector_key_typo.yaml:11:7', words: [/connectors\.udp\.config\.dest_prot/, /unknown key "dest_prot"/, /did you mean "dest_port"/] },
  { file: 'port_out_of_range.yaml', at: 'port_out_of_range.yaml:11:18', words: [/connectors\.udp\.config\.dest_port/, /between 1 and 65535, got 70000/] },
  { file: 'port_not_a_number.yaml', at: 'port_not_a_number.yaml:11:18', words: [/must be a whole number, got "abc"/] },
  { file: 'bad_address.yaml', at: 'bad_address.yaml:10:16', words: [/dest_ip/, /IP address or host name, got "local host"/] },
  { file: 'unknown_type.yaml', at: 'unknown_type.yaml:8:11', words: [/unknown connector type "CCUdpp"/, /did you mean "CCUdp"/] },
  { file: 'unknown_connector_reference.yaml', at: 'unknown_connector_reference.yaml:4:12', words: [/auxiliaries\.aux1\.connectors\.com/, /connector "loopback_chanel" is not defined/, /did you mean "loopback_channel"/] },
  { file: 'connector_shared.yaml', at: 'connector_shared.yaml:14:12', words: [/proxy connector "proxy_com" is already used by auxiliary "aux1"/] },
  { file: 'proxy_aux_list.yaml', at: 'proxy_aux_list.yaml:7:24', words: [/config\.aux_list\[1\]/, /"aux3" is not an auxiliary/] },
  { file: 'proxy_aux_list.yaml', at: 'proxy_aux_list.yaml:7:30', words: [/auxiliary "plain" does not use a proxy connector/] },
  { file: 'proxy_aux_list.yaml', at: 'proxy_aux_list.yaml:18:12', words: [/connector "chan" is the physical connector of proxy "proxy_aux"/] },
  { file: 'missing_suite_dir.yaml', at: 'missing_suite_dir.yaml:12:16', words: [/test_suite_list\[1\]\.suite_dir/, /does not exist/] },
  { file: 'missing_type.yaml', at: 'missing_type.yaml:2:3', words: [/auxiliaries\.aux1\.type/, /missing required key "type"/] },
  { file: 'duplicate_key.yaml', at: 'duplicate_key.yaml:9:3', words: [/duplicate key "chan"/] },
  { file: 'env_unset.yaml', at: 'env_unset.yaml:11:18', words: [/KISO_TEST_SURELY_UNSET_PORT is not set/] },
  { file: 'include_missing.yaml', at: 'include_missing.yaml:6:22', words: [/cannot include/, /no_such_connectors\.yaml/, /no such file/] },
  { file: 'include_with_error.yaml', at: 'included_connectors_bad.yaml:6:16', words: [/connectors\.udp\.config\.dest_port/, /between 1 and 65535, got 0/] },
  { file: 'yaml_syntax.yaml', at: 'yaml_syntax.yaml:4:12', words: [/YAML syntax error/] },
  { file: 'env_in_flow_map.yaml', at: 'env_in_flow_map.yaml:6', words: [/ENV\{\.\.\.\} inside a \{ \} flow mapping must be quoted/] },
  { file: 'wrong_role.yaml', at: 'wrong_role.yaml:4:7', words: [/no connector role "comm"/, /did you mean "com"/] },
  { file: 'wrong_role.yaml', at: 'wrong_role.yaml:4:7', words: [/needs a connector for role "com"/] },
  { file: 'auto_start_not_boolean.yaml', at: 'auto_start_not_boolean.yaml:6:17', words: [/auto_start: must be true or false, got "sometimes"/] },
  { file: 'connector_as_auxiliary.yaml', at: 'connector_as_auxiliary.yaml:5:11', words: [/"CCLoopback" is a connector type, but it is used as an auxiliary/] },
  { file: 'user_type_missing.yaml', at: 'user_type_missing.yaml:8:11', words: [/cannot load module "\.\/no_such_connector\.ts"/] },
  { file: 'buffer_size_zero.yaml', at: 'buffer_size_zero.yaml:7:28', words: [/receive_buffer_size: must be between 1 and 10000000, got 0/] },
  { file: 'suite_list_not_a_list.yaml', at: 'suite_list_not_a_list.yaml:10:3', words: [/test_suite_list: must be a list, got a mapping/] },
  { file: 'many_errors.yaml', at: 'many_errors.yaml:6:11', words: [/unknown auxiliary type "CommunicationAuxilary"/, /did you mean "CommunicationAuxiliary"/] },
  { file: 'many_errors.yaml', at: 'many_errors.yaml:12:18', words: [/between 1 and 65535, got 99999/] },
  { file: 'many_errors.yaml', at: 'many_errors.yaml:13:7', words: [/unknown key "timeout"/] },
];

describe('broken station files: exit code 2, file:line:col and clear words', () => {
  for (const { file, at, words } of TABLE) {
    it(`${file} → ${at} ${words.map(String).join(' ')}`, async () => {
      const result = await runCli(['-c', path.join(DIR, file)]);
      assert.equal(result.code, 2, `exit code\n${result.stderr}`);
      const line = result.stderr.split('\n').find((l) => l.includes(`${DIR}/${at}`) || l.includes(`/${at}`));
      assert.ok(line, `no error at ${at} in:\n${result.stderr}`);
      for (const word of words) {
        assert.ok(result.stderr.split('\n').some((l) => l.includes(at) && word.test(l)), `expected ${word} at ${at} in:\n${result.stderr}`);
      }
    });
  }

  it('reports every error of a file at once', async () => {
    const result = await runCli(['-c', path.join(DIR, 'many_errors.yaml')]);
    assert.match(result.stderr, /has 3 errors/);
  });

  it('opens nothing when the configuration has an error', async () => {
    const marker = path.join(mkdtempSync(path.join(tmpdir(), 'kiso-spy-')), 'opened');
    const result = await runCli(['-c', path.join(DIR, 'nothing_opens.yaml')], { env: { KISO_SPY_MARKER: marker } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /receive_buffer_size: must be between 1 and 10000000, got -1/);
    assert.equal(existsSync(marker), false, 'the spy connector was opened despite the config error');
  });

  it('`kiso validate` checks without running and names the errors the same way', async () => {
    const result = await runCli(['validate', '-c', path.join(DIR, 'port_out_of_range.yaml')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /port_out_of_range\.yaml:11:18: connectors\.udp\.config\.dest_port: must be between 1 and 65535, got 70000/);
  });

  it('a second -c file with an error stops the run before the first one runs', async () => {
    const result = await runCli(['-c', 'examples/templates/loopback.yaml', '-c', path.join(DIR, 'unknown_type.yaml')]);
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stdout, /Suite 1/);
  });
});
