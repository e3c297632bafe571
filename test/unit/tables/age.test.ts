import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, shortHumanDuration, translateTimestampSince } from '../../../src/apiserver/tables/age.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test('humanDuration matches Kubernetes duration.HumanDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [999, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [2 * m + 30 * s, '2m30s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 5 * m, '3h5m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [48 * h, '2d'],
    [3 * d + 4 * h, '3d4h'],
    [8 * d + 5 * h, '8d'],
    [400 * d, '400d'],
    [730 * d, '2y'],
    [740 * d, '2y10d'],
    [9 * 365 * d + 100 * d, '9y'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms}ms`);
});

test('humanDuration tolerates one second of clock skew, not more', () => {
  assert.equal(humanDuration(-500), '0s');
  assert.equal(humanDuration(-1500), '0s');
  assert.equal(humanDuration(-2500), '<invalid>');
});

test('shortHumanDuration keeps one unit', () => {
  assert.equal(shortHumanDuration(90 * s), '1m');
  assert.equal(shortHumanDuration(25 * h), '1d');
  assert.equal(shortHumanDuration(59 * s), '59s');
});

test('translateTimestampSince is <unknown> without a timestamp', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  assert.equal(translateTimestampSince(undefined, now), '<unknown>');
  assert.equal(translateTimestampSince('', now), '<unknown>');
  assert.equal(translateTimestampSince('2024-05-01T11:55:00Z', now), '5m');
  assert.equal(translateTimestampSince('2024-04-28T12:00:00Z', now), '3d');
});
