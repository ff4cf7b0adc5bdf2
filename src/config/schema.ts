import type { ErrorObject, ValidateFunction } from 'ajv';
import { schemaSourceOf } from '../core/package-root.js';
import { suggest } from '../core/suggest.js';
import { createKisoAjv, type ValidationContext } from './ajv-setup.js';
import { precompiledValidator } from './precompiled.js';
import type { KeyPath } from './yaml-source.js';

let ajvInstance: ReturnType<typeof createKisoAjv> | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * The validator of a schema: the precompiled one when the schema is a
 * built-in file unchanged since the build, else compiled once by ajv.
 */
function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    const source = schemaSourceOf(schema);
    if (source) validate = precompiledValidator(source.file, source.text);
    if (!validate) {
      ajvInstance ??= createKisoAjv();
      const { $id: _ignored, ...withoutId } = schema as { $id?: string };
      validate = ajvInstance.compile(withoutId);
    }
    compiled.set(schema, validate);
  }
  return validate;
}

export interface SchemaProblem {
  /** Path of the offending value (for an unknown key: the key itself). */
  path: KeyPath;
  /** True when the position to show is the key, not the value. */
  atKey: boolean;
  message: string;
}

/**
 * Validates `data` (which sits at `basePath` in the whole configuration) and
 * returns the problems in technician's words. Fills in defaults and resolves
 * `kisoPath` values through `resolvePath`.
 */
export function validateWith(schema: object, data: unknown, basePath: KeyPath, resolvePath?: (path: KeyPath, value: string) => string, writtenAt?: (path: KeyPath) => string | undefined): SchemaProblem[] {
  const validate = compile(schema);
  const context: ValidationContext = { resolvePath: resolvePath && ((instancePath, value) => resolvePath([...basePath, ...splitPointer(instancePath)], value)) };
  validate.call(context, data);
  return translateErrors(validate.errors ?? [], basePath, writtenAt);
}

function splitPointer(instancePath: string): Array<string | number> {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** A value shown as the YAML wrote it (`ENV{TOKEN}`). */
class WrittenAs {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function describeValue(value: unknown): string {
  if (value instanceof WrittenAs) return value.text;
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list',
  null: 'empty',
};

const FORMAT_WORDS: Record<string, string> = {
  address: 'an IP address or host name',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
};

function typeWords(type: string | string[]): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[t] ?? t).join(' or ');
}

function translateErrors(errors: ErrorObject[], basePath: KeyPath, writtenAt?: (path: KeyPath) => string | undefined): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const at = [...basePath, ...splitPointer(error.instancePath)];
    // A value from ENV{...} is shown as the YAML wrote it, never as its content.
    const written = writtenAt?.(at);
    const problem = translate(written === undefined ? error : { ...error, data: new WrittenAs(written) }, at);
    if (!problem) continue;
    // A schema may say why a rule holds ("x-reason"): it goes with the message.
    const reason = (error.parentSchema as Record<string, unknown> | undefined)?.['x-reason'];
    if (typeof reason === 'string') problem.message += ` (${reason})`;
    const key = `${problem.path.join('/')}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function translate(error: ErrorObject, at: Array<string | number>): SchemaProblem | undefined {
  const params = error.params as Record<string, unknown>;
  const parentSchema = (error.parentSchema ?? {}) as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...at, String(params.missingProperty)], atKey: false, message: `missing required key "${String(params.missingProperty)}"` };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parentSchema.properties as object | undefined) ?? {});
      const hints = suggest(key, allowed);
      const hint = hints.length ? ` (did you mean "${hints[0]}"?)` : '';
      const list = allowed.length ? `; allowed keys here: ${allowed.join(', ')}` : '; no keys are allowed here';
      return { path: [...at, key], atKey: true, message: `unknown key "${key}"${hint}${list}` };
    }
    case 'type':
      return { path: at, atKey: false, message: `must be ${typeWords(params.type as string)}, got ${describeValue(error.data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const min = parentSchema.minimum as number | undefined;
      const max = parentSchema.maximum as number | undefined;
      const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : error.keyword === 'minimum' ? `at least ${min}` : error.keyword === 'maximum' ? `at most ${max}` : error.keyword === 'exclusiveMinimum' ? `more than ${String(params.limit)}` : `less than ${String(params.limit)}`;
      return { path: at, atKey: false, message: `must be ${range}, got ${String(error.data)}` };
    }
    case 'minLength':
      return { path: at, atKey: false, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { path: at, atKey: false, message: `must be at most ${String(params.limit)} characters long` };
    case 'minItems':
      return { path: at, atKey: false, message: `must list at least ${String(params.limit)} item(s)` };
    case 'maxItems':
      return { path: at, atKey: false, message: `must list at most ${String(params.limit)} item(s)` };
    case 'enum':
      return { path: at, atKey: false, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(error.data)}` };
    case 'const':
      return { path: at, atKey: false, message: `must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(error.data)}` };
    case 'format':
      return { path: at, atKey: false, message: `must be ${FORMAT_WORDS[String(params.format)] ?? `in ${String(params.format)} format`}, got ${describeValue(error.data)}` };
    case 'pattern':
      return { path: at, atKey: false, message: `${describeValue(error.data)} does not match the expected form ${String(params.pattern)}` };
    case 'propertyNames':
      return { path: [...at, String(params.propertyName)], atKey: true, message: `"${String(params.propertyName)}" is not a valid name: use letters, digits, _ and -, starting with a letter or _` };
    case 'if':
    case 'anyOf':
    case 'oneOf':
      // The branch errors that follow say what is wrong; the summary adds nothing.
      return error.keyword === 'if' ? undefined : { path: at, atKey: false, message: error.message ?? 'does not match any allowed form' };
    default:
      return { path: at, atKey: false, message: error.message ?? `fails the "${error.keyword}" check` };
  }
}
