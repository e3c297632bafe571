/** The official `@kubernetes/client-node` against `k8ts server`: list, watch and an informer. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, AppsV1Api, KubeConfig, Watch, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { startCluster, type TestCluster } from '../support/cluster.js';

let c: TestCluster;
let kc: KubeConfig;

before(async () => {
  c = await startCluster();
  kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
});
after(async () => {
  await c?.destroy();
});

function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (cond()) {
        clearInterval(tick);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(tick);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 25);
  });
}

test('list and create through the typed API clients', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const namespaces = await core.listNamespace();
  assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-system'));
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-client-node' }, data: { hello: 'world' } } });
  const cm = await core.readNamespacedConfigMap({ name: 'from-client-node', namespace: 'default' });
  assert.equal(cm.data?.['hello'], 'world');
  const apps = kc.makeApiClient(AppsV1Api);
  const d = await apps.createNamespacedDeployment({
    namespace: 'default',
    body: { metadata: { name: 'cn' }, spec: { selector: { matchLabels: { app: 'cn' } }, template: { metadata: { labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } },
  });
  assert.equal(d.spec?.replicas, 1, 'defaults are applied');
  assert.equal(d.spec?.strategy?.type, 'RollingUpdate');
});

test('watch delivers ADDED, MODIFIED and DELETED in order', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedConfigMap({ namespace: 'default' });
  const events: string[] = [];
  const req = await new Watch(kc).watch(
    '/api/v1/namespaces/default/configmaps',
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (type: string, obj: V1ConfigMap) => {
      if (obj.metadata?.name === 'watched') events.push(`${type}:${obj.data?.['v'] ?? ''}`);
    },
    () => {},
  );
  try {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { v: '1' } } });
    await core.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
    await waitFor(() => events.length >= 3, 'three watch events');
    assert.deepEqual(events, ['ADDED:1', 'MODIFIED:2', 'DELETED:2']);
  } finally {
    req.abort();
  }
});

test('an informer keeps a cache in step with the server', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const added: string[] = [];
  const deleted: string[] = [];
  informer.on('add', (o: V1ConfigMap) => added.push(o.metadata?.name ?? ''));
  informer.on('delete', (o: V1ConfigMap) => deleted.push(o.metadata?.name ?? ''));
  await informer.start();
  try {
    await waitFor(() => added.includes('from-client-node'), 'the initial list');
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'informed' }, data: {} } });
    await waitFor(() => added.includes('informed'), 'the add event');
    assert.ok(informer.list('default').some((o) => o.metadata?.name === 'informed'));
    await core.deleteNamespacedConfigMap({ name: 'informed', namespace: 'default' });
    await waitFor(() => deleted.includes('informed'), 'the delete event');
    assert.ok(!informer.list('default').some((o) => o.metadata?.name === 'informed'));
  } finally {
    await informer.stop();
  }
});
