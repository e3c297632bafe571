import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx, dig, podTemplate, rejection, storeFor, withSpec, write } from './harness.js';

test('a Job gets the generated selector, template labels and defaults at create', async () => {
  const store = storeFor('batch', 'jobs');
  const job = await store.create('default', { metadata: { name: 'pi' }, spec: { template: podTemplate({}, 'Never') } }, ctx(), write);
  const uid = job.metadata?.uid ?? '';
  assert.ok(uid);
  const expectedLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
  assert.deepEqual(dig(job, 'spec', 'template', 'metadata', 'labels'), expectedLabels);
  assert.deepEqual(dig(job, 'spec', 'selector'), { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  // With no labels of its own, the Job shows its template's (as Kubernetes' defaulting does).
  assert.deepEqual(job.metadata?.labels, expectedLabels);
  assert.equal(dig(job, 'spec', 'completions'), 1);
  assert.equal(dig(job, 'spec', 'parallelism'), 1);
  assert.equal(dig(job, 'spec', 'backoffLimit'), 6);
  assert.equal(dig(job, 'spec', 'completionMode'), 'NonIndexed');
  assert.equal(dig(job, 'spec', 'suspend'), false);
  assert.equal(dig(job, 'spec', 'manualSelector'), false);
  assert.equal(dig(job, 'spec', 'podReplacementPolicy'), 'TerminatingOrFailed');
});

test('parallelism alone leaves completions unset', async () => {
  const store = storeFor('batch', 'jobs');
  const job = await store.create('default', { metadata: { name: 'work' }, spec: { parallelism: 3, template: podTemplate({}, 'OnFailure') } }, ctx(), write);
  assert.equal(dig(job, 'spec', 'completions'), undefined);
  assert.equal(dig(job, 'spec', 'parallelism'), 3);
});

test('a Job whose pods would restart Always is rejected', async () => {
  const store = storeFor('batch', 'jobs');
  const msg = await rejection(store.create('default', { metadata: { name: 'pi' }, spec: { template: podTemplate({}) } }, ctx(), write));
  assert.equal(msg, 'Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
});

test('a manual selector must match the template and is not generated', async () => {
  const store = storeFor('batch', 'jobs');
  const spec = { manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: podTemplate({ a: 'c' }, 'Never') };
  const msg = await rejection(store.create('default', { metadata: { name: 'm' }, spec }, ctx(), write));
  assert.equal(msg, 'Job.batch "m" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`');
});

test('the pod template of a started Job is immutable; parallelism is not', async () => {
  const store = storeFor('batch', 'jobs');
  const job = await store.create('default', { metadata: { name: 'pi' }, spec: { template: podTemplate({}, 'Never') } }, ctx(), write);
  const scaled = await store.update('default', 'pi', withSpec(job, { parallelism: 2 }), ctx(), write);
  assert.equal(dig(scaled, 'spec', 'parallelism'), 2);
  const tpl = structuredClone(dig(scaled, 'spec', 'template')) as Record<string, unknown>;
  (tpl.spec as Record<string, unknown>).containers = [{ name: 'c', image: 'busybox:1.37' }];
  assert.match(await rejection(store.update('default', 'pi', withSpec(scaled, { template: tpl }), ctx(), write)), /spec\.template: Invalid value: .*: field is immutable/);
  assert.match(await rejection(store.update('default', 'pi', withSpec(scaled, { completions: 5 }), ctx(), write)), /spec\.completions: Invalid value: 5: field is immutable/);
});

test('CronJobs get defaults and need a valid schedule', async () => {
  const store = storeFor('batch', 'cronjobs');
  const jobTemplate = { spec: { template: podTemplate({}, 'OnFailure') } };
  const cj = await store.create('default', { metadata: { name: 'hello' }, spec: { schedule: '*/5 * * * *', jobTemplate } }, ctx(), write);
  assert.equal(dig(cj, 'spec', 'concurrencyPolicy'), 'Allow');
  assert.equal(dig(cj, 'spec', 'suspend'), false);
  assert.equal(dig(cj, 'spec', 'successfulJobsHistoryLimit'), 3);
  assert.equal(dig(cj, 'spec', 'failedJobsHistoryLimit'), 1);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'bad' }, spec: { schedule: 'foo', jobTemplate } }, ctx(), write)),
    'CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "foo": expected exactly 5 fields, found 1: [foo]',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'tz' }, spec: { schedule: 'TZ=UTC 0 * * * *', jobTemplate } }, ctx(), write)),
    'CronJob.batch "tz" is invalid: spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'zone' }, spec: { schedule: '@daily', timeZone: 'Mars/Olympus', jobTemplate } }, ctx(), write)),
    'CronJob.batch "zone" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'policy' }, spec: { schedule: '@hourly', concurrencyPolicy: 'Sometimes', jobTemplate } }, ctx(), write)),
    'CronJob.batch "policy" is invalid: spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
  );
  const longName = 'a'.repeat(53);
  assert.match(await rejection(store.create('default', { metadata: { name: longName }, spec: { schedule: '@hourly', jobTemplate } }, ctx(), write)), /metadata\.name: Invalid value: "a+": must be no more than 52 characters/);
});
