import path from 'node:path';
import type { SuiteEntry } from '../config/types.js';
import { KisoError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import type { SuiteFile } from './discover.js';
import { matchesPattern, type LoadedSuite } from './run.js';
import { selectedByTags, tagKey, tagValues } from './tags.js';

/**
 * What the command line selects, checked once the suites are loaded and
 * before anything opens: a run that would test nothing never passes. Each
 * rule here exists because its absence once gave a green run that tested
 * nothing (a typo in a tag name, a pykiso option kiso does not know, a
 * suite folder of Python files).
 */
export interface Selection {
  /** `--variant a,b`: every unknown `--NAME values` of the command line. */
  tagFilters?: Readonly<Record<string, readonly string[]>>;
  /** `-p file::case` and `-p file::Suite::case`. */
  filePattern?: string;
  suitePattern?: RegExp;
  casePattern?: RegExp;
  /** The options kiso itself knows, for "did you mean" when an unknown option is no tag either. */
  knownOptions?: readonly string[];
}

function fail(message: string): never {
  throw new KisoError('KISO_SELECTION_EMPTY', message);
}

const list = (values: Iterable<string>): string => [...values].sort().join(', ') || 'none';

/** A suite folder whose pattern matches no file: say so, with pykiso's Python suites in mind. */
export function noSuiteFileMessage(entry: SuiteEntry, pattern: string, overridden: boolean): string {
  const where = `${overridden ? `-p '${pattern}'` : `test_filter_pattern '${pattern}'`} matches no file in suite folder ${path.relative(process.cwd(), entry.suiteDir) || '.'}`;
  if (/\.py['"]?$/.test(pattern) || /\.py::/.test(pattern)) {
    return `${where}: kiso runs pykiso Python suites from the files the pattern matches there (see "Running your pykiso suites" in kiso's README), and TypeScript or JavaScript suites (test_*.ts)`;
  }
  return where;
}

/** Throws KISO_SELECTION_EMPTY (exit 2) when the selection cannot test anything; returns when it can. */
export function checkSelection(entries: readonly SuiteEntry[], discovered: readonly SuiteFile[], suites: readonly LoadedSuite[], selection: Selection): void {
  if (entries.length === 0) fail('test_suite_list is empty: there is nothing to run');
  if (selection.filePattern !== undefined) {
    // -p applies to every folder: one folder with a match is enough.
    if (discovered.length === 0) fail(entries.map((entry) => noSuiteFileMessage(entry, selection.filePattern!, true)).join('; '));
  } else {
    const empty = entries.filter((entry) => !discovered.some((file) => file.entry === entry));
    if (empty.length) fail(empty.map((entry) => noSuiteFileMessage(entry, entry.pattern, false)).join('; '));
  }
  // A suite that did not load fails the run anyway (exit 1); its tags are unknown, so judge no filter by them.
  if (suites.some((suite) => !suite.definition)) return;

  const declared = new Map<string, Set<string>>();
  const cases: Array<{ suite: string; name: string; tags: Map<string, string[]>; patternNames?: { suite: string; case: string } }> = [];
  for (const suite of suites) {
    const definition = suite.definition!;
    const suiteName = definition.name ?? path.basename(suite.file).replace(/\.[cm]?[jt]sx?$/, '');
    for (const testCase of definition.cases) {
      const tags = tagValues(definition.tags, testCase.tags);
      for (const [name, values] of tags) {
        const known = declared.get(name) ?? new Set<string>();
        for (const value of values) known.add(value);
        declared.set(name, known);
      }
      cases.push({ suite: suiteName, name: testCase.name, tags, patternNames: testCase.patternNames });
    }
  }

  for (const [name, wanted] of Object.entries(selection.tagFilters ?? {})) {
    const values = declared.get(tagKey(name));
    if (!values) {
      const options = suggest(name, selection.knownOptions ?? []).map((option) => `--${option}`);
      const tags = suggest(tagKey(name), [...declared.keys()]).map((tag) => `--${tag}`);
      const hints = [...options, ...tags];
      fail(
        `unknown option --${name}${hints.length ? ` (did you mean ${hints.join(' or ')}?)` : ''}: it is not a kiso option, and no selected case declares a tag "${name}" (tags declared: ${list(declared.keys())})`,
      );
    }
    const unknown = wanted.filter((value) => !values.has(value));
    if (unknown.length) fail(`--${name}: no case has the value${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => `"${v}"`).join(', ')} (values of ${name}: ${list(values)})`);
    if (wanted.length === 0) fail(`--${name} needs at least one value (values of ${name}: ${list(values)})`);
  }

  const selected = cases.filter(
    (testCase) =>
      selectedByTags(testCase.tags, selection.tagFilters).selected && matchesPattern(selection, testCase.suite, testCase),
  );
  if (selected.length === 0) {
    const parts = [
      selection.filePattern !== undefined ? `-p '${selection.filePattern}'` : undefined,
      selection.suitePattern ? `suite ${selection.suitePattern.source}` : undefined,
      selection.casePattern ? `case ${selection.casePattern.source}` : undefined,
      ...Object.entries(selection.tagFilters ?? {}).map(([name, values]) => `--${name} ${values.join(',')}`),
    ].filter(Boolean);
    fail(`${parts.length ? parts.join(' with ') : 'the suites'} select${parts.length ? 's' : ''} no case out of ${cases.length} (cases: ${cases.slice(0, 8).map((c) => `${c.suite}::${c.name}`).join(', ')}${cases.length > 8 ? ', ...' : ''})`);
  }
}
