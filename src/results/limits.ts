/**
 * Limits of a measurement and their check. Each limit kind is one validator,
 * as in OpenHTF; `describeLimits` gives OpenHTF's validator strings
 * (`4.75 <= x <= 5.25`) so an exported record reads the same there.
 */

export type Scalar = number | string | boolean;

export interface Limits {
  /** Inclusive lower bound (numbers). */
  lower?: number;
  /** Inclusive upper bound (numbers). */
  upper?: number;
  /** The value must be exactly this. */
  equals?: Scalar;
  /** A string value must match this regular expression (JavaScript syntax, not anchored). */
  regex?: string;
  /** Within a tolerance of a nominal value: `percent` of it, or an `absolute` amount. */
  within?: { nominal: number; percent?: number; absolute?: number };
}

export const LIMIT_KEYS = ['lower', 'upper', 'equals', 'regex', 'within'] as const;

export interface LimitCheck {
  ok: boolean;
  /** Set when the value cannot be checked against these limits (a text against numeric bounds): the test code is wrong, not the unit. */
  unusable?: string;
  /** Why it failed, in words: `5.6 is above the upper limit 5.25`. */
  reason?: string;
}

export function hasLimits(limits: Limits | undefined): limits is Limits {
  return !!limits && LIMIT_KEYS.some((key) => limits[key] !== undefined);
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** OpenHTF-style validator strings, one per limit kind. */
export function describeLimits(limits: Limits | undefined): string[] {
  if (!limits) return [];
  const out: string[] = [];
  const { lower, upper, equals, regex, within } = limits;
  if (lower !== undefined && upper !== undefined) out.push(lower === upper ? `x == ${lower}` : `${lower} <= x <= ${upper}`);
  else if (lower !== undefined) out.push(`${lower} <= x`);
  else if (upper !== undefined) out.push(`x <= ${upper}`);
  if (equals !== undefined) out.push(typeof equals === 'string' ? `'x' is equal to '${equals}'` : `x == ${String(equals)}`);
  if (regex !== undefined) out.push(`'x' matches /${regex}/`);
  if (within) {
    out.push(within.percent !== undefined ? `'x' is within ${within.percent}% of ${within.nominal}` : `'x' is within ±${within.absolute ?? 0} of ${within.nominal}`);
  }
  return out;
}

/** Checks one scalar against every limit; the first broken one says why. */
export function checkScalar(value: Scalar, limits: Limits | undefined): LimitCheck {
  if (!hasLimits(limits)) return { ok: true };
  const { lower, upper, equals, regex, within } = limits;
  const numeric = lower !== undefined || upper !== undefined || within !== undefined;
  if (numeric && typeof value !== 'number') {
    return { ok: false, unusable: `numeric limits (${describeLimits({ lower, upper, within }).join(', ')}) cannot check ${typeof value} ${show(value)}` };
  }
  if (regex !== undefined && typeof value !== 'string') return { ok: false, unusable: `a regex limit cannot check ${typeof value} ${show(value)}` };
  if (typeof value === 'number' && Number.isNaN(value) && numeric) return { ok: false, reason: 'NaN is not a number within the limits' };
  if (typeof value === 'number') {
    if (lower !== undefined && value < lower) return { ok: false, reason: `${value} is below the lower limit ${lower}` };
    if (upper !== undefined && value > upper) return { ok: false, reason: `${value} is above the upper limit ${upper}` };
    if (within) {
      const tolerance = within.percent !== undefined ? Math.abs(within.nominal * within.percent) / 100 : (within.absolute ?? 0);
      if (Math.abs(value - within.nominal) > tolerance) return { ok: false, reason: `${value} is not within ${describeLimits({ within })[0]!.replace("'x' is within ", '')}` };
    }
  }
  if (equals !== undefined && value !== equals) return { ok: false, reason: `${show(value)} is not equal to ${show(equals)}` };
  if (regex !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(regex);
    } catch (error) {
      return { ok: false, unusable: `invalid regex /${regex}/: ${(error as Error).message}` };
    }
    if (!pattern.test(value as string)) return { ok: false, reason: `${show(value)} does not match /${regex}/` };
  }
  return { ok: true };
}
