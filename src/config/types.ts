import type { ResolvedType } from '../core/registry.js';
import type { LimitsTable } from '../results/limits-table.js';
import type { StationMeta } from './station-meta.js';
import type { SourceMap } from './yaml-source.js';

// What a checked station file becomes: the entries every later stage reads.

/** A connector as the station declares it, its type resolved and its config checked. */
export interface ConnectorEntry {
  name: string;
  type: string;
  resolved: ResolvedType;
  config: Record<string, unknown>;
}

export interface AuxiliaryEntry {
  name: string;
  type: string;
  resolved: ResolvedType;
  /** Role → connector name. */
  connectors: Record<string, string>;
  config: Record<string, unknown>;
  autoStart: boolean;
  /** Run in a process of its own, whatever its connectors say. */
  processing: boolean;
}

export interface SuiteEntry {
  /** Absolute folder. */
  suiteDir: string;
  pattern: string;
  suiteId: number;
}

export interface StationConfig {
  /** Absolute path of the YAML file. */
  file: string;
  /** Its folder: relative paths resolve against it. */
  baseDir: string;
  connectors: Map<string, ConnectorEntry>;
  auxiliaries: Map<string, AuxiliaryEntry>;
  suites: SuiteEntry[];
  sources: SourceMap;
  /** Every YAML file read (the main one and its includes). */
  files: string[];
  /** What kiso changed on its own (inserted proxies), to log at info level. */
  notes: string[];
  /** `station:`: names and numbers for the run record. */
  station: StationMeta;
  /** `limits:`: measurement limits that replace the suites' own. */
  limits: LimitsTable;
  /** `python:`: the interpreter and sys.path of pykiso Python suites. */
  python: { executable: string; path: string[] };
  /** `store:`: a postgres:// fleet store URL, or a station store folder (resolved against the YAML's folder). */
  store?: string;
}

