import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommunicationAuxiliary } from '../../src/auxiliaries/communication.js';
import { silentLogger } from '../../src/core/logging.js';
import { ReporterMux, type Reporter } from '../../src/results/reporters/reporter.js';
import type { CaseResult, RunResult } from '../../src/results/outcomes.js';
import { OutputCapture, SuiteRunner, type AuxiliaryProvider, type LoadedSuite, type RunnerOptions } from '../../src/runner/run.js';
import { defineSuite, type SuiteDefinition } from '../../src/runner/suite-api.js';
import { MemoryConnector } from '../helpers/memory-connector.js';

function provider(): AuxiliaryProvider & { aux: CommunicationAuxiliary } {
  const aux = new CommunicationAuxiliary({}, { name: 'aux1', log: silentLogger(), connectors: { com: new MemoryConnector() }, baseDir: '.' });
  return {
    aux,
    auxiliary: (name) => {
      if (name !== 'aux1') throw new Error(`no auxiliary ${name}`);
      return aux;
    },
    start: async (names) => {
      for (const name of names) if (name === 'aux1' && aux.state !== 'running') await aux.createInstance();
    },
  };
}

async function run(definition: SuiteDefinition | SuiteDefinition[], options: Partial<RunnerOptions> = {}, reporters: Reporter[] = []): Promise<RunResult> {
  const suites: LoadedSuite[] = (Array.isArray(definition) ? definition : [definition]).map((d, i) => ({ file: `/x/test_${i}.ts`, suiteId: i + 1, definition: defineSuite(d) }));
  const log = silentLogger();
  const station = provider();
  const result = await new SuiteRunner(station, new ReporterMux(reporters, log), { configFile: 'x.yaml', log, ...options }).run(suites);
  await station.aux.stop();
  return result;
}

const outcomes = (result: RunResult) => result.suites.flatMap((s) => s.cases.map((c) => `${c.name}:${c.outcome}`));

describe('runner outcomes', () => {
  it('an assertion is a failure, anything else thrown is an error', async () => {
    const result = await run({
      cases: [
        { name: 'ok', run() {} },
        { name: 'assert', run: () => assert.equal(1, 2) },
        { name: 'throw', run: () => { throw new Error('boom'); } },
        { name: 'async assert', run: async () => assert.ok(false, 'nope') },
      ],
    });
    assert.deepEqual(outcomes(result), ['ok:passed', 'assert:failed', 'throw:error', 'async assert:failed']);
    assert.equal(result.outcome, 'error');
    assert.deepEqual(result.counts, { passed: 1, failed: 2, error: 1, skipped: 0, total: 4 });
  });

  it('a run timeout aborts the case, marks it ERROR and still runs its teardown', async () => {
    let tornDown = false;
    let sawAbort = false;
    const result = await run({
      cases: [
        {
          name: 'hangs',
          timeout: { run: 30 },
          run: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => { sawAbort = true; resolve(); })).then(() => new Promise(() => {})),
          teardown: () => { tornDown = true; },
        },
        { name: 'next', run() {} },
      ],
    });
    assert.deepEqual(outcomes(result), ['hangs:error', 'next:passed']);
    const hung = result.suites[0]!.cases[0]!;
    assert.match(hung.error!.message, /case "hangs" timed out after 30 ms/);
    assert.equal(hung.error!.code, 'KISO_TIMEOUT');
    assert.equal(sawAbort, true);
    assert.equal(tornDown, true);
  });

  it('a setup failure skips run but not teardown; a teardown failure errors a passing case', async () => {
    const calls: string[] = [];
    const result = await run({
      cases: [
        { name: 'bad setup', setup: () => { throw new Error('no power'); }, run: () => { calls.push('run'); }, teardown: () => { calls.push('teardown'); } },
        { name: 'bad teardown', run() {}, teardown: () => { throw new Error('relay stuck'); } },
      ],
    });
    assert.deepEqual(calls, ['teardown']);
    assert.deepEqual(outcomes(result), ['bad setup:error', 'bad teardown:error']);
    assert.equal(result.suites[0]!.cases[0]!.error!.step, 'setup');
    assert.equal(result.suites[0]!.cases[1]!.error!.step, 'teardown');
  });

  it('retries a failing case and reports the attempts', async () => {
    let attempts = 0;
    const result = await run({ cases: [{ name: 'flaky', retries: 2, run: () => assert.ok(++attempts >= 2, 'first attempt fails') }] });
    assert.deepEqual(outcomes(result), ['flaky:passed']);
    assert.equal(result.suites[0]!.cases[0]!.attempts, 2);
  });

  it('--failfast skips what comes after the first failure, across suites', async () => {
    const result = await run([{ cases: [{ name: 'a', run: () => assert.fail('x') }, { name: 'b', run() {} }] }, { cases: [{ name: 'c', run() {} }] }], { failfast: true });
    assert.deepEqual(outcomes(result), ['a:failed', 'b:skipped', 'c:skipped']);
    assert.match(result.suites[0]!.cases[1]!.skipReason!, /failfast/);
  });

  it('tag filters select cases whose tag has one of the values; a case without that tag still runs (pykiso --variant)', async () => {
    const result = await run(
      { tags: { branch: 'main' }, cases: [{ name: 'nightly', tags: { variant: ['nightly', 'full'] }, run() {} }, { name: 'quick', tags: { variant: 'quick' }, run() {} }, { name: 'untagged', run() {} }] },
      { tagFilters: { variant: ['full', 'other'] } },
    );
    assert.deepEqual(outcomes(result), ['nightly:passed', 'quick:skipped', 'untagged:passed']);
    assert.deepEqual(result.suites[0]!.cases[0]!.tags, { branch: ['main'], variant: ['nightly', 'full'] });
    assert.match(result.suites[0]!.cases[1]!.skipReason!, /not selected by --variant full,other/);
  });

  it('a suite setup failure errors every case and skips the suite teardown', async () => {
    let teardown = false;
    const result = await run({ setup: () => { throw new Error('fixture missing'); }, teardown: () => { teardown = true; }, cases: [{ name: 'a', run() {} }, { name: 'b', run() {} }] });
    assert.deepEqual(outcomes(result), ['a:error', 'b:error']);
    assert.match(result.suites[0]!.cases[0]!.error!.message, /suite setup failed: fixture missing/);
    assert.equal(teardown, false);
  });

  it('a suite teardown failure shows as its own error entry', async () => {
    const result = await run({ teardown: () => { throw new Error('cannot power off'); }, cases: [{ name: 'a', run() {} }] });
    assert.deepEqual(outcomes(result), ['a:passed', 'suite teardown:error']);
  });

  it('a suite that did not load is one error entry and the run goes on', async () => {
    const log = silentLogger();
    const station = provider();
    const result = await new SuiteRunner(station, new ReporterMux([], log), { configFile: 'x', log }).run([
      { file: '/x/test_broken.ts', suiteId: 1, loadError: new Error('SyntaxError: Unexpected token') },
      { file: '/x/test_ok.ts', suiteId: 2, definition: defineSuite({ cases: [{ name: 'ok', run() {} }] }) },
    ]);
    assert.deepEqual(outcomes(result), ['load suite:error', 'ok:passed']);
    assert.match(result.suites[0]!.cases[0]!.error!.message, /Unexpected token/);
  });

  it('an interrupted run errors the running step and skips the rest', async () => {
    const controller = new AbortController();
    const result = await run(
      { cases: [{ name: 'long', run: () => { setTimeout(() => controller.abort(), 10); return new Promise(() => {}); } }, { name: 'after', run() {} }] },
      { signal: controller.signal },
    );
    assert.deepEqual(outcomes(result), ['long:error', 'after:skipped']);
    assert.equal(result.outcome, 'aborted');
  });
});

describe('runner and auxiliaries', () => {
  it('starts the auxiliaries a case declares, lazily, and gives typed access', async () => {
    const station = provider();
    const log = silentLogger();
    let stateDuringCase = '';
    const suite = defineSuite({
      cases: [
        { name: 'no aux', run() { stateDuringCase = station.aux.state; } },
        { name: 'uses aux1', auxiliaries: ['aux1'], async run(ctx) { await ctx.aux<CommunicationAuxiliary>('aux1').send('hi'); } },
      ],
    });
    const result = await new SuiteRunner(station, new ReporterMux([], log), { configFile: 'x', log }).run([{ file: '/x/t.ts', suiteId: 1, definition: suite }]);
    assert.equal(stateDuringCase, 'idle');
    assert.deepEqual(outcomes(result), ['no aux:passed', 'uses aux1:passed']);
    assert.equal(station.aux.state, 'running');
    await station.aux.stop();
  });
});

describe('reporters', () => {
  it('one failing reporter does not stop the others or the run', async () => {
    const seen: CaseResult[] = [];
    const result = await run({ cases: [{ name: 'a', run() {} }] }, {}, [{ onCaseEnd: () => { throw new Error('disk full'); } }, { onCaseEnd: (r) => { seen.push(r); } }]);
    assert.equal(seen.length, 1);
    assert.equal(result.outcome, 'passed');
  });

  it("captures a case's log lines for its report", async () => {
    const capture = new OutputCapture();
    const { createLogger, formatLogLine } = await import('../../src/core/logging.js');
    const { logger } = createLogger({ level: 'info', capture: (line) => capture.pushJson(line, formatLogLine) });
    const suite = defineSuite({ cases: [{ name: 'talks', run(ctx) { ctx.log.info('voltage is 4.98 V'); } }, { name: 'quiet', run() {} }] });
    const result = await new SuiteRunner(provider(), new ReporterMux([], logger), { configFile: 'x', log: logger, capture }).run([{ file: '/x/t.ts', suiteId: 1, definition: suite }]);
    assert.equal(result.suites[0]!.cases[0]!.output.length, 1);
    assert.match(result.suites[0]!.cases[0]!.output[0]!, /INFO .*voltage is 4\.98 V/);
    assert.deepEqual(result.suites[0]!.cases[1]!.output, []);
  });
});

describe('timeouts win over a step that settles on abort', () => {
  it('a run that resolves when its signal aborts is still an ERROR', async () => {
    const result = await run({ cases: [{ name: 'quits on abort', timeout: 20, run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)) }] });
    assert.deepEqual(outcomes(result), ['quits on abort:error']);
  });
});
