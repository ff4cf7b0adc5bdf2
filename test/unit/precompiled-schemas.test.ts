import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readSchema as readSchemaFromSrc } from '../../src/core/package-root.js';
import { validateWith as validateAtRunTime } from '../../src/config/schema.js';

// `npm run build` compiles the built-in schemas (scripts/compile-schemas.mjs); the built kiso must
// judge a station exactly as ajv compiling the schema at run time does.
const GENERATED = path.resolve('dist/src/config/validators.generated.cjs');

describe('precompiled schema validators', () => {
  it('exist in the build and were compiled from the schemas as they are now', () => {
    assert.ok(existsSync(GENERATED), `${GENERATED} is missing: run npm run build`);
    const { sources } = createRequire(import.meta.url)(GENERATED) as { sources: Record<string, string> };
    assert.ok(Object.keys(sources).length >= 10, 'the station schema and every built-in type schema are compiled');
    for (const [file, text] of Object.entries(sources)) assert.equal(text, readFileSync(path.resolve('schemas', file.split('#')[0]!), 'utf8'), `${file} changed since the build`);
  });

  it('report the same problems, defaults and resolved paths as ajv at run time', async () => {
    const built = (await import(pathToFileURL(path.resolve('dist/src/config/schema.js')).href)) as { validateWith: typeof validateAtRunTime };
    const builtRoot = (await import(pathToFileURL(path.resolve('dist/src/core/package-root.js')).href)) as { readSchema: (file: string) => object; schemaSourceOf: (schema: object) => unknown };
    const cases: Array<[string, unknown]> = [
      ['kiso.schema.json', { auxiliaries: { aux1: { type: 'X', conectors: {} } }, connectors: { 'bad name!': { type: 'Y' } }, test_suite_list: [{ suite_dir: 'suites', test_filter_pattern: 7 }] }],
      ['kiso.schema.json', { auxiliaries: {}, connectors: {}, test_suite_list: [{ suite_dir: 'here', test_filter_pattern: 'test_*.ts' }] }],
      ['connectors/udp.schema.json', { dest_ip: '300.1.1.1', dest_port: 70000, extra: true }],
      ['connectors/udp.schema.json', { dest_ip: 'device.local', dest_port: 5000 }],
      ['auxiliaries/can-dbc.schema.json', { dbc: 'ecu.dbc' }],
      ['kiso.schema.json#/properties/duts', [{ slot: 1, serial_number: 'SN-1' }, { slot: 'two', present: 'yes' }]],
    ];
    for (const [file, data] of cases) {
      const resolve = (at: Array<string | number>, value: string): string => `/base/${at.join('.')}/${value}`;
      const precompiledData = structuredClone(data);
      const runtimeData = structuredClone(data);
      const schema = builtRoot.readSchema(file);
      assert.ok(builtRoot.schemaSourceOf(schema), 'the built schema is matched to its file');
      const precompiled = built.validateWith(schema, precompiledData, ['at'], resolve);
      const runtime = validateAtRunTime(structuredClone(readSchemaFromSrc(file)), runtimeData, ['at'], resolve);
      assert.deepEqual(precompiled, runtime, `${file}: same problems`);
      assert.deepEqual(precompiledData, runtimeData, `${file}: same defaults and resolved paths`);
      if (file === 'auxiliaries/can-dbc.schema.json') assert.equal((precompiledData as { dbc: string }).dbc, '/base/at.dbc/ecu.dbc', 'kisoPath resolved the path');
      if (file === 'kiso.schema.json' && precompiled.length === 0) assert.equal((precompiledData as { test_suite_list: Array<{ suite_dir: string }> }).test_suite_list[0]!.suite_dir, '/base/at.test_suite_list.0.suite_dir/here');
    }
  });
});
