import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../src/machinery/status-error.js';
import { checkSupportedFields, escapeFieldValue, fieldSelectorFromSet, parseFieldSelector } from '../../../src/machinery/fields.js';

test('parses =, == and != terms as kubectl sends them', () => {
  const s = parseFieldSelector('status.phase==Running,metadata.name=web-1,spec.nodeName!=');
  assert.deepEqual(s.requirements, [
    { field: 'metadata.name', operator: '=', value: 'web-1' },
    { field: 'spec.nodeName', operator: '!=', value: '' },
    { field: 'status.phase', operator: '=', value: 'Running' },
  ]);
  assert.equal(s.matches({ 'metadata.name': 'web-1', 'spec.nodeName': 'node-a', 'status.phase': 'Running' }), true);
  assert.equal(s.matches({ 'metadata.name': 'web-1', 'spec.nodeName': '', 'status.phase': 'Running' }), false);
  // A field that is absent counts as the empty string.
  assert.equal(s.matches({ 'metadata.name': 'web-1', 'status.phase': 'Running' }), false);
  assert.equal(s.requiresExactMatch('metadata.name'), 'web-1');
  assert.equal(s.requiresExactMatch('spec.nodeName'), undefined);
  assert.equal(s.toString(), 'metadata.name=web-1,spec.nodeName!=,status.phase=Running');
});

test('empty selector and empty terms match everything', () => {
  assert.equal(parseFieldSelector('').empty(), true);
  assert.equal(parseFieldSelector(',,').matches({}), true);
});

test('escaped commas and equals signs in values', () => {
  const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,spec.x=y');
  assert.deepEqual(s.requirements[0], { field: 'metadata.name', operator: '=', value: 'a,b=c\\d' });
  assert.equal(escapeFieldValue('a,b=c\\d'), 'a\\,b\\=c\\\\d');
  assert.equal(s.toString(), 'metadata.name=a\\,b\\=c\\\\d,spec.x=y');
});

test('malformed selectors are 400 BadRequest', () => {
  assert.throws(() => parseFieldSelector('metadata.name'), (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  assert.throws(() => parseFieldSelector('a=b\\x'), { message: 'invalid field selector: invalid escape sequence: \\x' });
  assert.throws(() => parseFieldSelector('a=b=c'), { message: 'invalid field selector: unescaped character in value: =' });
  assert.throws(() => parseFieldSelector('a=b\\'), { message: 'invalid field selector: invalid escape sequence: \\' });
});

test('unsupported field labels are refused as the apiserver does', () => {
  const s = parseFieldSelector('metadata.name=x,spec.foo=y');
  assert.doesNotThrow(() => checkSupportedFields(s, ['metadata.name', 'spec.foo']));
  assert.throws(() => checkSupportedFields(s, ['metadata.name', 'metadata.namespace']), (e: unknown) => e instanceof StatusError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'field label not supported: spec.foo');
});

test('fieldSelectorFromSet pins each field', () => {
  const s = fieldSelectorFromSet({ 'spec.nodeName': 'n1' });
  assert.equal(s.matches({ 'spec.nodeName': 'n1' }), true);
  assert.equal(s.matches({ 'spec.nodeName': 'n2' }), false);
});
