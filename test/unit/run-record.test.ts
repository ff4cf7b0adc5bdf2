import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CaseAttachments } from '../../src/results/attachments.js';
import { evaluate } from '../../src/results/measurements.js';
import { isoDuration, newRunId, numericBounds, RunRecordBuilder } from '../../src/results/record/builder.js';
import { renderHtml } from '../../src/results/record/html.js';
import { toOpenHtf } from '../../src/results/record/openhtf.js';
import { niceTicks } from '../../src/results/record/svg-chart.js';
import { caseResult, META, recordOf, recordSchemaErrors } from '../helpers/records.js';

const attachments = new CaseAttachments();
attachments.attach('trace.csv', 't,v\n0,5\n');

/** A run with every kind of measurement, a failure, a skip, an attachment and logs. */
function richRecord() {
  return recordOf([
    caseResult({
      measurements: [
        evaluate({ name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 }, limitsSource: 'limits file' }, 4.98),
        evaluate({ name: 'firmware', limits: { regex: '^1\\.4' } }, '1.4.2'),
        evaluate({ name: 'self_test', limits: { equals: true } }, true),
        evaluate({ name: 'iv_curve', dimensions: [{ name: 'time', units: 's' }, { name: 'voltage', units: 'V' }, { name: 'current', units: 'A' }], limits: { upper: 2 } }, [[0, 5, 0.1], [1, 5, 0.5]]),
        evaluate({ name: 'noise', units: 'mV' }, Number.NaN),
      ],
      attachments: attachments.list,
      logs: [{ level: 30, time: Date.parse('2025-11-23T10:00:00.050Z'), message: 'rail ok', logger: 'power board › supply rail', caller: '/station/suites/test_power.ts:42' }],
    }),
    caseResult({
      caseId: 2,
      name: 'gain',
      outcome: 'failed',
      error: { type: 'MeasurementFailure', message: 'measurement gain FAIL: 3 is below the lower limit 10', step: 'run' },
      measurements: [evaluate({ name: 'gain', units: 'dB', limits: { lower: 10 } }, 3)],
    }),
    caseResult({ caseId: 3, name: 'chamber', outcome: 'skipped', skipReason: 'no chamber', attempts: 0, measurements: [evaluate({ name: 't', units: '°C' }, undefined, true)] }),
    caseResult({ caseId: 4, name: 'hangs', outcome: 'error', error: { type: 'KisoError', code: 'KISO_TIMEOUT', message: 'case "hangs" timed out after 200 ms', step: 'run', stack: 'KisoError: ...' } }),
  ]);
}

describe('the run record', () => {
  it('validates against schemas/run-record.schema.json', () => {
    const record = richRecord();
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.equal(record.outcome, 'ERROR');
    assert.equal(record.run_passed, false);
    assert.deepEqual(record.unit_under_test, { serial_number: 'SN-0001', part_number: 'PB-100', revision: 'C', batch_number: 'W47', sub_units: [] });
    assert.equal(record.duration, 'PT1.5S');
    assert.deepEqual(record.counts, { passed: 1, failed: 1, error: 1, skipped: 1, total: 4 });
    assert.deepEqual(record.outcome_details.map((d) => d.code), ['FAIL', 'KISO_TIMEOUT']);
  });

  it('the schema rejects what is not a record', () => {
    const record = richRecord();
    assert.notDeepEqual(recordSchemaErrors({ ...record, outcome: 'MAYBE' }), []);
    assert.notDeepEqual(recordSchemaErrors({ ...record, unit_under_test: { serial_number: 'x' } }), []);
    const { phases: _phases, ...noPhases } = record;
    assert.notDeepEqual(recordSchemaErrors(noPhases), []);
  });

  it('keeps NaN as text (JSON has none), logs with source file and line, attachments by path', () => {
    const record = richRecord();
    const [phase] = record.phases;
    assert.equal(phase!.measurements.find((m) => m.name === 'noise')!.measured_value, 'NaN');
    assert.deepEqual(phase!.logs[0], { level: 'INFO', timestamp: '2025-11-23T10:00:00.050Z', message: 'rail ok', logger_name: 'power board › supply rail', source_file: 'suites/test_power.ts', line_number: 42 });
    assert.deepEqual(phase!.attachments[0], { name: 'trace.csv', mime_type: 'text/csv', size: 8, sha1: createHash('sha1').update('t,v\n0,5\n').digest('hex'), path: `${record.id}.files/1/trace.csv` });
    assert.equal(record.phases[2]!.measurements[0]!.outcome, 'SKIP');
  });

  it('an incomplete record (kiso stopped early) says so and still validates', () => {
    const builder = new RunRecordBuilder(META);
    builder.start(Date.now());
    builder.addCase(caseResult());
    const record = builder.incomplete('ABORTED', 'interrupted twice');
    assert.deepEqual(recordSchemaErrors(record), []);
    assert.equal(record.outcome, 'ABORTED');
    assert.deepEqual(record.outcome_details, [{ code: 'KISO_ABORTED', description: 'interrupted twice' }]);
    assert.equal(record.phases.length, 1);
  });

  it("TofuPilot's lower_limit / upper_limit are the numeric bounds the limits imply", () => {
    assert.deepEqual(numericBounds({ lower: 1, upper: 2 }), { lower: 1, upper: 2 });
    assert.deepEqual(numericBounds({ upper: 2 }), { upper: 2 });
    assert.deepEqual(numericBounds({ within: { nominal: 5, percent: 10 } }), { lower: 4.5, upper: 5.5 });
    assert.deepEqual(numericBounds({ lower: 4.8, within: { nominal: 5, absolute: 0.5 } }), { lower: 4.8, upper: 5.5 });
    assert.deepEqual(numericBounds({ equals: 3 }), { lower: 3, upper: 3 });
    assert.deepEqual(numericBounds({ regex: 'x', equals: true }), {});
    const m = richRecord().phases[0]!.measurements;
    assert.deepEqual([m[0]!.lower_limit, m[0]!.upper_limit], [4.75, 5.25]);
    assert.equal('lower_limit' in m[1]!, false, 'a regex has no numeric bound');
  });

  it('ids sort by start time and durations are ISO 8601', () => {
    assert.match(newRunId(new Date('2025-11-23T10:31:12.345Z')), /^20251123-103112-[a-z0-9]{8}$/);
    assert.notEqual(newRunId(), newRunId());
    assert.deepEqual([0, 1000, 1234, 60_000].map(isoDuration), ['PT0S', 'PT1S', 'PT1.234S', 'PT60S']);
  });
});

describe('OpenHTF export', () => {
  const record = richRecord();
  const exported = toOpenHtf(record, () => Buffer.from('t,v\n0,5\n')) as Record<string, any>;

  it("has the top-level fields of OpenHTF's JSON test record", () => {
    // TestRecord.as_base_types() plus station_id and code_info (OpenHTF's _cached_record).
    for (const key of ['dut_id', 'start_time_millis', 'end_time_millis', 'outcome', 'outcome_details', 'marginal', 'metadata', 'phases', 'subtests', 'branches', 'diagnosers', 'diagnoses', 'log_records', 'station_id', 'code_info']) {
      assert.ok(key in exported, `missing ${key}`);
    }
    assert.equal(exported.dut_id, 'SN-0001');
    assert.equal(exported.station_id, 'bench-3');
    assert.equal(exported.outcome, 'ERROR');
    assert.equal(exported.start_time_millis, Date.parse(record.started_at));
    assert.equal(exported.end_time_millis - exported.start_time_millis, 1500);
    assert.deepEqual(Object.keys(exported.code_info), ['name', 'docstring', 'sourcecode']);
    assert.equal(exported.metadata.test_name, 'Power board functional test');
    assert.ok('config' in exported.metadata);
    // OpenHTF's code is the exception class of the phase that raised.
    assert.deepEqual(exported.outcome_details[1], { code: 'KisoError', description: 'case "hangs" timed out after 200 ms' });
    assert.equal(toOpenHtf(recordOf([caseResult()], { serialNumber: undefined }), () => undefined).dut_id, 'UNKNOWN_DUT', "OpenHTF's default_dut_id");
  });

  it('phases carry measurements by name, with units, dimensions, validators and outcomes', () => {
    const phase = exported.phases[0];
    for (const key of ['name', 'descriptor_id', 'codeinfo', 'measurements', 'options', 'start_time_millis', 'end_time_millis', 'attachments', 'result', 'outcome']) assert.ok(key in phase, `phase misses ${key}`);
    assert.deepEqual(phase.measurements.supply_voltage, { name: 'supply_voltage', outcome: 'PASS', validators: ['4.75 <= x <= 5.25'], units: { name: 'volt', code: 'VLT', suffix: 'V' }, measured_value: 4.98 });
    const iv = phase.measurements.iv_curve;
    assert.deepEqual(iv.dimensions, [{ code: 'SEC', description: 'time', name: 'time', suffix: 's' }, { code: 'VLT', description: 'voltage', name: 'voltage', suffix: 'V' }], "a Dimension's name is its axis name");
    assert.deepEqual(iv.units, { name: 'ampere', code: 'AMP', suffix: 'A' });
    assert.deepEqual(iv.measured_value, [[0, 5, 0.1], [1, 5, 0.5]]);
    assert.equal(phase.result.phase_result, 'CONTINUE');
    assert.deepEqual(phase.attachments['trace.csv'], { mimetype: 'text/csv', sha1: record.phases[0]!.attachments[0]!.sha1, data: Buffer.from('t,v\n0,5\n').toString('base64') });
    assert.equal(exported.phases[2].measurements.t.outcome, 'SKIPPED');
    assert.equal(exported.phases[3].result.phase_result.exc_type, "<class 'KisoError'>", "Python's str() of the class");
    assert.deepEqual(phase.measurements.self_test.validators, ['x == True']);
    assert.deepEqual(phase.measurements.firmware.validators, ["'x' matches /^1\\.4/"]);
    assert.equal(exported.phases[3].outcome, 'ERROR');
  });

  it('log records have the fields of OpenHTF\'s LogRecord', () => {
    assert.deepEqual(exported.log_records, [{ level: 20, logger_name: 'power board › supply rail', source: 'test_power.ts', lineno: 42, timestamp_millis: Date.parse('2025-11-23T10:00:00.050Z'), message: 'rail ok' }]);
  });
});

describe('HTML report', () => {
  it('is one page with nothing fetched, charts for multi-dimensional measurements and escaped text', () => {
    const record = recordOf([
      caseResult({
        name: '<script>alert(1)</script>',
        measurements: [evaluate({ name: 'iv_curve', dimensions: [{ name: 'time', units: 's' }, { name: 'voltage', units: 'V' }, { name: 'current', units: 'A' }], limits: { upper: 2 } }, [[0, 5, 0.1], [1, 5, 0.5], [2, 4.9, 0.7]])],
        attachments: attachments.list,
      }),
    ]);
    const html = renderHtml(record, () => Buffer.from('t,v\n0,5\n'));
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing is loaded from elsewhere');
    assert.equal(html.match(/<svg class="chart"/g)?.length, 2, 'voltage and current each get a chart');
    assert.match(html, /class="limit"><title>upper limit 2<\/title>/);
    assert.match(html, /<a download="trace.csv" href="data:text\/csv;base64,/);
  });

  it('chart ticks are round numbers covering the range', () => {
    assert.deepEqual(niceTicks(0, 20), [0, 5, 10, 15, 20]);
    assert.deepEqual(niceTicks(4.6, 5.3), [4.6, 4.8, 5, 5.2]);
  });
});
