import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Quantity, QuantityParseError, canonicalQuantity, compareQuantities, parseQuantity } from '../../../src/machinery/quantity.js';

test('canonical forms match what Kubernetes writes back', () => {
  const cases: Array<[string | number, string]> = [
    ['1000m', '1'],
    ['0.5Gi', '512Mi'],
    ['1.5', '1500m'],
    ['1024Mi', '1Gi'],
    ['100m', '100m'],
    ['2Gi', '2Gi'],
    ['500M', '500M'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1.5e3', '1500'],
    ['12e6', '12e6'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['0.1', '100m'],
    ['250m', '250m'],
    ['1.5Gi', '1536Mi'],
    ['1.5Ki', '1536'],
    ['512Ki', '512Ki'],
    ['1048576Ki', '1Gi'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['123Mi', '123Mi'],
    ['0', '0'],
    ['-0', '0'],
    ['0Gi', '0'],
    ['+1', '1'],
    ['-100m', '-100m'],
    ['0.0000000001', '1n'],
    ['1.0000000001', '1000000001n'],
    ['1E', '1E'],
    ['1000P', '1E'],
    ['0.5Ki', '512'],
    [1, '1'],
    [0.25, '250m'],
    ['007', '7'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, `canonical(${JSON.stringify(input)})`);
});

test('invalid quantities give Kubernetes error messages', () => {
  const formatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  for (const bad of ['', 'abc', '1Gb', '1Zi', '1.2.3', '1 Gi']) {
    assert.throws(() => parseQuantity(bad), (e: unknown) => e instanceof QuantityParseError && e.message === formatWrong, bad);
  }
  for (const bad of ['1ki', '1e', '1iK']) {
    assert.throws(() => parseQuantity(bad), { message: "unable to parse quantity's suffix" }, bad);
  }
  assert.equal(Quantity.tryParse('nope'), undefined);
});

test('comparison is exact across suffixes', () => {
  assert.equal(compareQuantities('1', '1000m'), 0);
  assert.equal(compareQuantities('1Gi', '1G'), 1);
  assert.equal(compareQuantities('999m', '1'), -1);
  assert.equal(compareQuantities('1Ki', '1024'), 0);
  assert.equal(parseQuantity('2Gi').equals(parseQuantity('2048Mi')), true);
});

test('addition is exact and keeps the first operand format', () => {
  let sum = Quantity.zero();
  for (let i = 0; i < 10; i++) sum = sum.add(parseQuantity('0.1'));
  assert.equal(sum.toString(), '1');
  assert.equal(parseQuantity('100m').add(parseQuantity('250m')).toString(), '350m');
  assert.equal(parseQuantity('1Gi').add(parseQuantity('512Mi')).toString(), '1536Mi');
  // The zero value takes the other operand's format.
  assert.equal(Quantity.zero().add(parseQuantity('1Gi')).toString(), '1Gi');
  assert.equal(parseQuantity('1').sub(parseQuantity('250m')).toString(), '750m');
  assert.equal(parseQuantity('1').sub(parseQuantity('2')).toString(), '-1');
});

test('value and milliValue round up', () => {
  assert.equal(parseQuantity('1500m').value(), 2n);
  assert.equal(parseQuantity('2').milliValue(), 2000n);
  assert.equal(parseQuantity('1.5n').milliValue(), 1n);
  assert.equal(parseQuantity('1Gi').value(), 1073741824n);
  assert.equal(parseQuantity('-1500m').value(), -2n);
  assert.equal(Quantity.fromMilli(1500).toString(), '1500m');
  assert.equal(Quantity.fromInt(2147483648, 'BinarySI').toString(), '2Gi');
  assert.equal(JSON.stringify({ cpu: parseQuantity('1000m') }), '{"cpu":"1"}');
});
