import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  markNamespaceTerminating,
  namespaceHeldBySpecFinalizers,
  namespaceStrategy,
  prepareNamespaceFinalize,
} from '../../../../src/apiserver/registry/resources/core/namespaces.js';
import { ctx, rejection, storeFor, write } from './harness.js';

test('namespaces: created Active, with the kubernetes finalizer and the name label', async () => {
  const store = storeFor('namespaces', namespaceStrategy);
  const ns = await store.create('', { metadata: { name: 'team-a', labels: { env: 'dev' } } }, ctx(''), write);
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.deepEqual(ns.metadata?.labels, { env: 'dev', 'kubernetes.io/metadata.name': 'team-a' });
  assert.equal(ns.metadata?.generation, undefined);
});

test('namespaces: names are DNS-1123 labels', async () => {
  const store = storeFor('namespaces', namespaceStrategy);
  assert.match(await rejection(store.create('', { metadata: { name: 'a.b' } }, ctx(''), write)), /^Namespace "a\.b" is invalid: metadata\.name: Invalid value: "a\.b": must not contain dots/);
});

test('namespaces: updates keep spec.finalizers, status and the name label', async () => {
  const store = storeFor('namespaces', namespaceStrategy);
  const ns = await store.create('', { metadata: { name: 'b' } }, ctx(''), write);
  const updated = await store.update('', 'b', { ...ns, metadata: { ...ns.metadata, labels: { 'kubernetes.io/metadata.name': 'other', x: 'y' } }, spec: { finalizers: [] }, status: { phase: 'Terminating' } }, ctx(''), write);
  assert.deepEqual(updated.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(updated.status, { phase: 'Active' });
  assert.deepEqual(updated.metadata?.labels, { 'kubernetes.io/metadata.name': 'b', x: 'y' });
  assert.match(
    await rejection(store.update('', 'b', { ...updated, status: { phase: 'Terminating' } }, ctx(''), { ...write, subresource: 'status' })),
    /status\.Phase: Invalid value: "Terminating": may only be 'Active' if `deletionTimestamp` is empty/,
  );
});

test('namespaces: finalize changes only spec.finalizers; terminating marks phase and timestamp', () => {
  const stored = { metadata: { name: 'c', labels: { a: 'b' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
  const terminating = markNamespaceTerminating(stored, new Date('2024-05-01T00:00:00Z'));
  assert.equal(terminating.metadata?.deletionTimestamp, '2024-05-01T00:00:00Z');
  assert.deepEqual(terminating.status, { phase: 'Terminating' });
  assert.equal(namespaceHeldBySpecFinalizers(terminating), true);
  const finalized = prepareNamespaceFinalize({ metadata: { name: 'c', labels: {} }, spec: { finalizers: [] }, status: { phase: 'Active' } }, terminating);
  assert.deepEqual(finalized.spec, {});
  assert.deepEqual(finalized.status, { phase: 'Terminating' });
  assert.deepEqual(finalized.metadata?.labels, { a: 'b' });
  assert.equal(namespaceHeldBySpecFinalizers(finalized), false);
});
