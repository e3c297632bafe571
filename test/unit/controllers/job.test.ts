import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/machinery/clock.js';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import { JobController } from '../../../src/controllers/job.js';
import { TTLAfterFinishedController } from '../../../src/controllers/ttl-after-finished.js';
import { eventually, listPods, podsOf, startHarness, type Harness } from './harness.js';

let h: Harness;
let clock: FakeClock;
before(async () => {
  h = await startHarness();
  clock = new FakeClock(new Date());
  h.ctx.clock = clock;
  await h.start(JobController, TTLAfterFinishedController);
});
after(async () => h?.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a kubelet reports when the container exits. */
async function finish(client: Client, pod: ApiObject, phase: 'Succeeded' | 'Failed', at: Date): Promise<void> {
  const fresh = await client.get(refs.pods, 'default', pod.metadata?.name ?? '');
  const t = at.toISOString().replace(/\.\d+Z$/, 'Z');
  const exitCode = phase === 'Succeeded' ? 0 : 1;
  await client.update(refs.pods, 'default', { ...fresh, status: { phase, containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, startedAt: t, finishedAt: t } } }] } }, { subresource: 'status' });
}

const job = (name: string, spec: object): ApiObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
});

async function running(uid: string | undefined): Promise<ApiObject[]> {
  return podsOf(await listPods(h.client), uid).filter((p) => !['Succeeded', 'Failed'].includes(String((p['status'] as { phase?: string } | undefined)?.phase)));
}

function condition(j: ApiObject, type: string): { status: string; reason?: string } | undefined {
  return ((j['status'] as { conditions?: Array<{ type: string; status: string; reason?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === type);
}

test('a Job with completions 3 and parallelism 2 runs 2 pods at a time and completes; its TTL then deletes it', async () => {
  const created = await h.client.create(refs.jobs, 'default', job('pi', { completions: 3, parallelism: 2, ttlSecondsAfterFinished: 30 }));
  const uid = created.metadata?.uid;
  const first = await eventually(async () => {
    const r = await running(uid);
    return r.length === 2 ? r : undefined;
  }, 'two pods');
  await sleep(200);
  assert.equal((await running(uid)).length, 2, 'never more than parallelism');
  for (const p of first) await finish(h.client, p, 'Succeeded', clock.now());
  // One completion left: one more pod, not two.
  const last = await eventually(async () => {
    const r = await running(uid);
    return r.length === 1 ? r : undefined;
  }, 'the third pod');
  await sleep(200);
  assert.equal((await running(uid)).length, 1);
  await finish(h.client, last[0]!, 'Succeeded', clock.now());
  const done = await eventually(async () => {
    const j = await h.client.get(refs.jobs, 'default', 'pi');
    return condition(j, 'Complete')?.status === 'True' ? j : undefined;
  }, 'Complete');
  const st = done['status'] as { succeeded?: number; failed?: number; active?: number; startTime?: string; completionTime?: string };
  assert.equal(st.succeeded, 3);
  assert.equal(st.active ?? 0, 0);
  assert.ok(st.startTime && st.completionTime);
  const events = (await h.client.list(refs.events, 'default')).items.filter((e) => (e['involvedObject'] as { name?: string }).name === 'pi');
  assert.ok(events.some((e) => e['reason'] === 'SuccessfulCreate'));
  assert.ok(events.some((e) => e['reason'] === 'Completed'));

  // ttlSecondsAfterFinished: 30 — still there at 20 s, gone after 30 s.
  await clock.step(20_000);
  await sleep(100);
  await h.client.get(refs.jobs, 'default', 'pi');
  await clock.step(11_000);
  await eventually(async () => h.client.get(refs.jobs, 'default', 'pi').then(() => false, () => true), 'Job deleted by its TTL');
});

test('a Job whose pods keep failing stops at backoffLimit with BackoffLimitExceeded', async () => {
  const created = await h.client.create(refs.jobs, 'default', job('flaky', { backoffLimit: 1 }));
  const uid = created.metadata?.uid;
  const p1 = await eventually(async () => (await running(uid))[0], 'first pod');
  await finish(h.client, p1, 'Failed', clock.now());
  // The retry waits for the failure back-off (10 s).
  await eventually(async () => ((await h.client.get(refs.jobs, 'default', 'flaky'))['status'] as { failed?: number } | undefined)?.failed === 1, 'one failure counted');
  await sleep(200);
  assert.equal((await running(uid)).length, 0, 'no new pod during the back-off');
  await clock.step(11_000);
  const p2 = await eventually(async () => (await running(uid))[0], 'second pod after the back-off');
  await finish(h.client, p2, 'Failed', clock.now());
  const failed = await eventually(async () => {
    const j = await h.client.get(refs.jobs, 'default', 'flaky');
    return condition(j, 'Failed')?.status === 'True' ? j : undefined;
  }, 'Failed');
  assert.equal(condition(failed, 'Failed')?.reason, 'BackoffLimitExceeded');
  assert.equal((failed['status'] as { failed?: number }).failed, 2);
  await clock.step(60_000);
  await sleep(200);
  assert.equal((await running(uid)).length, 0, 'a failed Job starts nothing more');
  const events = (await h.client.list(refs.events, 'default')).items;
  assert.ok(events.some((e) => e['reason'] === 'BackoffLimitExceeded' && e['type'] === 'Warning'));
});
