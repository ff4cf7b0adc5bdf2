import { existsSync } from 'node:fs';
import path from 'node:path';
import type { KeyPath } from './yaml-source.js';

/** The station YAML's `station:` block: who and what a run is about, for the run record. */
export interface StationMeta {
  /** Station name (OpenHTF's station_id); default: the host name. */
  name?: string;
  procedureId?: string;
  procedureName?: string;
  procedureVersion?: string;
  partNumber?: string;
  revision?: string;
  batchNumber?: string;
  /** `./scan.ts:readSerial` (path resolved against the YAML's folder) or `package:export`: returns the unit's serial number. */
  serialHook?: { module: string; exportName: string; isPath: boolean };
  /** The procedures this station may run (`linked_procedures:`); others are refused before anything opens. */
  procedures?: string[];
}

interface RawMeta {
  name?: unknown;
  procedure_id?: unknown;
  procedure_name?: unknown;
  procedure_version?: unknown;
  part_number?: unknown;
  revision?: unknown;
  batch_number?: unknown;
  serial_hook?: unknown;
  linked_procedures?: unknown;
}

// YAML reads `version: 1.10` as a number: keep what was meant as text.
const text = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

/** Reads `station:` (already checked against the schema) and checks that the serial hook's file exists. */
export function readStationMeta(raw: unknown, resolvePath: (at: KeyPath, value: string) => string, report: (at: KeyPath, message: string) => void): StationMeta {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const data = raw as RawMeta;
  const meta: StationMeta = {
    name: text(data.name),
    procedureId: text(data.procedure_id),
    procedureName: text(data.procedure_name),
    procedureVersion: text(data.procedure_version),
    partNumber: text(data.part_number),
    revision: text(data.revision),
    batchNumber: text(data.batch_number),
  };
  if (Array.isArray(data.linked_procedures)) meta.procedures = data.linked_procedures.map((p) => text(p)).filter((p): p is string => p !== undefined);
  if (typeof data.serial_hook === 'string' && data.serial_hook) {
    const spec = data.serial_hook;
    const at = ['station', 'serial_hook'];
    const separator = spec.lastIndexOf(':');
    if (separator <= 0 || separator === spec.length - 1) {
      report(at, `"${spec}" must name a module and its exported function: ./scan.ts:readSerial or package:readSerial`);
      return meta;
    }
    const modulePart = spec.slice(0, separator);
    const isPath = modulePart.startsWith('.') || path.isAbsolute(modulePart);
    const module = isPath ? resolvePath(at, modulePart) : modulePart;
    if (isPath && !existsSync(module)) report(at, `serial hook file "${modulePart}" does not exist (${module}; relative to the YAML file's folder)`);
    meta.serialHook = { module, exportName: spec.slice(separator + 1), isPath };
  }
  return meta;
}
