import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KisoError } from '../../src/core/errors.js';
import { reviveError } from '../../src/processing/host-process.js';
import { serializeError } from '../../src/processing/protocol.js';

describe('errors across processes', () => {
  it('keep their name, code, message, stack and own plain fields (a UDS NRC), so test code reads them the same', () => {
    class NegativeResponse extends Error {
      nrc = 0x31;
      nrcName = 'requestOutOfRange';
      constructor() {
        super('ReadDataByIdentifier: negative response 0x31 requestOutOfRange');
        this.name = 'UdsNegativeResponseError';
      }
    }
    const revived = reviveError(structuredClone(serializeError(new NegativeResponse()))) as Error & { nrc?: number; nrcName?: string };
    assert.equal(revived.name, 'UdsNegativeResponseError');
    assert.equal(revived.nrc, 0x31);
    assert.equal(revived.nrcName, 'requestOutOfRange');
    assert.match(revived.stack ?? '', /NegativeResponse|UdsNegativeResponseError/);
    const kiso = reviveError(serializeError(new KisoError('KISO_AUX_CRASHED', 'gone')));
    assert.ok(kiso instanceof KisoError);
    assert.equal((kiso as KisoError).code, 'KISO_AUX_CRASHED');
  });
});
