import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, formatLogLine, silentLogger } from '../../src/core/logging.js';
import { checkScalar, describeLimits } from '../../src/results/limits.js';
import { resolveDeclarations } from '../../src/results/limits-table.js';
import { CaseMeasurements, checkDeclarations, evaluate, measurementVerdict } from '../../src/results/measurements.js';
import { ReporterMux } from '../../src/results/reporters/reporter.js';
import type { CaseResult, RunResult } from '../../src/results/outcomes.js';
import { OutputCapture, SuiteRunner, type AuxiliaryProvider, type RunnerOptions } from '../../src/runner/run.js';
import { defineSuite, type SuiteDefinition } from '../../src/runner/suite-api.js';

const noStation: AuxiliaryProvider = {
  auxiliary: (name) => {
    throw new Error(`no auxiliary ${name}`);
  },
  start: async () => {},
};

async function run(definition: SuiteDefinition, options: Partial<RunnerOptions> = {}): Promise<RunResult> {
  const log = options.log ?? silentLogger();
  return new SuiteRunner(noStation, new ReporterMux([], log), { configFile: 'x.yaml', log, ...options }).run([{ file: '/x/test_m.ts', suiteId: 1, definition: defineSuite(definition) }]);
}

const only = (result: RunResult, index = 0): CaseResult => result.suites[0]!.cases[index]!;
const byName = (result: CaseResult) => Object.fromEntries((result.measurements ?? []).map((m) => [m.name, m]));

describe('limits', () => {
  it('lower and upper are inclusive, and either works alone', () => {
    const limits = { lower: 4.75, upper: 5.25 };
    assert.equal(checkScalar(4.75, limits).ok, true);
    assert.equal(checkScalar(5.25, limits).ok, true);
    assert.match(checkScalar(5.2501, limits).reason!, /5\.2501 is above the upper limit 5\.25/);
    assert.match(checkScalar(4.7, limits).reason!, /below the lower limit 4\.75/);
    assert.equal(checkScalar(1e9, { lower: 0 }).ok, true);
    assert.equal(checkScalar(-1, { upper: 0 }).ok, true);
    assert.equal(checkScalar(Number.NaN, limits).ok, false);
  });

  it('equals, regex and within', () => {
    assert.equal(checkScalar('1.4.2', { regex: '^1\\.4\\.\\d+$' }).ok, true);
    assert.match(checkScalar('2.0.0', { regex: '^1\\.4' }).reason!, /'2\.0\.0' does not match/);
    assert.equal(checkScalar(true, { equals: true }).ok, true);
    assert.equal(checkScalar(false, { equals: true }).ok, false);
    assert.equal(checkScalar('OK', { equals: 'OK' }).ok, true);
    assert.equal(checkScalar(5.09, { within: { nominal: 5, percent: 2 } }).ok, true);
    assert.equal(checkScalar(5.11, { within: { nominal: 5, percent: 2 } }).ok, false);
    assert.equal(checkScalar(4.95, { within: { nominal: 5, absolute: 0.05 } }).ok, true);
  });

  it('a value the limits cannot check is unusable, not a failure of the unit', () => {
    assert.match(checkScalar('4.9', { lower: 4 }).unusable!, /numeric limits .* cannot check string/);
    assert.match(checkScalar(3, { regex: 'x' }).unusable!, /regex limit cannot check number/);
  });

  it("describes limits as OpenHTF's validators do", () => {
    assert.deepEqual(describeLimits({ lower: 4.75, upper: 5.25 }), ['4.75 <= x <= 5.25']);
    assert.deepEqual(describeLimits({ upper: 150 }), ['x <= 150']);
    assert.deepEqual(describeLimits({ lower: 1, upper: 1 }), ['x == 1']);
    assert.deepEqual(describeLimits({ equals: 'OK', regex: '^O' }), ["'x' is equal to 'OK'", "'x' matches /^O/"]);
  });
});

describe('measurement outcomes', () => {
  it('PASS, FAIL, UNSET, ERROR and SKIP', () => {
    const declaration = { name: 'v', units: 'V', limits: { lower: 1, upper: 2 } };
    assert.equal(evaluate(declaration, 1.5).outcome, 'PASS');
    assert.equal(evaluate(declaration, 2.5).outcome, 'FAIL');
    assert.equal(evaluate(declaration, undefined).outcome, 'UNSET');
    assert.equal(evaluate(declaration, 'high').outcome, 'ERROR');
    assert.equal(evaluate(declaration, 1.5, true).outcome, 'SKIP');
    assert.equal(evaluate({ name: 'free' }, 'anything').outcome, 'PASS');
  });

  it('a multi-dimensional measurement checks its last dimension in every row', () => {
    const declaration = { name: 'iv', dimensions: [{ name: 'time', units: 's' }, { name: 'voltage', units: 'V' }], limits: { upper: 5 } };
    const ok = evaluate(declaration, [[0, 4.9], [1, 5]]);
    assert.equal(ok.outcome, 'PASS');
    assert.deepEqual(ok.validators, ['All values pass: x <= 5']);
    const bad = evaluate(declaration, [[0, 4.9], [1, 5.1]]);
    assert.equal(bad.outcome, 'FAIL');
    assert.match(bad.message!, /5\.1 is above the upper limit 5 \(row 1\)/);
  });

  it('set() refuses what cannot be a value, and names it', () => {
    const set = new CaseMeasurements([{ name: 'v' }, { name: 'iv', dimensions: [{ name: 't' }, { name: 'v' }] }]);
    assert.throws(() => set.set('nope', 1), /measurement "nope" is not declared on this case \(declared: v, iv\)/);
    assert.throws(() => set.set('v', { volts: 1 } as never), /must be a number, a string or a boolean/);
    assert.throws(() => set.set('iv', 3), /has dimensions \(t, v\): set it to rows/);
    assert.throws(() => set.addRow('iv', [1, 2, 3]), /row 0 must list 2 numbers or strings/);
    set.addRow('iv', [0, 1]).addRow('iv', [1, 2]);
    assert.deepEqual(set.get('iv'), [[0, 1], [1, 2]]);
  });

  it('the verdict: ERROR before FAIL; UNSET fails', () => {
    assert.equal(measurementVerdict([evaluate({ name: 'a' }, 1)]), undefined);
    assert.equal(measurementVerdict([evaluate({ name: 'a' }, undefined)])?.outcome, 'failed');
    assert.equal(measurementVerdict([evaluate({ name: 'a', limits: { upper: 1 } }, 2), evaluate({ name: 'b', limits: { upper: 1 } }, 'x')])?.outcome, 'error');
  });

  it('the verdict names every measurement that did not pass, the ERROR one and the FAIL ones alike', () => {
    const verdict = measurementVerdict([
      evaluate({ name: 'rail', units: 'V', limits: { lower: 4.75, upper: 5.25 } }, 5.6),
      evaluate({ name: 'ok', limits: { upper: 1 } }, 0),
      evaluate({ name: 'mode', limits: { upper: 1 } }, 'x'),
      evaluate({ name: 'gain' }, undefined),
    ]);
    assert.equal(verdict?.outcome, 'error');
    assert.equal(
      verdict?.message,
      'measurement rail FAIL: 5.6 is above the upper limit 5.25 [4.75 <= x <= 5.25]; measurement mode ERROR: numeric limits (x <= 1) cannot check string \'x\' [x <= 1]; measurement gain UNSET: declared but never set',
    );
  });

  it('declarations are checked when the suite loads', () => {
    assert.deepEqual(checkDeclarations([{ name: 'a' }, { name: 'b', limits: { lower: 2, upper: 1 } }]), ['measurement "b": lower limit 2 is above upper limit 1']);
    assert.match(checkDeclarations([{ name: 'a' }, { name: 'a' }])[0]!, /declared twice/);
    assert.match(checkDeclarations([{ name: '1 bad' }])[0]!, /no valid name/);
    assert.match(checkDeclarations([{ name: 'r', limits: { regex: '(' } }])[0]!, /invalid regex/);
  });
});

describe('limits from the station file', () => {
  it("replace the code's limits, and declare what the code does not", () => {
    const table = { 'power board': { 'supply rail': { supply_voltage: { lower: 4.75, upper: 5.25 }, ripple: { upper: 0.05 } } } };
    const resolved = resolveDeclarations(table, 'power board', 'supply rail', [{ name: 'supply_voltage', units: 'V', limits: { lower: 4.5, upper: 5.5 } }, { name: 'current', units: 'mA' }]);
    assert.deepEqual(resolved, [
      { name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 }, limitsSource: 'limits file' },
      { name: 'current', units: 'mA', limitsSource: 'code' },
      { name: 'ripple', limits: { upper: 0.05 }, limitsSource: 'limits file' },
    ]);
    assert.deepEqual(resolveDeclarations(table, 'other suite', 'supply rail', [{ name: 'x' }]), [{ name: 'x', limitsSource: 'code' }]);
  });
});

describe('measurements in a run', () => {
  it('a failed measurement fails the case without stopping the rest of it', async () => {
    let reachedEnd = false;
    const result = await run({
      cases: [
        {
          name: 'rail',
          measurements: [
            { name: 'supply_voltage', units: 'V', limits: { lower: 4.75, upper: 5.25 } },
            { name: 'current', units: 'mA', limits: { upper: 150 } },
          ],
          run(ctx) {
            ctx.measurements.set('supply_voltage', 5.6);
            ctx.measurements.set('current', 120);
            reachedEnd = true;
          },
        },
        { name: 'next', run() {} },
      ],
    });
    assert.equal(reachedEnd, true);
    const rail = only(result);
    assert.equal(rail.outcome, 'failed');
    assert.equal(rail.error!.type, 'MeasurementFailure');
    assert.match(rail.error!.message, /measurement supply_voltage FAIL: 5\.6 is above the upper limit 5\.25 \[4\.75 <= x <= 5\.25\]/);
    assert.equal(byName(rail).supply_voltage!.outcome, 'FAIL');
    assert.equal(byName(rail).current!.outcome, 'PASS');
    assert.equal(byName(rail).current!.value, 120);
    assert.equal(only(result, 1).outcome, 'passed');
    assert.equal(result.outcome, 'failed');
  });

  it('a declared measurement never set is UNSET and fails the case', async () => {
    const result = await run({ cases: [{ name: 'forgets', measurements: [{ name: 'gain', units: 'dB' }], run() {} }] });
    assert.equal(only(result).outcome, 'failed');
    assert.equal(byName(only(result)).gain!.outcome, 'UNSET');
    assert.match(only(result).error!.message, /measurement gain UNSET: declared but never set/);
  });

  it('a value the limits cannot check makes the case ERROR', async () => {
    const result = await run({ cases: [{ name: 'wrong type', measurements: [{ name: 'v', limits: { upper: 5 } }], run: (ctx) => void ctx.measurements.set('v', 'five') }] });
    assert.equal(only(result).outcome, 'error');
    assert.equal(byName(only(result)).v!.outcome, 'ERROR');
  });

  it('an assertion failure keeps its own message, and the measurements taken before it', async () => {
    const result = await run({
      cases: [
        {
          name: 'asserts',
          measurements: [{ name: 'a' }, { name: 'b' }],
          run(ctx) {
            ctx.measurements.set('a', 1);
            throw Object.assign(new Error('device did not boot'), { name: 'AssertionError' });
          },
        },
      ],
    });
    assert.equal(only(result).outcome, 'failed');
    assert.equal(only(result).error!.message, 'device did not boot');
    assert.equal(byName(only(result)).a!.outcome, 'PASS');
    assert.equal(byName(only(result)).b!.outcome, 'UNSET');
  });

  it('ctx.measure records an undeclared measurement, limits file included', async () => {
    const limits = { s: { c: { temperature: { upper: 60 } } } };
    const result = await run(
      {
        name: 's',
        cases: [
          {
            name: 'c',
            run(ctx) {
              ctx.measure('temperature', 71.5, { units: '°C', limits: { upper: 85 } });
              ctx.measure('firmware', '1.4.2');
            },
          },
        ],
      },
      { limits },
    );
    const measured = byName(only(result));
    assert.equal(measured.temperature!.outcome, 'FAIL', 'the limits file (60) wins over the code (85)');
    assert.equal(measured.temperature!.units, '°C');
    assert.equal(measured.temperature!.limitsSource, 'limits file');
    assert.equal(measured.firmware!.outcome, 'PASS');
  });

  it("a limits-file measurement the code never sets fails the case: the procedure expects it", async () => {
    const result = await run({ name: 's', cases: [{ name: 'c', run() {} }] }, { limits: { s: { c: { ripple: { upper: 0.05 } } } } });
    assert.equal(only(result).outcome, 'failed');
    assert.equal(byName(only(result)).ripple!.outcome, 'UNSET');
  });

  it('a skipped case records its declared measurements as SKIP', async () => {
    const result = await run({ cases: [{ name: 'later', skip: 'no chamber', measurements: [{ name: 't', units: '°C' }], run() {} }] });
    assert.equal(only(result).outcome, 'skipped');
    assert.equal(byName(only(result)).t!.outcome, 'SKIP');
  });

  it('a retried case keeps the measurements of its last attempt', async () => {
    let attempt = 0;
    const result = await run({ cases: [{ name: 'flaky', retries: 1, measurements: [{ name: 'v', limits: { upper: 1 } }], run: (ctx) => void ctx.measurements.set('v', ++attempt === 1 ? 2 : 0.5) }] });
    assert.equal(only(result).outcome, 'passed');
    assert.equal(only(result).attempts, 2);
    assert.equal(byName(only(result)).v!.value, 0.5);
  });
});

describe('attachments and logs of a case', () => {
  it('attaches bytes, text and files, with a MIME type and a SHA-1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiso-attach-'));
    writeFileSync(path.join(dir, 'trace.csv'), 't,v\n0,1\n');
    const result = await run({
      cases: [
        {
          name: 'files',
          run(ctx) {
            ctx.attach('raw.bin', new Uint8Array([1, 2, 3]));
            ctx.attach('note.txt', 'hello');
            ctx.attach('trace.csv', { path: path.join(dir, 'trace.csv') });
            assert.throws(() => ctx.attach('note.txt', 'again'), /already attached/);
            assert.throws(() => ctx.attach('../escape', 'x'), /not valid/);
          },
        },
      ],
    });
    assert.equal(only(result).outcome, 'passed');
    const attachments = only(result).attachments!;
    assert.deepEqual(attachments.map((a) => [a.name, a.mimeType, a.size]), [['raw.bin', 'application/octet-stream', 3], ['note.txt', 'text/plain', 5], ['trace.csv', 'text/csv', 8]]);
    assert.equal(attachments[1]!.sha1, 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d');
  });

  it("keeps each case's log lines structured, with the suite file and line that logged them", async () => {
    const capture = new OutputCapture();
    const { logger } = createLogger({ level: 'info', capture: (line) => capture.pushJson(line, formatLogLine) });
    const result = await run(
      {
        cases: [
          {
            name: 'logs',
            run(ctx) {
              ctx.log.info({ volts: 5 }, 'measured');
              ctx.log.warn('rail is noisy');
              ctx.log.debug('hidden at info');
            },
          },
        ],
      },
      { log: logger, capture },
    );
    const logs = only(result).logs!;
    assert.deepEqual(logs.map((l) => [l.level, l.message]), [[30, 'measured'], [40, 'rail is noisy']]);
    assert.equal(logs[0]!.caller, `${path.resolve('test/unit/measurements.test.ts')}:${logLine('measured')}`);
    assert.match(only(result).output[0]!, /INFO  measured .*volts=5/);
    assert.doesNotMatch(only(result).output[0]!, /caller=/, 'the console does not show the call site');
  });
});

/** The line of this file that logs `message`, so the test does not hard-code a number. */
function logLine(message: string): number {
  return readFileSync(new URL(import.meta.url), 'utf8').split('\n').findIndex((line) => line.includes(`'${message}');`)) + 1;
}
