import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, parseCron } from '../../../../src/machinery/cron.js';

function nextN(spec: string, from: string, n: number, tz?: string): string[] {
  const s = parseCron(spec);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = s.next(t, tz);
    assert.ok(next, `no next time for ${spec}`);
    out.push(next.toISOString());
    t = next;
  }
  return out;
}

test('next activations of common schedules', () => {
  assert.deepEqual(nextN('*/15 * * * *', '2024-05-01T10:07:30Z', 3), ['2024-05-01T10:15:00.000Z', '2024-05-01T10:30:00.000Z', '2024-05-01T10:45:00.000Z']);
  // Strictly after: a time exactly on a minute that matches is not returned.
  assert.deepEqual(nextN('0 * * * *', '2024-05-01T10:00:00Z', 2), ['2024-05-01T11:00:00.000Z', '2024-05-01T12:00:00.000Z']);
  assert.deepEqual(nextN('@daily', '2024-12-31T23:59:59Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(nextN('30 9 * * mon-fri', '2024-05-03T10:00:00Z', 2), ['2024-05-06T09:30:00.000Z', '2024-05-07T09:30:00.000Z']);
  assert.deepEqual(nextN('0 0 29 2 *', '2024-03-01T00:00:00Z', 1), ['2028-02-29T00:00:00.000Z']);
  assert.deepEqual(nextN('5 4 * jan,jul *', '2024-05-01T00:00:00Z', 1), ['2024-07-01T04:05:00.000Z']);
  assert.deepEqual(nextN('10/20 * * * *', '2024-05-01T10:00:00Z', 3), ['2024-05-01T10:10:00.000Z', '2024-05-01T10:30:00.000Z', '2024-05-01T10:50:00.000Z']);
});

test('day-of-month and day-of-week are ORed when both are restricted', () => {
  // The 13th, or any Friday (2024-09-06 is a Friday; the 13th of September 2024 is too).
  assert.deepEqual(nextN('0 0 13 * 5', '2024-09-01T00:00:00Z', 3), ['2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z', '2024-09-20T00:00:00.000Z']);
  // With a `*` day-of-month only the weekday counts.
  assert.deepEqual(nextN('0 0 * * 0', '2024-09-01T00:00:00Z', 1), ['2024-09-08T00:00:00.000Z']);
});

test('schedules run in a time zone', () => {
  // 09:00 in New York is 13:00 UTC in summer and 14:00 UTC in winter.
  assert.deepEqual(nextN('0 9 * * *', '2024-07-01T00:00:00Z', 1, 'America/New_York'), ['2024-07-01T13:00:00.000Z']);
  assert.deepEqual(nextN('0 9 * * *', '2024-12-01T00:00:00Z', 1, 'America/New_York'), ['2024-12-01T14:00:00.000Z']);
  // The day of a DST change (2024-03-10 in New York).
  assert.deepEqual(nextN('0 9 * * *', '2024-03-09T15:00:00Z', 2, 'America/New_York'), ['2024-03-10T13:00:00.000Z', '2024-03-11T13:00:00.000Z']);
  const s = parseCron('CRON_TZ=Asia/Tokyo 0 0 * * *');
  assert.equal(s.timeZone, 'Asia/Tokyo');
  assert.equal(s.next(new Date('2024-05-01T00:00:00Z'))?.toISOString(), '2024-05-01T15:00:00.000Z');
});

test('@every and impossible schedules', () => {
  assert.equal(parseCron('@every 1h30m').next(new Date('2024-05-01T10:00:00.500Z'))?.toISOString(), '2024-05-01T11:30:00.000Z');
  assert.equal(parseCron('0 0 30 2 *').next(new Date('2024-01-01T00:00:00Z')), undefined);
});

test('parse errors carry robfig/cron\'s messages', () => {
  const msg = (spec: string): string => {
    try {
      parseCron(spec);
    } catch (e) {
      assert.ok(e instanceof CronParseError);
      return e.message;
    }
    throw new Error(`${spec} parsed`);
  };
  assert.equal(msg(''), 'empty spec string');
  assert.equal(msg('foo'), 'expected exactly 5 fields, found 1: [foo]');
  assert.equal(msg('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
  assert.equal(msg('61 * * * *'), 'end of range (61) above maximum (59): 61');
  assert.equal(msg('0 0 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(msg('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.equal(msg('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
  assert.equal(msg('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(msg('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  assert.equal(msg('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
});
