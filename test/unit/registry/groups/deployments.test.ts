import { test } from 'node:test';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import assert from 'node:assert/strict';
import { ctx, dig, podTemplate, rejection, storeFor, withSpec, write } from './harness.js';

function deployment(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }), ...extra } };
}

test('a Deployment gets Kubernetes defaults, including its pod template', async () => {
  const store = storeFor('apps', 'deployments');
  const created = await store.create('default', deployment('web'), ctx(), write);
  const spec = created.spec;
  assert.equal(dig(spec, 'replicas'), 1);
  assert.deepEqual(dig(spec, 'strategy'), { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(dig(spec, 'revisionHistoryLimit'), 10);
  assert.equal(dig(spec, 'progressDeadlineSeconds'), 600);
  assert.equal(dig(spec, 'template', 'spec', 'restartPolicy'), 'Always');
  assert.equal(dig(spec, 'template', 'spec', 'dnsPolicy'), 'ClusterFirst');
  assert.equal(created.metadata?.generation, 1);
  assert.equal(created.status, undefined);
});

test('a selector that does not match the template labels is rejected with Kubernetes\' message', async () => {
  const store = storeFor('apps', 'deployments');
  const d = withSpec(deployment('x'), { selector: { matchLabels: { app: 'y' } }, template: podTemplate({ app: 'x' }) });
  const msg = await rejection(store.create('default', d, ctx(), write));
  assert.equal(msg, 'Deployment.apps "x" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`');
});

test('a missing selector is required and then cannot match', async () => {
  const store = storeFor('apps', 'deployments');
  const d = withSpec(deployment('x'), { selector: undefined });
  const msg = await rejection(store.create('default', d, ctx(), write));
  assert.match(msg, /spec\.selector: Required value/);
  assert.match(msg, /spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"x"\}: `selector` does not match template `labels`/);
});

test('replicas must be non-negative; maxUnavailable and maxSurge may not both be 0; Recreate has no rollingUpdate', async () => {
  const store = storeFor('apps', 'deployments');
  assert.equal(
    await rejection(store.create('default', deployment('a', { replicas: -1 }), ctx(), write)),
    'Deployment.apps "a" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  assert.equal(
    await rejection(store.create('default', deployment('b', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), ctx(), write)),
    'Deployment.apps "b" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  );
  assert.equal(
    await rejection(store.create('default', deployment('c', { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }), ctx(), write)),
    "Deployment.apps \"c\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
  );
  assert.equal(
    await rejection(store.create('default', deployment('d', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'x' } } }), ctx(), write)),
    `Deployment.apps "d" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: "x": must be an integer or percentage (e.g '5%')`,
  );
});

test('the selector is immutable and generation follows spec (and annotation) changes only', async () => {
  const store = storeFor('apps', 'deployments');
  const created = await store.create('default', deployment('web'), ctx(), write);
  const scaled = await store.update('default', 'web', withSpec(created, { replicas: 3 }), ctx(), write);
  assert.equal(scaled.metadata?.generation, 2);
  const statusOnly = await store.update('default', 'web', { ...scaled, status: { replicas: 3, observedGeneration: 2 } }, ctx(), { ...write, subresource: 'status' });
  assert.equal(statusOnly.metadata?.generation, 2);
  assert.deepEqual(statusOnly.status, { replicas: 3, observedGeneration: 2 });
  const labelled = await store.update('default', 'web', { ...statusOnly, metadata: { ...statusOnly.metadata, labels: { team: 'a' } } }, ctx(), write);
  assert.equal(labelled.metadata?.generation, 2);
  const annotated = await store.update('default', 'web', { ...labelled, metadata: { ...labelled.metadata, annotations: { note: 'x' } } }, ctx(), write);
  assert.equal(annotated.metadata?.generation, 3);
  const changed = withSpec(annotated, { selector: { matchLabels: { app: 'web', tier: 'x' } } });
  const msg = await rejection(store.update('default', 'web', changed, ctx(), write));
  assert.match(
    msg,
    /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"web", "tier":"x"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: field is immutable/,
  );
});

test('ReplicaSets reject templates that do not restart Always', async () => {
  const store = storeFor('apps', 'replicasets');
  const rs = { metadata: { name: 'r' }, spec: { selector: { matchLabels: { app: 'r' } }, template: podTemplate({ app: 'r' }, 'Never') } };
  assert.equal(await rejection(store.create('default', rs, ctx(), write)), 'ReplicaSet.apps "r" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"');
});

test('StatefulSets get their defaults and refuse updates to other spec fields', async () => {
  const store = storeFor('apps', 'statefulsets');
  const sts = {
    metadata: { name: 'db' },
    spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: podTemplate({ app: 'db' }), volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
  };
  const created = await store.create('default', sts, ctx(), write);
  const spec = created.spec;
  assert.equal(dig(spec, 'podManagementPolicy'), 'OrderedReady');
  assert.deepEqual(dig(spec, 'updateStrategy'), { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(dig(spec, 'persistentVolumeClaimRetentionPolicy'), { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(dig(spec, 'replicas'), 1);
  assert.equal(dig(spec, 'revisionHistoryLimit'), 10);
  assert.equal(dig(spec, 'volumeClaimTemplates', 0, 'spec', 'volumeMode'), 'Filesystem');
  const scaled = await store.update('default', 'db', withSpec(created, { replicas: 3 }), ctx(), write);
  assert.equal(dig(scaled, 'spec', 'replicas'), 3);
  const msg = await rejection(store.update('default', 'db', withSpec(scaled, { serviceName: 'other' }), ctx(), write));
  assert.equal(
    msg,
    "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  );
});

test('DaemonSets default to RollingUpdate 1/0 and count template generations', async () => {
  const store = storeFor('apps', 'daemonsets');
  const created = await store.create('default', { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }) } }, ctx(), write);
  assert.deepEqual(dig(created, 'spec', 'updateStrategy'), { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(created.metadata?.annotations?.['deprecated.daemonset.template.generation'], '1');
  const tpl = podTemplate({ app: 'agent', v: '2' });
  const updated = await store.update('default', 'agent', withSpec(created, { template: tpl }), ctx(), write);
  assert.equal(updated.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2');
  const both = withSpec(updated, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } });
  assert.match(await rejection(store.update('default', 'agent', both, ctx(), write)), /spec\.updateStrategy\.rollingUpdate\.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero/);
});
