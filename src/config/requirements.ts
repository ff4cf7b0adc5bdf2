import { kisoVersion } from '../core/package-root.js';
import type { KeyPath } from './yaml-source.js';

/**
 * pykiso's top-level `requirements:` (package versions the station needs,
 * checked before anything runs). kiso checks what it can: a `kiso` entry
 * against its own version (a mismatch is a config error, exit 2). pykiso
 * and Python packages are not kiso's to check: each gets a note.
 */
export function checkRequirements(raw: unknown, report: (at: KeyPath, message: string) => void): string[] {
  if (raw === undefined || raw === null) return [];
  const notes: string[] = [];
  if (!Array.isArray(raw)) {
    report(['requirements'], 'must be a list of "- package: version" entries, e.g. - kiso: ">=0.1.0"');
    return notes;
  }
  for (const [index, entry] of raw.entries()) {
    const at: KeyPath = ['requirements', index];
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || Object.keys(entry).length !== 1) {
      report(at, 'must be one "package: version" mapping, e.g. kiso: ">=0.1.0, <1.0.0" (a version alone is a minimum; any accepts every version)');
      continue;
    }
    const [name, rawSpec] = Object.entries(entry as Record<string, unknown>)[0]!;
    const spec = String(rawSpec ?? 'any');
    const problem = specProblem(spec);
    if (problem) {
      report([...at, name], problem);
      continue;
    }
    if (name === 'kiso') {
      const version = kisoVersion();
      if (!satisfies(version, spec)) report([...at, name], `kiso ${version} does not meet the requirement "${spec}"`);
    } else if (name === 'pykiso') {
      notes.push(`requirement pykiso ${spec}: kiso runs pykiso stations itself; write "- kiso: VERSION" to require a kiso version`);
    } else {
      notes.push(`requirement ${name} ${spec}: a Python package, not checked by kiso`);
    }
  }
  return notes;
}

const CONDITION = /^(<=|>=|==|!=|<|>)?\s*(\d+(?:\.\d+)*)$/;

function specProblem(spec: string): string | undefined {
  if (spec.trim() === 'any') return undefined;
  const bad = spec.split(',').map((part) => part.trim()).find((part) => !CONDITION.test(part));
  return bad === undefined ? undefined : `"${spec}" is not a version requirement: write 1.2.3 (at least), any, or conditions with <, <=, >, >=, ==, != joined by commas`;
}

function compare(a: string, b: string): number {
  const left = a.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** pykiso's version conditions: `1.2` (at least), `any`, or `>=1.0, <2.0`. */
export function satisfies(version: string, spec: string): boolean {
  if (spec.trim() === 'any') return true;
  return spec.split(',').every((part) => {
    const [, operator = '>=', wanted] = CONDITION.exec(part.trim())!;
    const order = compare(version, wanted!);
    switch (operator) {
      case '<': return order < 0;
      case '<=': return order <= 0;
      case '>': return order > 0;
      case '==': return order === 0;
      case '!=': return order !== 0;
      default: return order >= 0;
    }
  });
}
