import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../src/store/memory.js';
import { GenericStore } from '../../../src/apiserver/registry/generic-store.js';
import { specStatusStrategy, type KubeObject, type RequestContext } from '../../../src/apiserver/registry/strategy.js';
import type { ResourceDescriptor } from '../../../src/api/resource-table.js';
import { StatusError } from '../../../src/machinery/status-error.js';

const descriptor: ResourceDescriptor = { group: 'apps', versions: ['v1'], storageVersion: 'v1', resource: 'widgets', kind: 'Widget', singular: 'widget', namespaced: true, subresources: ['status'] };
const ctx = (): RequestContext => ({ namespace: 'ns', user: { name: 'test', groups: [] }, dryRun: false, now: new Date('2026-01-01T00:00:00Z') });
const write = { dryRun: false, fieldManager: 'test' };

async function newStore(strategy = specStatusStrategy()): Promise<{ store: GenericStore; backend: MemoryBackend }> {
  const backend = new MemoryBackend();
  await backend.start();
  return { store: new GenericStore({ descriptor, strategy, prefix: '/registry/apps/widgets/' }, backend, [], undefined), backend };
}

const widget = (name: string, labels: Record<string, string> = {}, spec: unknown = { size: 1 }): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Widget', metadata: { name, labels }, spec });

async function rejects(p: Promise<unknown>, code: number, reason: string): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason);
    return e;
  }
  assert.fail(`expected ${code} ${reason}`);
}

test('create fills metadata; a second create is AlreadyExists and changes nothing', async () => {
  const { store } = await newStore();
  const created = await store.create('ns', { ...widget('a'), status: { ready: true } }, ctx(), write);
  assert.equal(created.metadata?.namespace, 'ns');
  assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(created.metadata?.creationTimestamp, '2026-01-01T00:00:00Z');
  assert.equal(created.metadata?.generation, 1);
  assert.equal(created.status, undefined, 'status is not settable on create');
  const err = await rejects(store.create('ns', widget('a', {}, { size: 9 }), ctx(), write), 409, 'AlreadyExists');
  assert.equal(err.message, 'widgets.apps "a" already exists');
  assert.deepEqual((await store.get('ns', 'a')).spec, { size: 1 });
});

test('generateName makes a unique name; invalid names are refused with the field', async () => {
  const { store } = await newStore();
  const o = await store.create('ns', { metadata: { generateName: 'job-' }, spec: {} }, ctx(), write);
  assert.match(o.metadata?.name ?? '', /^job-[a-z0-9]{5}$/);
  const err = await rejects(store.create('ns', widget('Bad_Name'), ctx(), write), 422, 'Invalid');
  assert.match(err.message, /^Widget\.apps "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  assert.equal(err.details?.causes?.[0]?.field, 'metadata.name');
  assert.equal((await store.list({ namespace: 'ns' })).items.length, 1);
});

test('updates are optimistic: a stale resourceVersion is a Conflict', async () => {
  const { store } = await newStore();
  const v1 = await store.create('ns', widget('a'), ctx(), write);
  const v2 = await store.update('ns', 'a', { ...v1, spec: { size: 2 } }, ctx(), write);
  assert.notEqual(v2.metadata?.resourceVersion, v1.metadata?.resourceVersion);
  assert.equal(v2.metadata?.generation, 2, 'a spec change bumps generation');
  const err = await rejects(store.update('ns', 'a', { ...v1, spec: { size: 3 } }, ctx(), write), 409, 'Conflict');
  assert.match(err.message, /the object has been modified/);
  const same = await store.update('ns', 'a', { ...v2 }, ctx(), write);
  assert.equal(same.metadata?.resourceVersion, v2.metadata?.resourceVersion, 'a no-op update keeps the resourceVersion');
});

test('the status subresource changes only status, and the main resource keeps status', async () => {
  const { store } = await newStore();
  const a = await store.create('ns', widget('a'), ctx(), write);
  const s = await store.update('ns', 'a', { ...a, spec: { size: 100 }, status: { ready: true } }, ctx(), { ...write, subresource: 'status' });
  assert.deepEqual(s.status, { ready: true });
  assert.deepEqual(s.spec, { size: 1 });
  const m = await store.update('ns', 'a', { ...s, status: { ready: false } }, ctx(), write);
  assert.deepEqual(m.status, { ready: true });
});

test('dry runs validate but store nothing', async () => {
  const { store } = await newStore();
  const out = await store.create('ns', widget('dry'), ctx(), { ...write, dryRun: true });
  assert.equal(out.metadata?.name, 'dry');
  await rejects(store.get('ns', 'dry'), 404, 'NotFound');
});

test('finalizers hold a deletion until the last one is removed', async () => {
  const { store } = await newStore();
  await store.create('ns', { ...widget('f'), metadata: { name: 'f', finalizers: ['example.com/hold'] } }, ctx(), write);
  const r = await store.delete('ns', 'f', ctx(), { dryRun: false });
  assert.equal(r.deleted, false);
  assert.ok(r.object.metadata?.deletionTimestamp);
  const held = await store.get('ns', 'f');
  await rejects(store.update('ns', 'f', { ...held, metadata: { ...held.metadata, finalizers: ['example.com/hold', 'example.com/new'] } }, ctx(), write), 422, 'Invalid');
  await store.update('ns', 'f', { ...held, metadata: { ...held.metadata, finalizers: [] } }, ctx(), write);
  await rejects(store.get('ns', 'f'), 404, 'NotFound');
});

test('graceful deletion marks the object and waits', async () => {
  const { store } = await newStore({ ...specStatusStrategy(), gracefulDeleteSeconds: (_o, requested) => requested ?? 30 });
  await store.create('ns', widget('g'), ctx(), write);
  const r = await store.delete('ns', 'g', ctx(), { dryRun: false });
  assert.equal(r.deleted, false);
  assert.equal(r.object.metadata?.deletionGracePeriodSeconds, 30);
  assert.equal(r.object.metadata?.deletionTimestamp, '2026-01-01T00:00:30Z');
  const now = await store.delete('ns', 'g', ctx(), { dryRun: false, gracePeriodSeconds: 0 });
  assert.equal(now.deleted, true);
});

test('list pages with limit/continue at one revision, with label selectors', async () => {
  const { store } = await newStore();
  for (let i = 0; i < 25; i++) await store.create('ns', widget(`w${String(i).padStart(2, '0')}`, { parity: i % 2 ? 'odd' : 'even' }), ctx(), write);
  const first = await store.list({ namespace: 'ns', limit: 10 });
  assert.equal(first.items.length, 10);
  assert.equal(first.remainingItemCount, 15);
  assert.ok(first.continueToken);
  // Writes after the first page do not show up in later pages of the same list.
  await store.create('ns', widget('w99'), ctx(), write);
  const names: string[] = first.items.map((o) => o.metadata?.name ?? '');
  let token: string = first.continueToken ?? "";
  while (token) {
    const page = await store.list({ namespace: 'ns', limit: 10, continueToken: token });
    assert.equal(page.resourceVersion, first.resourceVersion);
    names.push(...page.items.map((o) => o.metadata?.name ?? ''));
    token = page.continueToken ?? "";
  }
  assert.equal(names.length, 25);
  assert.ok(!names.includes('w99'));
  const odd = await store.list({ namespace: 'ns', limit: 5, labelSelector: (o) => o.metadata?.labels?.['parity'] === 'odd' });
  assert.equal(odd.items.length, 5);
  assert.ok(odd.items.every((o) => o.metadata?.labels?.['parity'] === 'odd'));
  await rejects(store.list({ namespace: 'ns', continueToken: 'garbage' }), 400, 'BadRequest');
});

test('watch resumes from a resourceVersion and reports selector transitions', async () => {
  const { store } = await newStore();
  const a = await store.create('ns', widget('a', { app: 'x' }), ctx(), write);
  const events: string[] = [];
  const w = await store.watch({ namespace: 'ns', resourceVersion: a.metadata?.resourceVersion, labelSelector: (o) => o.metadata?.labels?.['app'] === 'x' }, {
    send: (type, obj) => events.push(`${type} ${obj.metadata?.name}`),
    fail: () => events.push('FAIL'),
  });
  await store.create('ns', widget('b', { app: 'x' }), ctx(), write);
  const b = await store.get('ns', 'b');
  await store.update('ns', 'b', { ...b, metadata: { ...b.metadata, labels: { app: 'y' } } }, ctx(), write);
  await store.create('ns', widget('c', { app: 'y' }), ctx(), write);
  await store.delete('ns', 'a', ctx(), { dryRun: false });
  await new Promise((r) => setTimeout(r, 20));
  w.stop();
  assert.deepEqual(events, ['ADDED b', 'DELETED b', 'DELETED a']);
});

test('a watch from a revision older than the cache window is 410 Expired', async () => {
  const backend = new MemoryBackend();
  await backend.start();
  const { WatchCache } = await import('../../../src/apiserver/registry/watch-cache.js');
  const store = new GenericStore({ descriptor, strategy: {}, prefix: '/registry/apps/widgets/' }, backend, [], undefined);
  const first = await store.create('ns', widget('a'), ctx(), write);
  // A small window: 3 events.
  Object.assign(store, { cache: new WatchCache(backend, '/registry/apps/widgets/', (v, rev) => ({ ...(JSON.parse(v) as KubeObject), metadata: { ...(JSON.parse(v) as KubeObject).metadata, resourceVersion: String(rev) } }), 3) });
  await store.cache.start();
  for (let i = 0; i < 5; i++) await store.create('ns', widget(`n${i}`), ctx(), write);
  await new Promise((r) => setTimeout(r, 10));
  const err = await rejects(store.watch({ namespace: 'ns', resourceVersion: first.metadata?.resourceVersion }, { send: () => {}, fail: () => {} }), 410, 'Expired');
  assert.match(err.message, /too old resource version/);
});
