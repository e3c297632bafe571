import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, validateAnnotations, validateLabels, validateLabelValue, validateQualifiedName } from '../../../src/machinery/name-validation.js';
import { fieldErrorMessage } from '../../../src/machinery/status-error.js';

test('DNS-1123 subdomain: valid names pass, invalid get Kubernetes message', () => {
  assert.deepEqual(isDNS1123Subdomain('example.com'), []);
  assert.deepEqual(isDNS1123Subdomain('web-7d9f8'), []);
  assert.deepEqual(isDNS1123Subdomain('My_Pod'), [
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  const long = 'a'.repeat(254);
  assert.deepEqual(isDNS1123Subdomain(long), ['must be no more than 253 characters']);
});

test('DNS-1123 label: dots get their own message', () => {
  assert.deepEqual(isDNS1123Label('kube-system'), []);
  assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  assert.deepEqual(isDNS1123Label('-x'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('DNS-1035 label must start with a letter', () => {
  assert.deepEqual(isDNS1035Label('svc-1'), []);
  assert.deepEqual(isDNS1035Label('1svc'), [
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('qualified names: prefix and name parts are checked separately', () => {
  assert.deepEqual(validateQualifiedName('app.kubernetes.io/name'), []);
  assert.deepEqual(validateQualifiedName('MyName'), []);
  assert.deepEqual(validateQualifiedName('/name'), ['prefix part must be non-empty']);
  assert.deepEqual(validateQualifiedName('Example.com/name'), [
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(validateQualifiedName('a/'), [
    'name part must be non-empty',
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]);
  assert.match(validateQualifiedName('a/b/c')[0]!, /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
  assert.deepEqual(validateQualifiedName('x'.repeat(64)), ['name part must be no more than 63 characters']);
});

test('label values may be empty but not contain spaces', () => {
  assert.deepEqual(validateLabelValue(''), []);
  assert.deepEqual(validateLabelValue('v1.2_3-x'), []);
  assert.deepEqual(validateLabelValue('a b'), [
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]);
});

test('validateLabels reports keys and values under the labels path', () => {
  assert.deepEqual(validateLabels({ app: 'web', 'app.kubernetes.io/name': 'x' }, 'metadata.labels'), []);
  const errs = validateLabels({ 'bad key': 'ok', good: 'bad value' }, 'metadata.labels').map(fieldErrorMessage);
  assert.equal(errs.length, 2);
  assert.match(errs[0]!, /^metadata\.labels: Invalid value: "bad key": name part must consist of alphanumeric characters/);
  assert.match(errs[1]!, /^metadata\.labels: Invalid value: "bad value": a valid label must be an empty string/);
});

test('validateAnnotations allows any value but checks keys and total size', () => {
  assert.deepEqual(validateAnnotations({ 'Example.com/Note': 'any text at all: {}' }, 'metadata.annotations'), []);
  assert.equal(validateAnnotations({ 'a b': '' }, 'metadata.annotations').length, 1);
  const big = validateAnnotations({ a: 'x'.repeat(256 * 1024) }, 'metadata.annotations').map(fieldErrorMessage);
  assert.deepEqual(big, ['metadata.annotations: Too long: may not be more than 262144 bytes']);
});
