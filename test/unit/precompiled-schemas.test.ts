import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readSchema as readSchemaFromSrc } from '../../src/core/package-root.js';
import { validateWith as validateAtRunTime } from '../../src/config/schema.js';
import { precompiledFileName, type precompiledValidator } from '../../src/config/precompiled.js';

// `npm run build` compiles the built-in schemas (scripts/compile-schemas.mjs), one module each; the
// built kiso must judge a station exactly as ajv compiling the schema at run time does.
const GENERATED = path.resolve('dist/src/config/validators');
const requireHere = createRequire(import.meta.url);

describe('precompiled schema validators', () => {
  it('exist in the build, one per schema, compiled from the schemas as they are now', () => {
    assert.ok(existsSync(GENERATED), `${GENERATED} is missing: run npm run build`);
    const schemaFiles = ['kiso.schema.json', 'limits.schema.json', ...['auxiliaries', 'connectors'].flatMap((dir) => readdirSync(path.resolve('schemas', dir)).map((file) => `${dir}/${file}`))];
    for (const reference of [...schemaFiles, 'kiso.schema.json#/properties/duts']) {
      const file = path.join(GENERATED, precompiledFileName(reference));
      assert.ok(existsSync(file), `${reference} has no precompiled module (${file})`);
      const { source, validate } = requireHere(file) as { source: string; validate: unknown };
      assert.equal(typeof validate, 'function', `${reference}: a validator`);
      assert.equal(source, readFileSync(path.resolve('schemas', reference.split('#')[0]!), 'utf8'), `${reference} changed since the build`);
    }
  });

  it('report the same problems, defaults and resolved paths as ajv at run time', async () => {
    const built = (await import(pathToFileURL(path.resolve('dist/src/config/schema.js')).href)) as { validateWith: typeof validateAtRunTime };
    const builtRoot = (await import(pathToFileURL(path.resolve('dist/src/core/package-root.js')).href)) as { readSchema: (file: string) => object; schemaSourceOf: (schema: object) => unknown };
    const builtPrecompiled = (await import(pathToFileURL(path.resolve('dist/src/config/precompiled.js')).href)) as { precompiledValidator: typeof precompiledValidator };
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
      const text = readFileSync(path.resolve('schemas', file.split('#')[0]!), 'utf8');
      assert.equal(typeof builtPrecompiled.precompiledValidator(file, text), 'function', `${file}: the built kiso uses its precompiled validator`);
      assert.equal(builtPrecompiled.precompiledValidator(file, `${text}\n`), undefined, `${file}: a schema edited since the build is compiled afresh`);
      const precompiled = built.validateWith(schema, precompiledData, ['at'], resolve);
      const runtime = validateAtRunTime(structuredClone(readSchemaFromSrc(file)), runtimeData, ['at'], resolve);
      assert.deepEqual(precompiled, runtime, `${file}: same problems`);
      assert.deepEqual(precompiledData, runtimeData, `${file}: same defaults and resolved paths`);
      if (file === 'auxiliaries/can-dbc.schema.json') assert.equal((precompiledData as { dbc: string }).dbc, '/base/at.dbc/ecu.dbc', 'kisoPath resolved the path');
      if (file === 'kiso.schema.json' && precompiled.length === 0) assert.equal((precompiledData as { test_suite_list: Array<{ suite_dir: string }> }).test_suite_list[0]!.suite_dir, '/base/at.test_suite_list.0.suite_dir/here');
    }
  });
});
