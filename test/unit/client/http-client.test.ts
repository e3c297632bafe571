import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HttpClient, optionsFromKubeconfig } from '../../../src/client/http-client.js';
import { ApiError, isConflict, isNotFound, type ApiObject, type WatchEventOf } from '../../../src/client/interface.js';
import { SharedInformer, keyOf, refs } from '../../../src/client/informer.js';
import { LeaderElector } from '../../../src/client/leader-election.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import { eventually } from './in-process-plane.js';

let cluster: TestCluster;
let client: HttpClient;

before(async () => {
  cluster = await startCluster();
  client = HttpClient.fromKubeconfig(cluster.kubeconfig);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

function cm(name: string, data: Record<string, string>, labels: Record<string, string> = {}): ApiObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

async function ns(name: string): Promise<string> {
  await client.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

test('HttpClient: reads its kubeconfig (server, CA, client certificate)', () => {
  const o = optionsFromKubeconfig(readFileSync(cluster.kubeconfig, 'utf8'));
  assert.equal(o.server, cluster.server);
  assert.match(String(o.ca), /BEGIN CERTIFICATE/);
  assert.match(String(o.cert), /BEGIN CERTIFICATE/);
  assert.match(String(o.key), /PRIVATE KEY/);
});

test('HttpClient: create, get, update, delete; errors carry the Status code and reason', async () => {
  const n = await ns('crud');
  const created = await client.create(refs.configmaps, n, cm('a', { k: '1' }));
  assert.equal(created.kind, 'ConfigMap');
  assert.ok(created.metadata?.uid);
  const got = await client.get(refs.configmaps, n, 'a');
  assert.deepEqual(got['data'], { k: '1' });

  const updated = await client.update(refs.configmaps, n, { ...got, data: { k: '2' } });
  assert.deepEqual(updated['data'], { k: '2' });
  assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);

  // A write with a stale resourceVersion conflicts.
  await assert.rejects(client.update(refs.configmaps, n, { ...got, data: { k: '3' } }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.ok(isConflict(e));
    return true;
  });
  await assert.rejects(client.create(refs.configmaps, n, cm('a', {})), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists');
  await assert.rejects(client.get(refs.configmaps, n, 'missing'), (e: unknown) => {
    assert.ok(isNotFound(e));
    assert.equal((e as ApiError).reason, 'NotFound');
    assert.match((e as ApiError).message, /configmaps "missing" not found/);
    return true;
  });
  await assert.rejects(client.create(refs.configmaps, n, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }), (e: unknown) => e instanceof ApiError && e.code === 422 && e.reason === 'Invalid');

  // Dry run writes nothing.
  await client.create(refs.configmaps, n, cm('dry', {}), { dryRun: true });
  await assert.rejects(client.get(refs.configmaps, n, 'dry'), isNotFound);

  // Immediate deletes answer with a Status (no object to return); graceful ones with the object.
  assert.equal(await client.delete(refs.configmaps, n, 'a'), undefined);
  await assert.rejects(client.get(refs.configmaps, n, 'a'), isNotFound);
  await assert.rejects(client.delete(refs.configmaps, n, 'a'), isNotFound);

  // A namespace given for a cluster-scoped resource is ignored, as in-process.
  const dflt = await client.get(refs.namespaces, 'whatever', 'default');
  assert.equal(dflt.metadata?.name, 'default');
});

test('HttpClient: list with label and field selectors, and paging with limit/continue', async () => {
  const n = await ns('listing');
  for (let i = 0; i < 5; i++) await client.create(refs.configmaps, n, cm(`c${i}`, {}, { parity: i % 2 ? 'odd' : 'even' }));
  const odd = await client.list(refs.configmaps, n, { labelSelector: 'parity=odd' });
  assert.deepEqual(odd.items.map((o) => o.metadata?.name).sort(), ['c1', 'c3']);
  assert.ok(Number(odd.metadata.resourceVersion) > 0);
  const one = await client.list(refs.configmaps, n, { fieldSelector: 'metadata.name=c2' });
  assert.deepEqual(one.items.map((o) => o.metadata?.name), ['c2']);
  const notEven = await client.list(refs.configmaps, n, { labelSelector: 'parity!=even,parity' });
  assert.equal(notEven.items.length, 2);

  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const page = await client.list(refs.configmaps, n, { labelSelector: 'parity', limit: 2, ...(cont ? { continue: cont } : {}) });
    assert.ok(page.items.length <= 2);
    names.push(...page.items.map((o) => o.metadata?.name ?? ''));
    cont = page.metadata.continue;
    pages++;
  } while (cont);
  assert.equal(pages, 3);
  assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4']);

  // All namespaces.
  const all = await client.list(refs.configmaps, '', { labelSelector: 'parity=even' });
  assert.ok(all.items.filter((o) => o.metadata?.namespace === n).length === 3);
});

test('HttpClient: watch streams events in order from a resourceVersion; stop() ends it quietly', async () => {
  const n = await ns('watching');
  const start = await client.list(refs.configmaps, n);
  const events: WatchEventOf[] = [];
  let closed = 0;
  const w = await client.watch(refs.configmaps, n, { resourceVersion: start.metadata.resourceVersion }, (e) => events.push(e), () => closed++);
  const a = await client.create(refs.configmaps, n, cm('w', { v: '1' }));
  await client.update(refs.configmaps, n, { ...a, data: { v: '2' } });
  await client.delete(refs.configmaps, n, 'w');
  await client.create(refs.configmaps, 'default', cm('elsewhere', {}));
  await eventually(() => events.filter((e) => e.type !== 'BOOKMARK').length >= 3, 'three events');
  const seen = events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}:${e.object.metadata?.name}:${(e.object['data'] as Record<string, string> | undefined)?.['v'] ?? ''}`);
  assert.deepEqual(seen, ['ADDED:w:1', 'MODIFIED:w:2', 'DELETED:w:2']);
  const rvs = events.map((e) => Number(e.object.metadata?.resourceVersion));
  assert.deepEqual([...rvs].sort((x, y) => x - y), rvs, 'resourceVersions increase');
  w.stop();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, 0, 'onClose is not called after stop()');
});

test('HttpClient: an expired resourceVersion arrives as an ERROR event with the Status; the close is reported', async () => {
  const events: WatchEventOf[] = [];
  let closed = false;
  await client.create(refs.configmaps, 'default', cm('bump', {}));
  await client.watch(refs.configmaps, 'default', { resourceVersion: '1' }, (e) => events.push(e), () => (closed = true));
  await eventually(() => closed, 'stream closed');
  const err = events.find((e) => e.type === 'ERROR');
  assert.ok(err, `expected an ERROR event, got ${JSON.stringify(events)}`);
  assert.equal(err.object['code'], 410);
  assert.equal(err.object['reason'], 'Expired');
});

test('HttpClient: subresources — status and scale updates, binding through create', async () => {
  const n = await ns('subres');
  // A pod for another scheduler stays unbound until we bind it ourselves.
  await client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bind-node' } });
  await client.create(refs.pods, n, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { schedulerName: 'someone-else', containers: [{ name: 'c', image: 'busybox' }] } });
  const status = await client.create(refs.pods, n, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: 'bind-node' } }, { subresource: 'binding' });
  assert.equal(status['status'], 'Success');
  const bound = await client.get(refs.pods, n, 'p');
  assert.equal((bound['spec'] as { nodeName?: string }).nodeName, 'bind-node');
  await assert.rejects(
    client.create(refs.pods, n, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: 'bind-node' } }, { subresource: 'binding' }),
    (e: unknown) => e instanceof ApiError && e.code === 409,
    'a bound pod cannot be bound again',
  );

  // status: only the status changes, whatever the body says about spec.
  const withStatus = await client.update(refs.pods, n, { ...bound, metadata: { ...bound.metadata }, status: { phase: 'Running' } }, { subresource: 'status' });
  assert.equal((withStatus['status'] as { phase?: string }).phase, 'Running');

  // scale
  await client.create(refs.deployments, n, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const scaled = await client.update(refs.deployments, n, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd', namespace: n }, spec: { replicas: 4 } }, { subresource: 'scale' });
  assert.equal(scaled.kind, 'Scale');
  const d = await client.get(refs.deployments, n, 'd');
  assert.equal((d['spec'] as { replicas: number }).replicas, 4);
});

test('HttpClient: serverResources lists resources from discovery with their scope', async () => {
  const rs = await client.serverResources();
  const find = (g: string, r: string) => rs.find((x) => x.group === g && x.resource === r);
  assert.equal(find('', 'pods')?.namespaced, true);
  assert.equal(find('', 'pods')?.kind, 'Pod');
  assert.equal(find('', 'nodes')?.namespaced, false);
  assert.equal(find('apps', 'deployments')?.version, 'v1');
  assert.ok(find('coordination.k8s.io', 'leases')?.verbs.includes('update'));
  assert.ok(!rs.some((x) => x.resource.includes('/')), 'no subresources');
});

test('SharedInformer over HTTP: survives a server restart and catches up', async () => {
  const n = await ns('restarts');
  await client.create(refs.configmaps, n, cm('before', {}, { mine: 'yes' }));
  const local = HttpClient.fromKubeconfig(cluster.kubeconfig);
  const inf = new SharedInformer(local, refs.configmaps, { namespace: n, labelSelector: 'mine' });
  try {
    const adds: string[] = [];
    inf.addEventHandler({ onAdd: (o) => adds.push(keyOf(o)) });
    await inf.start();
    assert.deepEqual(adds, [`${n}/before`]);
    await cluster.restart();
    await client.create(refs.configmaps, n, cm('after', {}, { mine: 'yes' }));
    await eventually(() => adds.includes(`${n}/after`), 'the add after the restart', 20_000);
    assert.deepEqual(inf.list().map(keyOf).sort(), [`${n}/after`, `${n}/before`]);
  } finally {
    inf.stop();
    local.close();
  }
});

test('LeaderElector: one of two candidates leads; when it stops, the other takes over', async () => {
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 };
  const log: string[] = [];
  const make = (id: string): LeaderElector =>
    new LeaderElector({
      client,
      namespace: 'kube-system',
      name: 'k8ts-test',
      identity: id,
      ...timing,
      onStartedLeading: () => log.push(`${id} started`),
      onStoppedLeading: () => log.push(`${id} stopped`),
    });
  const a = make('a');
  const b = make('b');
  void a.run();
  await eventually(() => a.isLeader(), 'a leads');
  void b.run();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(b.isLeader(), false, 'b stands by while a renews');
  assert.equal(b.getLeader(), 'a');
  const lease = await client.get(refs.leases, 'kube-system', 'k8ts-test');
  const spec = lease['spec'] as Record<string, unknown>;
  assert.equal(spec['holderIdentity'], 'a');
  assert.equal(spec['leaseDurationSeconds'], 2);
  assert.match(String(spec['renewTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  // A clean stop releases the lease: b takes over well within the lease duration.
  const stoppedAt = Date.now();
  await a.stop();
  assert.equal(a.isLeader(), false);
  await eventually(() => b.isLeader(), 'b leads', 5000);
  assert.ok(Date.now() - stoppedAt < timing.leaseDurationMs, 'released, so no wait for expiry');
  const after1 = (await client.get(refs.leases, 'kube-system', 'k8ts-test'))['spec'] as Record<string, unknown>;
  assert.equal(after1['holderIdentity'], 'b');
  assert.equal(after1['leaseTransitions'], 1);

  // A leader that vanishes without releasing (a crash): the standby waits out the lease.
  const c = make('c');
  void c.run();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(c.isLeader(), false);
  const crashAt = Date.now();
  // b "crashes": it stops renewing but leaves holderIdentity in place.
  await b.stop({ release: false });
  await eventually(() => c.isLeader(), 'c leads after expiry', 10_000);
  const waited = Date.now() - crashAt;
  assert.ok(waited >= timing.leaseDurationMs - timing.retryPeriodMs * 2, `c waited for the lease to expire (${waited} ms)`);
  assert.ok(waited < timing.leaseDurationMs + 2000, `and took over soon after (${waited} ms)`);
  const after2 = (await client.get(refs.leases, 'kube-system', 'k8ts-test'))['spec'] as Record<string, unknown>;
  assert.equal(after2['holderIdentity'], 'c');
  assert.equal(after2['leaseTransitions'], 2);
  await c.stop();
  assert.deepEqual(log, ['a started', 'a stopped', 'b started', 'b stopped', 'c started', 'c stopped']);
});
