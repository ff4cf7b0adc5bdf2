import path from 'node:path';
import type { AuxiliaryClass } from './auxiliary.js';
import { BUILTIN_TYPES, type BuiltinType } from './builtins.js';
import type { ConnectorClass } from './connector.js';
import { KisoError, describeError } from './errors.js';
import { readSchema } from './package-root.js';
import { importFile, importPackage } from './user-module.js';

export type TypeKind = 'connector' | 'auxiliary';
export type TypeClass = ConnectorClass | AuxiliaryClass;

export interface ResolvedType {
  kind: TypeKind;
  /** Built-in short name, or the user's `module:Export` as written. */
  name: string;
  builtin: boolean;
  /** JSON schema of the type's `config`, when it has one. */
  configSchema?: object;
  connectorRoles?: readonly string[];
  load(): Promise<TypeClass>;
}

const byAlias = new Map<string, [string, BuiltinType]>();
for (const [name, entry] of Object.entries(BUILTIN_TYPES) as Array<[string, BuiltinType]>) {
  byAlias.set(name, [name, entry]);
  for (const alias of entry.aliases) byAlias.set(alias, [name, entry]);
}

export function builtinNames(kind?: TypeKind): string[] {
  return (Object.entries(BUILTIN_TYPES) as Array<[string, BuiltinType]>)
    .filter(([, entry]) => !kind || entry.kind === kind)
    .map(([name]) => name);
}

export function isUserTypeReference(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || path.isAbsolute(type) || (type.includes(':') && !type.startsWith('pykiso.'));
}

/** The closest known names, for "did you mean" hints. */
export function suggest(input: string, candidates: readonly string[], max = 3): string[] {
  const score = (candidate: string): number => editDistance(input.toLowerCase(), candidate.toLowerCase());
  return candidates
    .map((candidate) => ({ candidate, distance: score(candidate) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function isConnectorClass(value: unknown): value is ConnectorClass {
  const proto = (value as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  return typeof value === 'function' && !!proto && typeof proto.open === 'function' && typeof proto.close === 'function' && typeof proto.send === 'function';
}

function isAuxiliaryClass(value: unknown): value is AuxiliaryClass {
  const proto = (value as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  return typeof value === 'function' && !!proto && typeof proto.createInstance === 'function' && typeof proto.deleteInstance === 'function';
}

/**
 * Resolves a YAML `type:` to a type. Built-ins and their pykiso paths resolve
 * without loading code; a user type (`./file.ts:Export`, `package:Export`)
 * is imported now, because its schema lives on the class.
 */
export async function resolveType(type: string, expected: TypeKind, baseDir: string): Promise<ResolvedType> {
  const builtin = byAlias.get(type);
  if (builtin) {
    const [name, entry] = builtin;
    if (entry.kind !== expected) {
      throw new KisoError('KISO_TYPE_UNKNOWN', `"${type}" is a ${entry.kind} type, but it is used as ${article(expected)} ${expected}`);
    }
    return { kind: entry.kind, name, builtin: true, configSchema: readSchema(entry.schema), connectorRoles: entry.kind === 'auxiliary' ? entry.roles : undefined, load: entry.load };
  }
  if (!isUserTypeReference(type)) {
    const known = builtinNames(expected);
    const hints = suggest(type, [...known, ...[...byAlias.keys()].filter((alias) => byAlias.get(alias)![1].kind === expected)]);
    throw new KisoError(
      'KISO_TYPE_UNKNOWN',
      `unknown ${expected} type "${type}"${hints.length ? ` (did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?)` : ''}; built-in ${expected} types: ${known.join(', ')}; a type of your own is written "./file.ts:ExportName" or "package:ExportName"`,
    );
  }
  const cls = await loadUserType(type, baseDir);
  if (expected === 'connector' ? !isConnectorClass(cls) : !isAuxiliaryClass(cls)) {
    throw new KisoError('KISO_TYPE_LOAD', `"${type}" is not ${article(expected)} ${expected} class (${expected === 'connector' ? 'extend Connector: it needs open, close and send' : 'extend Auxiliary: it needs createInstance and deleteInstance'})`);
  }
  return {
    kind: expected,
    name: type,
    builtin: false,
    configSchema: cls.configSchema,
    connectorRoles: 'connectorRoles' in cls ? (cls as AuxiliaryClass).connectorRoles : undefined,
    load: async () => cls,
  };
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

async function loadUserType(type: string, baseDir: string): Promise<TypeClass> {
  const separator = type.lastIndexOf(':');
  const hasExport = separator > 0 && !/^[a-zA-Z]:[\\/]/.test(type.slice(separator - 1));
  const modulePart = hasExport ? type.slice(0, separator) : type;
  const exportName = hasExport ? type.slice(separator + 1) : 'default';
  let moduleExports: Record<string, unknown>;
  try {
    const isPath = modulePart.startsWith('.') || path.isAbsolute(modulePart);
    moduleExports = isPath ? await importFile(path.resolve(baseDir, modulePart)) : await importPackage(modulePart, baseDir);
  } catch (error) {
    throw new KisoError('KISO_TYPE_LOAD', `cannot load module "${modulePart}" of type "${type}": ${describeError(error)}`, { cause: error });
  }
  // CommonJS modules (a .ts file outside a "type": "module" package) may arrive wrapped in `default`.
  const cls = moduleExports[exportName] ?? (moduleExports.default as Record<string, unknown> | undefined)?.[exportName];
  if (cls === undefined) {
    const exported = Object.keys(moduleExports).filter((key) => typeof moduleExports[key] === 'function');
    throw new KisoError('KISO_TYPE_LOAD', `module "${modulePart}" has no export "${exportName}" (it exports: ${exported.join(', ') || 'no classes'})`);
  }
  return cls as TypeClass;
}
