import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConflict, type ApiObject, type Client } from '../../../src/client/interface.js';
import { refs } from '../../../src/client/informer.js';
import { ReplicaSetController } from '../../../src/controllers/replicaset.js';
import { DeploymentController } from '../../../src/controllers/deployment.js';
import { computeHash, resolveFenceposts } from '../../../src/controllers/deployment-util.js';
import { eventually, listPods, markReady, startHarness } from './harness.js';

function deployment(name: string, image: string, extra: Record<string, unknown> = {}): ApiObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  };
}

/** Plays kubelet: every pod becomes Running and Ready shortly after it appears. */
function fakeKubelet(client: Client): { stop(): void; maxPods: number } {
  const state = { stop: () => (stopped = true), maxPods: 0 };
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const pods = await listPods(client).catch(() => []);
      state.maxPods = Math.max(state.maxPods, pods.length);
      for (const p of pods) {
        const ready = ((p['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
        if (!ready) await markReady(client, p).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return state;
}

async function rsOf(client: Client, name: string): Promise<ApiObject[]> {
  return (await client.list(refs.replicasets, 'default')).items.filter((rs) => rs.metadata?.name?.startsWith(`${name}-`));
}

const spec = (o: ApiObject): Record<string, unknown> => o['spec'] as Record<string, unknown>;
const status = (o: ApiObject): Record<string, unknown> => (o['status'] ?? {}) as Record<string, unknown>;

/** get → change → update, again on conflict (the controller writes status concurrently). */
async function edit(client: Client, name: string, change: (d: ApiObject) => ApiObject): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await client.update(refs.deployments, 'default', change(await client.get(refs.deployments, 'default', name)));
      return;
    } catch (e) {
      if (!isConflict(e) || i > 20) throw e;
    }
  }
}

async function setImage(client: Client, name: string, image: string): Promise<void> {
  await edit(client, name, (d) => {
    const s = spec(d);
    const template = s['template'] as { spec: { containers: Array<Record<string, unknown>> } };
    return { ...d, spec: { ...s, template: { ...template, spec: { ...template.spec, containers: [{ ...template.spec.containers[0], image }] } } } };
  });
}

async function waitComplete(client: Client, name: string): Promise<ApiObject> {
  return eventually(async () => {
    const d = await client.get(refs.deployments, 'default', name);
    const s = status(d);
    const conds = (s['conditions'] ?? []) as Array<{ type: string; status: string; reason: string }>;
    const ok = s['observedGeneration'] === d.metadata?.['generation'] && s['updatedReplicas'] === 3 && s['replicas'] === 3 && s['availableReplicas'] === 3 && conds.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable') && conds.some((c) => c.type === 'Available' && c.status === 'True');
    return ok ? d : undefined;
  }, `${name} complete`, 10000);
}

test('fenceposts round surge up and unavailable down; hash is stable and collision-sensitive', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
  assert.deepEqual(resolveFenceposts(0, 0, 3), { surge: 0, unavailable: 1 });
  assert.deepEqual(resolveFenceposts('50%', 1, 3), { surge: 2, unavailable: 1 });
  const t = { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  assert.equal(computeHash(t), computeHash(JSON.parse(JSON.stringify(t))));
  assert.notEqual(computeHash(t), computeHash(t, 1));
  assert.match(computeHash(t), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test('Deployment: rolling update within maxSurge/maxUnavailable, revisions, undo reuses the old ReplicaSet', async () => {
  const h = await startHarness();
  const kubelet = fakeKubelet(h.client);
  try {
    await h.start(ReplicaSetController, DeploymentController);
    await h.client.create(refs.deployments, 'default', deployment('web', 'nginx:1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await waitComplete(h.client, 'web');
    const [rs1] = await rsOf(h.client, 'web');
    assert.ok(rs1);
    const hash1 = rs1.metadata?.labels?.['pod-template-hash'];
    assert.equal(rs1.metadata?.name, `web-${hash1}`);
    assert.equal(rs1.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs1.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs1.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(((spec(rs1)['selector'] as { matchLabels: Record<string, string> }).matchLabels)['pod-template-hash'], hash1);

    kubelet.maxPods = 0;
    await setImage(h.client, 'web', 'nginx:2');
    await eventually(async () => (await rsOf(h.client, 'web')).length === 2, 'second RS');
    const d2 = await waitComplete(h.client, 'web');
    assert.ok(kubelet.maxPods <= 4, `never more than replicas+maxSurge pods (saw ${kubelet.maxPods})`);
    const rss = await rsOf(h.client, 'web');
    const old = rss.find((r) => r.metadata?.name === rs1.metadata?.name)!;
    const cur = rss.find((r) => r.metadata?.name !== rs1.metadata?.name)!;
    assert.equal(spec(old)['replicas'], 0);
    assert.equal(spec(cur)['replicas'], 3);
    assert.equal(cur.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(d2.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');

    const events = (await h.client.list(refs.events, 'default')).items.filter((e) => e['reason'] === 'ScalingReplicaSet').map((e) => String(e['message']));
    assert.ok(events.includes(`Scaled up replica set ${rs1.metadata?.name} from 0 to 3`), events.join('\n'));
    assert.ok(events.some((m) => m.startsWith(`Scaled down replica set ${rs1.metadata?.name} from `)), events.join('\n'));

    // Undo: put the first template back (what `kubectl rollout undo` does); the old RS is reused as revision 3.
    await setImage(h.client, 'web', 'nginx:1');
    await eventually(async () => {
      const r = (await rsOf(h.client, 'web')).find((x) => x.metadata?.name === rs1.metadata?.name);
      return r && spec(r)['replicas'] === 3 && r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3';
    }, 'old RS back at revision 3');
    assert.equal((await rsOf(h.client, 'web')).length, 2);
    const d3 = await waitComplete(h.client, 'web');
    assert.equal(d3.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
  } finally {
    kubelet.stop();
    await h.stop();
  }
});

test('Deployment: pause holds a template change until resume; change-cause is copied', async () => {
  const h = await startHarness();
  const kubelet = fakeKubelet(h.client);
  try {
    await h.start(ReplicaSetController, DeploymentController);
    await h.client.create(refs.deployments, 'default', deployment('api', 'nginx:1'));
    await waitComplete(h.client, 'api');
    await edit(h.client, 'api', (d) => ({ ...d, spec: { ...spec(d), paused: true } }));
    await setImage(h.client, 'api', 'nginx:2');
    await eventually(async () => {
      const cur = await h.client.get(refs.deployments, 'default', 'api');
      const conds = (status(cur)['conditions'] ?? []) as Array<{ type: string; reason: string }>;
      return status(cur)['observedGeneration'] === cur.metadata?.['generation'] && conds.some((c) => c.type === 'Progressing' && c.reason === 'DeploymentPaused');
    }, 'paused observed');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rsOf(h.client, 'api')).length, 1, 'no new ReplicaSet while paused');

    await edit(h.client, 'api', (p) => ({ ...p, metadata: { ...p.metadata, annotations: { ...p.metadata?.annotations, 'kubernetes.io/change-cause': 'image 2' } }, spec: { ...spec(p), paused: false } }));
    await eventually(async () => (await rsOf(h.client, 'api')).length === 2, 'rollout after resume');
    await waitComplete(h.client, 'api');
    const newest = (await rsOf(h.client, 'api')).find((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
    assert.equal(newest?.metadata?.annotations?.['kubernetes.io/change-cause'], 'image 2');
  } finally {
    kubelet.stop();
    await h.stop();
  }
});

test('Deployment: Recreate removes every old pod before creating new ones', async () => {
  const h = await startHarness();
  const kubelet = fakeKubelet(h.client);
  try {
    await h.start(ReplicaSetController, DeploymentController);
    await h.client.create(refs.deployments, 'default', deployment('db', 'pg:1', { strategy: { type: 'Recreate' } }));
    await waitComplete(h.client, 'db');
    kubelet.maxPods = 0;
    await setImage(h.client, 'db', 'pg:2');
    await eventually(async () => (await rsOf(h.client, 'db')).length === 2, 'second RS');
    await waitComplete(h.client, 'db');
    assert.ok(kubelet.maxPods <= 3, `old and new pods never coexist (saw ${kubelet.maxPods})`);
    const pods = await listPods(h.client);
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => (p['spec'] as { containers: Array<{ image: string }> }).containers[0]!.image === 'pg:2'));
  } finally {
    kubelet.stop();
    await h.stop();
  }
});

test('Deployment: scaling changes the ReplicaSet and revisionHistoryLimit prunes old ones', async () => {
  const h = await startHarness();
  const kubelet = fakeKubelet(h.client);
  try {
    await h.start(ReplicaSetController, DeploymentController);
    await h.client.create(refs.deployments, 'default', deployment('s', 'a:1', { revisionHistoryLimit: 1 }));
    await waitComplete(h.client, 's');
    await setImage(h.client, 's', 'a:2');
    await eventually(async () => (await rsOf(h.client, 's')).length === 2, 'rs 2');
    await waitComplete(h.client, 's');
    await setImage(h.client, 's', 'a:3');
    await waitComplete(h.client, 's');
    await eventually(async () => (await rsOf(h.client, 's')).length === 2, 'history pruned to 1 old RS');
    await edit(h.client, 's', (d) => ({ ...d, spec: { ...spec(d), replicas: 5 } }));
    await eventually(async () => (await listPods(h.client)).length === 5, '5 pods');
  } finally {
    kubelet.stop();
    await h.stop();
  }
});
