import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedRun } from '../../../src/machinery/coalesced-run.js';

const quiet = { retryMs: 10, onError: () => undefined };

test('requests during a run make exactly one more run; runs never overlap', async () => {
  let running = 0;
  let runs = 0;
  let release!: () => void;
  const run = new CoalescedRun(async () => {
    assert.equal(running++, 0, 'two runs at once');
    runs++;
    if (runs === 1) await new Promise<void>((r) => (release = r));
    running--;
  }, quiet);
  run.request();
  for (let i = 0; i < 5; i++) run.request();
  release();
  await run.idle();
  assert.equal(runs, 2);
  run.request();
  await run.idle();
  assert.equal(runs, 3);
});

test('a failed run is reported and tried again after retryMs, until it succeeds; stop ends the retries', async () => {
  const errors: string[] = [];
  let tries = 0;
  const run = new CoalescedRun(async () => {
    tries++;
    if (tries < 3) throw new Error(`try ${tries} failed`);
  }, { retryMs: 20, onError: (e) => errors.push(e.message) });
  run.request();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(tries, 3);
  assert.deepEqual(errors, ['try 1 failed', 'try 2 failed']);

  let failing = 0;
  const stopped = new CoalescedRun(async () => {
    failing++;
    throw new Error('always');
  }, { retryMs: 20, onError: () => undefined });
  stopped.request();
  await stopped.stop();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(failing, 1, 'no retry after stop');
  stopped.request();
  await stopped.idle();
  assert.equal(failing, 1, 'no run after stop');
});
