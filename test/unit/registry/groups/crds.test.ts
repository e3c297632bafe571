import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import { ctx, dig, rejection, storeFor, write } from './harness.js';

function crd(extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
      ...extra,
    },
  };
}

test('a CRD gets its defaults and its storage version recorded', async () => {
  const store = storeFor('apiextensions.k8s.io', 'customresourcedefinitions');
  const created = await store.create('', crd(), ctx(''), write);
  assert.equal(dig(created, 'spec', 'names', 'singular'), 'widget');
  assert.equal(dig(created, 'spec', 'names', 'listKind'), 'WidgetList');
  assert.deepEqual(dig(created, 'spec', 'conversion'), { strategy: 'None' });
  assert.deepEqual(dig(created, 'status', 'storedVersions'), ['v1']);
  assert.equal(created.metadata?.generation, 1);
});

test('CRD names, group, versions and schemas are validated', async () => {
  const store = storeFor('apiextensions.k8s.io', 'customresourcedefinitions');
  const wrongName = crd();
  wrongName.metadata = { name: 'widgets.other.com' };
  assert.equal(
    await rejection(store.create('', wrongName, ctx(''), write)),
    'CustomResourceDefinition.apiextensions.k8s.io "widgets.other.com" is invalid: metadata.name: Invalid value: "widgets.other.com": must be spec.names.plural+"."+spec.group',
  );
  const noDot = crd({ group: 'example' });
  noDot.metadata = { name: 'widgets.example' };
  assert.equal(
    await rejection(store.create('', noDot, ctx(''), write)),
    'CustomResourceDefinition.apiextensions.k8s.io "widgets.example" is invalid: spec.group: Invalid value: "example": should be a domain with at least one dot',
  );
  const twoStorage = crd({
    versions: [
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
      { name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  });
  assert.match(await rejection(store.create('', twoStorage, ctx(''), write)), /spec\.versions: Invalid value: .*: must have exactly one version marked as storage version/);
  const noSchema = crd({ versions: [{ name: 'v1', served: true, storage: true }] });
  assert.match(await rejection(store.create('', noSchema, ctx(''), write)), /spec\.versions\[0\]\.schema\.openAPIV3Schema: Required value: schemas are required/);
  const notObject = crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'string' } } }] });
  assert.match(await rejection(store.create('', notObject, ctx(''), write)), /spec\.versions\[0\]\.schema\.openAPIV3Schema\.type: Invalid value: "string": must be object at the root/);
  const badScope = crd({ scope: 'Global' });
  assert.match(await rejection(store.create('', badScope, ctx(''), write)), /spec\.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"/);
});

test('a new storage version is added to storedVersions on update', async () => {
  const store = storeFor('apiextensions.k8s.io', 'customresourcedefinitions');
  const created = await store.create('', crd(), ctx(''), write);
  const schema = { openAPIV3Schema: { type: 'object' } };
  const next = { ...created, spec: { ...(created.spec as object), versions: [{ name: 'v1', served: true, storage: false, schema }, { name: 'v2', served: true, storage: true, schema }] } };
  const updated = await store.update('', 'widgets.example.com', next, ctx(''), write);
  assert.deepEqual(dig(updated, 'status', 'storedVersions'), ['v1', 'v2']);
  assert.equal(updated.metadata?.generation, 2);
});
