import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

// The import graph of src/, type-only imports included: the layout's rules hold on every file.
const SRC = path.resolve('src');
const files = (function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? walk(file) : file.endsWith('.ts') ? [file] : [];
  });
})(SRC);

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const graph = new Map<string, string[]>();
for (const file of files) {
  const targets = [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((match) => path.resolve(path.dirname(file), (match[1] ?? match[2])!).replace(/\.js$/, '.ts'));
  graph.set(file, targets);
}
const rel = (file: string): string => path.relative(SRC, file);
const folderOf = (file: string): string => rel(file).split(path.sep).length > 1 ? rel(file).split(path.sep)[0]! : '(edge)';

describe('the import graph of src/', () => {
  it('has no circles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('src/core imports nothing outside itself', () => {
    const outward = [...graph].flatMap(([file, targets]) => folderOf(file) === 'core' ? targets.filter((target) => folderOf(target) !== 'core').map((target) => `${rel(file)} → ${rel(target)}`) : []);
    assert.deepEqual(outward, []);
  });

  it('imports only go downward between folders, and never to the package edge', () => {
    // Bottom first. A folder may import its own files and any folder below it.
    const LAYERS = ['core', 'can', 'processing', 'auxiliaries', 'connectors', 'results', 'store', 'config', 'station', 'runner', 'slots', 'serve', 'cli', '(edge)'];
    // Process entries (the kiso command, host and slot workers) register the built-in list before anything resolves a type.
    const ENTRY_FILES = new Set(['cli/main.ts', 'processing/host-main.ts', 'slots/worker-main.ts']);
    const upward = [...graph].flatMap(([file, targets]) => targets
      .filter((target) => LAYERS.indexOf(folderOf(target)) > LAYERS.indexOf(folderOf(file)))
      .filter((target) => !(ENTRY_FILES.has(rel(file)) && (rel(target) === 'builtins.ts' || folderOf(target) === 'auxiliaries')))
      .map((target) => `${rel(file)} → ${rel(target)}`));
    assert.deepEqual(upward, []);
  });
});

// The README's "The code" and "Architecture" sections are a map of this tree: it must stay one.
describe("the README's code map", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = (heading: string): string => {
    const start = readme.indexOf(`\n## ${heading}\n`);
    assert.ok(start >= 0, `README has a "## ${heading}" section`);
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };
  const codeMap = /```\n([\s\S]*?)```/.exec(section('The code'))?.[1] ?? '';
  const architecture = section('Architecture');
  const sourceFiles = files.map((file) => path.relative(SRC, file));

  it('names every folder and top-level file of src/', () => {
    const named = new Set([...codeMap.matchAll(/^(src\/\S+)/gm)].map((match) => match[1]!.replace(/\/$/, '')));
    const folders = [...new Set(sourceFiles.map((file) => path.dirname(file)).filter((dir) => dir !== '.'))];
    const missing = [
      ...folders.filter((dir) => dir.split(path.sep).length === 1 && !named.has(`src/${dir}`)),
      ...folders.filter((dir) => dir.split(path.sep).length > 1 && !codeMap.includes(`src/${dir.split(path.sep).join('/')}`)),
      ...sourceFiles.filter((file) => !file.includes(path.sep) && !named.has(`src/${file}`)),
    ];
    assert.deepEqual(missing, [], 'add these to the code block under "## The code"');
  });

  it('names only paths and files that exist', () => {
    const both = `${codeMap}\n${architecture}`;
    const paths = [...both.matchAll(/\b(src\/[\w./-]*\w)/g)].map((match) => match[1]!);
    const gone = paths.filter((p) => !existsSync(p));
    const basenames = new Set(sourceFiles.map((file) => path.basename(file)));
    const fileNames = [...architecture.matchAll(/\b([\w-]+\.ts)\b/g)].map((match) => match[1]!);
    assert.deepEqual([...gone, ...fileNames.filter((name) => !basenames.has(name))], []);
  });

  it('says which file defines each class or function the architecture names', () => {
    // "run.ts  SuiteRunner", "load.ts  loadStationConfig()": the name is defined in a file of that name.
    const claims = [...architecture.matchAll(/([\w/-]+\.ts)  ([A-Za-z]\w*)/g)].map((match) => ({ file: match[1]!, name: match[2]! }));
    assert.ok(claims.length >= 5, 'the architecture names the main classes and functions');
    const wrong = claims.filter(({ file, name }) => !sourceFiles.some((source) => source.split(path.sep).join('/').endsWith(file) && new RegExp(`(class|function|const|interface)\\s+${name}\\b`).test(readFileSync(path.join(SRC, source), 'utf8'))));
    assert.deepEqual(wrong, []);
  });
});
