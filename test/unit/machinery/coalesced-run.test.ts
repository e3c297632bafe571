import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedRun } from '../../../src/machinery/coalesced-run.js';

test('requests during a run make exactly one more run; runs never overlap', async () => {
  let running = 0;
  let runs = 0;
  let release!: () => void;
  const run = new CoalescedRun(async () => {
    assert.equal(running++, 0, 'two runs at once');
    runs++;
    if (runs === 1) await new Promise<void>((r) => (release = r));
    running--;
  });
  run.request();
  for (let i = 0; i < 5; i++) run.request();
  release();
  await run.idle();
  assert.equal(runs, 2);
  run.request();
  await run.idle();
  assert.equal(runs, 3);
});
