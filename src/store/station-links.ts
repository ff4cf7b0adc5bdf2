import { describeError, isKisoError, KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { StationStore } from './sqlite-store.js';

/**
 * Stations as TofuPilot models them: a station may run the procedures linked
 * to it, and nothing else. The links live in the fleet store (`kiso
 * stations link`); a station keeps the list it last fetched, so it still
 * refuses an unlinked procedure when the fleet is unreachable. A station
 * YAML may also list its procedures itself (`station.linked_procedures`).
 * A refused run is refused before anything opens.
 */

export interface LinkCheck {
  station: string;
  procedure: string | undefined;
  /** `station.linked_procedures` of the station YAML. */
  yamlProcedures?: string[];
  fleetUrl?: string;
  local?: StationStore;
  log?: Logger;
}

function refuse(message: string): never {
  throw new KisoError('KISO_STATION_PROCEDURE', message);
}

export async function checkStationLinks(check: LinkCheck): Promise<void> {
  const { station, procedure } = check;
  const shown = procedure ?? '(no procedure_id)';
  if (check.yamlProcedures && (procedure === undefined || !check.yamlProcedures.includes(procedure))) {
    refuse(`station ${station} may run ${check.yamlProcedures.join(', ')} (station.linked_procedures), not ${shown}`);
  }
  if (!check.fleetUrl) return;
  let linked: string[] | undefined;
  let source = 'the fleet store';
  try {
    const { FleetStore } = await import('./pg-store.js');
    const fleet = await FleetStore.open(check.fleetUrl, { log: check.log, connectTimeoutMs: 3000 });
    try {
      linked = await fleet.stationProcedures(station);
    } finally {
      await fleet.close();
    }
    if (linked === undefined) refuse(`station ${station} is not registered in the fleet store ${fleet.location}: kiso stations add ${station} --procedure ${procedure ?? 'PROCEDURE'}`);
    check.local?.cacheStationProcedures(station, linked);
  } catch (error) {
    if (isKisoError(error, 'KISO_STATION_PROCEDURE') || !isKisoError(error, 'KISO_STORE_UNREACHABLE')) throw error;
    linked = check.local?.cachedStationProcedures(station);
    source = 'the list this station last fetched from the fleet store';
    if (linked === undefined) {
      check.log?.warn(`the fleet store is unreachable and this station never fetched its linked procedures: running ${shown} unchecked (${describeError(error)})`);
      return;
    }
  }
  if (procedure === undefined || !linked.includes(procedure)) {
    refuse(`station ${station} is not linked to procedure ${shown} in ${source} (linked: ${linked.length ? linked.join(', ') : 'none'}): kiso stations link ${station} --procedure ${procedure ?? 'PROCEDURE'}`);
  }
}
