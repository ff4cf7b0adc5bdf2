import { isUserTypeReference, resolveType, type ResolvedType } from '../core/registry.js';
import type { AuxiliaryEntry, ConnectorEntry, StationConfig } from './load.js';
import { SourceMap } from './source-map.js';

/**
 * A checked station config as plain data, to hand to another process (a
 * fixture-slot worker) without it parsing and validating the YAML again:
 * on a small machine that is a good part of what each worker costs to start.
 */
export interface PortableStationConfig {
  file: string;
  baseDir: string;
  connectors: Array<Omit<ConnectorEntry, 'resolved'>>;
  auxiliaries: Array<Omit<AuxiliaryEntry, 'resolved'>>;
  suites: StationConfig['suites'];
  notes: string[];
  station: StationConfig['station'];
  limits: StationConfig['limits'];
  python: StationConfig['python'];
}

export function toPortable(config: StationConfig): PortableStationConfig {
  return {
    file: config.file,
    baseDir: config.baseDir,
    connectors: [...config.connectors.values()].map(({ resolved: _resolved, ...entry }) => entry),
    auxiliaries: [...config.auxiliaries.values()].map(({ resolved: _resolved, ...entry }) => entry),
    suites: config.suites,
    notes: config.notes,
    station: config.station,
    limits: config.limits,
    python: config.python,
  };
}

/**
 * Resolves the types again (cheap for built-ins; user types load, as they
 * must to run). The built-ins' code is loaded first: a user `.ts` type
 * with top-level await starts tsx's ESM hooks, and every module loaded after
 * that goes through their loader thread, a round trip each.
 */
export async function fromPortable(portable: PortableStationConfig): Promise<StationConfig> {
  const entries = [
    ...portable.connectors.map((entry) => ({ entry, kind: 'connector' as const })),
    ...portable.auxiliaries.map((entry) => ({ entry, kind: 'auxiliary' as const })),
  ];
  const resolved = new Map<object, ResolvedType>();
  for (const userTypes of [false, true]) {
    for (const { entry, kind } of entries) {
      if (isUserTypeReference(entry.type) !== userTypes) continue;
      const type = await resolveType(entry.type, kind, portable.baseDir);
      if (type.builtin) await type.load();
      resolved.set(entry, type);
    }
  }
  const connectors = new Map<string, ConnectorEntry>();
  for (const entry of portable.connectors) connectors.set(entry.name, { ...entry, resolved: resolved.get(entry)! });
  const auxiliaries = new Map<string, AuxiliaryEntry>();
  for (const entry of portable.auxiliaries) auxiliaries.set(entry.name, { ...entry, resolved: resolved.get(entry)! });
  return {
    file: portable.file,
    baseDir: portable.baseDir,
    connectors,
    auxiliaries,
    suites: portable.suites,
    sources: new SourceMap(),
    files: [portable.file],
    notes: portable.notes,
    station: portable.station,
    limits: portable.limits,
    python: portable.python,
  };
}
