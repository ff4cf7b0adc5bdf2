import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { SuiteEntry } from '../config/load.js';
import { KisoError, describeError } from '../core/errors.js';
import { checkDeclarations } from '../results/measurements.js';
import { isDefinedSuite, type DefinedSuite } from './suite-api.js';
import { importFile } from '../core/user-module.js';
import { describeSuiteLoadError } from './load-error.js';

/** `test_*.ts` → a RegExp over file names (`*`, `?`, `[abc]`, `{a,b}`). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let inGroup = false;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', i);
      if (end > i) {
        source += `[${glob.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      } else source += '\\[';
    } else if (char === '{') {
      inGroup = true;
      source += '(?:';
    } else if (char === '}' && inGroup) {
      inGroup = false;
      source += ')';
    } else if (char === ',' && inGroup) source += '|';
    else source += char.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export interface SuiteFile {
  entry: SuiteEntry;
  file: string;
}

/** The suite files of each `test_suite_list` entry, sorted by name; `.d.ts` files never count. */
export function discoverSuiteFiles(entries: readonly SuiteEntry[], patternOverride?: string): SuiteFile[] {
  const files: SuiteFile[] = [];
  for (const entry of entries) {
    const matcher = globToRegExp(patternOverride ?? entry.pattern);
    const names = readdirSync(entry.suiteDir, { withFileTypes: true })
      .filter((dirent) => dirent.isFile() && matcher.test(dirent.name) && !dirent.name.endsWith('.d.ts'))
      .map((dirent) => dirent.name)
      .sort();
    for (const name of names) files.push({ entry, file: path.join(entry.suiteDir, name) });
  }
  return files;
}

/** Imports a suite file and returns its suite, or a clear error saying what is wrong with it. */
export async function loadSuiteFile(file: string): Promise<DefinedSuite> {
  let exports: Record<string, unknown>;
  try {
    exports = await importFile(file);
  } catch (error) {
    // Once, at the suite's own place; the stack keeps the suite's frames, not kiso's loader.
    const problem = describeSuiteLoadError(file, error);
    const loadError = new KisoError('KISO_SUITE_LOAD', `cannot load suite file ${problem.where}: ${problem.what}`, { cause: error });
    loadError.stack = `KisoError: ${loadError.message}\n${problem.stack.split('\n').slice(1).join('\n')}`.trimEnd();
    throw loadError;
  }
  // A .ts file outside a "type": "module" package loads as CommonJS, where the
  // default export arrives wrapped once more: accept both shapes.
  const candidates = [exports.default, (exports.default as Record<string, unknown> | undefined)?.default, exports.suite];
  const suite = candidates.find(isDefinedSuite);
  if (!isDefinedSuite(suite)) {
    throw new KisoError('KISO_SUITE_INVALID', `${file} does not export a suite: write \`export default defineSuite({ cases: [...] })\` (defineSuite comes from 'kiso')`);
  }
  const problems: string[] = [];
  if (!Array.isArray(suite.cases)) problems.push('`cases` must be a list');
  else {
    suite.cases.forEach((testCase, index) => {
      if (typeof testCase?.name !== 'string' || testCase.name === '') problems.push(`cases[${index}] has no name`);
      if (typeof testCase?.run !== 'function') problems.push(`cases[${index}] (${testCase?.name ?? '?'}) has no run function`);
      problems.push(...checkDeclarations(testCase?.measurements).map((problem) => `cases[${index}] (${testCase?.name ?? '?'}): ${problem}`));
    });
    const ids = new Map<number, string>();
    suite.cases.forEach((testCase, index) => {
      const id = testCase?.id ?? index + 1;
      if (ids.has(id)) problems.push(`case id ${id} is used by "${ids.get(id)}" and "${testCase?.name}"`);
      ids.set(id, testCase?.name);
    });
  }
  if (problems.length) throw new KisoError('KISO_SUITE_INVALID', `${file}: ${problems.join('; ')}`);
  return suite;
}
