import { hostname } from 'node:os';
import type { StationConfig } from '../config/types.js';
import { KisoError, describeError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import { importFile, importPackage } from '../core/user-module.js';
import type { RunMetadata } from '../results/record/builder.js';

/** The run-metadata flags of `kiso`: each wins over the station YAML's value. */
export interface MetadataFlags {
  serial?: string;
  procedureId?: string;
  procedureVersion?: string;
  partNumber?: string;
  revision?: string;
  batchNumber?: string;
  stationName?: string;
  operatedBy?: string;
  /** `--sub-unit SN`, repeated. */
  subUnit?: string[];
  /** The fixture slot of the unit: set by the fixture runner, not a flag. */
  slot?: number;
}

/** What a serial hook receives: enough to talk to a scanner and to say which station asks. */
export interface SerialHookContext {
  station: string;
  procedureId?: string;
  partNumber?: string;
  log: Logger;
  signal: AbortSignal;
}

export type SerialHook = (ctx: SerialHookContext) => string | Promise<string>;

async function loadHook(config: StationConfig): Promise<SerialHook> {
  const hook = config.station.serialHook!;
  let exports: Record<string, unknown>;
  try {
    exports = hook.isPath ? await importFile(hook.module) : await importPackage(hook.module, config.baseDir);
  } catch (error) {
    throw new KisoError('KISO_SERIAL_HOOK', `cannot load the serial hook module ${hook.module}: ${describeError(error)}`, { cause: error });
  }
  // A .ts file outside a "type": "module" package arrives wrapped in `default`.
  const fn = exports[hook.exportName] ?? (exports.default as Record<string, unknown> | undefined)?.[hook.exportName];
  if (typeof fn !== 'function') throw new KisoError('KISO_SERIAL_HOOK', `${hook.module} has no exported function "${hook.exportName}" for station.serial_hook`);
  return fn as SerialHook;
}

/**
 * The run's metadata: CLI flag, else station YAML, else default (the host
 * name for the station). The serial number comes from --serial, else from
 * the station's serial hook (a barcode scanner, typically), else none.
 */
export async function resolveRunMetadata(config: StationConfig, flags: MetadataFlags, log: Logger, signal: AbortSignal): Promise<RunMetadata> {
  const yaml = config.station;
  const meta: RunMetadata = {
    stationName: flags.stationName ?? yaml.name ?? hostname(),
    configFile: config.file,
    procedureId: flags.procedureId ?? yaml.procedureId,
    procedureName: yaml.procedureName,
    procedureVersion: flags.procedureVersion ?? yaml.procedureVersion,
    serialNumber: flags.serial,
    partNumber: flags.partNumber ?? yaml.partNumber,
    revision: flags.revision ?? yaml.revision,
    batchNumber: flags.batchNumber ?? yaml.batchNumber,
    operatedBy: flags.operatedBy,
    subUnits: flags.subUnit?.length ? [...flags.subUnit] : undefined,
    slot: flags.slot,
  };
  if (meta.serialNumber === undefined && yaml.serialHook) {
    const hook = await loadHook(config);
    let serial: unknown;
    try {
      serial = await hook({ station: meta.stationName, procedureId: meta.procedureId, partNumber: meta.partNumber, log: log.child({ name: 'serial_hook' }), signal });
    } catch (error) {
      throw new KisoError('KISO_SERIAL_HOOK', `the serial hook ${yaml.serialHook.exportName}() failed: ${describeError(error)}`, { cause: error });
    }
    if (typeof serial !== 'string' || !serial.trim()) throw new KisoError('KISO_SERIAL_HOOK', `the serial hook ${yaml.serialHook.exportName}() returned ${JSON.stringify(serial)}, not a serial number`);
    meta.serialNumber = serial.trim();
  }
  return meta;
}
