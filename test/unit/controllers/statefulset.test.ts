import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import { StatefulSetController } from '../../../src/controllers/statefulset.js';
import { eventually, listPods, markReady, startHarness } from './harness.js';

const template = (image: string): object => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image }] } });

async function podNames(client: Client): Promise<string[]> {
  return (await listPods(client)).map((p) => p.metadata?.name ?? '').filter((n) => n.startsWith('web-')).sort();
}

async function pod(client: Client, name: string): Promise<ApiObject | undefined> {
  return (await listPods(client)).find((p) => p.metadata?.name === name);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('StatefulSet OrderedReady: creates web-0, then web-1 only once web-0 is Ready, with PVCs; scales down in reverse', async () => {
  const h = await startHarness();
  try {
    await h.start(StatefulSetController);
    await h.client.create(refs.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'web' } },
        template: template('nginx:1'),
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const web0 = await eventually(async () => pod(h.client, 'web-0'), 'web-0');
    await sleep(300);
    assert.deepEqual(await podNames(h.client), ['web-0'], 'web-1 waits for web-0 to be Ready');

    const spec = web0['spec'] as { hostname?: string; subdomain?: string; volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }> };
    assert.equal(spec.hostname, 'web-0');
    assert.equal(spec.subdomain, 'nginx');
    assert.deepEqual(spec.volumes?.find((v) => v.name === 'www')?.persistentVolumeClaim, { claimName: 'www-web-0' });
    assert.equal(web0.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0');
    assert.equal(web0.metadata?.labels?.['apps.kubernetes.io/pod-index'], '0');
    assert.ok(web0.metadata?.labels?.['controller-revision-hash']);
    const pvc = await h.client.get(refs.persistentvolumeclaims, 'default', 'www-web-0');
    assert.equal((pvc['spec'] as { resources: { requests: { storage: string } } }).resources.requests.storage, '1Gi');
    assert.equal(pvc.metadata?.labels?.['app'], 'web');

    await markReady(h.client, web0);
    const web1 = await eventually(async () => pod(h.client, 'web-1'), 'web-1 after web-0 is Ready');
    await sleep(200);
    assert.deepEqual(await podNames(h.client), ['web-0', 'web-1']);
    await markReady(h.client, web1);
    const web2 = await eventually(async () => pod(h.client, 'web-2'), 'web-2');
    await markReady(h.client, web2);
    await h.client.get(refs.persistentvolumeclaims, 'default', 'www-web-2');
    const set = await eventually(async () => {
      const s = await h.client.get(refs.statefulsets, 'default', 'web');
      const st = s['status'] as Record<string, unknown>;
      return st['readyReplicas'] === 3 && st['replicas'] === 3 && st['updatedReplicas'] === 3 && st['currentReplicas'] === 3 && st['observedGeneration'] === 1 ? s : undefined;
    }, 'status with 3 ready');
    const st = set['status'] as { currentRevision: string; updateRevision: string };
    assert.equal(st.currentRevision, st.updateRevision);
    assert.equal(st.currentRevision, `web-${web0.metadata?.labels?.['controller-revision-hash']}`);
    await h.client.get(refs.controllerrevisions, 'default', st.currentRevision);

    const events = (await h.client.list(refs.events, 'default')).items;
    assert.ok(events.some((e) => e['reason'] === 'SuccessfulCreate' && e['message'] === 'create Pod web-0 in StatefulSet web successful'));
    assert.ok(events.some((e) => e['reason'] === 'SuccessfulCreate' && e['message'] === 'create Claim www-web-0 Pod web-0 in StatefulSet web success'));

    // Scale down to 1: web-2 goes first, then web-1; the claims stay (Retain).
    const deleted: string[] = [];
    const w = await h.client.watch(refs.pods, 'default', { resourceVersion: (await h.client.list(refs.pods, 'default')).metadata.resourceVersion }, (e) => {
      if (e.type === 'DELETED') deleted.push(e.object.metadata?.name ?? '');
    });
    await h.client.update(refs.statefulsets, 'default', { ...set, spec: { ...(set['spec'] as object), replicas: 1 } });
    await eventually(async () => (await podNames(h.client)).join() === 'web-0', 'scaled down to web-0');
    w.stop();
    assert.deepEqual(deleted, ['web-2', 'web-1']);
    await h.client.get(refs.persistentvolumeclaims, 'default', 'www-web-2');
  } finally {
    await h.stop();
  }
});

test('StatefulSet rolling update with a partition replaces only ordinals ≥ partition, highest first', async () => {
  const h = await startHarness();
  try {
    await h.start(StatefulSetController);
    await h.client.create(refs.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: { replicas: 3, podManagementPolicy: 'Parallel', serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: template('nginx:1'), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
    });
    // Parallel: all three at once, without waiting for readiness.
    await eventually(async () => (await podNames(h.client)).length === 3, 'three pods at once');
    for (const p of await listPods(h.client)) await markReady(h.client, p);
    const before = new Map((await listPods(h.client)).map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
    await eventually(async () => ((await h.client.get(refs.statefulsets, 'default', 'web'))['status'] as { readyReplicas?: number }).readyReplicas === 3, 'ready');

    const set = await h.client.get(refs.statefulsets, 'default', 'web');
    const s = set['spec'] as Record<string, unknown>;
    await h.client.update(refs.statefulsets, 'default', { ...set, spec: { ...s, template: template('nginx:2') } });
    const image = (p: ApiObject | undefined): string | undefined => (p?.['spec'] as { containers: Array<{ image: string }> } | undefined)?.containers[0]?.image;
    // web-2 is replaced first; web-1 waits until the new web-2 is Ready.
    const new2 = await eventually(async () => {
      const p = await pod(h.client, 'web-2');
      return p && p.metadata?.uid !== before.get('web-2') && image(p) === 'nginx:2' ? p : undefined;
    }, 'web-2 updated');
    await sleep(300);
    assert.equal((await pod(h.client, 'web-1'))?.metadata?.uid, before.get('web-1'), 'web-1 waits for web-2 to be Ready');
    await markReady(h.client, new2);
    const new1 = await eventually(async () => {
      const p = await pod(h.client, 'web-1');
      return p && image(p) === 'nginx:2' ? p : undefined;
    }, 'web-1 updated');
    await markReady(h.client, new1);
    const st = await eventually(async () => {
      const x = (await h.client.get(refs.statefulsets, 'default', 'web'))['status'] as { updatedReplicas?: number; currentReplicas?: number; readyReplicas?: number; currentRevision?: string; updateRevision?: string };
      return x.updatedReplicas === 2 && x.readyReplicas === 3 ? x : undefined;
    }, 'two updated');
    await sleep(300);
    const web0 = await pod(h.client, 'web-0');
    assert.equal(web0?.metadata?.uid, before.get('web-0'), 'web-0 is below the partition and stays');
    assert.equal(image(web0), 'nginx:1');
    assert.notEqual(st.currentRevision, st.updateRevision);
    assert.equal(st.currentReplicas, 1);
    const revisions = (await h.client.list(refs.controllerrevisions, 'default')).items;
    assert.deepEqual(revisions.map((r) => r['revision']).sort(), [1, 2]);
  } finally {
    await h.stop();
  }
});
