import type { Command } from 'commander';
import { collect } from './usage.js';
import type { MetadataFlags } from '../station/run-metadata.js';

/** The run command's record options: run metadata, the store, the HTML and step reports. */
export interface RecordFlags extends MetadataFlags {
  store?: string;
  /** false with --no-record. */
  record?: boolean;
  html?: string;
  /** pykiso's `--step-report FILE`. */
  stepReport?: string;
}

export function addRecordOptions(command: Command): Command {
  return command
    .option('--serial <sn>', "the unit's serial number (else the station's serial_hook asks for it)")
    .option('--procedure-id <id>', 'procedure id for the run record (default: station.procedure_id)')
    .option('--procedure-version <v>', 'procedure version (default: station.procedure_version)')
    .option('--part-number <pn>', 'part number (default: station.part_number)')
    .option('--revision <rev>', 'hardware revision (default: station.revision)')
    .option('--batch-number <batch>', 'batch / lot (default: station.batch_number)')
    .option('--station-name <name>', 'station name (default: station.name, else the host name)')
    .option('--operated-by <name>', "who runs the test: the run record's operated_by (TofuPilot's)")
    .option('--sub-unit <sn>', "serial number of a sub-assembly built into the unit (repeat for each): the record's unit_under_test.sub_units", collect, [])
    .option('--store <path|url>', 'station store folder (default: $KISO_STORE, else ~/.kiso), or a fleet store postgres://ROLE@HOST/DB (runs are recorded on the station first, then pushed)')
    .option('--no-record', 'do not write a run record')
    .option('--html <file>', 'write a self-contained HTML report of the run')
    .option('--step-report <file>', "write pykiso's step report: every check of every case (expected, actual, result) as an HTML page");
}

