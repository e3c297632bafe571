import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import { ReplicaSetController } from '../../../src/controllers/replicaset.js';
import { ReplicationControllerController } from '../../../src/controllers/replicationcontroller.js';
import { eventually, listPods, markReady, podsOf, startHarness } from './harness.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

test('ReplicaSet: creates, scales down, recreates, adopts, reports status and events', async () => {
  const h = await startHarness();
  try {
    await h.start(ReplicaSetController);
    const rs = await h.client.create(refs.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template } });
    const uid = rs.metadata?.uid;
    const pods = await eventually(async () => {
      const p = podsOf(await listPods(h.client), uid);
      return p.length === 3 ? p : undefined;
    }, '3 pods');
    assert.ok(pods.every((p) => p.metadata?.name?.startsWith('web-')));
    const ref = (pods[0]!.metadata?.['ownerReferences'] as Array<Record<string, unknown>>)[0]!;
    assert.equal(ref['blockOwnerDeletion'], true);
    assert.equal(ref['kind'], 'ReplicaSet');

    for (const p of pods.slice(0, 2)) await markReady(h.client, p);
    await eventually(async () => {
      const s = (await h.client.get(refs.replicasets, 'default', 'web'))['status'] as Record<string, number>;
      return s['replicas'] === 3 && s['readyReplicas'] === 2 && s['availableReplicas'] === 2 && s['fullyLabeledReplicas'] === 3 && s['observedGeneration'] === 1;
    }, 'status');

    // A deleted pod comes back.
    await h.client.delete(refs.pods, 'default', pods[2]!.metadata!.name!);
    await eventually(async () => {
      const p = podsOf(await listPods(h.client), uid);
      return p.length === 3 && !p.some((x) => x.metadata?.name === pods[2]!.metadata!.name) ? p : undefined;
    }, 'replacement pod');

    // Scale down to 1: the not-ready pods go first, the ready one stays... two ready ones exist; one of them stays.
    const cur = await h.client.get(refs.replicasets, 'default', 'web');
    await h.client.update(refs.replicasets, 'default', { ...cur, spec: { ...(cur['spec'] as object), replicas: 1 } });
    const left = await eventually(async () => {
      const p = podsOf(await listPods(h.client), uid);
      return p.length === 1 ? p : undefined;
    }, 'scale down to 1');
    assert.ok([pods[0]!.metadata!.name, pods[1]!.metadata!.name].includes(left[0]!.metadata!.name), 'a ready pod is kept');

    // An orphan with matching labels is adopted, and the RS then deletes an extra (it has 2 for 1).
    await h.client.create(refs.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'web' } }, spec: template.spec });
    await eventually(async () => {
      const all = await listPods(h.client);
      const owned = podsOf(all, uid);
      return owned.length === 1 && all.filter((p) => p.metadata?.labels?.['app'] === 'web').length === 1;
    }, 'orphan adopted and extra deleted');

    const events = (await h.client.list(refs.events, 'default')).items;
    assert.ok(events.some((e) => e['reason'] === 'SuccessfulCreate' && /^Created pod: web-/.test(String(e['message']))));
    assert.ok(events.some((e) => e['reason'] === 'SuccessfulDelete' && /^Deleted pod: /.test(String(e['message']))));
  } finally {
    await h.stop();
  }
});

test('ReplicaSet: a pod whose labels stop matching is released and replaced', async () => {
  const h = await startHarness();
  try {
    await h.start(ReplicaSetController);
    const rs = await h.client.create(refs.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } });
    const [pod] = await eventually(async () => {
      const p = podsOf(await listPods(h.client), rs.metadata?.uid);
      return p.length === 1 ? p : undefined;
    }, 'pod');
    const fresh = await h.client.get(refs.pods, 'default', pod!.metadata!.name!);
    await h.client.update(refs.pods, 'default', { ...fresh, metadata: { ...fresh.metadata, labels: { app: 'debug' } } });
    await eventually(async () => {
      const all = await listPods(h.client);
      const released = all.find((p) => p.metadata?.name === pod!.metadata!.name);
      return released && !released.metadata?.['ownerReferences'] && podsOf(all, rs.metadata?.uid).length === 1;
    }, 'released and replaced');
  } finally {
    await h.stop();
  }
});

test('ReplicationController: keeps replicas with a map selector', async () => {
  const h = await startHarness();
  try {
    await h.start(ReplicationControllerController);
    const rc = await h.client.create(refs.replicationcontrollers, 'default', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc' }, spec: { replicas: 2, selector: { app: 'web' }, template } });
    const pods = await eventually(async () => {
      const p = podsOf(await listPods(h.client), rc.metadata?.uid);
      return p.length === 2 ? p : undefined;
    }, '2 pods');
    assert.equal((pods[0]!.metadata?.['ownerReferences'] as Array<{ kind: string }>)[0]!.kind, 'ReplicationController');
    await h.client.delete(refs.pods, 'default', pods[0]!.metadata!.name!);
    await eventually(async () => {
      const p = podsOf(await listPods(h.client), rc.metadata?.uid);
      return p.length === 2 && !p.some((x) => x.metadata?.name === pods[0]!.metadata!.name);
    }, 'replacement');
    await eventually(async () => ((await h.client.get(refs.replicationcontrollers, 'default', 'rc'))['status'] as { replicas?: number }).replicas === 2, 'rc status');
  } finally {
    await h.stop();
  }
});
