import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import { FakeClock } from '../../../src/machinery/clock.js';
import { NodeLifecycleController } from '../../../src/controllers/node-lifecycle.js';
import { eventually, startHarness } from './harness.js';

interface Taint {
  key: string;
  effect: string;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

async function heartbeat(client: Client, name: string, at: Date): Promise<void> {
  const node = await client.get(refs.nodes, '', name);
  const conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: rfc3339(at), lastTransitionTime: rfc3339(at) }];
  await client.update(refs.nodes, '', { ...node, status: { ...(node['status'] as object), conditions } }, { subresource: 'status' });
  const lease = await client.get(refs.leases, 'kube-node-lease', name).catch(() => undefined);
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: at.toISOString().replace('Z', '000Z') };
  if (lease) await client.update(refs.leases, 'kube-node-lease', { ...lease, spec });
  else await client.create(refs.leases, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec });
}

function taints(n: ApiObject): Taint[] {
  return ((n['spec'] as { taints?: Taint[] } | undefined)?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
}

async function exists(client: Client, name: string): Promise<boolean> {
  try {
    const p = await client.get(refs.pods, 'default', name);
    return !p.metadata?.deletionTimestamp;
  } catch {
    return false;
  }
}

test('node lifecycle: a stale node becomes Unknown and tainted, its pods not ready and evicted after tolerationSeconds', async () => {
  const h = await startHarness();
  const clock = new FakeClock(new Date(Date.now() + 1000));
  try {
    h.ctx.clock = clock;
    h.ctx.options = { nodeMonitorGracePeriodSeconds: 40 };
    await h.client.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } }).catch(() => undefined);
    await h.client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await heartbeat(h.client, 'n1', clock.now());
    const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' };
    await h.client.create(refs.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'short' }, spec: { nodeName: 'n1', tolerations: [{ ...unreachable, tolerationSeconds: 20 }], containers: [{ name: 'c', image: 'busybox' }] } });
    await h.client.create(refs.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'forever' }, spec: { nodeName: 'n1', tolerations: [unreachable], containers: [{ name: 'c', image: 'busybox' }] } });
    for (const name of ['short', 'forever']) {
      const p = await h.client.get(refs.pods, 'default', name);
      await h.client.update(refs.pods, 'default', { ...p, status: { phase: 'Running', podIP: '10.42.0.9', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
    await h.start(NodeLifecycleController);

    // Within the grace period nothing happens.
    await clock.step(30_000);
    await new Promise((r) => setTimeout(r, 100));
    let node = await h.client.get(refs.nodes, '', 'n1');
    assert.equal(taints(node).length, 0);

    // Past it: Ready=Unknown, unreachable taints, pods not ready.
    await clock.step(16_000);
    node = await eventually(async () => {
      const n = await h.client.get(refs.nodes, '', 'n1');
      return taints(n).length === 2 ? n : undefined;
    }, 'unreachable taints');
    const ready = ((node['status'] as { conditions: Array<{ type: string; status: string; reason?: string; message?: string }> }).conditions).find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.deepEqual(taints(node).sort((a, b) => a.effect.localeCompare(b.effect)), [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ]);
    await eventually(async () => {
      const p = await h.client.get(refs.pods, 'default', 'short');
      return ((p['status'] as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'False');
    }, 'pod marked not ready');
    assert.equal(await exists(h.client, 'short'), true, 'not evicted before tolerationSeconds');

    // After tolerationSeconds the pod that tolerates for 20 s is deleted; the one tolerating forever stays.
    for (let i = 0; i < 25 && (await exists(h.client, 'short')); i++) {
      await clock.step(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(async () => !(await exists(h.client, 'short')), 'short-toleration pod evicted');
    assert.equal(await exists(h.client, 'forever'), true);
    const events = (await h.client.list(refs.events, '')).items;
    assert.ok(events.some((e) => e['reason'] === 'NodeNotReady'));
    assert.ok(events.some((e) => e['reason'] === 'TaintManagerEviction' && (e['involvedObject'] as { name?: string }).name === 'short'));

    // The kubelet comes back: the taints go.
    await heartbeat(h.client, 'n1', clock.now());
    await clock.step(5000);
    await eventually(async () => taints(await h.client.get(refs.nodes, '', 'n1')).length === 0, 'taints removed');
  } finally {
    await h.stop();
  }
});
