import type { MeasurementOutcome } from '../measurements.js';
import { logFieldsText } from './log-fields.js';
import type { AttachmentRef, LogLevelName, PhaseRecord, RunRecord } from './types.js';

/**
 * A kiso run record as an OpenHTF JSON test record, the shape OpenHTF's
 * OutputToJSON writes (TestRecord.as_base_types with inline attachments),
 * which OpenHTF's tools and TofuPilot's OpenHTF importer read.
 */

/** OpenHTF's UnitDescriptor: UN/CEFACT code and suffix of the usual bench units; others keep their text. */
const UNITS: Record<string, { name: string; code: string }> = {
  V: { name: 'volt', code: 'VLT' },
  mV: { name: 'millivolt', code: '2Z' },
  A: { name: 'ampere', code: 'AMP' },
  mA: { name: 'milliampere', code: '4K' },
  W: { name: 'watt', code: 'WTT' },
  mW: { name: 'milliwatt', code: 'C31' },
  s: { name: 'second [unit of time]', code: 'SEC' },
  ms: { name: 'millisecond', code: 'C26' },
  'µs': { name: 'microsecond', code: 'B98' },
  Hz: { name: 'hertz', code: 'HTZ' },
  kHz: { name: 'kilohertz', code: 'KHZ' },
  MHz: { name: 'megahertz', code: 'MHZ' },
  'Ω': { name: 'ohm', code: 'OHM' },
  ohm: { name: 'ohm', code: 'OHM' },
  F: { name: 'farad', code: 'FAR' },
  'µF': { name: 'microfarad', code: '4O' },
  H: { name: 'henry', code: '81' },
  '°C': { name: 'degree Celsius', code: 'CEL' },
  K: { name: 'kelvin', code: 'KEL' },
  '%': { name: 'percent', code: 'P1' },
  dB: { name: 'decibel', code: '2N' },
  m: { name: 'metre', code: 'MTR' },
  mm: { name: 'millimetre', code: 'MMT' },
  g: { name: 'gram', code: 'GRM' },
  kg: { name: 'kilogram', code: 'KGM' },
  N: { name: 'newton', code: 'NEW' },
  Pa: { name: 'pascal', code: 'PAL' },
  kPa: { name: 'kilopascal', code: 'KPA' },
  lx: { name: 'lux', code: 'LUX' },
  byte: { name: 'byte', code: 'AD' },
  bit: { name: 'bit', code: 'A99' },
};

export interface UnitDescriptor {
  name: string;
  code: string | null;
  suffix: string | null;
}

export function unitDescriptor(units: string | undefined): UnitDescriptor {
  if (!units) return { name: 'None', code: null, suffix: null };
  const known = UNITS[units];
  return known ? { ...known, suffix: units } : { name: units, code: null, suffix: units };
}

/** Python logging level numbers, which OpenHTF's log records carry. */
const PY_LEVELS: Record<LogLevelName, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

/** OpenHTF has no ERROR or SKIP for a measurement: a value that could not be checked failed, one not taken was skipped. */
const MEASUREMENT_OUTCOMES: Record<MeasurementOutcome, string> = { PASS: 'PASS', FAIL: 'FAIL', ERROR: 'FAIL', UNSET: 'UNSET', SKIP: 'SKIPPED' };

const millis = (iso: string): number => Date.parse(iso);

function phaseResult(phase: PhaseRecord): Record<string, unknown> {
  if (phase.outcome === 'SKIP') return { phase_result: 'SKIP' };
  if (phase.outcome === 'ERROR' && phase.error) {
    return { phase_result: { exc_type: phase.error.type, exc_val: phase.error.message, exc_tb: phase.error.stack ?? `${phase.error.type}: ${phase.error.message}` } };
  }
  // kiso fails a case without stopping the run, as OpenHTF's FAIL_AND_CONTINUE does.
  return { phase_result: phase.outcome === 'FAIL' && phase.error?.type !== 'MeasurementFailure' ? 'FAIL_AND_CONTINUE' : 'CONTINUE' };
}

function measurement(m: PhaseRecord['measurements'][number]): Record<string, unknown> {
  const out: Record<string, unknown> = { name: m.name, outcome: MEASUREMENT_OUTCOMES[m.outcome] };
  if (m.validators.length) out.validators = m.validators;
  if (m.dimensions?.length) {
    // OpenHTF's dimensions are the coordinates; the last kiso dimension is the measured value and its units.
    out.dimensions = m.dimensions.slice(0, -1).map((d) => ({ ...unitDescriptor(d.units), description: d.name }));
    const valueAxis = m.dimensions[m.dimensions.length - 1]!;
    if (valueAxis.units) out.units = unitDescriptor(valueAxis.units);
  } else if (m.units) {
    out.units = unitDescriptor(m.units);
  }
  if (m.docstring) out.docstring = m.docstring;
  if (m.measured_value !== undefined) out.measured_value = m.measured_value;
  return out;
}

export function toOpenHtf(record: RunRecord, readAttachment: (ref: AttachmentRef) => Uint8Array | undefined): Record<string, unknown> {
  const config = record.station.config_file;
  const phases = record.phases.map((phase, index) => {
    const attachments: Record<string, unknown> = {};
    for (const ref of phase.attachments) {
      const data = readAttachment(ref);
      attachments[ref.name] = { mimetype: ref.mime_type, sha1: ref.sha1, ...(data ? { data: Buffer.from(data).toString('base64') } : {}) };
    }
    return {
      name: phase.name,
      descriptor_id: index + 1,
      codeinfo: { name: phase.name, docstring: null, sourcecode: '' },
      measurements: Object.fromEntries(phase.measurements.map((m) => [m.name, measurement(m)])),
      options: { name: phase.name, timeout_s: null, run_if: null, requires_state: false, repeat_limit: phase.attempts > 1 ? phase.attempts : null },
      diagnosers: [],
      subtest_name: null,
      start_time_millis: millis(phase.started_at),
      end_time_millis: millis(phase.ended_at),
      attachments,
      diagnosis_results: [],
      failure_diagnosis_results: [],
      result: phaseResult(phase),
      outcome: phase.outcome,
      marginal: false,
    };
  });
  const logRecords = record.phases.flatMap((phase) =>
    phase.logs.map((log) => ({
      level: PY_LEVELS[log.level],
      logger_name: log.logger_name ?? 'kiso',
      source: log.source_file ?? phase.suite.file,
      lineno: log.line_number ?? 0,
      timestamp_millis: millis(log.timestamp),
      // OpenHTF's log record has no fields: they follow the message, as on kiso's console.
      message: log.fields ? `${log.message} ${logFieldsText(log.fields)}` : log.message,
    })),
  );
  return {
    dut_id: record.unit_under_test.serial_number,
    start_time_millis: millis(record.started_at),
    end_time_millis: millis(record.ended_at),
    outcome: record.outcome,
    outcome_details: record.outcome_details.map((d) => ({ code: d.code, description: d.description })),
    marginal: false,
    metadata: {
      test_name: record.procedure_name ?? record.procedure_id ?? config,
      test_version: record.procedure_version,
      config: {},
      procedure_id: record.procedure_id,
      part_number: record.unit_under_test.part_number,
      revision: record.unit_under_test.revision,
      batch_number: record.unit_under_test.batch_number,
      kiso_run_id: record.id,
      kiso_version: record.station.kiso_version,
    },
    phases,
    subtests: [],
    branches: [],
    diagnosers: [],
    diagnoses: [],
    log_records: logRecords,
    station_id: record.station.name,
    code_info: { name: config.split(/[\\/]/).pop() ?? config, docstring: null, sourcecode: '' },
  };
}
