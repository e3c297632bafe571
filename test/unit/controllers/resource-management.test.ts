import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import type { ControllerContext } from '../../../src/controllers/controller.js';
import { HorizontalPodAutoscalerController, type PodMetric } from '../../../src/controllers/horizontal-pod-autoscaler.js';
import { PersistentVolumeBinder } from '../../../src/controllers/persistent-volume-binder.js';
import { LocalPathProvisioner } from '../../../src/controllers/local-path-provisioner.js';
import { ResourceQuotaController } from '../../../src/controllers/resource-quota.js';
import { DisruptionController } from '../../../src/controllers/disruption.js';
import { eventually, startHarness } from './harness.js';

const ts = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

async function runningPod(client: Client, name: string, labels: Record<string, string>, cpu = '100m', ready = true): Promise<ApiObject> {
  const p = await client.create(refs.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] } });
  const status = { phase: 'Running', startTime: ts(600_000), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ts(540_000) }] };
  return client.update(refs.pods, 'default', { ...p, status }, { subresource: 'status' });
}

test('HPA scales a Deployment up on CPU above target, capped at maxReplicas, with status and event', async () => {
  const h = await startHarness();
  try {
    const usage = new Map<string, number>();
    const fake = { podMetrics: async (): Promise<PodMetric[]> => [...usage].map(([name, cpu]) => ({ name, timestamp: new Date(), windowSeconds: 30, usage: { cpu } })) };
    class TestHPA extends HorizontalPodAutoscalerController {
      constructor(ctx: ControllerContext) {
        super({ ...ctx, options: { hpaSyncPeriodSeconds: 0.2 } }, fake);
      }
    }
    await h.client.create(refs.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } });
    await runningPod(h.client, 'web-1', { app: 'web' });
    usage.set('web-1', 500); // 500m of a 100m request: 500% against a 50% target
    await h.start(TestHPA);
    await h.client.create(refs.horizontalpodautoscalers, 'default', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } });
    await eventually(async () => ((await h.client.get(refs.deployments, 'default', 'web'))['spec'] as { replicas: number }).replicas === 3, 'scaled to 3');
    const status = await eventually(async () => {
      const s = (await h.client.get(refs.horizontalpodautoscalers, 'default', 'web'))['status'] as Record<string, unknown> | undefined;
      return s?.['desiredReplicas'] === 3 ? s : undefined;
    }, 'hpa status');
    assert.equal(status['currentReplicas'], 1);
    assert.ok(status['lastScaleTime']);
    assert.deepEqual((status['currentMetrics'] as unknown[])[0], { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 500, averageValue: '500m' } } });
    const conds = status['conditions'] as Array<{ type: string; status: string; reason: string }>;
    assert.deepEqual(conds.map((c) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    assert.equal(conds.find((c) => c.type === 'ScalingLimited')?.reason, 'TooManyReplicas');
    assert.equal(conds.find((c) => c.type === 'ScalingActive')?.reason, 'ValidMetricFound');
    const events = (await h.client.list(refs.events, 'default')).items;
    assert.ok(events.some((e) => e['reason'] === 'SuccessfulRescale' && e['message'] === 'New size: 3; reason: cpu resource utilization (percentage of request) above target'));

    // Within tolerance (3 pods at 52% of a 50% target), nothing changes; the max is never exceeded.
    await runningPod(h.client, 'web-2', { app: 'web' });
    await runningPod(h.client, 'web-3', { app: 'web' });
    for (const n of ['web-1', 'web-2', 'web-3']) usage.set(n, 52);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(((await h.client.get(refs.deployments, 'default', 'web'))['spec'] as { replicas: number }).replicas, 3);
  } finally {
    await h.stop();
  }
});

test('PV binder binds a claim to the smallest fitting volume; one too large stays Pending; Delete reclaims', async () => {
  const h = await startHarness();
  try {
    await h.start(PersistentVolumeBinder);
    const pv = (name: string, size: string, policy = 'Retain'): ApiObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: policy, storageClassName: 'manual', hostPath: { path: `/tmp/${name}` } } });
    await h.client.create(refs.persistentvolumes, '', pv('big', '10Gi'));
    await h.client.create(refs.persistentvolumes, '', pv('small', '2Gi', 'Delete'));
    const claim = (name: string, size: string): ApiObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } });
    await h.client.create(refs.persistentvolumeclaims, 'default', claim('data', '1Gi'));
    await h.client.create(refs.persistentvolumeclaims, 'default', claim('huge', '100Gi'));
    const bound = await eventually(async () => {
      const c = await h.client.get(refs.persistentvolumeclaims, 'default', 'data');
      return (c['status'] as { phase?: string }).phase === 'Bound' ? c : undefined;
    }, 'claim bound');
    assert.equal((bound['spec'] as { volumeName: string }).volumeName, 'small');
    assert.equal(bound.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.deepEqual((bound['status'] as { capacity: unknown }).capacity, { storage: '2Gi' });
    const vol = await eventually(async () => {
      const v = await h.client.get(refs.persistentvolumes, '', 'small');
      return (v['status'] as { phase?: string }).phase === 'Bound' ? v : undefined;
    }, 'volume bound');
    assert.equal((vol['spec'] as { claimRef: { name: string } }).claimRef.name, 'data');
    assert.equal(((await h.client.get(refs.persistentvolumeclaims, 'default', 'huge'))['status'] as { phase: string }).phase, 'Pending');
    assert.equal(((await h.client.get(refs.persistentvolumes, '', 'big'))['status'] as { phase: string }).phase, 'Available');

    await h.client.delete(refs.persistentvolumeclaims, 'default', 'data');
    await eventually(async () => h.client.get(refs.persistentvolumes, '', 'small').then(() => false, () => true), 'Delete policy removes the volume');
  } finally {
    await h.stop();
  }
});

test('local-path: default class created; a WaitForFirstConsumer claim is provisioned once a node is selected', async () => {
  const h = await startHarness();
  try {
    class Provisioner extends LocalPathProvisioner {
      constructor(ctx: ControllerContext) {
        super({ ...ctx, options: { storageDir: '/data/storage' } });
      }
    }
    await h.start(PersistentVolumeBinder, Provisioner);
    const sc = await eventually(() => h.client.get(refs.storageclasses, '', 'local-path'), 'default class');
    assert.equal(sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal(sc['volumeBindingMode'], 'WaitForFirstConsumer');
    const pvc = await h.client.create(refs.persistentvolumeclaims, 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'db' }, spec: { storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.client.list(refs.persistentvolumes, '')).items.length, 0, 'no volume before a consumer');
    const fresh = await h.client.get(refs.persistentvolumeclaims, 'default', 'db');
    await h.client.update(refs.persistentvolumeclaims, 'default', { ...fresh, metadata: { ...fresh.metadata, annotations: { 'volume.kubernetes.io/selected-node': 'node-a' } } });
    const claim = await eventually(async () => {
      const c = await h.client.get(refs.persistentvolumeclaims, 'default', 'db');
      return (c['status'] as { phase?: string }).phase === 'Bound' ? c : undefined;
    }, 'provisioned and bound');
    const uid = pvc.metadata?.uid ?? '';
    assert.equal((claim['spec'] as { volumeName: string }).volumeName, `pvc-${uid}`);
    const pv = await h.client.get(refs.persistentvolumes, '', `pvc-${uid}`);
    const spec = pv['spec'] as { hostPath: { path: string }; nodeAffinity: { required: { nodeSelectorTerms: Array<{ matchExpressions: Array<{ values: string[] }> }> } }; persistentVolumeReclaimPolicy: string };
    assert.equal(spec.hostPath.path, `/data/storage/pvc-${uid}_default_db`);
    assert.deepEqual(spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]!.values, ['node-a']);
    assert.equal(spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
  } finally {
    await h.stop();
  }
});

test('ResourceQuota status counts pods and requests', async () => {
  const h = await startHarness();
  try {
    await h.start(ResourceQuotaController);
    await h.client.create(refs.resourcequotas, 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '5', 'requests.cpu': '2', configmaps: '10' } } });
    await runningPod(h.client, 'a', { app: 'x' }, '250m');
    await runningPod(h.client, 'b', { app: 'x' }, '500m');
    const status = await eventually(async () => {
      const s = (await h.client.get(refs.resourcequotas, 'default', 'q'))['status'] as { used?: Record<string, string>; hard?: Record<string, string> };
      return s.used?.['pods'] === '2' ? s : undefined;
    }, 'used pods 2');
    assert.deepEqual(status.hard, { pods: '5', 'requests.cpu': '2', configmaps: '10' });
    assert.equal(status.used?.['requests.cpu'], '750m');
    assert.ok(status.used?.['configmaps'] !== undefined);
    await h.client.delete(refs.pods, 'default', 'a', { gracePeriodSeconds: 0 });
    await eventually(async () => (((await h.client.get(refs.resourcequotas, 'default', 'q'))['status'] as { used: Record<string, string> }).used['requests.cpu'] === '500m'), 'recount after delete');
  } finally {
    await h.stop();
  }
});

test('PDB disruptionsAllowed follows healthy pods', async () => {
  const h = await startHarness();
  try {
    await h.start(DisruptionController);
    await h.client.create(refs.poddisruptionbudgets, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } } });
    for (const n of ['db-0', 'db-1', 'db-2']) await runningPod(h.client, n, { app: 'db' });
    const s = await eventually(async () => {
      const st = (await h.client.get(refs.poddisruptionbudgets, 'default', 'pdb'))['status'] as Record<string, unknown>;
      return st['currentHealthy'] === 3 ? st : undefined;
    }, 'three healthy');
    assert.equal(s['disruptionsAllowed'], 1);
    assert.equal(s['desiredHealthy'], 2);
    assert.equal(s['expectedPods'], 3);
    assert.equal(s['observedGeneration'], 1);
    assert.equal((s['conditions'] as Array<{ reason: string; status: string }>)[0]?.reason, 'SufficientPods');
    const p = await h.client.get(refs.pods, 'default', 'db-2');
    await h.client.update(refs.pods, 'default', { ...p, status: { ...(p['status'] as object), conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: ts(0) }] } }, { subresource: 'status' });
    const s2 = await eventually(async () => {
      const st = (await h.client.get(refs.poddisruptionbudgets, 'default', 'pdb'))['status'] as Record<string, unknown>;
      return st['currentHealthy'] === 2 ? st : undefined;
    }, 'two healthy');
    assert.equal(s2['disruptionsAllowed'], 0);
    assert.deepEqual((s2['conditions'] as Array<{ reason: string; status: string }>).map((c) => [c.status, c.reason]), [['False', 'InsufficientPods']]);
  } finally {
    await h.stop();
  }
});
