import { inspect, isDeepStrictEqual } from 'node:util';
import { callerOf, siteOfFrame } from './call-site.js';

/**
 * The step API of a case: `ctx.check.*` records what was checked, what was
 * expected and what the device gave, as one row of the step report; a
 * failed check does not throw (the case goes on recording and fails when it
 * ends), it returns false so the suite can stop itself when it must.
 * `ctx.step(name, fn)` groups the checks fn makes under one named row.
 */

export type CheckOutcome = 'passed' | 'failed' | 'error';

export interface CheckResult {
  /**
   * `check`: a ctx.check call (a failed one fails the case when it ends);
   * `step`: a ctx.step group; `assertion`: an assertion of the suite's own
   * framework (a node:assert that threw, a pykiso assert*), which the
   * framework judged: a row, never a verdict of its own.
   */
  kind: 'check' | 'step' | 'assertion';
  description: string;
  /** equal, notEqual, within, near, match, includes, ok; node's operator for an assertion (strictEqual, ...). */
  operator?: string;
  /** Printed forms, so the row reads the same in JSON, HTML and JUnit. */
  expected?: string;
  actual?: string;
  outcome: CheckOutcome;
  /** The enclosing ctx.step names, outermost first. */
  steps?: string[];
  /** Epoch milliseconds when the check ran (a step: when it started). */
  at: number;
  /** A step's duration. */
  durationMs?: number;
  /** `file:line` of the suite code that made the check. */
  location?: string;
  /** Why a step errored. */
  message?: string;
}

/** Values as the step report prints them: short, one line, bytes as hex. */
export function printValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) {
    const hex = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 64)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
    return `<${value.byteLength} bytes ${hex}${value.byteLength > 64 ? ' …' : ''}>`;
  }
  return inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 32, maxStringLength: 200, compact: true });
}

export interface Range {
  lower?: number;
  upper?: number;
}

/** `ctx.check`: call it with a condition, or use one of its comparisons. Each returns whether the check passed. */
export interface CheckApi {
  (condition: unknown, description: string): boolean;
  /** Deep strict equality (numbers, strings, bytes, arrays, objects). */
  equal<T>(actual: T, expected: T, description?: string): boolean;
  notEqual<T>(actual: T, unexpected: T, description?: string): boolean;
  /** lower ≤ actual ≤ upper; either bound may be left out. */
  within(actual: number, range: Range, description?: string): boolean;
  /** |actual − expected| ≤ tolerance. */
  near(actual: number, expected: number, tolerance: number, description?: string): boolean;
  match(actual: string, pattern: RegExp, description?: string): boolean;
  /** A substring, an array element or a byte sequence. */
  includes(haystack: string | readonly unknown[] | Uint8Array, needle: unknown, description?: string): boolean;
  /** A check whose comparison was made elsewhere (a pykiso assert of a Python suite): printed values as given. */
  record(row: RecordedCheck): boolean;
}

export interface RecordedCheck {
  /** `assertion` for a framework's own assert (default `check`: a failed one fails the case). */
  kind?: 'check' | 'assertion';
  description: string;
  passed: boolean;
  operator?: string;
  expected?: string;
  actual?: string;
  /** `file:line`. */
  location?: string;
  /** The step (pykiso: step-report table) it belongs to. */
  step?: string;
}

export type StepApi = <T>(name: string, fn: () => T | Promise<T>) => Promise<Awaited<T>>;

function includes(haystack: string | readonly unknown[] | Uint8Array, needle: unknown): boolean {
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  if (haystack instanceof Uint8Array) {
    const bytes = typeof needle === 'number' ? Uint8Array.of(needle) : needle instanceof Uint8Array ? needle : undefined;
    return bytes !== undefined && Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return haystack.some((item) => isDeepStrictEqual(item, needle));
}

function rangeText(range: Range): string {
  if (range.lower !== undefined && range.upper !== undefined) return `${range.lower} ≤ x ≤ ${range.upper}`;
  if (range.lower !== undefined) return `x ≥ ${range.lower}`;
  if (range.upper !== undefined) return `x ≤ ${range.upper}`;
  return 'any';
}

/** Error-like values node:assert throws: its message, operator, actual and expected. */
interface AssertionLike extends Error {
  actual?: unknown;
  expected?: unknown;
  operator?: string;
  generatedMessage?: boolean;
}

/** Marks an assertion error already recorded (a ctx.step records it on its way out; the case must not again). */
const RECORDED = Symbol('kiso.checkRecorded');

/** Marks an error whose row is already in the report (a Python assert sent its own): the case must not add another. */
export function markRecorded(error: Error): void {
  Object.defineProperty(error, RECORDED, { value: true });
}

/** The rows one attempt of a case records. */
export class CaseChecks {
  readonly rows: CheckResult[] = [];
  private readonly openSteps: string[] = [];

  get failed(): CheckResult[] {
    return this.rows.filter((row) => row.kind !== 'step' && row.outcome !== 'passed');
  }

  private add(row: Omit<CheckResult, 'at' | 'steps'>, site: Function): CheckResult {
    const full: CheckResult = { ...row, at: Date.now() };
    if (this.openSteps.length) full.steps = [...this.openSteps];
    const location = full.location ?? callerOf(site);
    if (location) full.location = location;
    this.rows.push(full);
    return full;
  }

  private checkApi: CheckApi | undefined;

  /** The `ctx.check` of a case. */
  api(): CheckApi {
    return (this.checkApi ??= this.makeApi());
  }

  private makeApi(): CheckApi {
    const record = (site: Function, passed: boolean, operator: string, description: string, actual: unknown, expected: string | undefined): boolean => {
      const row: Omit<CheckResult, 'at' | 'steps'> = { kind: 'check', description, operator, actual: printValue(actual), outcome: passed ? 'passed' : 'failed' };
      if (expected !== undefined) row.expected = expected;
      this.add(row, site);
      return passed;
    };
    const check = function check(condition: unknown, description: string): boolean {
      return record(check, Boolean(condition), 'ok', description, condition, 'truthy');
    } as CheckApi;
    check.equal = function equal(actual, expected, description) {
      return record(equal, isDeepStrictEqual(actual, expected), 'equal', description ?? 'equal', actual, printValue(expected));
    };
    check.notEqual = function notEqual(actual, unexpected, description) {
      return record(notEqual, !isDeepStrictEqual(actual, unexpected), 'notEqual', description ?? 'not equal', actual, `not ${printValue(unexpected)}`);
    };
    check.within = function within(actual, range, description) {
      const passed = typeof actual === 'number' && !Number.isNaN(actual) && (range.lower === undefined || actual >= range.lower) && (range.upper === undefined || actual <= range.upper);
      return record(within, passed, 'within', description ?? 'within range', actual, rangeText(range));
    };
    check.near = function near(actual, expected, tolerance, description) {
      const passed = typeof actual === 'number' && Math.abs(actual - expected) <= tolerance;
      return record(near, passed, 'near', description ?? 'near', actual, `${expected} ± ${tolerance}`);
    };
    check.match = function match(actual, pattern, description) {
      const passed = typeof actual === 'string' && new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).test(actual);
      return record(match, passed, 'match', description ?? 'matches', actual, String(pattern));
    };
    check.includes = function includesCheck(haystack, needle, description) {
      const shown = haystack instanceof Uint8Array && typeof needle === 'number' ? `0x${needle.toString(16).padStart(2, '0')}` : printValue(needle);
      return record(includesCheck, includes(haystack, needle), 'includes', description ?? 'includes', haystack, `contains ${shown}`);
    };
    check.record = (row) => {
      const full: Omit<CheckResult, 'at' | 'steps'> & { steps?: string[] } = { kind: row.kind ?? 'check', description: row.description, outcome: row.passed ? 'passed' : 'failed' };
      if (row.operator) full.operator = row.operator;
      if (row.expected !== undefined) full.expected = row.expected;
      if (row.actual !== undefined) full.actual = row.actual;
      if (row.location) full.location = row.location;
      const added = this.add(full, check.record);
      if (row.step) added.steps = [...(added.steps ?? []), row.step];
      return row.passed;
    };
    return check;
  }

  /** The `ctx.step` of a case: a row for the step, its checks under it, its outcome once fn settles. */
  stepApi(isAssertion: (error: unknown) => boolean): StepApi {
    const self = this;
    return async function step<T>(name: string, fn: () => T | Promise<T>): Promise<Awaited<T>> {
      const row = self.add({ kind: 'step', description: name, outcome: 'passed' }, step);
      const firstRow = self.rows.length;
      self.openSteps.push(name);
      try {
        const value = await fn();
        if (self.rows.slice(firstRow).some((r) => r.kind !== 'step' && r.outcome !== 'passed')) row.outcome = 'failed';
        return value;
      } catch (error) {
        // A failed assertion gets its own row (expected, actual); any other error is the step's message.
        if (isAssertion(error)) {
          row.outcome = 'failed';
          self.assertion(error as AssertionLike);
        } else {
          row.outcome = 'error';
          row.message = error instanceof Error ? error.message : String(error);
        }
        throw error;
      } finally {
        row.durationMs = Date.now() - row.at;
        self.openSteps.pop();
      }
    };
  }

  /** An assertion that threw (node:assert, a chai-like library): one failed row, recorded once. */
  assertion(error: AssertionLike): void {
    const recorded = (error as { [RECORDED]?: boolean })[RECORDED];
    if (recorded) return;
    Object.defineProperty(error, RECORDED, { value: true });
    const row: Omit<CheckResult, 'at' | 'steps'> = { kind: 'assertion', description: error.message.split('\n')[0] ?? 'assertion', outcome: 'failed' };
    if (error.operator) row.operator = error.operator;
    if ('expected' in error && error.operator !== 'fail') row.expected = printValue(error.expected);
    if ('actual' in error && error.operator !== 'fail') row.actual = printValue(error.actual);
    // node:assert starts the stack at the suite's line; skip node's own frames for other throwers.
    const frame = error.stack?.split('\n').find((line) => line.trim().startsWith('at ') && !line.includes('node:'));
    const location = frame && siteOfFrame(frame);
    if (location) row.location = location;
    this.add(row, this.assertion);
  }

  /** Why the case fails because of its checks, or undefined when they all passed. */
  verdict(): string | undefined {
    const failed = this.failed.filter((row) => row.kind === 'check');
    if (!failed.length) return undefined;
    const first = failed[0]!;
    const detail = `"${first.description}": expected ${first.expected ?? '?'}, got ${first.actual ?? '?'}`;
    return failed.length === 1 ? `check failed: ${detail}` : `${failed.length} checks failed; first ${detail}`;
  }
}
