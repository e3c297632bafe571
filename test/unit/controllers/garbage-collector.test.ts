import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import { GarbageCollector } from '../../../src/controllers/garbage-collector.js';
import { eventually, startHarness } from './harness.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

/** A ReplicaSet (no ReplicaSet controller runs, so it makes no pods) and a pod it owns. */
async function ownerAndPod(client: Client, podFinalizers?: string[]): Promise<{ rs: ApiObject; pod: ApiObject }> {
  const rs = await client.create(refs.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } });
  const pod = await client.create(refs.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      labels: { app: 'web' },
      ...(podFinalizers ? { finalizers: podFinalizers } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: template.spec,
  });
  return { rs, pod };
}

async function gone(client: Client, ref: typeof refs.pods, name: string): Promise<boolean> {
  try {
    await client.get(ref, 'default', name);
    return false;
  } catch {
    return true;
  }
}

test('garbage collector: background deletion of an owner deletes its dependents', async () => {
  const h = await startHarness();
  try {
    await h.start(GarbageCollector);
    await ownerAndPod(h.client);
    // A dependent whose owner never existed is collected too.
    await h.client.create(refs.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'nobody', uid: '00000000-0000-0000-0000-000000000000' }] } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await gone(h.client, refs.pods, 'web-1'), false, 'an owned pod with a live owner stays');
    await h.client.delete(refs.replicasets, 'default', 'web', { propagationPolicy: 'Background' });
    await eventually(() => gone(h.client, refs.pods, 'web-1'), 'pod deleted after its owner');
    await eventually(() => gone(h.client, refs.configmaps, 'stray'), 'dependent of a missing owner deleted');
  } finally {
    await h.stop();
  }
});

test('garbage collector: foreground deletion waits for blocking dependents', async () => {
  const h = await startHarness();
  try {
    await h.start(GarbageCollector);
    // The pod holds a finalizer of its own, so its deletion takes as long as we like.
    await ownerAndPod(h.client, ['example.com/hold']);
    await h.client.delete(refs.replicasets, 'default', 'web', { propagationPolicy: 'Foreground' });
    await eventually(async () => (await h.client.get(refs.pods, 'default', 'web-1')).metadata?.deletionTimestamp, 'pod marked for deletion');
    await new Promise((r) => setTimeout(r, 300));
    const owner = await h.client.get(refs.replicasets, 'default', 'web');
    assert.ok(owner.metadata?.deletionTimestamp, 'owner is being deleted');
    assert.deepEqual(owner.metadata?.finalizers, ['foregroundDeletion'], 'owner waits for its dependents');
    const p = await h.client.get(refs.pods, 'default', 'web-1');
    await h.client.update(refs.pods, 'default', { ...p, metadata: { ...p.metadata, finalizers: [] } });
    await eventually(() => gone(h.client, refs.pods, 'web-1'), 'pod gone');
    await eventually(() => gone(h.client, refs.replicasets, 'web'), 'owner gone after its dependents');
  } finally {
    await h.stop();
  }
});

test('garbage collector: orphan deletion keeps dependents and strips the ownerReference', async () => {
  const h = await startHarness();
  try {
    await h.start(GarbageCollector);
    await ownerAndPod(h.client);
    await h.client.delete(refs.replicasets, 'default', 'web', { propagationPolicy: 'Orphan' });
    await eventually(() => gone(h.client, refs.replicasets, 'web'), 'owner gone');
    const pod = await eventually(async () => {
      const p = await h.client.get(refs.pods, 'default', 'web-1');
      return p.metadata?.['ownerReferences'] === undefined ? p : undefined;
    }, 'ownerReference stripped');
    assert.equal(pod.metadata?.deletionTimestamp, undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await gone(h.client, refs.pods, 'web-1'), false, 'the orphan stays');
  } finally {
    await h.stop();
  }
});
