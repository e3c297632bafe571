import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { CycleState, NodeInfo, PodInfo } from '../../../src/scheduler/framework.js';
import { SchedulerCache } from '../../../src/scheduler/cache.js';
import { selectorFromLabelSelector } from '../../../src/machinery/labels.js';
import { PodTopologySpreadPlugin } from '../../../src/scheduler/plugins/pod-topology-spread.js';
import { InterPodAffinityPlugin } from '../../../src/scheduler/plugins/inter-pod-affinity.js';

function node(name: string, labels: Record<string, string> = {}): Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {}, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } };
}

function pod(name: string, labels: Record<string, string>, nodeName?: string, ns = 'default', spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name, namespace: ns, labels, uid: name }, spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName, ...spec } };
}

function matching(cache: SchedulerCache, selector: Record<string, string> | string, ns = 'default'): string[] {
  const sel = typeof selector === 'string' ? selectorFromLabelSelector({ matchExpressions: [{ key: selector, operator: 'Exists' }] }) : selectorFromLabelSelector({ matchLabels: selector });
  const out: string[] = [];
  cache.forEachMatchingPod((x) => x === ns, sel, (p, n) => out.push(`${p.pod.metadata!.name}@${n.name}`));
  return out.sort();
}

test('cache pod index follows adds, label changes, moves, assumed pods and removals', () => {
  const cache = new SchedulerCache();
  cache.addNode(node('n1'));
  cache.addNode(node('n2'));
  cache.addPod(pod('a', { app: 'web', tier: 'x' }, 'n1'));
  cache.addPod(pod('b', { app: 'web' }, 'n2'));
  cache.addPod(pod('c', { app: 'db' }, 'n2'));
  cache.addPod(pod('d', { app: 'web' }, 'n1', 'other'));
  assert.deepEqual(matching(cache, { app: 'web' }), ['a@n1', 'b@n2']);
  assert.deepEqual(matching(cache, { app: 'web', tier: 'x' }), ['a@n1']);
  assert.deepEqual(matching(cache, 'app'), ['a@n1', 'b@n2', 'c@n2']);
  assert.deepEqual(matching(cache, { app: 'web' }, 'other'), ['d@n1']);
  // Relabel: the old labels no longer find the pod.
  cache.addPod(pod('b', { app: 'db' }, 'n2'));
  assert.deepEqual(matching(cache, { app: 'web' }), ['a@n1']);
  assert.deepEqual(matching(cache, { app: 'db' }), ['b@n2', 'c@n2']);
  // An assumed pod counts; forgetting it removes it.
  cache.assumePod(pod('e', { app: 'web' }, 'n2'));
  assert.deepEqual(matching(cache, { app: 'web' }), ['a@n1', 'e@n2']);
  cache.forgetPod('default/e');
  assert.deepEqual(matching(cache, { app: 'web' }), ['a@n1']);
  cache.removePod(pod('a', { app: 'web', tier: 'x' }, 'n1'));
  assert.deepEqual(matching(cache, { app: 'web' }), []);
  // Pods on a node whose Node object is gone are not visited (as they are not in the snapshot).
  cache.removeNode(node('n2'));
  assert.deepEqual(matching(cache, { app: 'db' }), []);
  cache.addNode(node('n2'));
  assert.deepEqual(matching(cache, { app: 'db' }), ['b@n2', 'c@n2']);
});

test('cache lists the nodes holding pods with (anti-)affinity as pods come and go', () => {
  const cache = new SchedulerCache();
  cache.addNode(node('n1'));
  cache.addNode(node('n2'));
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } }] } };
  const pref = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'db' } } } }] } };
  cache.addPod(pod('a', { app: 'web' }, 'n1', 'default', { affinity: anti }));
  cache.addPod(pod('b', { app: 'web' }, 'n2', 'default', { affinity: pref }));
  assert.deepEqual([...cache.withAffinityPods()].map((n) => n.name).sort(), ['n1', 'n2']);
  assert.deepEqual([...cache.withRequiredAntiAffinityPods()].map((n) => n.name), ['n1']);
  cache.removePod(pod('a', { app: 'web' }, 'n1'));
  assert.deepEqual([...cache.withAffinityPods()].map((n) => n.name), ['n2']);
  assert.deepEqual([...cache.withRequiredAntiAffinityPods()], []);
});

test('PodTopologySpread and InterPodAffinity read the same counts from the cache index as from a node scan', () => {
  const cache = new SchedulerCache();
  const zones = ['z1', 'z2', 'z3'];
  for (let i = 0; i < 9; i++) cache.addNode(node(`n${i}`, { zone: zones[i % 3]! }));
  // z1: 3 web pods, z2: 1, z3: 0; one terminating web pod in z3 does not count.
  cache.addPod(pod('w1', { app: 'web' }, 'n0'));
  cache.addPod(pod('w2', { app: 'web' }, 'n3'));
  cache.addPod(pod('w3', { app: 'web' }, 'n6'));
  cache.addPod(pod('w4', { app: 'web' }, 'n1'));
  cache.addPod({ ...pod('gone', { app: 'web' }, 'n2'), metadata: { name: 'gone', namespace: 'default', labels: { app: 'web' }, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  const spread = { topologySpreadConstraints: [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: 'web' } } }] };
  const incoming = pod('new', { app: 'web' }, undefined, 'default', spread);
  const verdicts = (p: PodTopologySpreadPlugin): boolean[] => {
    const st = new CycleState();
    p.preFilter(st, incoming, cache.list());
    return cache.list().map((n) => p.filter(st, incoming, n).isSuccess());
  };
  const viaIndex = verdicts(new PodTopologySpreadPlugin({ snapshot: cache }));
  const viaScan = verdicts(new PodTopologySpreadPlugin());
  assert.deepEqual(viaIndex, viaScan);
  // z1 has 3 (3+1-0 > 2: rejected), z2 1 and z3 0 are fine.
  assert.deepEqual(viaIndex, cache.list().map((n) => n.node!.metadata!.labels!['zone'] !== 'z1'));

  const anti = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: 'zone', labelSelector: { matchLabels: { app: 'web' } } } }] } };
  const scored = pod('s', { app: 'web' }, undefined, 'default', { affinity: anti });
  const scores = (p: InterPodAffinityPlugin): number[] => {
    const st = new CycleState();
    p.preScore(st, scored);
    return cache.list().map((n) => p.score(st, scored, n));
  };
  // Inter-pod affinity counts the terminating pod too (only spreading skips it).
  const byZone = { z1: -30, z2: -10, z3: -10 } as Record<string, number>;
  assert.deepEqual(scores(new InterPodAffinityPlugin(cache)), cache.list().map((n) => byZone[n.node!.metadata!.labels!['zone']!]!));
  assert.deepEqual(scores(new InterPodAffinityPlugin(() => cache.list())), scores(new InterPodAffinityPlugin(cache)));
});

test('PodTopologySpread scoring as Kubernetes: domain count from filtered nodes, hostname counted per node, nodes missing a key ignored', () => {
  const web = { app: 'web' };
  const mk = (name: string, labels: Record<string, string>, pods: number): NodeInfo => {
    const ni = new NodeInfo(name);
    ni.setNode(node(name, labels));
    for (let i = 0; i < pods; i++) ni.addPod(new PodInfo(pod(`${name}-${i}`, web, name)));
    return ni;
  };
  const a = mk('a', { zone: 'z1' }, 2);
  const b = mk('b', { zone: 'z1' }, 0);
  const c = mk('c', { zone: 'z2' }, 1);
  const nozone = mk('d', {}, 0);
  const all = [a, b, c, nozone];
  const incoming = pod('x', web, undefined, 'default', {
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: web } },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: web } },
    ],
  });
  const plugin = new PodTopologySpreadPlugin();
  const st = new CycleState();
  plugin.preScore(st, incoming, all);
  // zone weight ln(2 zones + 2), hostname weight ln(3 scored nodes + 2); score = Σ count × weight, rounded.
  const wz = Math.log(4);
  const wh = Math.log(5);
  const raw = all.map((n) => plugin.score(st, incoming, n));
  assert.deepEqual(raw, [Math.round(2 * wz + 2 * wh), Math.round(2 * wz), Math.round(1 * wz + 1 * wh), 0]);
  const list = all.map((n, i) => ({ name: n.name, score: raw[i]! }));
  plugin.normalizeScore(st, incoming, list);
  const [max, min] = [Math.max(...raw.slice(0, 3)), Math.min(...raw.slice(0, 3))];
  assert.deepEqual(list.map((s) => s.score), [...raw.slice(0, 3).map((s) => Math.floor((100 * (max + min - s)) / max)), 0]);
  assert.ok(list[1]!.score > list[0]!.score && list[2]!.score > list[0]!.score);
});
