import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeError, isKisoError } from '../core/errors.js';
import { readSchema } from '../core/package-root.js';
import { builtinTypes, resolveType, type ResolvedType, type TypeKind } from '../core/registry.js';
import { activateLogNote, takeBaseAuxiliaryKeys, type BaseAuxiliaryKeys } from './base-auxiliary-keys.js';
import { checkRequirements } from './requirements.js';
import { portablePath } from './windows-path.js';
import { suggest } from '../core/suggest.js';
import { ConfigError, type ConfigIssue } from './issues.js';
import { checkProxies, insertProxies, isProxyAuxiliaryEntry, isProxyConnectorEntry, type SharedConnector } from './proxies.js';
import { validateWith } from './schema.js';
import { readStationMeta, type StationMeta } from './station-meta.js';
import { loadLimits, type LimitsTable } from './limits-file.js';
import type { AuxiliaryEntry, ConnectorEntry, StationConfig, SuiteEntry } from './types.js';
import { loadYaml, type KeyPath, type SourceMap } from './yaml-source.js';

export type { AuxiliaryEntry, ConnectorEntry, StationConfig, SuiteEntry } from './types.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** The fixture slot this config is loaded for: its values fill `${dut.NAME}`. */
  dut?: Record<string, unknown>;
}

interface RawEntry {
  type?: unknown;
  config?: Record<string, unknown> | null;
  connectors?: Record<string, string>;
  auto_start?: boolean;
  processing?: boolean;
}

interface RawStation {
  auxiliaries?: Record<string, RawEntry>;
  connectors?: Record<string, RawEntry>;
  test_suite_list?: Array<{ suite_dir: string; test_filter_pattern: string; test_suite_id?: number }>;
  station?: unknown;
  limits?: unknown;
  requirements?: unknown;
  python?: { executable?: string; path?: string[] };
  store?: unknown;
}

let stationSchema: object | undefined;

/**
 * Reads, validates and cross-checks a station YAML. Opens nothing: it reads
 * files and, for user types, imports their modules to read their schemas.
 * Throws a ConfigError that lists every problem found, each with file:line:col.
 */
export async function loadStationConfig(file: string, options: LoadOptions = {}): Promise<StationConfig> {
  const absolute = path.resolve(file);
  const baseDir = path.dirname(absolute);
  const loaded = loadYaml(absolute, options.env ?? process.env, options.dut);
  const { sources } = loaded;
  const issues: ConfigIssue[] = [...loaded.issues];
  const report = (at: KeyPath, message: string, atKey = false): void => {
    issues.push({ position: sources.locate(at, atKey), path: at, message: sources.maskEnv(at, message) });
  };
  const writtenAt = (at: KeyPath): string | undefined => sources.envWritten(at);
  if (loaded.data === undefined && issues.length > 0) throw new ConfigError(issues);
  if (loaded.data === null || loaded.data === undefined) {
    const what = loaded.empty === 'no-values' ? 'the file is empty (it has only comments, `---` or `~`)' : 'the file is empty';
    report([], `${what}: a station file is a mapping with the keys auxiliaries, connectors and test_suite_list`);
    throw new ConfigError(issues);
  }
  if (typeof loaded.data !== 'object' || Array.isArray(loaded.data)) {
    report([], `the file must be a mapping with the keys auxiliaries, connectors and test_suite_list, not ${Array.isArray(loaded.data) ? 'a list' : `a single value`}`);
    throw new ConfigError(issues);
  }
  const data = loaded.data as RawStation;
  const resolvePath = (at: KeyPath, value: string): string => path.resolve(path.dirname(sources.fileOf(at) ?? absolute), portablePath(value));

  // Where the loader already failed (a missing include, an unset variable) the value is absent:
  // say that once, not again as "missing key" or "not defined" consequences.
  const brokenPaths = loaded.issues.map((issue) => issue.path);
  const underBroken = (at: KeyPath): boolean => brokenPaths.some((broken) => broken.length <= at.length && broken.every((part, i) => at[i] === part));
  stationSchema ??= readSchema('kiso.schema.json');
  for (const problem of validateWith(stationSchema, data, [], resolvePath, writtenAt)) {
    if (!underBroken(problem.path)) report(problem.path, problem.message, problem.atKey);
  }

  const connectors = new Map<string, ConnectorEntry>();
  const auxiliaries = new Map<string, AuxiliaryEntry>();
  const baseNotes = checkRequirements(data.requirements, report);
  const resolveEntry = async (kind: TypeKind, name: string, raw: RawEntry): Promise<{ resolved: ResolvedType; config: Record<string, unknown>; base: BaseAuxiliaryKeys } | undefined> => {
    const section = kind === 'connector' ? 'connectors' : 'auxiliaries';
    if (typeof raw?.type !== 'string' || raw.type === '') return undefined; // the schema already said so
    let resolved: ResolvedType;
    try {
      resolved = await resolveType(raw.type, kind, baseDir);
    } catch (error) {
      report([section, name, 'type'], isKisoError(error) ? error.message : describeError(error));
      return undefined;
    }
    const { own: config, base } = kind === 'auxiliary' ? takeBaseAuxiliaryKeys(raw.config ?? {}, [section, name, 'config'], report) : { own: raw.config ?? {}, base: {} };
    if (resolved.configSchema) {
      for (const problem of validateWith(resolved.configSchema, config, [section, name, 'config'], resolvePath, writtenAt)) {
        if (!underBroken(problem.path)) report(problem.path, `${problem.message} [${resolved.name} config]`, problem.atKey);
      }
    }
    return { resolved, config, base };
  };

  for (const [name, raw] of Object.entries(isMapping(data.connectors) ? data.connectors : {})) {
    if (!isMapping(raw)) continue;
    const entry = await resolveEntry('connector', name, raw);
    if (entry) connectors.set(name, { name, type: raw.type as string, resolved: entry.resolved, config: entry.config });
  }
  for (const [name, raw] of Object.entries(isMapping(data.auxiliaries) ? data.auxiliaries : {})) {
    if (!isMapping(raw)) continue;
    const entry = await resolveEntry('auxiliary', name, raw);
    if (entry) {
      const { base } = entry;
      if (raw.auto_start !== undefined && base.autoStart !== undefined && raw.auto_start !== base.autoStart) {
        report(['auxiliaries', name, 'config', 'auto_start'], `says ${base.autoStart}, but auto_start beside config says ${raw.auto_start}: keep one`);
      }
      if (base.activateLog?.length) baseNotes.push(activateLogNote(name, base.activateLog, pykisoModuleType));
      auxiliaries.set(name, {
        name,
        type: raw.type as string,
        resolved: entry.resolved,
        config: entry.config,
        connectors: isMapping(raw.connectors) ? raw.connectors : {},
        autoStart: raw.auto_start ?? base.autoStart ?? true,
        processing: raw.processing ?? false,
      });
    }
  }

  let notes: string[] = [];
  if (brokenPaths.length === 0) {
    const shared = checkConnectorReferences(data, connectors, auxiliaries, report);
    checkProxies(connectors, auxiliaries, report);
    if (issues.length === 0) notes = await insertProxies(shared, connectors, auxiliaries, baseDir);
  }
  const suites = checkSuites(data, report);
  const station = readStationMeta(data.station, resolvePath, report);
  const limits = loadLimits(data.limits, ['limits'], sources, resolvePath, options.env ?? process.env, issues, loaded.files);

  const env = options.env ?? process.env;
  const python = {
    executable: data.python?.executable ?? env.KISO_PYTHON ?? '/usr/bin/python3',
    path: (data.python?.path ?? []).map((folder, index) => resolvePath(['python', 'path', index], folder)),
  };
  // A fleet URL as written (ENV{} substituted); a folder against the YAML's own folder.
  const store = typeof data.store === 'string' && data.store ? (/^postgres(ql)?:\/\//i.test(data.store) ? data.store : resolvePath(['store'], data.store)) : undefined;

  // Issues found by other checks (a limits file path) may hold a value from ENV{} too: never its content.
  if (issues.length > 0) throw new ConfigError(issues.map((issue) => ({ ...issue, message: sources.maskEnv(issue.path, issue.message) })));
  return { file: absolute, baseDir, connectors, auxiliaries, suites, sources, files: loaded.files, notes: [...baseNotes, ...notes], station, limits, python, ...(store ? { store } : {}) };
}

/** `pykiso.lib.auxiliaries.mp_proxy_auxiliary` → MpProxyAuxiliary: the built-in a pykiso module name stands for. */
function pykisoModuleType(module: string): string | undefined {
  for (const [name, entry] of Object.entries(builtinTypes())) {
    if (entry.aliases.some((alias) => alias.split(':')[0] === module)) return name;
  }
  return undefined;
}

function isMapping(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks each auxiliary's connector roles and references. Returns the plain
 * connectors that several auxiliaries use: they get a proxy inserted.
 */
function checkConnectorReferences(
  data: RawStation,
  connectors: Map<string, ConnectorEntry>,
  auxiliaries: Map<string, AuxiliaryEntry>,
  report: (at: KeyPath, message: string, atKey?: boolean) => void,
): SharedConnector[] {
  const declared = Object.keys(isMapping(data.connectors) ? data.connectors : {});
  const usedBy = new Map<string, string>();
  const shared = new Map<string, SharedConnector>();
  for (const aux of auxiliaries.values()) {
    const roles = aux.resolved.connectorRoles;
    for (const [role, connectorName] of Object.entries(aux.connectors)) {
      const at = ['auxiliaries', aux.name, 'connectors', role];
      if (roles && !roles.includes(role)) {
        const hints = suggest(role, roles);
        report(at, `${aux.resolved.name} has no connector role "${role}"${hints.length ? ` (did you mean "${hints[0]}"?)` : ''}; its roles: ${roles.join(', ')}`, true);
      }
      if (typeof connectorName !== 'string') continue;
      if (!declared.includes(connectorName)) {
        const hints = suggest(connectorName, declared);
        report(at, `connector "${connectorName}" is not defined${hints.length ? ` (did you mean "${hints[0]}"?)` : ''}; connectors defined: ${declared.join(', ') || 'none'}`);
        continue;
      }
      const previous = usedBy.get(connectorName);
      if (!previous) {
        usedBy.set(connectorName, aux.name);
        continue;
      }
      const previousAux = auxiliaries.get(previous)!;
      if (isProxyConnectorEntry(connectors.get(connectorName))) {
        report(at, `proxy connector "${connectorName}" is already used by auxiliary "${previous}"; a proxy connector serves one auxiliary (give "${aux.name}" its own)`);
      } else if (isProxyAuxiliaryEntry(previousAux) || isProxyAuxiliaryEntry(aux)) {
        const proxy = isProxyAuxiliaryEntry(previousAux) ? previous : aux.name;
        report(at, `connector "${connectorName}" is the physical connector of proxy "${proxy}": "${proxy === previous ? aux.name : previous}" must reach it through a proxy connector listed in the proxy's aux_list`);
      } else if (previous !== aux.name) {
        const entry = shared.get(connectorName) ?? { connector: connectorName, users: [{ aux: previous, role: Object.entries(previousAux.connectors).find(([, name]) => name === connectorName)![0] }] };
        entry.users.push({ aux: aux.name, role });
        shared.set(connectorName, entry);
      }
    }
    for (const role of roles ?? []) {
      if (!(role in aux.connectors)) {
        report(['auxiliaries', aux.name, 'connectors'], `${aux.resolved.name} needs a connector for role "${role}", e.g. connectors: { ${role}: ${declared[0] ?? 'my_connector'} }`);
      }
    }
  }
  return [...shared.values()];
}

function checkSuites(data: RawStation, report: (at: KeyPath, message: string) => void): SuiteEntry[] {
  const suites: SuiteEntry[] = [];
  const list = Array.isArray(data.test_suite_list) ? data.test_suite_list : [];
  const ids = new Map<number, number>();
  list.forEach((raw, index) => {
    if (!isMapping(raw) || typeof raw.suite_dir !== 'string') return;
    const suiteDir = raw.suite_dir;
    if (!existsSync(suiteDir)) {
      report(['test_suite_list', index, 'suite_dir'], `folder "${suiteDir}" does not exist (suite_dir is relative to the YAML file's folder)`);
    } else if (!statSync(suiteDir).isDirectory()) {
      report(['test_suite_list', index, 'suite_dir'], `"${suiteDir}" is a file, not a folder`);
    }
    const suiteId = typeof raw.test_suite_id === 'number' ? raw.test_suite_id : index + 1;
    const previous = ids.get(suiteId);
    if (previous !== undefined && typeof raw.test_suite_id === 'number') {
      report(['test_suite_list', index, 'test_suite_id'], `test_suite_id ${suiteId} is already used by test_suite_list[${previous}]`);
    }
    ids.set(suiteId, index);
    suites.push({ suiteDir, pattern: typeof raw.test_filter_pattern === 'string' ? raw.test_filter_pattern : 'test*.ts', suiteId });
  });
  return suites;
}
