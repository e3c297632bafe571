import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { CycleState, NodeInfo, PodInfo } from '../../../src/scheduler/framework.js';
import { SchedulerCache } from '../../../src/scheduler/cache.js';
import { SchedulingFramework } from '../../../src/scheduler/framework-runner.js';
import { fitErrorMessage } from '../../../src/scheduler/fit-error.js';
import { NodeResourcesFitPlugin } from '../../../src/scheduler/plugins/node-resources-fit.js';
import { NodeUnschedulablePlugin } from '../../../src/scheduler/plugins/node-unschedulable.js';
import { NodeAffinityPlugin } from '../../../src/scheduler/plugins/node-affinity.js';
import { TaintTolerationPlugin } from '../../../src/scheduler/plugins/taint-toleration.js';
import { NodePortsPlugin } from '../../../src/scheduler/plugins/node-ports.js';
import { NodeNamePlugin } from '../../../src/scheduler/plugins/node-name.js';
import { PodTopologySpreadPlugin } from '../../../src/scheduler/plugins/pod-topology-spread.js';
import { InterPodAffinityPlugin } from '../../../src/scheduler/plugins/inter-pod-affinity.js';
import { BalancedAllocationPlugin } from '../../../src/scheduler/plugins/balanced-allocation.js';
import { PluginRegistry } from '../../../src/scheduler/plugins/registry.js';
import { numFeasibleNodesToFind } from '../../../src/scheduler/scheduler.js';

function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never; unschedulable?: boolean } = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' } },
  };
}

let seq = 0;
function pod(opts: { name?: string; cpu?: string; memory?: string; labels?: Record<string, string>; init?: string[]; overhead?: string; spec?: Partial<NonNullable<Pod['spec']>>; ns?: string } = {}): Pod {
  const req: Record<string, string> = {};
  if (opts.cpu) req['cpu'] = opts.cpu;
  if (opts.memory) req['memory'] = opts.memory;
  return {
    metadata: { name: opts.name ?? `p${seq++}`, namespace: opts.ns ?? 'default', labels: opts.labels, uid: `uid-${seq++}` },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests: req } }],
      initContainers: opts.init?.map((cpu, i) => ({ name: `i${i}`, image: 'busybox', resources: { requests: { cpu } } })),
      overhead: opts.overhead ? { cpu: opts.overhead } : undefined,
      ...opts.spec,
    },
  };
}

function info(n: Node, ...pods: Pod[]): NodeInfo {
  const ni = new NodeInfo(n.metadata!.name!);
  ni.setNode(n);
  for (const p of pods) ni.addPod(new PodInfo({ ...p, spec: { ...p.spec!, nodeName: n.metadata!.name } }));
  return ni;
}

function runFilter(plugin: { preFilter?: (s: CycleState, p: Pod, n: NodeInfo[]) => unknown; filter: (s: CycleState, p: Pod, n: NodeInfo) => { isSuccess(): boolean; reasons: string[] } }, p: Pod, ni: NodeInfo, all: NodeInfo[] = [ni]): { ok: boolean; reasons: string[] } {
  const st = new CycleState();
  plugin.preFilter?.(st, p, all);
  const s = plugin.filter(st, p, ni);
  return { ok: s.isSuccess(), reasons: s.reasons };
}

test('NodeResourcesFit: cpu, memory and pod count against allocatable', () => {
  const fit = new NodeResourcesFitPlugin();
  const n = node('n1', { cpu: '2', memory: '1Gi', pods: '2' });
  assert.deepEqual(runFilter(fit, pod({ cpu: '1' }), info(n, pod({ cpu: '500m' }))), { ok: true, reasons: [] });
  assert.deepEqual(runFilter(fit, pod({ cpu: '1600m' }), info(n, pod({ cpu: '500m' }))).reasons, ['Insufficient cpu']);
  assert.deepEqual(runFilter(fit, pod({ memory: '2Gi' }), info(n)).reasons, ['Insufficient memory']);
  assert.deepEqual(runFilter(fit, pod(), info(n, pod(), pod())).reasons, ['Too many pods']);
});

test('NodeResourcesFit: init containers count by their maximum, overhead adds', () => {
  const fit = new NodeResourcesFitPlugin();
  const n = node('n1', { cpu: '2' });
  // Regular 500m, an init container of 1900m: effective 1900m; fits 2 CPUs alone.
  assert.equal(runFilter(fit, pod({ cpu: '500m', init: ['1900m'] }), info(n)).ok, true);
  assert.deepEqual(runFilter(fit, pod({ cpu: '500m', init: ['2100m'] }), info(n)).reasons, ['Insufficient cpu']);
  assert.deepEqual(runFilter(fit, pod({ cpu: '1900m', overhead: '200m' }), info(n)).reasons, ['Insufficient cpu']);
});

test('LeastAllocated scoring prefers the emptier node; balanced allocation prefers even use', () => {
  const fit = new NodeResourcesFitPlugin();
  const st = new CycleState();
  const p = pod({ cpu: '500m', memory: '512Mi' });
  const busy = info(node('busy'), pod({ cpu: '3', memory: '6Gi' }));
  const idle = info(node('idle'));
  assert.ok(fit.score(st, p, idle) > fit.score(st, p, busy));
  const bal = new BalancedAllocationPlugin();
  const skewed = info(node('skewed'), pod({ cpu: '3', memory: '100Mi' }));
  const even = info(node('even'), pod({ cpu: '2', memory: '4Gi' }));
  assert.ok(bal.score(st, p, even) > bal.score(st, p, skewed));
});

test('NodeUnschedulable, NodeName and NodePorts', () => {
  assert.deepEqual(runFilter(new NodeUnschedulablePlugin(), pod(), info(node('c', { unschedulable: true }))).reasons, ['node(s) were unschedulable']);
  assert.equal(runFilter(new NodeUnschedulablePlugin(), pod({ spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } }), info(node('c', { unschedulable: true }))).ok, true);
  assert.deepEqual(runFilter(new NodeNamePlugin(), pod({ spec: { nodeName: 'other' } }), info(node('n1'))).reasons, ["node(s) didn't match the requested node name"]);
  const withPort = (ip?: string): Pod => pod({ spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080, hostIP: ip }] }] } });
  const ports = new NodePortsPlugin();
  assert.deepEqual(runFilter(ports, withPort(), info(node('n1'), withPort())).reasons, ["node(s) didn't have free ports for the requested pod ports"]);
  assert.equal(runFilter(ports, withPort('10.0.0.2'), info(node('n1'), withPort('10.0.0.1'))).ok, true);
  assert.equal(runFilter(ports, withPort('10.0.0.2'), info(node('n1'), withPort())).ok, false);
});

test('NodeAffinity: nodeSelector, required and preferred terms', () => {
  const aff = new NodeAffinityPlugin();
  const ssd = info(node('a', { labels: { disk: 'ssd', zone: 'z1' } }));
  const hdd = info(node('b', { labels: { disk: 'hdd', zone: 'z2' } }));
  assert.equal(runFilter(aff, pod({ spec: { nodeSelector: { disk: 'ssd' } } }), ssd).ok, true);
  assert.deepEqual(runFilter(aff, pod({ spec: { nodeSelector: { disk: 'ssd' } } }), hdd).reasons, ["node(s) didn't match Pod's node affinity/selector"]);
  const required = pod({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }] } } } } });
  assert.equal(runFilter(aff, required, ssd).ok, false);
  assert.equal(runFilter(aff, required, hdd).ok, true);
  const preferred = pod({ spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } } });
  const scores = [ssd, hdd].map((n) => ({ name: n.name, score: aff.score(new CycleState(), preferred, n) }));
  aff.normalizeScore(new CycleState(), preferred, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 0]);
});

test('TaintToleration: untolerated NoSchedule taints reject with Kubernetes message; PreferNoSchedule scores', () => {
  const tt = new TaintTolerationPlugin();
  const cp = info(node('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
  assert.deepEqual(runFilter(tt, pod(), cp).reasons, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  assert.equal(runFilter(tt, pod({ spec: { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }), cp).ok, true);
  const gpu = info(node('g', { taints: [{ key: 'gpu', value: 'true', effect: 'NoExecute' }] }));
  assert.deepEqual(runFilter(tt, pod({ spec: { tolerations: [{ key: 'gpu', value: 'false', effect: 'NoExecute' }] } }), gpu).reasons, ['node(s) had untolerated taint {gpu: true}']);
  const soft = info(node('s', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }));
  const plain = info(node('p'));
  const scores = [soft, plain].map((n) => ({ name: n.name, score: tt.score(new CycleState(), pod(), n) }));
  tt.normalizeScore(new CycleState(), pod(), scores);
  assert.deepEqual(scores.map((s) => s.score), [0, 100]);
});

test('PodTopologySpread: DoNotSchedule keeps zones within maxSkew', () => {
  const web = { app: 'web' };
  const constraint = { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: web } };
  const a = info(node('a', { labels: { zone: 'z1' } }), pod({ labels: web }), pod({ labels: web }));
  const b = info(node('b', { labels: { zone: 'z2' } }), pod({ labels: web }));
  const c = info(node('c', { labels: { zone: 'z3' } }));
  const nolabel = info(node('d'));
  const all = [a, b, c, nolabel];
  const ts = new PodTopologySpreadPlugin();
  const incoming = pod({ labels: web, spec: { topologySpreadConstraints: [constraint] } });
  assert.deepEqual(runFilter(ts, incoming, a, all).reasons, ["node(s) didn't match pod topology spread constraints"]);
  assert.equal(runFilter(ts, incoming, b, all).ok, false); // z2 has 1, min 0 → 2-0 > 1
  assert.equal(runFilter(ts, incoming, c, all).ok, true);
  assert.deepEqual(runFilter(ts, incoming, nolabel, all).reasons, ["node(s) didn't match pod topology spread constraints (missing required label)"]);
  // minDomains 4 with only 3 zones: the global minimum counts as 0.
  const md = pod({ labels: web, spec: { topologySpreadConstraints: [{ ...constraint, maxSkew: 2, minDomains: 4 }] } });
  const b2 = info(node('b', { labels: { zone: 'z2' } }), pod({ labels: web }), pod({ labels: web }));
  const c2 = info(node('c', { labels: { zone: 'z3' } }), pod({ labels: web }));
  assert.equal(runFilter(ts, md, c2, [a, b2, c2]).ok, true);
  assert.equal(runFilter(ts, md, a, [a, b2, c2]).ok, false);
});

test('PodTopologySpread: ScheduleAnyway scores emptier zones higher', () => {
  const web = { app: 'web' };
  const ts = new PodTopologySpreadPlugin();
  const a = info(node('a', { labels: { zone: 'z1' } }), pod({ labels: web }), pod({ labels: web }));
  const b = info(node('b', { labels: { zone: 'z2' } }));
  const incoming = pod({ labels: web, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: web } }] } });
  const st = new CycleState();
  ts.preScore(st, incoming, [a, b]);
  const scores = [a, b].map((n) => ({ name: n.name, score: ts.score(st, incoming, n) }));
  ts.normalizeScore(st, incoming, scores);
  assert.ok(scores[1]!.score > scores[0]!.score, JSON.stringify(scores));
});

test('InterPodAffinity: anti-affinity spreads replicas, affinity co-locates, existing anti-affinity is honoured', () => {
  const web = { app: 'web' };
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: web } }] } };
  const a = info(node('a'), pod({ labels: web, spec: { affinity: anti } }));
  const b = info(node('b'));
  const all = [a, b];
  const ipa = new InterPodAffinityPlugin(() => all, () => undefined, 1, () => all.filter((n) => n.podsWithRequiredAntiAffinity.length > 0));
  const replica = pod({ labels: web, spec: { affinity: anti } });
  assert.deepEqual(runFilter(ipa, replica, a, all).reasons, ["node(s) didn't match pod anti-affinity rules"]);
  assert.equal(runFilter(ipa, replica, b, all).ok, true);
  // A plain pod selected by the existing pod's anti-affinity may not join it either.
  assert.deepEqual(runFilter(ipa, pod({ labels: web }), a, all).reasons, ["node(s) didn't satisfy existing pods anti-affinity rules"]);
  const cache = { app: 'cache' };
  const withCache = info(node('c'), pod({ labels: cache }));
  const all2 = [withCache, b];
  const ipa2 = new InterPodAffinityPlugin(() => all2);
  const follower = pod({ spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: cache } }] } } } });
  assert.equal(runFilter(ipa2, follower, withCache, all2).ok, true);
  assert.deepEqual(runFilter(ipa2, follower, b, all2).reasons, ["node(s) didn't match pod affinity rules"]);
});

test('FailedScheduling message: sorted histogram of reasons plus the preemption note', () => {
  const cache = new SchedulerCache();
  cache.addNode(node('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
  cache.addNode(node('w1', { cpu: '1' }));
  cache.addNode(node('w2', { cpu: '1' }));
  const fw = new SchedulingFramework([{ plugin: new TaintTolerationPlugin() }, { plugin: new NodeResourcesFitPlugin() }]);
  const p = pod({ cpu: '2' });
  const st = new CycleState();
  fw.runPreFilters(st, p, cache.list());
  const statuses = new Map(cache.list().map((n) => [n.name, fw.runFilters(st, p, n)]));
  assert.equal(
    fitErrorMessage(3, { nodeToStatus: statuses, postFilterMsg: 'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.' }),
    '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
  );
});

test('plugin registry refuses duplicates; node sampling follows percentageOfNodesToScore', () => {
  const r = new PluginRegistry().register('X', () => new NodeNamePlugin());
  assert.throws(() => r.register('X', () => new NodeNamePlugin()), /already registered/);
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(1000), 420);
  assert.equal(numFeasibleNodesToFind(5000), 500);
  assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
});
