/** Cordon, eviction and cascading deletion as kubectl drives them (no controller of their own). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { eventually as poll } from '../../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 60000): Promise<T> => poll(what, probe, ms);

let c: TestCluster;
before(async () => {
  c = await startCluster({ simNodes: 2 });
});
after(async () => {
  await c?.destroy();
});


async function names(kind: string, selector: string): Promise<string[]> {
  return (await c.k(['get', kind, '-l', selector, '-o', 'name'])).split('\n').filter(Boolean);
}

test('kubectl cordon sets spec.unschedulable and uncordon clears it', async () => {
  await eventually('a node', async () => (await c.k(['get', 'nodes', '-o', 'name'])).includes('node/sim-0'));
  await c.k(['cordon', 'sim-0']);
  assert.equal((await c.k(['get', 'node', 'sim-0', '-o', 'jsonpath={.spec.unschedulable}'])).trim(), 'true');
  await c.k(['uncordon', 'sim-0']);
  assert.equal((await c.k(['get', 'node', 'sim-0', '-o', 'jsonpath={.spec.unschedulable}'])).trim(), '');
});

test('the eviction API refuses to break a PodDisruptionBudget (429)', async () => {
  await c.k(['create', 'deployment', 'guarded', '--image=busybox', '--replicas=1']);
  await c.k(['create', 'poddisruptionbudget', 'guarded', '--selector=app=guarded', '--min-available=1']);
  const [pod] = await eventually('a guarded pod', async () => {
    const n = await names('pods', 'app=guarded');
    return n.length === 1 ? n : undefined;
  });
  const podName = pod!.replace('pod/', '');
  const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName, namespace: 'default' } });
  const r = await c.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${podName}/eviction`, '-f', '-'], { input: eviction });
  assert.notEqual(r.code, 0, 'eviction refused');
  assert.match(r.stderr, /429|disruption budget|TooManyRequests/i);
  await c.k(['delete', 'pdb', 'guarded']);
  await c.k(['delete', 'deployment', 'guarded']);
});

for (const cascade of ['background', 'foreground', 'orphan'] as const) {
  test(`kubectl delete deployment --cascade=${cascade}`, async () => {
    const app = `casc-${cascade}`;
    await c.k(['create', 'deployment', app, '--image=busybox', '--replicas=2']);
    await eventually('ReplicaSet and 2 pods', async () => (await names('rs', `app=${app}`)).length === 1 && (await names('pods', `app=${app}`)).length === 2);
    await c.k(['delete', 'deployment', app, `--cascade=${cascade}`, '--wait=true', '--timeout=60s']);
    if (cascade === 'orphan') {
      await new Promise((r) => setTimeout(r, 1500));
      const rs = await names('rs', `app=${app}`);
      assert.equal(rs.length, 1, 'the ReplicaSet stays');
      assert.equal((await names('pods', `app=${app}`)).length, 2, 'the pods stay');
      const owners = (await c.k(['get', rs[0]!, '-o', 'jsonpath={.metadata.ownerReferences}'])).trim();
      assert.equal(owners, '', 'the orphaned ReplicaSet has no owner');
      await c.k(['delete', rs[0]!]);
    } else {
      if (cascade === 'foreground') assert.equal((await names('rs', `app=${app}`)).length, 0, 'foreground: the ReplicaSet is gone when delete returns');
      await eventually('ReplicaSet and pods gone', async () => (await names('rs', `app=${app}`)).length === 0 && (await c.k(['get', 'pods', '-l', `app=${app}`, '--no-headers'])).split('\n').filter((l) => l && !/Terminating/.test(l)).length === 0);
    }
  });
}
