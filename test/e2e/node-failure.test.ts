/** Stopping a simulated node: it goes NotReady, gets the unreachable taints, and its pods are recreated elsewhere. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 60000): Promise<T> => poll(what, probe, ms);

let c: TestCluster;
before(async () => {
  // Short periods so the test takes seconds, not Kubernetes' 40 s + 300 s.
  c = await startCluster({ simNodes: 3, extraArgs: ['--node-monitor-grace-period', '3', '--default-toleration-seconds', '2'] });
});
after(async () => {
  await c?.destroy();
});


test('stopping a simulated node moves its pods to the others', async () => {
  await eventually('3 Ready nodes', async () => (await c.k(['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 3);
  await c.k(['create', 'deployment', 'web', '--image=busybox', '--replicas=3']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  const onSim0 = (await c.k(['get', 'pods', '-l', 'app=web', '--field-selector=spec.nodeName=sim-0', '-o', 'name'])).trim();
  assert.ok(onSim0, 'a pod runs on sim-0');

  await c.k(['annotate', 'node', 'sim-0', 'sim.k8ts.io/stopped=true']);
  await eventually('sim-0 NotReady', async () => /^sim-0\s+NotReady/m.test(await c.k(['get', 'nodes'])));
  const taints = await c.k(['get', 'node', 'sim-0', '-o', 'jsonpath={.spec.taints[*].key}']);
  assert.match(taints, /node\.kubernetes\.io\/unreachable/);
  await eventually('3 available pods off sim-0', async () => {
    const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Array<{ metadata: { deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }> };
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
    return live.length === 3 && live.every((p) => p.spec.nodeName !== 'sim-0');
  });
  assert.match(await c.k(['get', 'deploy', 'web']), /^web\s+3\/3/m);

  await c.k(['annotate', 'node', 'sim-0', 'sim.k8ts.io/stopped-']);
  await eventually('sim-0 Ready again', async () => /^sim-0\s+Ready/m.test(await c.k(['get', 'nodes'])));
  await eventually('taints removed', async () => !(await c.k(['get', 'node', 'sim-0', '-o', 'jsonpath={.spec.taints[*].key}'])).includes('unreachable'));
});
