import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/machinery/clock.js';
import { refs } from '../../../src/client/informer.js';
import { CronJobController } from '../../../src/controllers/cronjob.js';
import { startHarness, eventually, type Harness } from './harness.js';

let h: Harness;
let clock: FakeClock;
before(async () => {
  h = await startHarness();
  clock = new FakeClock(new Date());
  h.ctx.clock = clock;
});
after(async () => h?.stop());

const cronJob = (name: string, policy: string) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name },
  spec: {
    schedule: '*/1 * * * *',
    concurrencyPolicy: policy,
    jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
  },
});

async function jobsOf(name: string): Promise<string[]> {
  const list = await h.client.list(refs.jobs, 'default');
  return list.items.filter((j) => j.metadata?.name?.startsWith(`${name}-`)).map((j) => j.metadata?.name ?? '').sort();
}

test('a CronJob creates a Job at each scheduled minute, and Forbid waits for the running one', async () => {
  await h.client.create(refs.cronjobs, 'default', cronJob('every', 'Allow'));
  await h.client.create(refs.cronjobs, 'default', cronJob('single', 'Forbid'));
  await h.start(CronJobController);
  // Let the first sync schedule its wake-up before time moves.
  await eventually(async () => clock.pendingTimers >= 2, 'both CronJobs waiting for their minute');
  await clock.step(61_000);
  const first = await eventually(async () => {
    const j = await jobsOf('every');
    return j.length === 1 && j;
  }, 'the first Job');
  // The name is <cronjob>-<scheduled minute since the epoch>.
  const minute = Number(first[0]!.split('-')[1]);
  assert.ok(Math.abs(minute * 60_000 - clock.now().getTime()) < 120_000);
  const annotated = await h.client.get(refs.jobs, 'default', first[0]!);
  assert.ok(annotated.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  await eventually(async () => (await jobsOf('single')).length === 1, 'the Forbid CronJob’s first Job');

  await clock.step(60_000);
  await eventually(async () => (await jobsOf('every')).length === 2, 'a second Job a minute later');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await jobsOf('single')).length, 1, 'Forbid: no second Job while the first runs');
  const status = await h.client.get(refs.cronjobs, 'default', 'every');
  assert.ok((status['status'] as { lastScheduleTime?: string }).lastScheduleTime);
  assert.equal(((status['status'] as { active?: unknown[] }).active ?? []).length, 2);
});
