import { checkScalar, describeLimits, hasLimits, type Limits, type Scalar } from './limits.js';

/**
 * Measurements of one test case (an OpenHTF phase): declared on the case,
 * set while it runs, judged by kiso when it ends. A failed measurement never
 * throws: the case goes on and records the rest, then fails.
 */

export type MeasurementOutcome = 'PASS' | 'FAIL' | 'ERROR' | 'SKIP' | 'UNSET';

/** One row of a multi-dimensional measurement: one value per dimension, the last one is the measured quantity. */
export type Row = ReadonlyArray<number | string>;
export type MeasuredValue = Scalar | Row[];

/** An axis of a multi-dimensional measurement, e.g. `{ name: 'time', units: 's' }`. */
export interface Dimension {
  name: string;
  units?: string;
}

export interface MeasurementDeclaration {
  name: string;
  /** Units of a scalar measurement (`V`, `mA`, `°C`); a multi-dimensional one gives units per dimension. */
  units?: string;
  limits?: Limits;
  /** Makes the measurement multi-dimensional: its value is rows, one value per dimension; limits apply to the last one. */
  dimensions?: readonly Dimension[];
  /** What the measurement is, for reports. */
  docstring?: string;
}

/** Where a measurement's limits came from. */
export type LimitsSource = 'code' | 'limits file';

export interface ResolvedDeclaration extends MeasurementDeclaration {
  limitsSource?: LimitsSource;
}

/** A measurement as the run record keeps it. */
export interface MeasurementResult {
  name: string;
  outcome: MeasurementOutcome;
  /** Absent when UNSET or SKIP. */
  value?: MeasuredValue;
  units?: string;
  dimensions?: Dimension[];
  limits?: Limits;
  limitsSource?: LimitsSource;
  /** OpenHTF-style validator strings (`4.75 <= x <= 5.25`). */
  validators: string[];
  docstring?: string;
  /** Why the outcome is not PASS. */
  message?: string;
}

const NAME = /^[A-Za-z_][\w.-]*$/;

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
}

/** Throws a TypeError naming the measurement when a value cannot be recorded at all (the code is wrong). */
function checkShape(declaration: MeasurementDeclaration, value: unknown): asserts value is MeasuredValue {
  const dims = declaration.dimensions;
  if (dims?.length) {
    if (!Array.isArray(value)) throw new TypeError(`measurement "${declaration.name}" has dimensions (${dims.map((d) => d.name).join(', ')}): set it to rows, e.g. [[${dims.map(() => '…').join(', ')}], ...]`);
    value.forEach((row, index) => checkRow(declaration, row, index));
    return;
  }
  if (!isScalar(value)) throw new TypeError(`measurement "${declaration.name}" must be a number, a string or a boolean (got ${Array.isArray(value) ? 'a list: declare dimensions for rows' : value === null ? 'null' : typeof value})`);
}

function checkRow(declaration: MeasurementDeclaration, row: unknown, index: number): asserts row is Row {
  const width = declaration.dimensions!.length;
  if (!Array.isArray(row) || row.length !== width || !row.every((cell) => typeof cell === 'number' || typeof cell === 'string')) {
    throw new TypeError(`measurement "${declaration.name}" row ${index} must list ${width} numbers or strings (${declaration.dimensions!.map((d) => d.name).join(', ')})`);
  }
}

/** Judges one value against its declaration. */
export function evaluate(declaration: ResolvedDeclaration, value: MeasuredValue | undefined, skipped = false): MeasurementResult {
  const base: MeasurementResult = {
    name: declaration.name,
    outcome: 'PASS',
    units: declaration.dimensions?.length ? undefined : declaration.units,
    dimensions: declaration.dimensions ? declaration.dimensions.map((d) => ({ ...d })) : undefined,
    limits: hasLimits(declaration.limits) ? { ...declaration.limits } : undefined,
    limitsSource: hasLimits(declaration.limits) ? (declaration.limitsSource ?? 'code') : undefined,
    validators: describeLimits(declaration.limits).map((text) => (declaration.dimensions?.length ? `All values pass: ${text}` : text)),
    docstring: declaration.docstring,
  };
  if (skipped) return { ...base, outcome: 'SKIP' };
  if (value === undefined) return { ...base, outcome: 'UNSET', message: 'declared but never set' };
  const result = { ...base, value };
  const values: Scalar[] = Array.isArray(value) ? value.map((row) => row[row.length - 1]!) : [value];
  for (const [index, scalar] of values.entries()) {
    const check = checkScalar(scalar, declaration.limits);
    const where = Array.isArray(value) ? ` (row ${index})` : '';
    if (check.unusable) return { ...result, outcome: 'ERROR', message: `${check.unusable}${where}` };
    if (!check.ok) return { ...result, outcome: 'FAIL', message: `${check.reason}${where}` };
  }
  return result;
}

/** `ctx.measurements`: the case's declared measurements and what the run set. */
export class CaseMeasurements {
  private readonly declarations = new Map<string, ResolvedDeclaration>();
  private readonly values = new Map<string, MeasuredValue>();

  constructor(declarations: readonly ResolvedDeclaration[] = []) {
    for (const declaration of declarations) this.declare(declaration);
  }

  /** Declares a measurement while the case runs (what `ctx.measure` does for undeclared names). */
  declare(declaration: ResolvedDeclaration): void {
    if (typeof declaration?.name !== 'string' || !NAME.test(declaration.name)) {
      throw new TypeError(`measurement name ${JSON.stringify(declaration?.name)} is not valid: use letters, digits, _ . and -, starting with a letter or _`);
    }
    const previous = this.declarations.get(declaration.name);
    // A limits-file entry for a name the code declares later keeps the file's limits.
    const fromFile = previous?.limitsSource === 'limits file';
    const limits = fromFile ? previous.limits : (declaration.limits ?? previous?.limits);
    const limitsSource = fromFile ? 'limits file' : (declaration.limitsSource ?? previous?.limitsSource);
    this.declarations.set(declaration.name, { ...previous, ...declaration, limits, limitsSource });
  }

  isDeclared(name: string): boolean {
    return this.declarations.has(name);
  }

  /** Sets a declared measurement. A value outside its limits does not throw: the case fails when it ends. */
  set(name: string, value: MeasuredValue): this {
    const declaration = this.declarations.get(name);
    if (!declaration) {
      const known = [...this.declarations.keys()];
      throw new TypeError(`measurement "${name}" is not declared on this case (declared: ${known.join(', ') || 'none'}); declare it in the case's measurements or record it with ctx.measure()`);
    }
    checkShape(declaration, value);
    this.values.set(name, Array.isArray(value) ? value.map((row) => [...row]) : value);
    return this;
  }

  /** Appends one row to a multi-dimensional measurement. */
  addRow(name: string, row: Row): this {
    const declaration = this.declarations.get(name);
    if (!declaration?.dimensions?.length) throw new TypeError(`measurement "${name}" is not a declared multi-dimensional measurement`);
    checkRow(declaration, row, (this.values.get(name) as Row[] | undefined)?.length ?? 0);
    const rows = (this.values.get(name) as Row[] | undefined) ?? [];
    rows.push([...row]);
    this.values.set(name, rows);
    return this;
  }

  get(name: string): MeasuredValue | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Every declared measurement, judged. */
  results(skipped = false): MeasurementResult[] {
    return [...this.declarations.values()].map((declaration) => evaluate(declaration, this.values.get(declaration.name), skipped));
  }
}

/** The case's verdict from its measurements: ERROR if one could not be checked, FAIL if one failed or was never set. */
export function measurementVerdict(results: readonly MeasurementResult[]): { outcome: 'failed' | 'error'; message: string } | undefined {
  // Every measurement that did not pass is named, in the order the case declared them; one that could not be checked makes the case ERROR.
  const notPassed = results.filter((m) => m.outcome === 'ERROR' || m.outcome === 'FAIL' || m.outcome === 'UNSET');
  if (!notPassed.length) return undefined;
  return {
    outcome: notPassed.some((m) => m.outcome === 'ERROR') ? 'error' : 'failed',
    message: notPassed.map((m) => `measurement ${m.name} ${m.outcome}: ${m.message}${m.validators.length ? ` [${m.validators.join(', ')}]` : ''}`).join('; '),
  };
}

/** Problems with a case's `measurements` declarations, caught when the suite loads rather than mid-run. */
export function checkDeclarations(declarations: unknown): string[] {
  if (declarations === undefined) return [];
  if (!Array.isArray(declarations)) return ['`measurements` must be a list of { name, units?, limits?, dimensions? }'];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [index, declaration] of declarations.entries()) {
    const name = (declaration as MeasurementDeclaration | undefined)?.name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      problems.push(`measurements[${index}] has no valid name (letters, digits, _ . -)`);
      continue;
    }
    if (seen.has(name)) problems.push(`measurement "${name}" is declared twice`);
    seen.add(name);
    const { limits, dimensions } = declaration as MeasurementDeclaration;
    if (dimensions !== undefined && (!Array.isArray(dimensions) || dimensions.some((d) => typeof d?.name !== 'string'))) {
      problems.push(`measurement "${name}": dimensions must be a list of { name, units? }`);
    }
    if (limits?.lower !== undefined && limits.upper !== undefined && limits.lower > limits.upper) {
      problems.push(`measurement "${name}": lower limit ${limits.lower} is above upper limit ${limits.upper}`);
    }
    if (limits?.regex !== undefined) {
      try {
        new RegExp(limits.regex);
      } catch (error) {
        problems.push(`measurement "${name}": invalid regex: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
