import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUILTIN_TYPES } from '../../src/builtins.js';

// Adding a type is one entry in src/builtins.ts, one schema and one README row: this keeps the three together.
const readmeRows = readFileSync(path.resolve('README.md'), 'utf8').split('\n').filter((line) => line.startsWith('| `'));

describe('every built-in type', () => {
  for (const [name, entry] of Object.entries(BUILTIN_TYPES)) {
    it(`${name} has a config schema and a README row`, () => {
      const schema = path.resolve('schemas', entry.schema);
      assert.ok(existsSync(schema), `${name}: schema ${entry.schema} is missing`);
      assert.equal(typeof (JSON.parse(readFileSync(schema, 'utf8')) as { type?: unknown }).type, 'string', `${name}: ${entry.schema} is not a JSON schema`);
      // A row's first cell names one type or several (`CCProxy` (`proxy`), `CCMpProxy` (`mp_proxy`)).
      assert.ok(readmeRows.some((row) => row.split('|')[1]!.includes(`\`${name}\``)), `${name}: no row in the README's built-in types table`);
    });
  }
});
