import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CombinedMetricsSource, KubeletSummarySource, type SummaryLike } from '../../../src/apiserver/metrics/kubelet-summary-source.js';
import { MetricsApi, type MetricsSource } from '../../../src/apiserver/metrics/metrics-api.js';
import type { ApiObject } from '../../../src/client/interface.js';
import type { EventHandler } from '../../../src/client/informer.js';

const real: ApiObject = { metadata: { name: 'real', labels: { zone: 'a' } }, status: { nodeInfo: { containerRuntimeVersion: 'containerd://1.6.20' } } } as ApiObject;
const sim: ApiObject = { metadata: { name: 'sim-0' }, status: { nodeInfo: { containerRuntimeVersion: 'sim://1' } } } as ApiObject;

/** A kubelet whose counters the test moves: cumulative CPU in core-nanoseconds. */
function harness(pods: Array<{ ns: string; name: string; labels?: Record<string, string> }> = [{ ns: 'default', name: 'busy', labels: { app: 'b' } }]) {
  let clock = 1_000_000;
  const handlers: EventHandler[] = [];
  const nodes = [real, sim];
  let summary: SummaryLike = { node: {}, pods: [] };
  const fetched: string[] = [];
  let fail: Error | undefined;
  const src = new KubeletSummarySource({
    nodes: { addEventHandler: (h) => handlers.push(h), list: () => nodes },
    pods: { get: (ns, name) => { const p = pods.find((x) => x.ns === ns && x.name === name); return p ? { metadata: { name: p.name, namespace: p.ns, labels: p.labels } } : undefined; } },
    fetch: async (n) => {
      fetched.push(n.metadata?.name ?? '');
      if (fail) throw fail;
      return summary;
    },
    isReal: (n) => !String((n['status'] as { nodeInfo: { containerRuntimeVersion: string } }).nodeInfo.containerRuntimeVersion).startsWith('sim://'),
    intervalMs: 10_000,
    now: () => clock,
  });
  return {
    src,
    handlers,
    fetched,
    advance: (ms: number) => (clock += ms),
    set: (s: SummaryLike) => (summary = s),
    failWith: (e: Error | undefined) => (fail = e),
  };
}

const kubelet = (nodeCpu: number, busyCpu: number, idleCpu: number, busyStart = '2026-01-01T00:00:00Z'): SummaryLike => ({
  node: { cpu: { usageCoreNanoSeconds: nodeCpu, usageNanoCores: 1 }, memory: { workingSetBytes: 512 * 1024 * 1024 } },
  pods: [
    { podRef: { namespace: 'default', name: 'busy', uid: 'u1' }, containers: [{ name: 'loop', startTime: busyStart, cpu: { usageCoreNanoSeconds: busyCpu }, memory: { workingSetBytes: 300_000 } }] },
    { podRef: { namespace: 'default', name: 'gone', uid: 'u2' }, containers: [{ name: 'c', cpu: { usageCoreNanoSeconds: idleCpu }, memory: { workingSetBytes: 1 } }] },
  ],
});

test('CPU is the rate between two scrapes of the cumulative counters, over the window between them', async () => {
  const h = harness();
  h.set(kubelet(10e9, 1e9, 0));
  await h.src.scrapeAll();
  assert.deepEqual(h.fetched, ['real'], 'simulated nodes have no kubelet to ask');
  assert.deepEqual(h.src.nodeUsage(), [], 'one reading makes no rate: nothing is reported yet');
  assert.deepEqual(h.src.podUsage(), []);

  h.advance(10_000);
  // 10 s later: the node used 15 core-seconds (1.5 cores), the loop 3 (300m).
  h.set(kubelet(25e9, 4e9, 0));
  await h.src.scrapeAll();
  const [node] = h.src.nodeUsage('real');
  assert.equal(node?.cpuNanoCores, 1.5e9);
  assert.equal(node?.memoryBytes, 512 * 1024 * 1024);
  assert.equal(node?.windowSeconds, 10);
  assert.deepEqual(node?.labels, { zone: 'a' });
  const pods = h.src.podUsage('default');
  assert.deepEqual(pods.map((p) => p.name), ['busy'], 'a pod no longer in the API is not reported');
  assert.deepEqual(pods[0]?.containers, [{ name: 'loop', cpuNanoCores: 3e8, memoryBytes: 300_000 }]);
  assert.deepEqual(pods[0]?.labels, { app: 'b' });
  assert.equal(pods[0]?.windowSeconds, 10);
});

test('a restarted container starts a new counter: no rate until two readings of the new one', async () => {
  const h = harness();
  h.set(kubelet(10e9, 5e9, 0));
  await h.src.scrapeAll();
  h.advance(10_000);
  h.set(kubelet(20e9, 6e9, 0, '2026-01-01T00:05:00Z'));
  await h.src.scrapeAll();
  assert.deepEqual(h.src.podUsage('default', 'busy'), []);
  h.advance(10_000);
  h.set(kubelet(30e9, 8e9, 0, '2026-01-01T00:05:00Z'));
  await h.src.scrapeAll();
  assert.equal(h.src.podUsage('default', 'busy')[0]?.containers[0]?.cpuNanoCores, 2e8);
});

test('a scrape too soon after the last one is skipped; a silent kubelet drops out after three intervals', async () => {
  const h = harness();
  h.set(kubelet(10e9, 1e9, 0));
  await h.src.scrapeAll();
  h.advance(1_000);
  await h.src.scrape(real);
  assert.equal(h.fetched.length, 1, 'a node added right after a scrape is not scraped again at once');
  h.advance(9_000);
  h.set(kubelet(20e9, 2e9, 0));
  await h.src.scrapeAll();
  assert.equal(h.src.nodeUsage()[0]?.cpuNanoCores, 1e9);
  h.failWith(new Error('connection refused'));
  h.advance(10_000);
  await h.src.scrapeAll();
  assert.equal(h.src.nodeUsage().length, 1, 'one missed scrape keeps the last sample');
  h.advance(25_000);
  assert.deepEqual(h.src.nodeUsage(), []);
  assert.deepEqual(h.src.podUsage(), []);
});

test('a node appearing is scraped at once; a deleted node takes its metrics along', async () => {
  const h = harness();
  h.src.start();
  h.src.stop();
  h.set(kubelet(0, 0, 0));
  h.handlers[0]?.onAdd?.(real);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.fetched, ['real']);
  h.advance(10_000);
  h.set(kubelet(1e9, 0, 0));
  await h.src.scrapeAll();
  assert.equal(h.src.nodeUsage().length, 1);
  h.handlers[0]?.onDelete?.(real);
  assert.deepEqual(h.src.nodeUsage(), []);
});

test('metrics.k8s.io serves real and simulated nodes side by side', async () => {
  const h = harness();
  h.set(kubelet(10e9, 1e9, 0));
  await h.src.scrapeAll();
  h.advance(10_000);
  h.set(kubelet(12e9, 1.5e9, 0));
  await h.src.scrapeAll();
  const simSource: MetricsSource = {
    nodeUsage: (name) => (name === undefined || name === 'sim-0' ? [{ name: 'sim-0', labels: {}, cpuNanoCores: 5e7, memoryBytes: 1024 * 1024, timestamp: new Date(0), windowSeconds: 10 }] : []),
    podUsage: () => [],
  };
  const api = new MetricsApi(new CombinedMetricsSource([simSource, h.src]));
  const list = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/nodes').body as { items: Array<{ metadata: { name: string }; usage: { cpu: string; memory: string }; window: string }> };
  assert.deepEqual(
    list.items.map((i) => [i.metadata.name, i.usage.cpu, i.usage.memory, i.window]),
    [
      ['real', '200m', '512Mi', '10s'],
      ['sim-0', '50m', '1Mi', '10s'],
    ],
  );
  const pod = api.answer('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy').body as { containers: Array<{ name: string; usage: { cpu: string } }> };
  assert.deepEqual(pod.containers.map((c) => [c.name, c.usage.cpu]), [['loop', '50m']]);
});
