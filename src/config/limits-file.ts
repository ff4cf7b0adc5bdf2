import type { ConfigIssue } from './issues.js';
import { validateWith } from './schema.js';
import { loadYaml, type KeyPath, type SourceMap } from './yaml-source.js';
import { readSchema } from '../core/package-root.js';
import type { Limits } from '../results/limits.js';
import type { MeasurementDeclaration, ResolvedDeclaration } from '../results/measurements.js';

/** Limits by suite name → case name → measurement name, from the station YAML's `limits:`. */
import type { LimitsTable } from '../results/limits-table.js';

export type { LimitsTable };

let limitsSchema: object | undefined;

/**
 * Reads `limits:` — a path to a YAML file (relative to the file it is written
 * in) or an inline mapping — and checks it. Problems go to `issues` with the
 * file:line:col they are at, the limits file's own when it is a file.
 */
export function loadLimits(raw: unknown, at: KeyPath, sources: SourceMap, resolvePath: (at: KeyPath, value: string) => string, env: NodeJS.ProcessEnv, issues: ConfigIssue[], files: string[]): LimitsTable {
  if (raw === undefined || raw === null) return {};
  let data: unknown = raw;
  let dataSources = sources;
  let base: KeyPath = at;
  if (typeof raw === 'string') {
    const file = resolvePath(at, raw);
    const loaded = loadYaml(file, env);
    if (loaded.issues.length) {
      // "cannot read" has no position in the limits file: point at the `limits:` line instead.
      issues.push(...loaded.issues.map((issue) => (issue.position ? issue : { ...issue, position: sources.locate(at), path: at, message: `limits file: ${issue.message}` })));
      return {};
    }
    files.push(...loaded.files);
    data = loaded.data ?? {};
    dataSources = loaded.sources;
    base = [];
  } else if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {}; // the station schema already said what `limits` must be
  }
  const report = (where: KeyPath, message: string, atKey = false): void => {
    issues.push({ position: dataSources.locate(where, atKey), path: typeof raw === 'string' ? [...at, ...where] : where, message: typeof raw === 'string' ? `${message} [limits file]` : message });
  };
  limitsSchema ??= readSchema('limits.schema.json');
  const problems = validateWith(limitsSchema, data, base);
  for (const problem of problems) report(problem.path, problem.message, problem.atKey);
  if (problems.length) return {};
  const table = data as LimitsTable;
  for (const [suite, cases] of Object.entries(table)) {
    for (const [caseName, measurements] of Object.entries(cases)) {
      for (const [name, limits] of Object.entries(measurements)) {
        const where = [...base, suite, caseName, name];
        if (limits.lower !== undefined && limits.upper !== undefined && limits.lower > limits.upper) {
          report([...where, 'lower'], `lower limit ${limits.lower} is above upper limit ${limits.upper}`);
        }
        if (limits.within && limits.within.percent === undefined && limits.within.absolute === undefined) {
          report([...where, 'within'], 'within needs percent or absolute, e.g. { nominal: 5, percent: 2 }');
        }
        if (limits.regex !== undefined) {
          try {
            new RegExp(limits.regex);
          } catch (error) {
            report([...where, 'regex'], `not a valid regular expression: ${(error as Error).message}`);
          }
        }
      }
    }
  }
  return table;
}
