import path from 'node:path';
import type { MeasurementOutcome } from '../measurements.js';
import { logFieldsText } from './log-fields.js';
import type { AttachmentRef, LogLevelName, MeasurementRecord, PhaseRecord, RunRecord } from './types.js';

/**
 * A kiso run record as an OpenHTF JSON test record, the shape OpenHTF's
 * OutputToJSON writes (TestRecord.as_base_types with inline attachments),
 * which OpenHTF's tools and TofuPilot's OpenHTF importer read.
 */

/**
 * OpenHTF's UnitDescriptors (openhtf/util/units.py: name, UN/CEFACT code,
 * suffix) of the usual bench units, keyed by what a kiso suite writes. The
 * suffix is OpenHTF's own: `Ω` is U+2126 OHM SIGN whichever omega the suite
 * typed, and `%` is `units.PERCENT`, whose suffix is `pct`. Other units keep
 * their text, with no code.
 */
const OHM = { name: 'ohm', code: 'OHM', suffix: '\u2126' };
const PERCENT = { name: 'percent', code: 'P1', suffix: 'pct' };
const UNITS: Record<string, { name: string; code: string; suffix: string }> = {
  V: { name: 'volt', code: 'VLT', suffix: 'V' },
  mV: { name: 'millivolt', code: '2Z', suffix: 'mV' },
  A: { name: 'ampere', code: 'AMP', suffix: 'A' },
  mA: { name: 'milliampere', code: '4K', suffix: 'mA' },
  W: { name: 'watt', code: 'WTT', suffix: 'W' },
  mW: { name: 'milliwatt', code: 'C31', suffix: 'mW' },
  s: { name: 'second [unit of time]', code: 'SEC', suffix: 's' },
  ms: { name: 'millisecond', code: 'C26', suffix: 'ms' },
  '\u00b5s': { name: 'microsecond', code: 'B98', suffix: '\u00b5s' },
  '\u03bcs': { name: 'microsecond', code: 'B98', suffix: '\u00b5s' },
  us: { name: 'microsecond', code: 'B98', suffix: '\u00b5s' },
  Hz: { name: 'hertz', code: 'HTZ', suffix: 'Hz' },
  kHz: { name: 'kilohertz', code: 'KHZ', suffix: 'kHz' },
  MHz: { name: 'megahertz', code: 'MHZ', suffix: 'MHz' },
  '\u2126': OHM,
  '\u03a9': OHM,
  ohm: OHM,
  F: { name: 'farad', code: 'FAR', suffix: 'F' },
  '\u00b5F': { name: 'microfarad', code: '4O', suffix: '\u00b5F' },
  '\u03bcF': { name: 'microfarad', code: '4O', suffix: '\u00b5F' },
  H: { name: 'henry', code: '81', suffix: 'H' },
  '\u00b0C': { name: 'degree Celsius', code: 'CEL', suffix: '\u00b0C' },
  K: { name: 'kelvin', code: 'KEL', suffix: 'K' },
  '%': PERCENT,
  pct: PERCENT,
  dB: { name: 'decibel', code: '2N', suffix: 'dB' },
  m: { name: 'metre', code: 'MTR', suffix: 'm' },
  mm: { name: 'millimetre', code: 'MMT', suffix: 'mm' },
  g: { name: 'gram', code: 'GRM', suffix: 'g' },
  kg: { name: 'kilogram', code: 'KGM', suffix: 'kg' },
  N: { name: 'newton', code: 'NEW', suffix: 'N' },
  Pa: { name: 'pascal', code: 'PAL', suffix: 'Pa' },
  kPa: { name: 'kilopascal', code: 'KPA', suffix: 'kPa' },
  lx: { name: 'lux', code: 'LUX', suffix: 'lx' },
  byte: { name: 'byte', code: 'AD', suffix: 'byte' },
  bit: { name: 'bit', code: 'A99', suffix: 'bit' },
};

export interface UnitDescriptor {
  name: string;
  code: string | null;
  suffix: string | null;
}

export function unitDescriptor(units: string | undefined): UnitDescriptor {
  if (!units) return { name: 'None', code: null, suffix: null };
  return UNITS[units] ?? { name: units, code: null, suffix: units };
}

/**
 * OpenHTF's Dimension as base types: `name` is the axis name (its
 * description), the code and suffix are its unit's; an axis without units is
 * NO_DIMENSION (`NDL`, no suffix).
 */
function dimension(axis: { name: string; units?: string }): Record<string, unknown> {
  const unit = axis.units ? unitDescriptor(axis.units) : { code: 'NDL', suffix: null };
  return { code: unit.code, description: axis.name, name: axis.name, suffix: unit.suffix };
}

/** Python's re.escape (3.7+): what OpenHTF's equals() puts around a string. */
const pyReEscape = (text: string): string => text.replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, '\\$&');

/** A number as Python's str() writes it (an integer stays one: kiso cannot tell 5 from 5.0). */
const pyNumber = (value: number): string => (Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan');

/**
 * The validator strings OpenHTF writes for the same limits: `x == True` for
 * a boolean (Python's bool is a number, so equals() is a range), a string's
 * equals() is a regex match, within_percent ends with a period.
 */
function validators(m: MeasurementRecord): string[] {
  const limits = m.limits;
  if (!limits) return m.validators;
  const out: string[] = [];
  const { lower, upper, equals, regex, within } = limits;
  if (lower !== undefined && upper !== undefined) out.push(lower === upper ? `x == ${pyNumber(lower)}` : `${pyNumber(lower)} <= x <= ${pyNumber(upper)}`);
  else if (lower !== undefined) out.push(`${pyNumber(lower)} <= x`);
  else if (upper !== undefined) out.push(`x <= ${pyNumber(upper)}`);
  if (typeof equals === 'boolean') out.push(`x == ${equals ? 'True' : 'False'}`);
  else if (typeof equals === 'number') out.push(`x == ${pyNumber(equals)}`);
  else if (typeof equals === 'string') out.push(`'x' matches /^${pyReEscape(equals)}$/`);
  if (regex !== undefined) out.push(`'x' matches /${regex}/`);
  if (within) out.push(within.percent !== undefined ? `'x' is within ${within.percent}% of ${within.nominal}.` : `'x' is within ±${within.absolute ?? 0} of ${within.nominal}`);
  return m.dimensions?.length ? out.map((text) => `All values pass: ${text}`) : out;
}

/** Python logging level numbers, which OpenHTF's log records carry. */
const PY_LEVELS: Record<LogLevelName, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

/** OpenHTF has no ERROR or SKIP for a measurement: a value that could not be checked failed, one not taken was skipped. */
const MEASUREMENT_OUTCOMES: Record<MeasurementOutcome, string> = { PASS: 'PASS', FAIL: 'FAIL', ERROR: 'FAIL', UNSET: 'UNSET', SKIP: 'SKIPPED' };

const millis = (iso: string): number => Date.parse(iso);

/** Python's str() of an exception class, as OpenHTF's ExceptionInfo writes exc_type. */
const pyClass = (type: string): string => `<class '${type}'>`;

function phaseResult(phase: PhaseRecord): Record<string, unknown> {
  if (phase.outcome === 'SKIP') return { phase_result: 'SKIP' };
  if (phase.outcome === 'ERROR' && phase.error) {
    return { phase_result: { exc_type: pyClass(phase.error.type), exc_val: phase.error.message, exc_tb: phase.error.stack ?? `${phase.error.type}: ${phase.error.message}` } };
  }
  // kiso fails a case without stopping the run, as OpenHTF's FAIL_AND_CONTINUE does.
  return { phase_result: phase.outcome === 'FAIL' && phase.error?.type !== 'MeasurementFailure' ? 'FAIL_AND_CONTINUE' : 'CONTINUE' };
}

/** OpenHTF's PhaseOptions, every attribute as attr.asdict writes them. */
function phaseOptions(phase: PhaseRecord): Record<string, unknown> {
  return {
    name: phase.name,
    timeout_s: null,
    run_if: null,
    requires_state: false,
    force_repeat: false,
    repeat_on_measurement_fail: false,
    repeat_on_timeout: false,
    repeat_limit: phase.attempts > 1 ? phase.attempts : null,
    run_under_pdb: false,
    phase_name_case: 'KEEP',
    stop_on_measurement_fail: false,
  };
}

function measurement(m: MeasurementRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { name: m.name, outcome: MEASUREMENT_OUTCOMES[m.outcome] };
  const texts = validators(m);
  if (texts.length) out.validators = texts;
  if (m.dimensions?.length) {
    // OpenHTF's dimensions are the coordinates; the last kiso dimension is the measured value and its units.
    out.dimensions = m.dimensions.slice(0, -1).map(dimension);
    const valueAxis = m.dimensions[m.dimensions.length - 1]!;
    if (valueAxis.units) out.units = unitDescriptor(valueAxis.units);
  } else if (m.units) {
    out.units = unitDescriptor(m.units);
  }
  if (m.docstring) out.docstring = m.docstring;
  if (m.measured_value !== undefined) out.measured_value = m.measured_value;
  return out;
}

/**
 * OpenHTF's outcome_details: a phase that raised gives the exception's class
 * as code and its text as description; kiso's run-level details
 * (KISO_ABORTED, KISO_RUN_INCOMPLETE) keep their code.
 */
function outcomeDetails(record: RunRecord): Array<{ code: string; description: string }> {
  const phaseDetails = record.phases
    .filter((p) => p.outcome === 'FAIL' || p.outcome === 'ERROR')
    .map((p) => ({ code: p.error?.type ?? p.outcome, description: p.error?.message ?? p.outcome }));
  const runDetails = record.outcome_details.filter((d) => d.code === 'KISO_ABORTED' || d.code === 'KISO_RUN_INCOMPLETE');
  return [...runDetails.map((d) => ({ code: d.code, description: d.description })), ...phaseDetails];
}

export interface OpenHtfOptions {
  /** true (OpenHTF's default): each attachment's bytes in base64 under `data`; false: only `mimetype` and `sha1`, as OutputToJSON(inline_attachments=False) writes. */
  inlineAttachments?: boolean;
}

export function toOpenHtf(record: RunRecord, readAttachment: (ref: AttachmentRef) => Uint8Array | undefined, options: OpenHtfOptions = {}): Record<string, unknown> {
  const inline = options.inlineAttachments ?? true;
  const config = record.station.config_file;
  const phases = record.phases.map((phase, index) => {
    const attachments: Record<string, unknown> = {};
    for (const ref of phase.attachments) {
      const data = inline ? readAttachment(ref) : undefined;
      attachments[ref.name] = { mimetype: ref.mime_type, sha1: ref.sha1, ...(data ? { data: Buffer.from(data).toString('base64') } : {}) };
    }
    return {
      name: phase.name,
      descriptor_id: index + 1,
      codeinfo: { name: phase.name, docstring: null, sourcecode: '' },
      measurements: Object.fromEntries(phase.measurements.map((m) => [m.name, measurement(m)])),
      options: phaseOptions(phase),
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
      // OpenHTF keeps the file's base name (os.path.basename of the record's pathname).
      source: path.basename(log.source_file ?? phase.suite.file),
      lineno: log.line_number ?? 0,
      timestamp_millis: millis(log.timestamp),
      // OpenHTF's log record has no fields: they follow the message, as on kiso's console.
      message: log.fields ? `${log.message} ${logFieldsText(log.fields)}` : log.message,
    })),
  );
  return {
    // OpenHTF's default_dut_id when nothing set one.
    dut_id: record.unit_under_test.serial_number ?? 'UNKNOWN_DUT',
    start_time_millis: millis(record.started_at),
    end_time_millis: millis(record.ended_at),
    outcome: record.outcome,
    outcome_details: outcomeDetails(record),
    marginal: false,
    metadata: {
      test_name: record.procedure_name ?? record.procedure_id ?? config,
      test_version: record.procedure_version,
      config: {},
      procedure_id: record.procedure_id,
      part_number: record.unit_under_test.part_number,
      revision: record.unit_under_test.revision,
      batch_number: record.unit_under_test.batch_number,
      sub_units: record.unit_under_test.sub_units ?? [],
      operated_by: record.operated_by ?? null,
      ...(record.station.slot !== undefined ? { fixture_slot: record.station.slot } : {}),
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
