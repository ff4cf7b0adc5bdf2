import path from 'node:path';
import type { AuxiliaryClass } from './auxiliary.js';
import type { ConnectorClass } from './connector.js';
import type { AuxiliaryHandle } from './auxiliary.js';
import { KisoError, describeError } from './errors.js';
import type { Logger } from './logging.js';
import { readSchema } from './package-root.js';
import { editDistance, suggest } from './suggest.js';
import { importFile, importPackage } from './user-module.js';

export type TypeKind = 'connector' | 'auxiliary';
export type TypeClass = ConnectorClass | AuxiliaryClass;

/**
 * A proxy auxiliary (ProxyAuxiliary, MpProxyAuxiliary): it shares its `com`
 * connector between the auxiliaries of its aux_list. The station and the
 * config checks read these flags instead of knowing type names.
 */
export interface ProxyTrait {
  /** The proxy connector type the auxiliaries it serves use. */
  connectorType: string;
  /** Whether the proxy and its physical connector always run in a host process. */
  hosted: boolean;
}

/** The main-process stand-in of a proxy whose proxy runs in a host process. */
export type HostedProxyClass = new (spec: never, log: Logger) => { asTyped(): AuxiliaryHandle };

interface BuiltinConnector {
  kind: 'connector';
  aliases: readonly string[];
  /** The JSON schema of its `config`, a file under `schemas/`. */
  schema: string;
  summary: string;
  /** It is the end of a proxy link (CCProxy, CCMpProxy), not a physical connector. */
  proxyEndpoint?: true;
  load: () => Promise<ConnectorClass>;
}

interface BuiltinAuxiliary {
  kind: 'auxiliary';
  aliases: readonly string[];
  /** Connector roles the type needs (checked before anything loads). */
  roles: readonly string[];
  schema: string;
  summary: string;
  proxy?: ProxyTrait;
  load: () => Promise<AuxiliaryClass>;
}

/** One entry of the built-in list: its names, its schema, a lazy loader, its traits. */
export type BuiltinType = BuiltinConnector | BuiltinAuxiliary;
export type TypeCatalog = Readonly<Record<string, BuiltinType>>;

export interface ResolvedType {
  kind: TypeKind;
  /** Built-in short name, or the user's `module:Export` as written. */
  name: string;
  builtin: boolean;
  /** JSON schema of the type's `config`, when it has one. */
  configSchema?: object;
  connectorRoles?: readonly string[];
  /** Built-in proxy auxiliaries only. */
  proxy?: ProxyTrait;
  /** Built-in proxy connectors only. */
  proxyEndpoint?: boolean;
  load(): Promise<TypeClass>;
}

// The built-in list lives at the package edge (src/builtins.ts), which registers it at start.
let catalog: TypeCatalog = {};
const byAlias = new Map<string, [string, BuiltinType]>();

/** Registers the built-in types; a name or alias given twice is a programming error. */
export function registerBuiltinTypes(types: TypeCatalog): void {
  if (catalog === types) return;
  const next = new Map<string, [string, BuiltinType]>();
  for (const [name, entry] of Object.entries(types)) {
    for (const alias of [name, ...entry.aliases]) {
      if (next.has(alias)) throw new Error(`built-in type name "${alias}" is given twice (${next.get(alias)![0]} and ${name})`);
      next.set(alias, [name, entry]);
    }
  }
  catalog = types;
  byAlias.clear();
  for (const [alias, value] of next) byAlias.set(alias, value);
}

/** The registered built-in types, by short name. */
export function builtinTypes(): TypeCatalog {
  return catalog;
}

export function builtinNames(kind?: TypeKind): string[] {
  return Object.entries(catalog)
    .filter(([, entry]) => !kind || entry.kind === kind)
    .map(([name]) => name);
}

/** The built-in proxy auxiliary that is (or is not) hosted in a process of its own. */
export function builtinProxyType(hosted: boolean): { name: string; proxy: ProxyTrait } {
  for (const [name, entry] of Object.entries(catalog)) {
    if (entry.kind === 'auxiliary' && entry.proxy?.hosted === hosted) return { name, proxy: entry.proxy };
  }
  throw new Error(`no built-in ${hosted ? 'hosted ' : ''}proxy auxiliary is registered`);
}

export function isUserTypeReference(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || path.isAbsolute(type) || (type.includes(':') && !type.startsWith('pykiso.'));
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
    return {
      kind: entry.kind,
      name,
      builtin: true,
      configSchema: readSchema(entry.schema),
      connectorRoles: entry.kind === 'auxiliary' ? entry.roles : undefined,
      proxy: entry.kind === 'auxiliary' ? entry.proxy : undefined,
      proxyEndpoint: entry.kind === 'connector' ? entry.proxyEndpoint === true : undefined,
      load: entry.load,
    };
  }
  if (!isUserTypeReference(type)) {
    const known = builtinNames(expected);
    const candidates = [...new Set([...known, ...[...byAlias.keys()].filter((alias) => byAlias.get(alias)![1].kind === expected)])];
    const hardware = expected === 'connector' && isCanHardwareTypeName(type);
    // For CAN hardware only a near miss is a typo ("cc_kvaser_can" is no misspelt "cc_socket_can"); anything else gets the python-can hint.
    const hints = suggest(type, candidates).filter((hint) => !hardware || closeMiss(type, hint));
    const canHint = hardware && hints.length === 0 ? canHardwareHint(type) : '';
    throw new KisoError(
      'KISO_TYPE_UNKNOWN',
      `unknown ${expected} type "${type}"${hints.length ? ` (did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?)` : ''}${canHint}; built-in ${expected} types: ${known.join(', ')}; a type of your own is written "./file.ts:ExportName" or "package:ExportName"`,
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

/** python-can's interface names, by the adapter a type name mentions. */
const PYTHON_CAN_INTERFACES: ReadonlyArray<[RegExp, string]> = [
  [/kvaser/i, 'kvaser'],
  [/ixxat/i, 'ixxat'],
  [/pcan|peak/i, 'pcan'],
  [/vector|vxl/i, 'vector'],
  [/neovi|intrepid/i, 'neovi'],
  [/nixnet|xnet/i, 'nixnet'],
  [/nican/i, 'nican'],
  [/etas/i, 'etas'],
  [/gs_?usb|candlelight/i, 'gs_usb'],
  [/usb2can/i, 'usb2can'],
  [/cantact/i, 'cantact'],
  [/seeed/i, 'seeedstudio'],
  [/systec/i, 'systec'],
  [/canalystii|canalyst/i, 'canalystii'],
  [/slcan|lawicel/i, 'slcan'],
];

/**
 * A type that names CAN hardware kiso has no backend of its own for
 * (`pykiso.lib.connectors.cc_kvaser_can:CCKvaserCan`, `CCIxxatCan`): CAN in
 * its class or module name as a word (`Can`, `_can`, `CAN`), not inside
 * another word (`Scanner`).
 */
export function isCanHardwareTypeName(type: string): boolean {
  return /(^|[^a-z])can([^a-z]|$)|Can(?![a-z])|CAN/.test(type);
}

/** A hint whose class name is at most 2 edits from the one written. */
function closeMiss(type: string, hint: string): boolean {
  const className = (name: string): string => name.slice(name.lastIndexOf(':') + 1).toLowerCase();
  return editDistance(className(type), className(hint)) <= 2;
}

function canHardwareHint(type: string): string {
  const guess = PYTHON_CAN_INTERFACES.find(([pattern]) => pattern.test(type))?.[1];
  const example = guess ?? 'kvaser';
  return (
    `; kiso runs CAN adapters without a backend of their own through python-can: type: CCPythonCan, config: { interface: ${example}, channel: 0, bitrate: 500000 }` +
    `${guess ? '' : ' (set interface to the python-can interface of your adapter: kvaser, ixxat, pcan, vector, neovi, nixnet, gs_usb, ...)'}; PCAN and Vector stations of pykiso also run as CCPCanCan and CCVectorCan`
  );
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
