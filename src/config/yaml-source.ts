import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parse as parseYamlValue, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigIssue, SourcePosition } from './issues.js';
import { SourceMap, pointer, type KeyPath } from './source-map.js';
import { portablePath } from './windows-path.js';

/**
 * Loads a YAML configuration into plain data while remembering where every
 * value came from, so that any later check can name `file:line:col`.
 *
 * Handles what pykiso configurations use: `!include other.yaml` (splices the
 * other file's content in place; positions inside it name that file),
 * `ENV{NAME}` / `ENV{NAME=default}` (a whole-value substitution keeps the YAML
 * type, so `ENV{PORT=5000}` is the number 5000), anchors/aliases and `<<`
 * merge keys.
 */
export { SourceMap, pointer, type KeyPath } from './source-map.js';

export interface LoadedYaml {
  data: unknown;
  sources: SourceMap;
  issues: ConfigIssue[];
  /** Every file read, the main one first. */
  files: string[];
  /** The main file has no value: it is empty, or has only comments (or `---`, `~`). */
  empty?: 'empty' | 'no-values';
}

const ENV_PATTERN = /ENV\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}/g;
const WHOLE_ENV = /^ENV\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}$/;
const DUT_PATTERN = /\$\{dut\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_DUT = /^\$\{dut\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** One fixture slot's values for `${dut.NAME}`; 'keep' leaves the references as they are (reading the duts section itself). */
export type DutValues = Record<string, unknown> | 'keep';

const INCLUDE_TAG = {
  tag: '!include',
  resolve: (value: string) => value,
};

class YamlLoader {
  readonly sources = new SourceMap();
  readonly issues: ConfigIssue[] = [];
  readonly files: string[] = [];
  /** The main file has no value at all: nothing in it, or only comments (or `---`, `~`). */
  empty?: 'empty' | 'no-values';

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly dut: DutValues | undefined,
  ) {}

  loadFile(file: string, at: KeyPath, includeChain: string[], includedFrom?: SourcePosition): unknown {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      const shown = includedFrom ? path.relative(path.dirname(includedFrom.file), file) : file;
      this.issues.push({ position: includedFrom, path: at, message: includedFrom ? `cannot include "${shown}" (${file}): ${reason}` : `cannot read "${file}": ${reason}` });
      return undefined;
    }
    this.files.push(file);
    const lineCounter = new LineCounter();
    const document = parseDocument(text, { lineCounter, customTags: [INCLUDE_TAG], uniqueKeys: true, prettyErrors: false });
    const positionOf = (offset: number): SourcePosition => ({ file, ...lineCounter.linePos(offset) });
    if (document.errors.length > 0) {
      // After a syntax error the parser is lost and what follows is noise: report the first one well.
      const first = document.errors[0]!;
      const offset = errorOffset(first.code, first.message, text, first.pos[0]);
      const more = document.errors.length - 1;
      const line = text.slice(text.lastIndexOf('\n', offset) + 1, text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset));
      const envHint = /\{[^}]*ENV\{/.test(line) ? ' — ENV{...} inside a { } flow mapping must be quoted: "ENV{NAME}" (it keeps its type)' : '';
      const tail = more > 0 ? ` (${more} more syntax error${more === 1 ? '' : 's'} follow from it)` : '';
      this.issues.push({ position: positionOf(offset), path: at, message: `${describeYamlError(first.code, first.message, text, first.pos[0])}${envHint}${tail}` });
      return undefined;
    }
    for (const warning of document.warnings) {
      if (warning.code === 'TAG_RESOLVE_FAILED') this.issues.push({ position: positionOf(warning.pos[0]), path: at, message: describeUnknownTag(warning.message) });
    }
    if (!document.contents || (isScalar(document.contents) && document.contents.value === null)) {
      // Nothing to point at inside: the error points at the file's start and says why it is empty.
      this.sources.set(at, { value: { file, line: 1, col: 1 } });
      if (at.length === 0) this.empty = text.trim() === '' ? 'empty' : 'no-values';
      return null;
    }
    const walker = new DocumentWalker(this, document, file, positionOf, includeChain);
    return walker.walk(document.contents, at);
  }

  substituteEnv(value: string, at: KeyPath, position: SourcePosition): unknown {
    if (value.includes('${dut.')) {
      const substituted = this.substituteDut(value, at, position);
      if (typeof substituted !== 'string') return substituted;
      value = substituted;
    }
    if (!value.includes('ENV{')) return value;
    const whole = WHOLE_ENV.exec(value);
    let substituted: unknown;
    if (whole) {
      const resolved = this.lookupEnv(whole[1]!, whole[2], at, position);
      substituted = resolved === undefined ? undefined : typedScalar(resolved);
    } else {
      substituted = value.replace(ENV_PATTERN, (_match, name: string, fallback: string | undefined) => this.lookupEnv(name, fallback, at, position) ?? '');
    }
    // An error about this value shows how it was written, never what the environment put there (a token, a password).
    this.sources.setEnvOrigin(at, whole ? value : JSON.stringify(value), substituted);
    return substituted;
  }

  /** `${dut.port}` → the slot's value; a whole-value substitution keeps its type. `duts:` itself is left alone. */
  private substituteDut(value: string, at: KeyPath, position: SourcePosition): unknown {
    if (at[0] === 'duts') return value;
    const lookup = (name: string): unknown => {
      if (!this.dut) {
        this.issues.push({ position, path: at, message: `\${dut.${name}} is a per-slot value, but the station has no duts section (add one, or pass --duts FILE)` });
        return undefined;
      }
      if (this.dut === 'keep') return `\${dut.${name}}`;
      if (!(name in this.dut)) {
        this.issues.push({ position, path: at, message: `this slot has no value "${name}" for \${dut.${name}} (its values: ${Object.keys(this.dut).join(', ')})` });
        return undefined;
      }
      return this.dut[name];
    };
    const whole = WHOLE_DUT.exec(value);
    if (whole) return lookup(whole[1]!);
    return value.replace(DUT_PATTERN, (_match, name: string) => String(lookup(name) ?? ''));
  }

  private lookupEnv(name: string, fallback: string | undefined, at: KeyPath, position: SourcePosition): string | undefined {
    const value = this.env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    this.issues.push({ position, path: at, message: `environment variable ${name} is not set and ENV{${name}} has no default (write ENV{${name}=value} to give one)` });
    return undefined;
  }
}

class DocumentWalker {
  constructor(
    private readonly loader: YamlLoader,
    private readonly document: Document,
    private readonly file: string,
    private readonly positionOf: (offset: number) => SourcePosition,
    private readonly includeChain: string[],
  ) {}

  walk(node: Node | null, at: KeyPath, keyPosition?: SourcePosition): unknown {
    if (node === null) return null;
    const position = this.positionOf(node.range?.[0] ?? 0);
    this.loader.sources.set(at, { value: position, key: keyPosition });
    if (isAlias(node)) {
      const target = node.resolve(this.document);
      if (!target) {
        // yaml turns it into nothing, which would become a default or "missing key" on a key that is there.
        this.loader.issues.push({ position, path: at, message: `*${node.source} refers to no anchor: no &${node.source} is defined above it (an alias names an anchor written earlier in the same file)` });
        return undefined;
      }
      return this.walk(target as Node, at, keyPosition);
    }
    if (isScalar(node)) {
      if (node.tag === INCLUDE_TAG.tag) return this.include(String(node.value), at, position);
      const value = typeof node.value === 'string' ? this.loader.substituteEnv(node.value, at, position) : node.value;
      if (typeof value === 'number' && !Number.isFinite(value)) {
        const written = typeof node.value === 'string' ? node.value : (node.source ?? String(value));
        this.loader.issues.push({ position, path: at, message: Number.isNaN(value) ? `${written} is "not a number" (NaN): write a number` : `${written} is ${value > 0 ? '' : 'minus '}infinity${/^[-+]?\./.test(written) ? '' : ' (too large for a number)'}: write a finite number` });
        return undefined;
      }
      return value;
    }
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyPos = this.positionOf(keyNode?.range?.[0] ?? 0);
        if (key === '<<') {
          this.merge(result, pair.value as Node | null, at);
          continue;
        }
        result[key] = this.walk(pair.value as Node | null, [...at, key], keyPos);
        if (pair.value === null) this.loader.sources.set([...at, key], { value: keyPos, key: keyPos });
      }
      return result;
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => this.walk(item as Node | null, [...at, index]));
    }
    return undefined;
  }

  /** `<<: *anchor`, `<<: [*a, *b]` or `<<: !include file.yaml`: keys already set win. */
  private merge(target: Record<string, unknown>, node: Node | null, at: KeyPath): void {
    const sources = isSeq(node) ? (node.items as Node[]) : [node];
    for (const source of sources) {
      const value = this.walk(source, at);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, item] of Object.entries(value)) if (!(key in target)) target[key] = item;
      }
    }
  }

  private include(relative: string, at: KeyPath, position: SourcePosition): unknown {
    const target = path.resolve(path.dirname(this.file), portablePath(relative));
    if (this.includeChain.includes(target)) {
      this.loader.issues.push({ position, path: at, message: `!include "${relative}" includes itself (chain: ${[...this.includeChain, target].map((f) => path.basename(f)).join(' → ')})` });
      return undefined;
    }
    return this.loader.loadFile(target, at, [...this.includeChain, target], position);
  }
}

/** `Unresolved tag: tag:yaml.org,2002:python/tuple` → what kiso says about `!!python/tuple`. */
function describeUnknownTag(warning: string): string {
  const full = /Unresolved tag: (\S+)/.exec(warning)?.[1] ?? '';
  const tag = full.startsWith('tag:yaml.org,2002:') ? `!!${full.slice('tag:yaml.org,2002:'.length)}` : full;
  if (/^!!python\//.test(tag)) return `${tag} is a PyYAML tag that builds a Python object: kiso reads plain YAML, write the value itself (a list, a mapping, text, a number)`;
  return `unknown tag ${tag}: kiso knows !include and YAML's own tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq)`;
}

/** `5000` → 5000, `true` → true, `0x300` → 768; anything that is not a plain scalar stays a string. */
function typedScalar(text: string): unknown {
  try {
    const value = parseYamlValue(text) as unknown;
    return value === null || typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

/**
 * Where to point for a syntax error. The parser places an unclosed quote at
 * the end of the file; the technician needs the line where the quote opens.
 */
function errorOffset(code: string, message: string, text: string, offset: number): number {
  if (code !== 'MISSING_CHAR' || !/closing "?'?quote/i.test(message)) return offset;
  const quote = /closing "quote/.test(message) ? '"' : "'";
  let lineStart = 0;
  let opening = -1;
  for (const line of text.slice(0, offset).split('\n')) {
    const count = line.split(quote).length - 1;
    if (count % 2 === 1) opening = lineStart + line.indexOf(quote);
    if (opening >= 0) break;
    lineStart += line.length + 1;
  }
  return opening >= 0 ? opening : offset;
}

function describeYamlError(code: string, message: string, text: string, offset: number): string {
  const firstLine = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') {
    const key = /^([^:\n]+)/.exec(text.slice(offset))?.[1]?.trim();
    return `duplicate key${key ? ` "${key}"` : ''}: a key may appear once in a mapping (the YAML spec forbids repeats, and pykiso would silently keep the last one)`;
  }
  if (code === 'TAB_AS_INDENT') return 'a tab is used for indentation; YAML indents with spaces';
  return `YAML syntax error: ${firstLine}`;
}

/** Parses a YAML file (and what it includes) into data plus a source map. */
export function loadYaml(file: string, env: NodeJS.ProcessEnv = process.env, dut?: DutValues): LoadedYaml {
  const loader = new YamlLoader(env, dut);
  const absolute = path.resolve(file);
  const data = loader.loadFile(absolute, [], [absolute]);
  return { data, sources: loader.sources, issues: loader.issues, files: loader.files, empty: loader.empty };
}
