import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRequirements, satisfies } from '../../src/config/requirements.js';

describe("pykiso's requirements: version conditions", () => {
  it('reads a minimum, any, and comma-joined conditions', () => {
    assert.equal(satisfies('0.10.1', '0.10.1'), true);
    assert.equal(satisfies('0.10.0', '0.10.1'), false);
    assert.equal(satisfies('3.0.0', 'any'), true);
    assert.equal(satisfies('0.12.0', '>=0.10.1, <1.0.0'), true);
    assert.equal(satisfies('1.0.0', '>=0.10.1, <1.0.0'), false);
    assert.equal(satisfies('2.1', '==2.1.0'), true);
    assert.equal(satisfies('2.1.0', '!=2.1'), false);
    assert.equal(satisfies('1.2.3-beta', '>1.2'), true);
  });

  it('reports a malformed entry at its path and notes what kiso cannot check', () => {
    const problems: string[] = [];
    const notes = checkRequirements([{ pykiso: '>=0.10' }, { numpy: 'any' }, { kiso: 'latest' }, 'pyyaml'], (at, message) => problems.push(`${at.join('.')}: ${message}`));
    assert.equal(notes.length, 2);
    assert.match(problems[0]!, /^requirements\.2\.kiso: "latest" is not a version requirement/);
    assert.match(problems[1]!, /^requirements\.3: must be one "package: version" mapping/);
  });
});
