import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformer, InformerFactory, keyOf, refs } from '../../../src/client/informer.js';
import type { ApiObject, Client, ListQuery, ObjectList, ResourceRef, WatchEventOf } from '../../../src/client/interface.js';
import { StoreError } from '../../../src/store/backend.js';
import { eventually, startPlane } from './in-process-plane.js';

function cm(name: string, namespace: string, data: Record<string, string>, labels: Record<string, string> = {}): ApiObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data };
}

/** Records what handlers were told, as `add:key`, `update:key:value`, `delete:key`. */
function recorder(): { log: string[]; handler: Parameters<SharedInformer['addEventHandler']>[0] } {
  const log: string[] = [];
  const v = (o: ApiObject): string => String((o['data'] as Record<string, string> | undefined)?.['v'] ?? '');
  return {
    log,
    handler: {
      onAdd: (o) => log.push(`add:${keyOf(o)}`),
      onUpdate: (a, b) => log.push(`update:${keyOf(b)}:${v(a)}->${v(b)}`),
      onDelete: (o) => log.push(`delete:${keyOf(o)}`),
    },
  };
}

test('SharedInformer: initial list, then add/update/delete events, lister and indexes', async () => {
  const p = await startPlane();
  const c = p.client;
  try {
    await c.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await c.create(refs.configmaps, 'default', cm('a', 'default', { v: '1' }, { tier: 'web' }));
    await c.create(refs.configmaps, 'other', cm('b', 'other', { v: '1' }, { tier: 'db' }));

    const inf = new SharedInformer(c, refs.configmaps);
    inf.addIndexer('tier', (o) => (o.metadata?.labels?.['tier'] ? [o.metadata.labels['tier']] : []));
    const r = recorder();
    inf.addEventHandler(r.handler);
    await inf.start();
    assert.equal(inf.hasSynced(), true);
    const initial = r.log.filter((l) => l === 'add:default/a' || l === 'add:other/b');
    assert.deepEqual(initial.sort(), ['add:default/a', 'add:other/b'], 'initial list arrives as adds');
    assert.equal(inf.get('default', 'a')?.['data'] && (inf.get('default', 'a')!['data'] as Record<string, string>)['v'], '1');
    assert.deepEqual(inf.list('other').map(keyOf), ['other/b']);
    assert.deepEqual(inf.byIndex('tier', 'web').map(keyOf), ['default/a']);

    r.log.length = 0;
    await c.create(refs.configmaps, 'default', cm('c', 'default', { v: '1' }, { tier: 'web' }));
    const a = await c.get(refs.configmaps, 'default', 'a');
    await c.update(refs.configmaps, 'default', { ...a, data: { v: '2' }, metadata: { ...a.metadata, labels: { tier: 'db' } } });
    await c.delete(refs.configmaps, 'other', 'b');
    await eventually(() => r.log.length >= 3, 'three events');
    assert.deepEqual(r.log, ['add:default/c', 'update:default/a:1->2', 'delete:other/b'], 'events in the order the server made them');
    assert.equal(inf.get('other', 'b'), undefined);
    assert.deepEqual(inf.byIndex('tier', 'web').map(keyOf), ['default/c'], 'index follows the label change');
    assert.deepEqual(inf.byIndex('tier', 'db').map(keyOf), ['default/a']);

    // A handler added late is told about every cached object.
    const late = recorder();
    inf.addEventHandler(late.handler);
    assert.deepEqual(late.log.sort(), ['add:default/a', 'add:default/c']);
    inf.stop();
  } finally {
    await p.stop();
  }
});

test('SharedInformer: a label selector scopes the cache; an object leaving the selection is a delete', async () => {
  const p = await startPlane();
  try {
    const inf = new SharedInformer(p.client, refs.configmaps, { namespace: 'default', labelSelector: 'app=web' });
    const r = recorder();
    inf.addEventHandler(r.handler);
    await inf.start();
    await p.client.create(refs.configmaps, 'default', cm('x', 'default', { v: '1' }, { app: 'web' }));
    await p.client.create(refs.configmaps, 'default', cm('y', 'default', { v: '1' }, { app: 'db' }));
    await eventually(() => inf.get('default', 'x'), 'x cached');
    const x = await p.client.get(refs.configmaps, 'default', 'x');
    await p.client.update(refs.configmaps, 'default', { ...x, metadata: { ...x.metadata, labels: { app: 'other' } } });
    await eventually(() => r.log.includes('delete:default/x'), 'x leaves the selection');
    assert.equal(inf.get('default', 'y'), undefined);
    assert.deepEqual(r.log, ['add:default/x', 'delete:default/x']);
    inf.stop();
  } finally {
    await p.stop();
  }
});

/** Delegates to a real client; `hold()` makes new lists and watches wait until `release()`. */
class GatedClient implements Client {
  lists = 0;
  watches = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  constructor(private readonly inner: Client) {}
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  get(ref: ResourceRef, ns: string, name: string): Promise<ApiObject> {
    return this.inner.get(ref, ns, name);
  }
  async list(ref: ResourceRef, ns: string, q?: ListQuery): Promise<ObjectList> {
    await this.gate;
    this.lists++;
    return this.inner.list(ref, ns, q);
  }
  create(...a: Parameters<Client['create']>): Promise<ApiObject> {
    return this.inner.create(...a);
  }
  update(...a: Parameters<Client['update']>): Promise<ApiObject> {
    return this.inner.update(...a);
  }
  delete(...a: Parameters<Client['delete']>): Promise<ApiObject | undefined> {
    return this.inner.delete(...a);
  }
  async watch(ref: ResourceRef, ns: string, q: ListQuery, onEvent: (e: WatchEventOf) => void, onClose?: (err?: Error) => void): Promise<{ stop(): void }> {
    await this.gate;
    this.watches++;
    return this.inner.watch(ref, ns, q, onEvent, onClose);
  }
  serverResources(): ReturnType<Client['serverResources']> {
    return this.inner.serverResources();
  }
}

test('SharedInformer: when the server watch breaks, it relists and reports what changed meanwhile', async () => {
  const p = await startPlane();
  try {
    const c = p.client;
    for (const n of ['a', 'b', 'c']) await c.create(refs.configmaps, 'default', cm(n, 'default', { v: '1' }));
    const gated = new GatedClient(c);
    const errors: unknown[] = [];
    const inf = new SharedInformer(gated, refs.configmaps, { onError: (e) => errors.push(e) });
    const r = recorder();
    inf.addEventHandler(r.handler);
    await inf.start();
    assert.equal(gated.lists, 1);
    r.log.length = 0;

    // The API server's watch cache loses its store watch (as on an etcd outage): every API watch
    // of configmaps ends with 410 and the cache reloads. Changes land while the informer is away.
    gated.hold();
    const served = p.plane.apiServer.registry.lookup('', 'v1', 'configmaps');
    assert.ok(served);
    (served.store.cache as unknown as { onStoreError(e: StoreError): void }).onStoreError(new StoreError('Unavailable', 'connection lost (test)'));
    const a = await c.get(refs.configmaps, 'default', 'a');
    await c.update(refs.configmaps, 'default', { ...a, data: { v: '2' } });
    await c.delete(refs.configmaps, 'default', 'b');
    await c.create(refs.configmaps, 'default', cm('d', 'default', { v: '1' }));
    assert.deepEqual(r.log, [], 'nothing is seen while disconnected');
    gated.release();

    await eventually(() => r.log.length >= 3, 'changes reported after relist');
    assert.deepEqual([...r.log].sort(), ['add:default/d', 'delete:default/b', 'update:default/a:1->2']);
    assert.ok(gated.lists >= 2, 'relisted');
    assert.ok(errors.some((e) => (e as { code?: number }).code === 410), 'told about the expired watch');
    assert.deepEqual(inf.list().map(keyOf).sort(), ['default/a', 'default/c', 'default/d']);

    // And the new watch works.
    r.log.length = 0;
    await c.create(refs.configmaps, 'default', cm('e', 'default', { v: '1' }));
    await eventually(() => r.log.includes('add:default/e'), 'add after recovery');
    assert.deepEqual(r.log, ['add:default/e'], 'exactly one watch is running');
    inf.stop();
  } finally {
    await p.stop();
  }
});

test('InformerFactory: one informer per resource, started together', async () => {
  const p = await startPlane();
  try {
    const f = new InformerFactory(p.client);
    const pods = f.for(refs.pods);
    assert.equal(f.for({ group: '', version: 'v1', resource: 'pods' }), pods);
    const ns = f.for(refs.namespaces);
    await f.start();
    assert.ok(pods.hasSynced() && ns.hasSynced());
    assert.ok(ns.get('', 'default'), 'cluster-scoped objects are keyed by name');
    f.stop();
  } finally {
    await p.stop();
  }
});
