import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject } from '../../../src/client/interface.js';
import { DaemonSetController, daemonPodNode } from '../../../src/controllers/daemonset.js';
import { eventually, listPods, markReady, podsOf, startHarness } from './harness.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

const node = (name: string, taints?: object[]): ApiObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: taints ? { taints } : {} });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('DaemonSet: a pod pinned to each eligible node, not on a tainted one, new nodes included; rolling update one at a time', async () => {
  const h = await startHarness();
  try {
    for (const n of ['n1', 'n2']) await h.client.create(refs.nodes, '', node(n));
    await h.client.create(refs.nodes, '', node('n3', [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
    await h.start(DaemonSetController);
    const ds = await h.client.create(refs.daemonsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } } },
    });
    const nodesOf = async (): Promise<string[]> => podsOf(await listPods(h.client), ds.metadata?.uid).map((p) => daemonPodNode(p as Pod) ?? '?').sort();
    await eventually(async () => (await nodesOf()).join() === 'n1,n2', 'pods on n1 and n2');
    await sleep(200);
    assert.deepEqual(await nodesOf(), ['n1', 'n2'], 'no pod on the tainted node, and no duplicates');

    const pods = podsOf(await listPods(h.client), ds.metadata?.uid) as Pod[];
    const p = pods[0]!;
    assert.equal(p.spec?.nodeName, undefined, 'the scheduler binds it');
    assert.deepEqual(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.key, 'metadata.name');
    const tolerated = (p.spec?.tolerations ?? []).map((t) => t.key);
    for (const k of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.kubernetes.io/disk-pressure', 'node.kubernetes.io/memory-pressure', 'node.kubernetes.io/pid-pressure', 'node.kubernetes.io/unschedulable']) assert.ok(tolerated.includes(k), k);
    assert.ok(!tolerated.includes('node.kubernetes.io/network-unavailable'), 'only hostNetwork daemons tolerate network-unavailable');
    assert.ok(p.metadata?.labels?.['controller-revision-hash']);

    // A new node gets its daemon; an unschedulable (cordoned) one too, thanks to the automatic toleration.
    await h.client.create(refs.nodes, '', { ...node('n4'), spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } });
    await eventually(async () => (await nodesOf()).join() === 'n1,n2,n4', 'pod on the new node');
    for (const x of podsOf(await listPods(h.client), ds.metadata?.uid)) await markReady(h.client, x);
    await eventually(async () => {
      const s = (await h.client.get(refs.daemonsets, 'default', 'agent'))['status'] as Record<string, number>;
      return s['desiredNumberScheduled'] === 3 && s['currentNumberScheduled'] === 3 && s['numberReady'] === 3 && s['numberAvailable'] === 3 && s['updatedNumberScheduled'] === 3 && s['numberMisscheduled'] === 0 && s['observedGeneration'] === 1;
    }, 'status 3/3');

    // Rolling update, maxUnavailable 1: one node at a time, the next once the new pod is Ready.
    const cur = await h.client.get(refs.daemonsets, 'default', 'agent');
    const spec = cur['spec'] as { template: { spec: { containers: Array<{ image: string }> } } };
    spec.template.spec.containers[0]!.image = 'agent:2';
    await h.client.update(refs.daemonsets, 'default', cur);
    const image = (x: ApiObject): string => (x['spec'] as Pod['spec'])!.containers[0]!.image ?? '';
    const first = await eventually(async () => {
      const ps = podsOf(await listPods(h.client), ds.metadata?.uid);
      const fresh = ps.filter((x) => image(x) === 'agent:2');
      return ps.length === 3 && fresh.length === 1 ? fresh[0] : undefined;
    }, 'one pod replaced');
    await sleep(300);
    assert.equal(podsOf(await listPods(h.client), ds.metadata?.uid).filter((x) => image(x) === 'agent:1').length, 2, 'the others wait for the new pod');
    await markReady(h.client, first);
    const second = await eventually(async () => podsOf(await listPods(h.client), ds.metadata?.uid).find((x) => image(x) === 'agent:2' && x.metadata?.uid !== first.metadata?.uid), 'second replaced');
    await markReady(h.client, second);
    const third = await eventually(async () => podsOf(await listPods(h.client), ds.metadata?.uid).find((x) => image(x) === 'agent:2' && x.metadata?.uid !== first.metadata?.uid && x.metadata?.uid !== second.metadata?.uid), 'third replaced');
    await markReady(h.client, third);
    await eventually(async () => ((await h.client.get(refs.daemonsets, 'default', 'agent'))['status'] as Record<string, number>)['updatedNumberScheduled'] === 3, 'all updated');
    const revisions = (await h.client.list(refs.controllerrevisions, 'default')).items.filter((r) => r.metadata?.name?.startsWith('agent-'));
    assert.equal(revisions.length, 2);

    // Tainting a node NoExecute evicts its daemon; NoSchedule alone would not.
    const n1 = await h.client.get(refs.nodes, '', 'n1');
    await h.client.update(refs.nodes, '', { ...n1, spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
    await eventually(async () => (await nodesOf()).join() === 'n2,n4', 'daemon gone from the NoExecute node');
  } finally {
    await h.stop();
  }
});
