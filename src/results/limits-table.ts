import type { Limits } from './limits.js';
import type { MeasurementDeclaration, ResolvedDeclaration } from './measurements.js';

/**
 * The limits file, as the runner uses it: suite name → case name →
 * measurement → limits. Kept apart from the loader (limits-file.ts) so that
 * processes that only run cases (slot workers, hosts) do not load the YAML
 * parser and the schema validator.
 */
export type LimitsTable = Record<string, Record<string, Record<string, Limits>>>;

/**
 * A case's declarations with the limits file applied: the file's limits
 * replace the code's, and a measurement the file names but the code does not
 * declare is declared too — the procedure expects it, so never setting it
 * fails the case.
 */
export function resolveDeclarations(table: LimitsTable | undefined, suiteName: string, caseName: string, declared: readonly MeasurementDeclaration[] = []): ResolvedDeclaration[] {
  const overrides = table?.[suiteName]?.[caseName] ?? {};
  const resolved: ResolvedDeclaration[] = declared.map((declaration) => {
    const fromFile = overrides[declaration.name];
    return fromFile ? { ...declaration, limits: fromFile, limitsSource: 'limits file' } : { ...declaration, limitsSource: 'code' };
  });
  for (const [name, limits] of Object.entries(overrides)) {
    if (!declared.some((declaration) => declaration.name === name)) resolved.push({ name, limits, limitsSource: 'limits file' });
  }
  return resolved;
}

/** Limits-file entries that name a case the loaded suite does not have: likely a typo, worth a warning. */
export function unknownLimitCases(table: LimitsTable | undefined, suites: ReadonlyArray<{ name: string; caseNames: readonly string[] }>): string[] {
  const out: string[] = [];
  for (const suite of suites) {
    for (const caseName of Object.keys(table?.[suite.name] ?? {})) {
      if (!suite.caseNames.includes(caseName)) out.push(`limits for "${suite.name}" › "${caseName}" match no case of that suite (its cases: ${suite.caseNames.map((n) => `"${n}"`).join(', ')})`);
    }
  }
  return out;
}
