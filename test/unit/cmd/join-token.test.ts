import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caHash, formatJoinToken, parseJoinToken } from '../../../src/cmd/join-token.js';

const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('a join token carries the CA hash and the secret, in k3s form', () => {
  const token = formatJoinToken(ca, 's3cret:with:colons');
  assert.match(token, /^K10[0-9a-f]{64}::server:s3cret:with:colons$/);
  assert.deepEqual(parseJoinToken(`${token}\n`), { caHash: caHash(ca), secret: 's3cret:with:colons' });
});

test('a bare secret is a token without a CA hash', () => {
  assert.deepEqual(parseJoinToken('abc123'), { secret: 'abc123' });
  assert.notEqual(caHash(ca), caHash(ca.replace('MIIB', 'MIIC')));
});
