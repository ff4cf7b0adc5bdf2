import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaseChecks, printValue } from '../../src/results/checks.js';
import { isAssertionError } from '../../src/runner/run.js';

const rowsOf = (checks: CaseChecks) => checks.rows.map(({ kind, description, operator, expected, actual, outcome, steps }) => ({ kind, description, operator, expected, actual, outcome, steps }));

describe('ctx.check', () => {
  it('records each comparison with what was expected and what came, and returns whether it passed', () => {
    const checks = new CaseChecks();
    const check = checks.api();
    assert.equal(check(1, 'flag set'), true);
    assert.equal(check.equal('OK', 'OK', 'reply'), true);
    assert.equal(check.equal(Buffer.from([1, 2]), Buffer.from([1, 3]), 'bytes'), false);
    assert.equal(check.notEqual(3, 4, 'not four'), true);
    assert.equal(check.within(5.3, { lower: 4.75, upper: 5.25 }, 'supply'), false);
    assert.equal(check.within(NaN, { lower: 0 }, 'nan never within'), false);
    assert.equal(check.near(4.98, 5, 0.05, 'near five'), true);
    assert.equal(check.match('FW 1.4.2', /^FW \d+\.\d+\.\d+$/g, 'version'), true);
    assert.equal(check.includes('hello world', 'world', 'substring'), true);
    assert.equal(check.includes(Uint8Array.of(2, 0x10, 3), 0x11, 'byte'), false);
    assert.equal(check.includes([{ a: 1 }], { a: 1 }, 'element'), true);
    assert.deepEqual(rowsOf(checks), [
      { kind: 'check', description: 'flag set', operator: 'ok', expected: 'truthy', actual: '1', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'reply', operator: 'equal', expected: '"OK"', actual: '"OK"', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'bytes', operator: 'equal', expected: '<2 bytes 01 03>', actual: '<2 bytes 01 02>', outcome: 'failed', steps: undefined },
      { kind: 'check', description: 'not four', operator: 'notEqual', expected: 'not 4', actual: '3', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'supply', operator: 'within', expected: '4.75 ≤ x ≤ 5.25', actual: '5.3', outcome: 'failed', steps: undefined },
      { kind: 'check', description: 'nan never within', operator: 'within', expected: 'x ≥ 0', actual: 'NaN', outcome: 'failed', steps: undefined },
      { kind: 'check', description: 'near five', operator: 'near', expected: '5 ± 0.05', actual: '4.98', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'version', operator: 'match', expected: '/^FW \\d+\\.\\d+\\.\\d+$/g', actual: '"FW 1.4.2"', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'substring', operator: 'includes', expected: 'contains "world"', actual: '"hello world"', outcome: 'passed', steps: undefined },
      { kind: 'check', description: 'byte', operator: 'includes', expected: 'contains 0x11', actual: '<3 bytes 02 10 03>', outcome: 'failed', steps: undefined },
      { kind: 'check', description: 'element', operator: 'includes', expected: 'contains { a: 1 }', actual: '[ { a: 1 } ]', outcome: 'passed', steps: undefined },
    ]);
  });

  it('a global regex checks the same every time (no lastIndex carried over)', () => {
    const check = new CaseChecks().api();
    const pattern = /OK/g;
    assert.equal(check.match('OK', pattern), true);
    assert.equal(check.match('OK', pattern), true);
  });

  it('names the line of the suite that made the check', () => {
    const checks = new CaseChecks();
    checks.api().equal(1, 1, 'here');
    assert.match(checks.rows[0]!.location!, /test\/unit\/checks\.test\.ts:\d+$/);
  });

  it('the verdict names the first failed check and how many failed', () => {
    const checks = new CaseChecks();
    assert.equal(checks.verdict(), undefined);
    checks.api().equal(2, 1, 'first');
    assert.equal(checks.verdict(), 'check failed: "first": expected 1, got 2');
    checks.api()(false, 'second');
    assert.equal(checks.verdict(), '2 checks failed; first "first": expected 1, got 2');
  });

  it('prints long byte strings shortened', () => {
    assert.equal(printValue(new Uint8Array(100)), `<100 bytes ${Array(64).fill('00').join(' ')} …>`);
  });
});

describe('ctx.step', () => {
  it('groups the checks made inside, fails when one of them failed, and returns what fn returns', async () => {
    const checks = new CaseChecks();
    const step = checks.stepApi(isAssertionError);
    const value = await step('outer', async () => {
      checks.api().equal(1, 1, 'in outer');
      await step('inner', () => checks.api().equal(1, 2, 'in inner'));
      return 42;
    });
    assert.equal(value, 42);
    assert.deepEqual(
      checks.rows.map((r) => [r.kind, r.description, r.outcome, r.steps]),
      [
        ['step', 'outer', 'failed', undefined],
        ['check', 'in outer', 'passed', ['outer']],
        ['step', 'inner', 'failed', ['outer']],
        ['check', 'in inner', 'failed', ['outer', 'inner']],
      ],
    );
    assert.equal(typeof checks.rows[0]!.durationMs, 'number');
  });

  it('an assertion thrown inside is one failed row, even when the case records it again on its way out', async () => {
    const checks = new CaseChecks();
    const step = checks.stepApi(isAssertionError);
    let thrown: unknown;
    await step('compare', () => assert.equal(3, 4, 'three is four')).catch((error: unknown) => (thrown = error));
    checks.assertion(thrown as Error);
    assert.deepEqual(
      checks.rows.map((r) => [r.kind, r.description, r.operator, r.expected, r.actual, r.outcome]),
      [
        ['step', 'compare', undefined, undefined, undefined, 'failed'],
        ['assertion', 'three is four', 'strictEqual', '4', '3', 'failed'],
      ],
    );
    assert.match(checks.rows[1]!.location!, /checks\.test\.ts:\d+$/);
    assert.equal(checks.verdict(), undefined, 'an assertion fails the case by throwing, not through the verdict');
  });

  it('another error inside is an errored step that rethrows', async () => {
    const checks = new CaseChecks();
    await assert.rejects(
      checks.stepApi(isAssertionError)('boom', () => {
        throw new Error('device gone');
      }),
      /device gone/,
    );
    assert.deepEqual([checks.rows[0]!.outcome, checks.rows[0]!.message], ['error', 'device gone']);
  });
});
