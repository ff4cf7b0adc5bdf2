import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { loadStationConfig } from '../../src/config/load.js';
import { KisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import { loadSlots } from '../../src/slots/duts.js';
import { StationRuntime } from '../../src/station/station.js';
import { registerBuiltins } from '../../src/builtins.js';
import { ROOT, runCli } from '../helpers/cli.js';

registerBuiltins();

// Issue 17: mutants of the example stations never crash kiso. Each one is
// valid (exit 0) or a configuration error (exit 2) whose every problem has
// file:line:col, with no stack trace and no secret. Seeded: a failure prints
// the seed and the mutant, and KISO_FUZZ_SEED=N replays it.

const SEED = Number(process.env.KISO_FUZZ_SEED ?? 1717);
const MUTANTS = Number(process.env.KISO_FUZZ_MUTANTS ?? 400);
const SECRET = 'fuzz-SECRET-0451';
const ENV = { ...process.env, FUZZ_SECRET: SECRET, FUZZ_PORT: '70000' };

/** mulberry32: small, fast, the same sequence for the same seed everywhere. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_VALUES = [
  '*nonexistent', '.nan', '1e400', '-.inf', '!!python/tuple [1, 2]', '!!python/object:can.Message {}', '~', "''", '-1', '99999999999999999999',
  '0x', '[', '{', '"unterminated', 'ENV{FUZZ_UNSET}', 'ENV{FUZZ_SECRET}', '"Bearer ENV{FUZZ_SECRET}"', 'ENV{FUZZ_PORT}', '!include missing.yaml',
  '!include loopback.yaml', '&anchor', '{}', '[]', 'yes', 'null', 'x'.repeat(5000), '"ünïcödé ✓"', '!custom value', '0o777', '12:30:00', '- item',
  '|', '>-', '"\\u0000"', 'CCLoopback', 'NoSuchType', './missing.ts:Nope', 'pykiso.lib.connectors.cc_raw_loopback:CCLoopback',
];
const HOSTILE_KEYS = ['auxiliaries', 'connectors', 'type', 'config', 'aux_list', 'suite_dir', 'test_suite_list', 'typo_key', '<<', '? complex', '"quoted key"', 'type ', ''];

type Mutation = (lines: string[], pick: <T>(items: readonly T[]) => T, rand: () => number) => string[];

const MUTATIONS: Record<string, Mutation> = {
  'delete a line': (lines, pick) => {
    const i = pick([...lines.keys()]);
    return lines.filter((_, j) => j !== i);
  },
  'duplicate a line': (lines, pick) => {
    const i = pick([...lines.keys()]);
    return [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)];
  },
  'swap two lines': (lines, pick) => {
    const copy = [...lines];
    const i = pick([...lines.keys()]);
    const j = pick([...lines.keys()]);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    return copy;
  },
  'reindent a line': (lines, pick) => {
    const i = pick([...lines.keys()]);
    const copy = [...lines];
    copy[i] = pick([`  ${copy[i]}`, copy[i]!.replace(/^ {1,2}/, ''), `\t${copy[i]!.trimStart()}`, ` ${copy[i]}`]);
    return copy;
  },
  'replace a value': (lines, pick) => {
    const candidates = [...lines.keys()].filter((i) => /:\s*\S/.test(lines[i]!) || /^\s*- /.test(lines[i]!));
    if (!candidates.length) return lines;
    const i = pick(candidates);
    const copy = [...lines];
    const value = pick(HOSTILE_VALUES);
    copy[i] = /^\s*- /.test(copy[i]!) && !copy[i]!.includes(':') ? copy[i]!.replace(/- .*/, `- ${value}`) : copy[i]!.replace(/:(\s*).*$/, `: ${value}`);
    return copy;
  },
  'replace a key': (lines, pick) => {
    const candidates = [...lines.keys()].filter((i) => /^\s*[\w-]+:/.test(lines[i]!));
    if (!candidates.length) return lines;
    const i = pick(candidates);
    const copy = [...lines];
    copy[i] = copy[i]!.replace(/^(\s*)[\w-]+:/, `$1${pick(HOSTILE_KEYS)}:`);
    return copy;
  },
  'insert a character': (lines, pick, rand) => {
    const i = pick([...lines.keys()]);
    const copy = [...lines];
    const at = Math.floor(rand() * (copy[i]!.length + 1));
    copy[i] = copy[i]!.slice(0, at) + pick([':', '-', '{', '}', '[', ']', '"', "'", '#', '&', '*', '!', '|', '>', '%', '@', '`', ',', '\t', ' ']) + copy[i]!.slice(at);
    return copy;
  },
  truncate: (lines, _pick, rand) => {
    const text = lines.join('\n');
    return text.slice(0, Math.floor(rand() * text.length)).split('\n');
  },
  'empty or comments only': (lines, pick) => pick([[], ['# only a comment'], lines.map((line) => `# ${line}`), ['---'], ['~'], ['']]),
  'add an anchor and alias': (lines, pick) => {
    const candidates = [...lines.keys()].filter((i) => /^\s*[\w-]+:\s*\S/.test(lines[i]!));
    if (candidates.length < 2) return lines;
    const copy = [...lines];
    const a = pick(candidates);
    const b = pick(candidates);
    copy[a] = copy[a]!.replace(/:(\s*)(.*)$/, ': &fuzz $2');
    copy[b] = copy[b]!.replace(/:(\s*).*$/, ': *fuzz');
    return copy;
  },
};

/** The example stations, copied into a folder that links to everything they reference, so that relative paths still resolve. */
function workspace(): { dir: string; stations: Array<{ name: string; text: string }> } {
  const templates = path.join(ROOT, 'examples/templates');
  const dir = mkdtempSync(path.join(tmpdir(), 'kiso-fuzz-'));
  const stations: Array<{ name: string; text: string }> = [];
  for (const name of readdirSync(templates)) {
    if (name.endsWith('.yaml')) stations.push({ name, text: readFileSync(path.join(templates, name), 'utf8') });
    symlinkSync(path.join(templates, name), path.join(dir, name));
  }
  return { dir, stations };
}

/** What `kiso validate` would say: exit 0 (it loads and builds) or 2 (the config errors); anything else thrown is a crash. */
async function judge(file: string): Promise<{ code: 0 | 2; issues: ConfigError['issues'] } | { crash: unknown }> {
  try {
    const slots = await loadSlots(file, { env: ENV });
    const config = slots?.find((slot) => slot.config)?.config ?? (slots ? undefined : await loadStationConfig(file, { env: ENV }));
    if (!config) return { code: 2, issues: [] };
    await (await StationRuntime.build(config, silentLogger())).stopAll();
    return { code: 0, issues: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { code: 2, issues: error.issues };
    return { crash: error };
  }
}

describe('fuzzed station YAML', () => {
  it(`${MUTANTS} seeded mutants of the example stations (seed ${SEED}): exit 0 or 2, a position on every error, no stack trace, no secret`, async () => {
    const { dir, stations } = workspace();
    const rand = random(SEED);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const names = Object.keys(MUTATIONS);
    const seen = { ok: 0, config: 0 };
    const cliSample: string[] = [];
    for (let n = 0; n < MUTANTS; n++) {
      const station = pick(stations);
      let lines = station.text.split('\n');
      const applied: string[] = [];
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const name = pick(names);
        applied.push(name);
        if (lines.length === 0) lines = [''];
        lines = MUTATIONS[name]!(lines, pick, rand);
      }
      const file = path.join(dir, `mutant-${n}.yaml`);
      const text = lines.join('\n');
      writeFileSync(file, text);
      const replay = `mutant ${n} of ${station.name} (${applied.join(', ')}; KISO_FUZZ_SEED=${SEED}):\n${text.slice(0, 2000)}`;
      const verdict = await judge(file);
      if ('crash' in verdict) {
        const error = verdict.crash as Error;
        assert.fail(`${replay}\n→ crashed (${error instanceof KisoError ? error.code : error?.name}): ${error?.stack ?? String(error)}`);
      }
      if (verdict.code === 0) seen.ok++;
      else seen.config++;
      for (const issue of verdict.issues) {
        assert.ok(issue.position && issue.position.line >= 1 && issue.position.col >= 1, `${replay}\n→ an error without file:line:col: ${issue.message}`);
        assert.doesNotMatch(issue.message, /\n\s+at |\.ts:\d+:\d+\)|\.js:\d+:\d+\)/, `${replay}\n→ a stack trace in: ${issue.message}`);
        assert.ok(!issue.message.includes(SECRET), `${replay}\n→ the secret from ENV{FUZZ_SECRET} is shown: ${issue.message}`);
      }
      if (n % 40 === 0) cliSample.push(file);
    }
    // Both kinds occur, or the mutations test nothing.
    assert.ok(seen.ok > 0 && seen.config > MUTANTS / 2, JSON.stringify(seen));

    // A sample through the real command: the exit code and the printed lines.
    for (const file of cliSample) {
      const result = await runCli(['validate', '-c', file], { env: { FUZZ_SECRET: SECRET, FUZZ_PORT: '70000' } });
      const replay = `${path.basename(file)} (KISO_FUZZ_SEED=${SEED}):\n${readFileSync(file, 'utf8').slice(0, 2000)}`;
      assert.ok(result.code === 0 || result.code === 2, `${replay}\n→ exit ${result.code}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at |internal error/, `${replay}\n→ ${result.stderr}`);
      assert.ok(!result.stderr.includes(SECRET), `${replay}\n→ ${result.stderr}`);
      if (result.code === 2) {
        for (const line of result.stderr.split('\n').filter((l) => /^ {2}\S/.test(l))) assert.match(line, /^ {2}\S+\.yaml:\d+:\d+: /, `${replay}\n→ no position: ${line}`);
      }
    }
  });
});
