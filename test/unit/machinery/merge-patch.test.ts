import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../src/machinery/status-error.js';
import { applyMergePatch, createMergePatch } from '../../../src/machinery/merge-patch.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'fe' }, annotations: { a: '1' } },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } } },
};

test('kubectl label / annotate style patches merge maps and delete with null', () => {
  const out = applyMergePatch(deployment, { metadata: { labels: { env: 'prod', tier: null }, annotations: null } }) as typeof deployment;
  assert.deepEqual(out.metadata, { name: 'web', labels: { app: 'web', env: 'prod' } });
  // Input untouched.
  assert.deepEqual(deployment.metadata.labels, { app: 'web', tier: 'fe' });
});

test('lists are replaced whole, nested nulls in new values are dropped', () => {
  const out = applyMergePatch(deployment, {
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } }, strategy: { type: 'Recreate', rollingUpdate: null } },
  }) as { spec: Record<string, unknown> };
  assert.deepEqual(out.spec, { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } }, strategy: { type: 'Recreate' } });
});

test('RFC 7386 examples', () => {
  assert.deepEqual(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(applyMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  assert.deepEqual(applyMergePatch({ a: 'b' }, { a: null }), {});
  assert.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  assert.deepEqual(applyMergePatch({ a: 'foo' }, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  assert.deepEqual(applyMergePatch({}, {}), {});
});

test('a patch that is not an object is a bad request', () => {
  assert.throws(() => applyMergePatch({ a: 1 }, 'x'), (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === 'Invalid JSON Patch');
  assert.throws(() => applyMergePatch({ a: 1 }, null), (e: unknown) => e instanceof StatusError && e.code === 400);
});

test('createMergePatch yields a patch that reproduces the modified object', () => {
  const modified = {
    ...deployment,
    metadata: { name: 'web', labels: { app: 'web', env: 'prod' } },
    spec: { ...deployment.spec, replicas: 2 },
  };
  const patch = createMergePatch(deployment, modified);
  assert.deepEqual(patch, { metadata: { labels: { env: 'prod', tier: null }, annotations: null }, spec: { replicas: 2 } });
  assert.deepEqual(applyMergePatch(deployment, patch), modified);
  assert.deepEqual(createMergePatch(deployment, deployment), {});
  assert.deepEqual(createMergePatch({ a: [1, 2] }, { a: [1, 3] }), { a: [1, 3] });
});
