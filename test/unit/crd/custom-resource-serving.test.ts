import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../src/store/memory.js';
import { ResourceRegistry } from '../../../src/apiserver/resource-registry.js';
import { GenericStore, type WriteOptions } from '../../../src/apiserver/registry/generic-store.js';
import { specStatusStrategy, type KubeObject, type RequestContext } from '../../../src/apiserver/registry/strategy.js';
import { SchemaIndex } from '../../../src/apiserver/schema-index.js';
import { builtinResources } from '../../../src/api/resource-table.js';
import { CustomResourceServing } from '../../../src/apiserver/crd/custom-resource-serving.js';
import { StatusError } from '../../../src/machinery/status-error.js';
import type { Backend } from '../../../src/store/backend.js';

const write: WriteOptions = { dryRun: false, fieldManager: 'test' };

function ctx(namespace = ''): RequestContext {
  return { namespace, user: { name: 'admin', groups: ['system:masters'] }, dryRun: false, now: new Date() };
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Cluster {
  backend: Backend;
  registry: ResourceRegistry;
  schemas: SchemaIndex;
  crds: GenericStore;
  serving: CustomResourceServing;
}

async function cluster(backend: Backend = new MemoryBackend()): Promise<Cluster> {
  await backend.start();
  const registry = new ResourceRegistry();
  for (const group of ['apiextensions.k8s.io', 'apps']) {
    for (const d of builtinResources.filter((r) => r.group === group)) {
      const store = new GenericStore({ descriptor: d, strategy: specStatusStrategy(), prefix: `/registry/${d.group}/${d.resource}/` }, backend, [], undefined);
      registry.add({ store, descriptor: d });
    }
  }
  const schemas = new SchemaIndex({});
  const serving = new CustomResourceServing({ registry, backend, schemas, admission: [], ownership: undefined, retryDelayMs: 10 });
  await serving.start();
  return { backend, registry, schemas, crds: registry.byGroup('apiextensions.k8s.io', 'customresourcedefinitions')!.store, serving };
}

function crontabCRD(extra: { scale?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'], categories: ['all'] },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {}, ...(extra.scale ? { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } } : {}) },
          additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }, { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['cronSpec'],
                  properties: {
                    cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
                    image: { type: 'string' },
                    replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                    color: { type: 'string', enum: ['red', 'blue'] },
                  },
                },
                status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  };
}

function crontab(name: string, spec: Record<string, unknown>, apiVersion = 'stable.example.com/v1'): KubeObject {
  return { apiVersion, kind: 'CronTab', metadata: { name, namespace: 'default' }, spec };
}

type Rec = Record<string, unknown>;

test('creating a CRD serves its resource and reports it accepted and established', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource to be served');
  assert.equal(served.crdName, 'crontabs.stable.example.com');
  assert.deepEqual(served.descriptor, {
    group: 'stable.example.com',
    versions: ['v1', 'v1beta1'],
    storageVersion: 'v1',
    resource: 'crontabs',
    kind: 'CronTab',
    singular: 'crontab',
    namespaced: true,
    shortNames: ['ct'],
    categories: ['all'],
    subresources: ['status'],
  });
  assert.ok(c.registry.lookup('stable.example.com', 'v1beta1', 'crontabs'));
  assert.ok(c.schemas.lookup('stable.example.com', 'v1', 'CronTab'));

  const crd = await eventually(async () => {
    const o = await c.crds.get('', 'crontabs.stable.example.com');
    return (o.status as Rec | undefined)?.['conditions'] ? o : undefined;
  }, 'the CRD status');
  const status = crd.status as Rec;
  assert.deepEqual(status['acceptedNames'], { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'], categories: ['all'] });
  assert.deepEqual(status['storedVersions'], ['v1']);
  const conditions = (status['conditions'] as Rec[]).map(({ type, status: s, reason, message }) => ({ type, status: s, reason, message }));
  assert.deepEqual(conditions, [
    { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
    { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
  ]);
  assert.deepEqual(crd.metadata?.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
  c.serving.stop();
});

test('a custom resource that breaks the schema is refused with the field errors, and nothing is stored', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  await assert.rejects(
    served.store.create('default', crontab('bad', { cronSpec: 'whenever', replicas: 'two', color: 'pink' }), ctx('default'), write),
    (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 422);
      assert.equal(
        e.message,
        'CronTab.stable.example.com "bad" is invalid: [' +
          "spec.cronSpec: Invalid value: \"whenever\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', " +
          'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string", ' +
          'spec.color: Unsupported value: "pink": supported values: "red", "blue"]',
      );
      assert.deepEqual(e.details?.causes?.map((x) => x.field), ['spec.cronSpec', 'spec.replicas', 'spec.color']);
      return true;
    },
  );
  await assert.rejects(served.store.create('default', crontab('big', { cronSpec: '* * * * */5', replicas: 20 }), ctx('default'), write), /spec\.replicas: Invalid value: 20: spec\.replicas in body should be less than or equal to 10/);
  await assert.rejects(served.store.create('default', crontab('empty', {}), ctx('default'), write), /"empty" is invalid: spec\.cronSpec: Required value$/);
  assert.equal(await served.store.count(), 0);
  c.serving.stop();
});

test('custom resources get schema defaults, lose unknown fields, and keep status to the status subresource', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  const created = await served.store.create('default', { ...crontab('nightly', { cronSpec: '0 3 * * *', extra: true }), status: { replicas: 9 } }, ctx('default'), write);
  assert.deepEqual(created.spec, { cronSpec: '0 3 * * *', replicas: 1 });
  assert.equal(created.status, undefined);
  assert.equal(created.metadata?.generation, 1);
  assert.equal(created.apiVersion, 'stable.example.com/v1');

  const withStatus = await served.store.update('default', 'nightly', { ...created, status: { replicas: 1 } }, ctx('default'), { ...write, subresource: 'status' });
  assert.deepEqual(withStatus.status, { replicas: 1 });
  assert.equal(withStatus.metadata?.generation, 1);

  const relabeled = await served.store.update('default', 'nightly', { ...withStatus, metadata: { ...withStatus.metadata, labels: { a: 'b' } }, status: { replicas: 5 } }, ctx('default'), write);
  assert.equal(relabeled.metadata?.generation, 1, 'metadata changes keep the generation');
  assert.deepEqual(relabeled.status, { replicas: 1 }, 'the main resource cannot change status');
  const respec = await served.store.update('default', 'nightly', { ...relabeled, spec: { cronSpec: '0 4 * * *', replicas: 2 } }, ctx('default'), write);
  assert.equal(respec.metadata?.generation, 2);

  // A write in another served version is validated with that version's schema and stored in v1.
  const beta = await served.store.create('default', crontab('beta', { anything: 'goes' }, 'stable.example.com/v1beta1'), ctx('default'), write);
  assert.equal(beta.apiVersion, 'stable.example.com/v1');
  assert.deepEqual(beta.spec, { anything: 'goes' });
  const asBeta = served.store.resource.converter!.fromStorage(respec, 'v1beta1');
  assert.equal(asBeta.apiVersion, 'stable.example.com/v1beta1');
  assert.deepEqual(asBeta.spec, respec.spec);
  c.serving.stop();
});

test('deleting a CRD removes its custom resources first, then the CRD, and stops serving it', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  await eventually(async () => ((await c.crds.get('', 'crontabs.stable.example.com')).metadata?.finalizers?.length ? true : undefined), 'the cleanup finalizer');
  for (const n of ['a', 'b']) await served.store.create('default', crontab(n, { cronSpec: '* * * * *' }), ctx('default'), write);
  await served.store.create('other', { ...crontab('c', { cronSpec: '* * * * *' }), metadata: { name: 'c', namespace: 'other' } }, ctx('other'), write);
  assert.equal(await served.store.count(), 3);

  const { deleted } = await c.crds.delete('', 'crontabs.stable.example.com', ctx(), { dryRun: false });
  assert.equal(deleted, false, 'the cleanup finalizer holds the CRD');
  await eventually(async () => ((await c.crds.tryGet('', 'crontabs.stable.example.com')) ? undefined : true), 'the CRD to be gone');
  await eventually(() => (c.registry.byGroup('stable.example.com', 'crontabs') ? undefined : true), 'the resource to be unregistered');
  assert.equal(await c.backend.count('/registry/stable.example.com/crontabs/'), 0);
  assert.equal(c.schemas.lookup('stable.example.com', 'v1', 'CronTab'), undefined);

  // The same definition can be created again, empty.
  await c.crds.create('', crontabCRD(), ctx(), write);
  const again = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource again');
  assert.equal((await again.store.list({ namespace: '' })).items.length, 0);
  c.serving.stop();
});

test('a CRD whose names are taken is not served and says why', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the first resource');
  await c.serving.idle();
  const clash = crontabCRD();
  clash.metadata = { name: 'crontabz.stable.example.com' };
  (clash.spec as Rec)['names'] = { plural: 'crontabz', singular: 'crontabz', kind: 'CronTab', shortNames: ['cz'] };
  await c.crds.create('', clash, ctx(), write);
  const crd = await eventually(async () => {
    const o = await c.crds.get('', 'crontabz.stable.example.com');
    return (o.status as Rec | undefined)?.['conditions'] ? o : undefined;
  }, 'the status of the clashing CRD');
  const conditions = ((crd.status as Rec)['conditions'] as Rec[]).map(({ type, status: s, reason, message }) => ({ type, status: s, reason, message }));
  // Kubernetes checks plural, singular, short names, kind, then list kind; the last conflict is reported.
  assert.deepEqual(conditions, [
    { type: 'NamesAccepted', status: 'False', reason: 'ListKindConflict', message: '"CronTabList" is already in use' },
    { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
  ]);
  assert.equal(c.registry.byGroup('stable.example.com', 'crontabz'), undefined);

  // A built-in resource's names are taken too.
  const deploy = crontabCRD();
  deploy.metadata = { name: 'deployments.apps' };
  (deploy.spec as Rec)['group'] = 'apps';
  (deploy.spec as Rec)['names'] = { plural: 'deployments', kind: 'MyDeployment' };
  await c.crds.create('', deploy, ctx(), write);
  const d = await eventually(async () => {
    const o = await c.crds.get('', 'deployments.apps');
    return (o.status as Rec | undefined)?.['conditions'] ? o : undefined;
  }, 'the status of the CRD in apps');
  assert.equal(((d.status as Rec)['conditions'] as Rec[])[0]!['reason'], 'PluralConflict');
  assert.equal(c.registry.byGroup('apps', 'deployments')?.crdName, undefined);
  c.serving.stop();
});

test('after a restart, existing CRDs are served again before start() resolves', async () => {
  const backend = new MemoryBackend();
  const first = await cluster(backend);
  await first.crds.create('', crontabCRD({ scale: true }), ctx(), write);
  const served = await eventually(() => first.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  await served.store.create('default', crontab('kept', { cronSpec: '* * * * *', replicas: 3 }), ctx('default'), write);
  await first.serving.idle();
  first.serving.stop();

  const second = await cluster(backend);
  assert.equal(second.serving.ready, true);
  const again = second.registry.byGroup('stable.example.com', 'crontabs');
  assert.ok(again, 'served as soon as start() resolved');
  assert.deepEqual(again.descriptor.subresources, ['scale', 'status']);
  assert.equal((await again.store.get('default', 'kept')).metadata?.name, 'kept');
  assert.deepEqual(second.serving.scalePaths(again), { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
  assert.equal(second.serving.scalePaths(second.registry.byGroup('apps', 'deployments')!), undefined);

  const printer = second.serving.printerFor(again);
  assert.ok(printer);
  assert.deepEqual(printer.columns.map((col) => col.name), ['Name', 'Spec', 'Replicas']);
  assert.deepEqual(printer.row(await again.store.get('default', 'kept'), new Date()), ['kept', '* * * * *', 3]);
  assert.deepEqual(second.serving.printerFor(again, 'v1beta1')?.columns.map((col) => col.name), ['Name', 'Age']);
  second.serving.stop();
});

test('changing a CRD re-serves it: new versions appear and new schema rules apply', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  await served.store.create('default', crontab('seven', { cronSpec: '* * * * *', replicas: 7 }), ctx('default'), write);
  await c.serving.idle();

  // Tighter schema only: same resource, same store, the new rule applies at once.
  const current = await c.crds.get('', 'crontabs.stable.example.com');
  const tighter = structuredClone(current);
  const v1 = ((tighter.spec as Rec)['versions'] as Rec[])[1]!;
  const props = (((v1['schema'] as Rec)['openAPIV3Schema'] as Rec)['properties'] as Rec)['spec'] as Rec;
  ((props['properties'] as Rec)['replicas'] as Rec)['maximum'] = 5;
  await c.crds.update('', 'crontabs.stable.example.com', tighter, ctx(), write);
  await eventually(async () => {
    try {
      await served.store.create('default', crontab('probe', { cronSpec: '* * * * *', replicas: 7 }), ctx('default'), write);
      await served.store.delete('default', 'probe', ctx('default'), { dryRun: false });
      return undefined;
    } catch (e) {
      return e instanceof StatusError && /should be less than or equal to 5/.test(e.message) ? true : undefined;
    }
  }, 'the new maximum to apply');
  assert.equal(c.registry.byGroup('stable.example.com', 'crontabs'), served, 'a schema change keeps the same served resource');

  // A new served version changes discovery: the resource is registered anew, objects stay.
  const withV2 = structuredClone(await c.crds.get('', 'crontabs.stable.example.com'));
  ((withV2.spec as Rec)['versions'] as Rec[]).push({ name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } });
  await c.crds.update('', 'crontabs.stable.example.com', withV2, ctx(), write);
  const again = await eventually(() => c.registry.lookup('stable.example.com', 'v2', 'crontabs'), 'v2 to be served');
  assert.deepEqual(again.descriptor.versions, ['v2', 'v1', 'v1beta1']);
  assert.equal(again.descriptor.storageVersion, 'v1');
  assert.equal((await again.store.get('default', 'seven')).metadata?.name, 'seven');
  c.serving.stop();
});

test('a CRD being deleted waits for objects held by their own finalizers and refuses new ones', async () => {
  const c = await cluster();
  await c.crds.create('', crontabCRD(), ctx(), write);
  const served = await eventually(() => c.registry.byGroup('stable.example.com', 'crontabs'), 'the resource');
  await eventually(async () => ((await c.crds.get('', 'crontabs.stable.example.com')).metadata?.finalizers?.length ? true : undefined), 'the cleanup finalizer');
  await served.store.create('default', { ...crontab('held', { cronSpec: '* * * * *' }), metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } }, ctx('default'), write);
  await c.crds.delete('', 'crontabs.stable.example.com', ctx(), { dryRun: false });

  const terminating = await eventually(async () => {
    const o = await c.crds.get('', 'crontabs.stable.example.com');
    const t = ((o.status as Rec)['conditions'] as Rec[]).find((x) => x['type'] === 'Terminating');
    return t ? t : undefined;
  }, 'the Terminating condition');
  assert.deepEqual([terminating['status'], terminating['reason'], terminating['message']], ['True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress']);
  await eventually(async () => ((await served.store.get('default', 'held')).metadata?.deletionTimestamp ? true : undefined), 'the object to be marked for deletion');
  await assert.rejects(served.store.create('default', crontab('new', { cronSpec: '* * * * *' }), ctx('default'), write), (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 405);
    assert.equal(e.message, 'create not allowed while custom resource definition is terminating');
    return true;
  });
  assert.ok(await c.crds.tryGet('', 'crontabs.stable.example.com'), 'the CRD waits');

  const held = await served.store.get('default', 'held');
  await served.store.update('default', 'held', { ...held, metadata: { ...held.metadata, finalizers: [] } }, ctx('default'), write);
  await eventually(async () => ((await c.crds.tryGet('', 'crontabs.stable.example.com')) ? undefined : true), 'the CRD to be gone');
  await eventually(() => (c.registry.byGroup('stable.example.com', 'crontabs') ? undefined : true), 'the resource to be unregistered');
  c.serving.stop();
});
