import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ERRORS } from '../../src/core/errors.js';
import { ROOT } from '../helpers/cli.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('error catalogue', () => {
  it('every code is KISO_<AREA>_<WHAT> and documented in the README', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.keys(ERRORS)) {
      assert.match(code, /^KISO_[A-Z]+(_[A-Z]+)*$/);
      assert.ok(readme.includes(`\`${code}\``), `${code} is not documented in README.md`);
    }
  });

  it('the code uses only codes of the catalogue', () => {
    const known = new Set(Object.keys(ERRORS));
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      for (const [, code] of readFileSync(file, 'utf8').matchAll(/KisoError\(\s*'([A-Z_]+)'/g)) {
        assert.ok(known.has(code!), `${path.relative(ROOT, file)} uses unknown error code ${code}`);
      }
    }
  });
});
