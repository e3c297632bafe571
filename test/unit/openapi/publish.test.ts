import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateDefinitions } from '../../../src/apiserver/openapi/generate-definitions.js';
import { OpenAPIPublisher, PROTOBUF_V2_TYPE, type ServedResource } from '../../../src/apiserver/openapi/publish.js';

const { definitions } = generateDefinitions();
const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const resources: ServedResource[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: ALL, subresources: ['status', 'log', 'exec', 'eviction', 'ephemeralContainers'] },
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], subresources: ['status', 'finalize'] },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, verbs: ALL, subresources: ['status', 'scale'] },
];
const fixedNow = new Date('2025-01-01T00:00:00Z');
const publisher = (rs: ServedResource[] = resources): OpenAPIPublisher =>
  new OpenAPIPublisher({ definitions, resources: () => rs, now: () => fixedNow });

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v));
  return v as Obj;
};
const params = (op: unknown): Obj[] => (obj(op)['parameters'] as Obj[] | undefined) ?? [];
const json = (body: Uint8Array | undefined): Obj => obj(JSON.parse(Buffer.from(body ?? new Uint8Array()).toString('utf8')));

test('v2: paths for each resource, its subresources and watch, with kubectl extensions', () => {
  const doc = publisher().v2Document();
  assert.equal(doc['swagger'], '2.0');
  const paths = obj(doc['paths']);
  for (const p of [
    '/api/v1/namespaces/{namespace}/pods',
    '/api/v1/namespaces/{namespace}/pods/{name}',
    '/api/v1/namespaces/{namespace}/pods/{name}/status',
    '/api/v1/namespaces/{namespace}/pods/{name}/log',
    '/api/v1/namespaces/{namespace}/pods/{name}/exec',
    '/api/v1/pods',
    '/api/v1/watch/namespaces/{namespace}/pods',
    '/api/v1/namespaces',
    '/api/v1/namespaces/{name}/finalize',
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale',
  ]) {
    assert.ok(paths[p], `path ${p}`);
  }
  assert.equal(paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/rollback'], undefined);
  const patch = obj(obj(paths['/api/v1/namespaces/{namespace}/pods/{name}'])['patch']);
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
  assert.equal(patch['x-kubernetes-action'], 'patch');
  assert.deepEqual(params(patch).map((p) => p['name']), ['body', 'dryRun', 'fieldManager', 'fieldValidation', 'force']);
  assert.ok((patch['consumes'] as string[]).includes('application/strategic-merge-patch+json'));
  const scale = obj(obj(paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'])['get']);
  assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  const list = obj(obj(paths['/api/v1/namespaces/{namespace}/pods'])['get']);
  assert.deepEqual(obj(obj(list['responses'])['200'])['schema'], { $ref: '#/definitions/io.k8s.api.core.v1.PodList' });
  assert.ok(params(list).some((p) => p['name'] === 'labelSelector' && p['in'] === 'query'));
  const defs = obj(doc['definitions']);
  assert.ok(defs['io.k8s.api.core.v1.Pod'] && defs['io.k8s.api.autoscaling.v1.Scale'] && defs['io.k8s.api.policy.v1.Eviction']);
  assert.equal(defs['io.k8s.api.batch.v1.Job'], undefined, 'only served kinds and what they reach');
  // Swagger 2.0 has no oneOf: Quantity and IntOrString are strings there.
  assert.deepEqual(obj(defs['io.k8s.apimachinery.pkg.api.resource.Quantity'])['type'], 'string');
  assert.equal(obj(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'])['oneOf'], undefined);
});

test('every PATCH operation of a kind lists fieldValidation (kubectl picks any one of them)', () => {
  for (const doc of [publisher().v2Document(), publisher().v3Document('api/v1')!]) {
    let patches = 0;
    for (const item of Object.values(obj(doc['paths']))) {
      const op = obj(item)['patch'];
      if (!op) continue;
      patches++;
      assert.ok(params(op).some((p) => p['name'] === 'fieldValidation' && p['in'] === 'query'), JSON.stringify(obj(op)['operationId']));
    }
    assert.ok(patches >= 3);
  }
});

test('v3 index lists group-versions with hash URLs that serve immutable documents', () => {
  const p = publisher();
  const idx = p.handle({ path: '/openapi/v3' });
  assert.equal(idx?.status, 200);
  const paths = obj(json(idx?.body)['paths']);
  assert.deepEqual(Object.keys(paths), ['api/v1', 'apis/apps/v1']);
  const url = String(obj(paths['apis/apps/v1'])['serverRelativeURL']);
  assert.match(url, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  const u = new URL(url, 'https://x');
  const doc = p.handle({ path: u.pathname, query: u.searchParams, accept: 'application/json' });
  assert.equal(doc?.status, 200);
  assert.equal(doc?.headers['Cache-Control'], 'public, immutable');
  assert.equal(doc?.headers['ETag'], `"${u.searchParams.get('hash')}"`);
  assert.equal(doc?.headers['Content-Type'], 'application/json');
  const body = json(doc?.body);
  assert.equal(body['openapi'], '3.0.0');
  const schemas = obj(obj(body['components'])['schemas']);
  const dep = obj(schemas['io.k8s.api.apps.v1.Deployment']);
  assert.deepEqual(dep['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  // A ref with siblings is wrapped in allOf, as kube-openapi publishes v3.
  const strategy = obj(obj(obj(schemas['io.k8s.api.apps.v1.DeploymentSpec'])['properties'])['strategy']);
  assert.deepEqual(strategy['allOf'], [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
  assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  // Every ref resolves inside the document.
  const text = Buffer.from(doc?.body ?? new Uint8Array()).toString('utf8');
  for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(schemas[m[1]!], m[1]!);
  assert.ok(!text.includes('#/definitions/'));
  // Without a hash: no immutable caching.
  const plain = p.handle({ path: '/openapi/v3/apis/apps/v1', accept: 'application/json' });
  assert.equal(plain?.headers['Cache-Control'], undefined);
});

test('v3: stale hash redirects, unknown group-version is 404, ETag revalidation gives 304', () => {
  const p = publisher();
  const stale = p.handle({ path: '/openapi/v3/api/v1', query: new URLSearchParams('hash=ABC') });
  assert.equal(stale?.status, 301);
  assert.match(stale?.headers['Location'] ?? '', /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  assert.equal(p.handle({ path: '/openapi/v3/apis/batch/v1' })?.status, 404);
  const first = p.handle({ path: '/openapi/v2', accept: 'application/json' });
  const again = p.handle({ path: '/openapi/v2', accept: 'application/json', ifNoneMatch: first?.headers['ETag'] ?? '' });
  assert.equal(again?.status, 304);
  assert.equal(again?.body, undefined);
  assert.equal(p.handle({ path: '/openapi/v2', accept: 'text/html' })?.status, 406);
  assert.equal(p.handle({ path: '/api/v1' }), undefined);
});

test('v2 content negotiation: protobuf for the gnostic media type, JSON by default', () => {
  const p = publisher();
  const pb = p.handle({ path: '/openapi/v2', accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json' });
  assert.equal(pb?.status, 200);
  assert.equal(pb?.headers['Content-Type'], PROTOBUF_V2_TYPE);
  assert.notEqual(pb?.body?.[0], '{'.charCodeAt(0));
  const js = p.handle({ path: '/openapi/v2' });
  assert.equal(js?.headers['Content-Type'], 'application/json');
  assert.equal(pb?.headers['ETag'], js?.headers['ETag'], 'protobuf shares the JSON ETag (Vary: Accept)');
});

test('custom resources: schemas join the documents, and changing them changes the hash', () => {
  const crontabs: ServedResource = { group: 'stable.example.com', version: 'v1', resource: 'crontabs', kind: 'CronTab', namespaced: true, verbs: ALL, subresources: ['status'] };
  const p = publisher([...resources, crontabs]);
  p.setCustomResources([{ group: 'stable.example.com', version: 'v1', kind: 'CronTab', schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' } } } } } }]);
  const url1 = String(obj(p.v3Index().paths['apis/stable.example.com/v1'])['serverRelativeURL']);
  const doc = p.v3Document('apis/stable.example.com/v1')!;
  const schemas = obj(obj(doc['components'])['schemas']);
  const ct = obj(schemas['com.example.stable.v1.CronTab']);
  assert.deepEqual(ct['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }]);
  assert.ok(obj(ct['properties'])['metadata']);
  assert.ok(schemas['com.example.stable.v1.CronTabList']);
  assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  const patch = obj(obj(obj(doc['paths'])['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'])['patch']);
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'stable.example.com', kind: 'CronTab', version: 'v1' });
  p.setCustomResources([{ group: 'stable.example.com', version: 'v1', kind: 'CronTab', schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, image: { type: 'string' } } } } } }]);
  const url2 = String(obj(p.v3Index().paths['apis/stable.example.com/v1'])['serverRelativeURL']);
  assert.notEqual(url1, url2);
  // Other group-versions keep their hash.
  assert.equal(p.v3Index().paths['api/v1']?.serverRelativeURL, publisher([...resources, crontabs]).v3Index().paths['api/v1']?.serverRelativeURL);
});

test('the served resource table drives DeleteOptions group-version-kinds', () => {
  const defs = obj(publisher().v2Document()['definitions']);
  const gvks = obj(defs['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'])['x-kubernetes-group-version-kind'];
  assert.deepEqual(gvks, [
    { group: '', version: 'v1', kind: 'DeleteOptions' },
    { group: 'apps', version: 'v1', kind: 'DeleteOptions' },
  ]);
});
