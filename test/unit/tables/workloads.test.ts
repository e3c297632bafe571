import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printerFor } from '../../../src/apiserver/tables/index.js';

const now = new Date('2024-05-01T12:00:00Z');
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', creationTimestamp: '2024-05-01T11:45:00Z', ...extra });
const cells = (group: string, resource: string, obj: unknown) => printerFor(group, resource).row(obj, now);
const columns = (group: string, resource: string) => printerFor(group, resource).columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } };

test('a deployment with 2 of 3 replicas ready', () => {
  assert.deepEqual(columns('apps', 'deployments'), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const d = {
    metadata: meta('web'),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] }, template },
    status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  };
  assert.deepEqual(cells('apps', 'deployments', d), ['web', '2/3', 3, 2, '15m', 'web,log', 'nginx:1.25,busybox', 'app=web,tier in (edge,front)']);
  const fresh = { metadata: meta('new'), spec: { replicas: 1, selector: { matchLabels: { app: 'new' } }, template } };
  assert.deepEqual(cells('apps', 'deployments', fresh).slice(1, 4), ['0/1', 0, 0]);
});

test('replica sets, stateful sets and daemon sets', () => {
  const rs = { metadata: meta('web-7d4b9c'), spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c' } }, template }, status: { replicas: 3, readyReplicas: 1 } };
  assert.deepEqual(cells('apps', 'replicasets', rs), ['web-7d4b9c', 3, 3, 1, '15m', 'web,log', 'nginx:1.25,busybox', 'app=web,pod-template-hash=7d4b9c']);

  const sts = { metadata: meta('db'), spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template }, status: { replicas: 2, readyReplicas: 2 } };
  assert.deepEqual(columns('apps', 'statefulsets'), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  assert.deepEqual(cells('apps', 'statefulsets', sts), ['db', '2/3', '15m', 'web,log', 'nginx:1.25,busybox']);

  const ds = {
    metadata: meta('fluentd'),
    spec: { selector: { matchLabels: { app: 'fluentd' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'f', image: 'fluentd' }] } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  };
  assert.deepEqual(columns('apps', 'daemonsets'), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
  assert.deepEqual(cells('apps', 'daemonsets', ds), ['fluentd', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '15m', 'f', 'fluentd', 'app=fluentd']);
});

test('controller revisions name their controller as kind.group/name', () => {
  const cr = {
    metadata: meta('fluentd-5d8f9c', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'fluentd', uid: 'u', controller: true }] }),
    revision: 2,
  };
  assert.deepEqual(cells('apps', 'controllerrevisions', cr), ['fluentd-5d8f9c', 'daemonset.apps/fluentd', 2, '15m']);
  assert.equal(cells('apps', 'controllerrevisions', { metadata: meta('orphan'), revision: 1 })[1], '<none>');
});

test('jobs: status, completions and duration', () => {
  assert.deepEqual(columns('batch', 'jobs'), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const done = {
    metadata: meta('pi'),
    spec: { completions: 3, parallelism: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } }, template },
    status: {
      startTime: '2024-05-01T11:45:00Z',
      completionTime: '2024-05-01T11:47:30Z',
      succeeded: 3,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True' },
        { type: 'Complete', status: 'True' },
      ],
    },
  };
  assert.deepEqual(cells('batch', 'jobs', done), ['pi', 'Complete', '3/3', '2m30s', '15m', 'web,log', 'nginx:1.25,busybox', 'batch.kubernetes.io/controller-uid=abc']);

  const running = { metadata: meta('work'), spec: { parallelism: 4, template }, status: { startTime: '2024-05-01T11:55:00Z', succeeded: 1, active: 3 } };
  assert.deepEqual(cells('batch', 'jobs', running).slice(1, 4), ['Running', '1/1 of 4', '5m']);
  const failed = { metadata: meta('bad'), spec: { completions: 1, template }, status: { failed: 6, conditions: [{ type: 'Failed', status: 'True' }] } };
  assert.deepEqual(cells('batch', 'jobs', failed).slice(1, 4), ['Failed', '0/1', '']);
  const suspended = { metadata: meta('later'), spec: { completions: 1, template }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } };
  assert.equal(cells('batch', 'jobs', suspended)[1], 'Suspended');
});

test('cron jobs', () => {
  assert.deepEqual(columns('batch', 'cronjobs'), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const cj = {
    metadata: meta('backup'),
    spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: 'backup-1' }], lastScheduleTime: '2024-05-01T11:55:00Z' },
  };
  assert.deepEqual(cells('batch', 'cronjobs', cj), ['backup', '*/5 * * * *', '<none>', 'False', 1, '5m', '15m', 'web,log', 'nginx:1.25,busybox', '<none>']);
  const tz = { metadata: meta('nightly'), spec: { schedule: '0 2 * * *', timeZone: 'Europe/Paris', jobTemplate: { spec: { template } } } };
  assert.deepEqual(cells('batch', 'cronjobs', tz).slice(2, 6), ['Europe/Paris', '<unset>', 0, '<none>']);
});
