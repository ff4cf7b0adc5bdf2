import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, isSecretKey, redactLine } from '../../src/core/logging.js';

describe('log redaction', () => {
  it('knows a secret by its key in any spelling', () => {
    for (const key of ['key', 'password', 'PASSWORD', 'passwd', 'pwd', 'token', 'access_token', 'refreshToken', 'api_key', 'apiKey', 'API_KEY', 'apikey', 'api-key', 'X-Api-Key', 'secret', 'client_secret', 'clientSecret', 'Authorization', 'authorization', 'private_key', 'credentials', 'cookie', 'db_password_hash', 'passphrase']) {
      assert.ok(isSecretKey(key), key);
    }
    for (const key of ['msg', 'keys', 'keyboard', 'monkey', 'can_id', 'tokens_sent', 'author', 'level', 'dest_port', 'sortKeys']) {
      assert.ok(!isSecretKey(key), key);
    }
  });

  it('redacts at any depth, in arrays and in errors, and leaves the rest of the line alone', () => {
    const line = JSON.stringify({ level: 30, msg: 'm', key: 'S1', a: { b: { password: 'S2' } }, err: { type: 'Error', config: { api_key: 'S3' } }, list: [{ token: 'S4' }, 'plain'], port: 5 });
    const out = JSON.parse(redactLine(`${line}\n`)) as Record<string, any>;
    assert.doesNotMatch(JSON.stringify(out), /S[1-4]/);
    assert.equal(out.key, '[redacted]');
    assert.equal(out.a.b.password, '[redacted]');
    assert.equal(out.err.config.api_key, '[redacted]');
    assert.equal(out.list[0].token, '[redacted]');
    assert.equal(out.list[1], 'plain');
    assert.equal(out.port, 5);
    assert.ok(redactLine(`${line}\n`).endsWith('\n'));
  });

  it('every stream of a kiso logger gets the redacted line: the NDJSON file and the case capture', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kiso-redact-')), 'run.ndjson');
    const captured: string[] = [];
    const { logger, flush } = createLogger({ level: 'info', file, capture: (line) => captured.push(line) });
    const err = Object.assign(new Error('request failed'), { config: { headers: { Authorization: 'Bearer SECRET-A' }, api_key: 'SECRET-B' } });
    logger.child({ token: 'SECRET-C' }).info({ err, API_KEY: 'SECRET-D', deep: { x: [{ client_secret: 'SECRET-E' }] }, 'api-key': 'SECRET-F', passwd: 'SECRET-G', key: 'SECRET-H', apikey: 'SECRET-I', access_token: 'SECRET-J' }, 'calling the server');
    flush();
    const written = readFileSync(file, 'utf8');
    assert.match(written, /calling the server/);
    assert.match(written, /request failed/);
    assert.doesNotMatch(written, /SECRET-/);
    assert.equal(captured.length, 1);
    assert.doesNotMatch(captured[0]!, /SECRET-/);
  });
});
