import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/issues.js';
import { loadStationConfig, type StationConfig } from '../config/load.js';
import { validateWith } from '../config/schema.js';
import { loadYaml, type KeyPath } from '../config/yaml-source.js';
import { describeError } from '../core/errors.js';
import { readSchema } from '../core/package-root.js';
import { importFile, importPackage } from '../core/user-module.js';

/** One fixture slot, resolved: its serial number and, when a device is present, its own station config. */
export interface Slot {
  slot: number;
  serial: string;
  present: boolean;
  /** What `${dut.NAME}` resolves to in this slot (slot, serial_number and the slot's own keys). */
  values: Record<string, unknown>;
  /** The station config with this slot's values filled in (present slots only). */
  config?: StationConfig;
}

interface RawSlot {
  slot: number;
  serial_number?: string;
  serial_hook?: string;
  present?: boolean;
  [value: string]: unknown;
}

const RESERVED = new Set(['slot', 'serial_number', 'serial_hook', 'present']);

/** The schema of one slot, taken from the station schema so both stay one definition. */
function dutsSchema(): object {
  return readSchema('kiso.schema.json#/properties/duts');
}

export interface SlotLoadOptions {
  env?: NodeJS.ProcessEnv;
  /** `--duts FILE`: the slots from this file (a list, or a mapping with `duts:`) instead of the station's. */
  dutsFile?: string;
  /** kiso serve: a slot may have no serial yet (the operator enters it on the page before each run). */
  serialsLater?: boolean;
}

/**
 * Reads the fixture slots of a station (or of `--duts FILE`) and loads the
 * station config once per present slot, with that slot's `${dut.NAME}`
 * values. Everything is checked before anything starts: the slots' shape,
 * each slot's full config, and that serial numbers are unique (a duplicate
 * names both slots). Returns undefined when the station has no slots.
 */
export async function loadSlots(stationFile: string, options: SlotLoadOptions = {}): Promise<Slot[] | undefined> {
  const env = options.env ?? process.env;
  const source = options.dutsFile ?? stationFile;
  const loaded = loadYaml(path.resolve(source), env, 'keep');
  if (loaded.issues.length) throw new ConfigError(loaded.issues);
  const data = loaded.data as Record<string, unknown> | unknown[] | null;
  // A bare list is a --duts file; a station file that is a list is not a station (loadStationConfig says so).
  if (Array.isArray(data) && !options.dutsFile) return undefined;
  const base: KeyPath = Array.isArray(data) ? [] : ['duts'];
  const list = Array.isArray(data) ? data : (data as Record<string, unknown> | null)?.duts;
  if (list === undefined) {
    if (options.dutsFile) throw new ConfigError([{ position: loaded.sources.locate([]), path: [], message: `${options.dutsFile} holds no slots: write a list of slots, or a mapping with a duts: list` }]);
    return undefined;
  }
  const issues: ConfigIssue[] = [];
  const report = (at: KeyPath, message: string, atKey = false): void => {
    issues.push({ position: loaded.sources.locate(at, atKey), path: at, message });
  };
  for (const problem of validateWith(dutsSchema(), list, base)) report(problem.path, problem.message, problem.atKey);
  if (issues.length) throw new ConfigError(issues);

  const slots: Slot[] = [];
  const bySlot = new Map<number, number>();
  const bySerial = new Map<string, number>();
  const baseDir = path.dirname(path.resolve(source));
  for (const [index, raw] of (list as RawSlot[]).entries()) {
    const at = [...base, index];
    if (bySlot.has(raw.slot)) {
      report([...at, 'slot'], `slot ${raw.slot} is listed twice (also at position ${bySlot.get(raw.slot)! + 1})`);
      continue;
    }
    bySlot.set(raw.slot, index);
    const present = raw.present !== false;
    const values: Record<string, unknown> = { slot: raw.slot, ...Object.fromEntries(Object.entries(raw).filter(([key]) => !RESERVED.has(key))) };
    let serial = raw.serial_number;
    if (serial === undefined && raw.serial_hook && present) {
      try {
        serial = await callSerialHook(raw.serial_hook, baseDir, { slot: raw.slot, values });
      } catch (error) {
        report([...at, 'serial_hook'], `the serial hook of slot ${raw.slot} failed: ${describeError(error)}`);
        continue;
      }
    }
    if (present && !serial && options.serialsLater) {
      values.serial_number = '';
      slots.push({ slot: raw.slot, serial: '', present, values });
      continue;
    }
    if (present && !serial) {
      report(at, `slot ${raw.slot} has a device but no serial number: give serial_number, or serial_hook to read it (or present: false for an empty slot)`);
      continue;
    }
    serial ??= `slot-${raw.slot}`;
    values.serial_number = serial;
    if (present) {
      const previous = bySerial.get(serial);
      if (previous !== undefined) {
        report([...at, raw.serial_number !== undefined ? 'serial_number' : 'serial_hook'], `serial number "${serial}" of slot ${raw.slot} is already used by slot ${previous}: every device needs its own`);
        continue;
      }
      bySerial.set(serial, raw.slot);
    }
    slots.push({ slot: raw.slot, serial, present, values });
  }
  if (issues.length) throw new ConfigError(issues);

  // Each present slot's whole config, checked now: a typo in slot 3 stops the run before slot 1 starts.
  for (const slot of slots.filter((s) => s.present)) {
    try {
      slot.config = await loadStationConfig(stationFile, { env, dut: slot.values });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues.map((issue) => ({ ...issue, message: `slot ${slot.slot} (${slot.serial}): ${issue.message}` })));
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return slots.sort((a, b) => a.slot - b.slot);
}

async function callSerialHook(reference: string, baseDir: string, argument: { slot: number; values: Record<string, unknown> }): Promise<string> {
  const separator = reference.lastIndexOf(':');
  const modulePart = reference.slice(0, separator);
  const exportName = reference.slice(separator + 1);
  const exports = modulePart.startsWith('.') || path.isAbsolute(modulePart) ? await importFile(path.resolve(baseDir, modulePart)) : await importPackage(modulePart, baseDir);
  const hook = exports[exportName] ?? (exports.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof hook !== 'function') throw new Error(`${modulePart} exports no function "${exportName}"`);
  const serial = (await (hook as (a: typeof argument) => unknown)(argument)) as unknown;
  if (typeof serial !== 'string' || serial === '') throw new Error(`it returned ${JSON.stringify(serial)} instead of a serial number`);
  return serial;
}

