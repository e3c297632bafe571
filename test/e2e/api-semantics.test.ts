/**
 * More of the API as users meet it: custom resources, dry runs, paging, version conversion,
 * authentication, health and metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { rawClient } from '../support/api-client.js';

let c: TestCluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.destroy();
});

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string, pattern: '^(\\S+ ){4}\\S+$'}
              image: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
            required: [cronSpec]
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

test('a CustomResourceDefinition serves its kind: discovery, CRUD, validation, defaults, columns, scale', async () => {
  await c.k(['apply', '-f', '-'], { input: crd });
  await c.k(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s']);
  const resources = await c.k(['api-resources', '--api-group=stable.example.com']);
  assert.match(resources, /^crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab$/m);

  await c.k(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly}\nspec: {cronSpec: "0 3 * * *", image: busybox}\n' });
  const got = JSON.parse(await c.k(['get', 'ct', 'nightly', '-o', 'json'])) as { spec: { replicas: number } };
  assert.equal(got.spec.replicas, 1, 'the schema default applies');
  const table = await c.k(['get', 'crontabs']);
  assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE$/m);
  assert.match(table, /^nightly\s+0 3 \* \* \*\s+1\s+\d+s$/m);

  const bad = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: broken}\nspec: {cronSpec: "nope", replicas: 50}\n' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.replicas: Invalid value: 50: spec\.replicas in body should be less than or equal to 10/);
  assert.match(bad.stderr, /spec\.cronSpec: Invalid value: "nope": spec\.cronSpec in body should match/);
  assert.notEqual((await c.kubectl(['get', 'ct', 'broken'])).code, 0, 'nothing was stored');

  await c.k(['scale', 'crontab', 'nightly', '--replicas=3']);
  assert.equal(await c.k(['get', 'ct', 'nightly', '-o', 'jsonpath={.spec.replicas}']), '3');
  await c.k(['patch', 'ct', 'nightly', '--type=merge', '--subresource=status', '-p', '{"status":{"replicas":3}}']);
  assert.equal(await c.k(['get', 'ct', 'nightly', '-o', 'jsonpath={.status.replicas}']), '3');

  const explained = await c.k(['explain', 'crontab.spec']);
  assert.match(explained, /cronSpec\s+<string> -required-/);

  await c.k(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
  const gone = await c.kubectl(['get', 'crontabs']);
  assert.notEqual(gone.code, 0);
});

test('--dry-run=server validates and stores nothing', async () => {
  const out = await c.k(['create', 'configmap', 'dry', '--from-literal=a=b', '--dry-run=server', '-o', 'name']);
  assert.equal(out.trim(), 'configmap/dry');
  assert.notEqual((await c.kubectl(['get', 'cm', 'dry'])).code, 0);
  const bad = await c.kubectl(['run', 'bad-pod', '--image=', '--dry-run=server']);
  assert.notEqual(bad.code, 0);
});

test('lists page with --chunk-size and every item arrives once', async () => {
  const api = rawClient(c.kubeconfig, c.port);
  await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } });
  for (let i = 0; i < 23; i++) await api.call('POST', '/api/v1/namespaces/paged/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } });
  const page = JSON.parse((await api.call('GET', '/api/v1/namespaces/paged/configmaps?limit=10')).body) as { items: unknown[]; metadata: { continue: string; remainingItemCount: number } };
  assert.equal(page.items.length, 10);
  // 23 ConfigMaps plus kube-root-ca.crt, which every namespace gets.
  assert.equal(page.metadata.remainingItemCount, 14);
  api.close();
  const names = (await c.k(['get', 'cm', '-n', 'paged', '--chunk-size=5', '-o', 'name'])).trim().split('\n');
  assert.equal(new Set(names).size, names.length);
  assert.equal(names.length, 24);
});

test('HorizontalPodAutoscalers are served as autoscaling/v2 and converted to v1', async () => {
  await c.k(['create', 'deployment', 'scaled', '--image=busybox']);
  await c.k(['autoscale', 'deployment', 'scaled', '--min=2', '--max=5', '--cpu-percent=60']);
  const v2 = JSON.parse(await c.k(['get', 'hpa', 'scaled', '-o', 'json'])) as { apiVersion: string; spec: { metrics: Array<{ resource: { name: string; target: { averageUtilization: number } } }> } };
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.equal(v2.spec.metrics[0]!.resource.target.averageUtilization, 60);
  const v1 = JSON.parse(await c.k(['get', 'horizontalpodautoscalers.v1.autoscaling', 'scaled', '-o', 'json'])) as { apiVersion: string; spec: { targetCPUUtilizationPercentage: number; minReplicas: number } };
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 60);
  assert.equal(v1.spec.minReplicas, 2);
  const table = await c.k(['get', 'hpa', 'scaled']);
  assert.match(table, /^scaled\s+Deployment\/scaled\s+cpu: <unknown>\/60%\s+2\s+5\s+\d+\s+\d+s$/m);
});

function getOpen(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const kc = readFileSync(c.kubeconfig, 'utf8');
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kc)![1]!, 'base64');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: c.port, path, ca, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('without credentials only health and version answer; a bad token is 401', async () => {
  assert.equal((await getOpen('/readyz')).body, 'ok');
  assert.equal((await getOpen('/livez')).status, 200);
  assert.match((await getOpen('/readyz?verbose')).body, /\[\+\]poststarthook\/crd-informer-synced ok/);
  assert.equal(JSON.parse((await getOpen('/version')).body).major, '1');
  // The CA joining agents fetch (and check against their token) is the kubeconfig's.
  const kcCA = Buffer.from(/certificate-authority-data: (\S+)/.exec(readFileSync(c.kubeconfig, 'utf8'))![1]!, 'base64').toString();
  assert.equal((await getOpen('/cacerts')).body, kcCA);
  const anon = await getOpen('/api/v1/namespaces');
  assert.equal(anon.status, 401);
  assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
  assert.equal((await getOpen('/metrics')).status, 401);
  assert.equal((await getOpen('/api/v1/pods', { Authorization: 'Bearer wrong' })).status, 401);
  const token = readFileSync(`${c.dataDir}/server/token`, 'utf8').trim();
  assert.equal((await getOpen('/api/v1/namespaces', { Authorization: `Bearer ${token}` })).status, 200);
  const metrics = await c.k(['get', '--raw', '/metrics']);
  assert.match(metrics, /^apiserver_request_total\{.*verb="LIST".*resource="namespaces".*\} \d+/m);
  assert.match(metrics, /^apiserver_storage_objects\{resource="namespaces"\} \d+/m);
});

test('a ServiceAccount token from `kubectl create token` authenticates as the service account', async () => {
  await c.k(['create', 'serviceaccount', 'robot']);
  const token = (await c.k(['create', 'token', 'robot'])).trim();
  assert.equal(token.split('.').length, 3);
  const who = await c.k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}', '--token', token]);
  assert.equal(who, 'system:serviceaccount:default:robot');
  assert.equal((await c.k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).trim(), 'system:admin');
  assert.equal((await c.k(['auth', 'can-i', 'create', 'deployments'])).trim(), 'yes');
  const list = await getOpen('/api/v1/namespaces/default/configmaps', { Authorization: `Bearer ${token}` });
  assert.equal(list.status, 200);
  await c.k(['delete', 'serviceaccount', 'robot']);
  const after = await getOpen('/api/v1/namespaces/default/configmaps', { Authorization: `Bearer ${token}` });
  assert.equal(after.status, 401, 'the token dies with its service account');
});

test('a watch on Events from the resourceVersion their list returned is not refused as too old', async () => {
  const api = rawClient(c.kubeconfig, c.port);
  try {
    const list = JSON.parse((await api.call('GET', '/api/v1/events?limit=500')).body) as { metadata: { resourceVersion: string } };
    await api.call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'moves-the-revision' } });
    const watch = await api.call('GET', `/api/v1/events?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`);
    assert.equal(watch.status, 200);
    assert.doesNotMatch(watch.body, /too old resource version/);
  } finally {
    api.close();
  }
});
