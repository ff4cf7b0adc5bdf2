import type { StationConfig } from '../config/load.js';
import { discoverSuiteFiles, loadSuiteFile } from '../runner/discover.js';
import type { LoadedSuite } from '../runner/run.js';
import { checkSelection, type Selection } from '../runner/selection.js';
import type { WorkUnit } from './protocol.js';

/**
 * The suites of a station as the main process sees them, to cut work units
 * and to account for every case. Throws KISO_SELECTION_EMPTY when the
 * selection would test nothing.
 */
export async function loadPlan(config: StationConfig, selection: Selection): Promise<LoadedSuite[]> {
  const suites: LoadedSuite[] = [];
  const discovered = discoverSuiteFiles(config.suites, selection.filePattern);
  for (const { entry, file } of discovered) {
    try {
      suites.push({ file, suiteId: entry.suiteId, definition: await loadSuiteFile(file) });
    } catch (error) {
      suites.push({ file, suiteId: entry.suiteId, loadError: error as Error });
    }
  }
  checkSelection(config.suites, discovered, suites, selection);
  return suites;
}

export function caseIdsOf(suite: LoadedSuite): number[] {
  return suite.definition?.cases.map((testCase, index) => testCase.id ?? index + 1) ?? [];
}

/**
 * Cuts the case list into units that identical devices share (`--dist load`).
 * A suite with a setup or teardown stays whole (its cases depend on it);
 * cases with the same `group` tag (on the case or the suite) stay together;
 * any other case is a unit of its own.
 */
export function planUnits(suites: readonly LoadedSuite[]): WorkUnit[] {
  const units: WorkUnit[] = [];
  for (const suite of suites) {
    const definition = suite.definition;
    const ids = caseIdsOf(suite);
    if (!definition || definition.setup || definition.teardown) {
      units.push({ file: suite.file, suiteId: suite.suiteId, caseIds: ids });
      continue;
    }
    const groups = new Map<string, number[]>();
    definition.cases.forEach((testCase, index) => {
      const tag = testCase.tags?.group ?? definition.tags?.group;
      const group = tag === undefined ? undefined : typeof tag === 'string' ? tag : tag.join(',');
      if (group === undefined) {
        units.push({ file: suite.file, suiteId: suite.suiteId, caseIds: [ids[index]!] });
        return;
      }
      const members = groups.get(group);
      if (members) members.push(ids[index]!);
      else {
        const unit = { file: suite.file, suiteId: suite.suiteId, caseIds: [ids[index]!] };
        groups.set(group, unit.caseIds);
        units.push(unit);
      }
    });
  }
  return units;
}
