import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import { SimCluster } from '../../../src/kubelet/sim/sim-cluster.js';
import { MetricsApi } from '../../../src/apiserver/metrics/metrics-api.js';
import { startHarness, eventually, type Harness } from './control-plane-harness.js';

let h: Harness;
let cluster: SimCluster;

before(async () => {
  h = await startHarness();
  cluster = new SimCluster(h.client, {
    nodes: 3,
    cpu: '4',
    memory: '16Gi',
    pods: '50',
    startDelayMs: 0,
    leaseRenewIntervalMs: 100,
    statusUpdateFrequencyMs: 100,
    defaultPodCIDR: (_name, i) => `10.42.${i}.0/24`,
  });
  await cluster.start();
});

after(async () => {
  cluster.close();
  await h.close();
});

type Obj = Record<string, unknown>;

test('--sim-nodes 3 registers sim-0..sim-2 with the given capacity', async () => {
  const list = await h.client.list(refs.nodes, '');
  const names = list.items.map((n) => n.metadata?.name).sort();
  assert.deepEqual(names, ['sim-0', 'sim-1', 'sim-2']);
  for (const n of list.items) assert.deepEqual((n['status'] as Obj)['capacity'], { cpu: '4', memory: '16Gi', pods: '50', 'ephemeral-storage': '100Gi' });
  const ips = list.items.map((n) => ((n['status'] as Obj)['addresses'] as Obj[])[0]?.['address']);
  assert.equal(new Set(ips).size, 3, 'each node has its own InternalIP');
});

test('pods run on the node they are bound to, with few status writes, and report usage through metrics.k8s.io', async () => {
  for (const [i, node] of ['sim-0', 'sim-1'].entries()) {
    await h.client.create(refs.pods, 'default', {
      metadata: { name: `busy-${i}`, namespace: 'default', labels: { app: 'busy' }, annotations: { 'sim.k8ts.io/cpu': '250m', 'sim.k8ts.io/memory': '64Mi' } },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }, { name: 'side', image: 'busybox' }] },
    });
  }
  for (const i of [0, 1]) {
    const p = await eventually('Running', async () => {
      const x = await h.client.get(refs.pods, 'default', `busy-${i}`);
      return (x['status'] as Obj)['phase'] === 'Running' ? x : undefined;
    });
    assert.match(String((p['status'] as Obj)['podIP']), new RegExp(`^10\\.42\\.${i}\\.`));
  }
  // With startDelayMs 0 a pod goes to Running in one status write.
  assert.equal(cluster.writeCounts().podStatus, 2);

  const api = new MetricsApi(cluster.metrics);
  const nodes = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
  assert.equal(nodes.code, 200);
  const nodeList = nodes.body as { kind: string; apiVersion: string; items: Array<{ metadata: Obj; usage: Obj; window: string; timestamp: string }> };
  assert.equal(nodeList.kind, 'NodeMetricsList');
  assert.equal(nodeList.apiVersion, 'metrics.k8s.io/v1beta1');
  assert.deepEqual(nodeList.items.map((n) => n.metadata['name']), ['sim-0', 'sim-1', 'sim-2']);
  const sim0 = nodeList.items[0]!;
  assert.equal(sim0.window, '10s');
  // 20m base + 2 containers × 250m.
  assert.equal(sim0.usage['cpu'], '520m');
  assert.equal(sim0.usage['memory'], '384Mi');
  assert.equal(nodeList.items[2]!.usage['cpu'], '20m');

  const one = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy-1');
  assert.equal(one.code, 200);
  const pm = one.body as { kind: string; containers: Array<{ name: string; usage: Obj }> };
  assert.equal(pm.kind, 'PodMetrics');
  assert.deepEqual(pm.containers, [
    { name: 'c', usage: { cpu: '250m', memory: '64Mi' } },
    { name: 'side', usage: { cpu: '250m', memory: '64Mi' } },
  ]);
  const sel = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/pods', new URLSearchParams({ labelSelector: 'app=busy' }));
  assert.equal((sel.body as { items: unknown[] }).items.length, 2);
  const none = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods');
  assert.deepEqual((none.body as { items: unknown[] }).items, []);
  const missing = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/nodes/nope');
  assert.equal(missing.code, 404);
  assert.equal((missing.body as Obj)['message'], 'nodemetrics.metrics.k8s.io "nope" not found');
  const discovery = api.answer('GET', '/apis/metrics.k8s.io/v1beta1').body as { resources: Array<Obj> };
  assert.deepEqual(discovery.resources.map((r) => [r['name'], r['kind'], r['namespaced']]), [
    ['nodes', 'NodeMetrics', false],
    ['pods', 'PodMetrics', true],
  ]);
});

test('a stopped sim node disappears from node metrics and stops renewing its Lease', async () => {
  cluster.stopNode('sim-2');
  const api = new MetricsApi(cluster.metrics);
  const names = (api.answer('GET', '/apis/metrics.k8s.io/v1beta1/nodes').body as { items: Array<{ metadata: Obj }> }).items.map((n) => n.metadata['name']);
  assert.deepEqual(names, ['sim-0', 'sim-1']);
  await new Promise((r) => setTimeout(r, 150));
  const before = ((await h.client.get(refs.leases, 'kube-node-lease', 'sim-2'))['spec'] as Obj)['renewTime'];
  const other = ((await h.client.get(refs.leases, 'kube-node-lease', 'sim-0'))['spec'] as Obj)['renewTime'];
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(((await h.client.get(refs.leases, 'kube-node-lease', 'sim-2'))['spec'] as Obj)['renewTime'], before);
  assert.notEqual(((await h.client.get(refs.leases, 'kube-node-lease', 'sim-0'))['spec'] as Obj)['renewTime'], other);
});
