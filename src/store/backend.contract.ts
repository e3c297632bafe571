/**
 * The behaviour every Backend must show, as one node:test suite. A backend's test file calls
 * `runBackendContract('sqlite', async () => new SqliteBackend(file))`; each test gets a fresh
 * backend from `makeBackend`, which the suite starts, and closes it afterwards (then `cleanup`).
 *
 * Tests only rely on revisions relative to the ones they observe and write under their own key
 * root, so a backend sharing one server between tests (etcd) passes too. Tests in one suite run
 * one after another.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError, type Backend, type KeyValue, type StoreErrorCode, type WatchEvent, type Watcher } from './backend.js';

export function runBackendContract(
  name: string,
  makeBackend: () => Promise<Backend>,
  cleanup?: (backend: Backend) => Promise<void>,
): void {
  let serial = 0;

  /** Runs `body` against a started backend, with a key root no other test uses. */
  const withBackend = (body: (b: Backend, root: string) => Promise<void>) => async (): Promise<void> => {
    const b = await makeBackend();
    await b.start();
    const root = `/contract/${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-${serial++}/`;
    try {
      await body(b, root);
    } finally {
      await b.close();
      await cleanup?.(b);
    }
  };

  describe(`Backend contract: ${name}`, () => {
    test('create stores a key at the next revision; get reads it; a second create fails with KeyExists', withBackend(async (b, root) => {
      const r0 = await b.currentRevision();
      const kv = await b.create(`${root}a`, '{"v":1}');
      assert.deepEqual(kv, { key: `${root}a`, value: '{"v":1}', createRevision: r0 + 1, modRevision: r0 + 1 });
      assert.deepEqual(await b.get(`${root}a`), kv);
      assert.equal(await b.get(`${root}missing`), undefined);
      await rejection(b.create(`${root}a`, 'other'), 'KeyExists');
      assert.equal((await b.get(`${root}a`))?.value, '{"v":1}');
      assert.equal(await b.currentRevision(), r0 + 1, 'a failed create must not bump the revision');
    }));

    test('update succeeds with the current modRevision and fails with Conflict (carrying the current kv) otherwise', withBackend(async (b, root) => {
      const k = `${root}u`;
      const created = await b.create(k, 'v1');
      const updated = await b.update(k, 'v2', created.modRevision);
      assert.equal(updated.value, 'v2');
      assert.equal(updated.createRevision, created.createRevision);
      assert.equal(updated.modRevision, created.modRevision + 1);
      assert.deepEqual(await b.get(k), updated);

      const err = await rejection(b.update(k, 'v3', created.modRevision), 'Conflict');
      assert.deepEqual(err.current, updated);
      assert.equal((await b.get(k))?.value, 'v2');
      await rejection(b.update(`${root}nope`, 'x', 1), 'NotFound');
      assert.equal(await b.currentRevision(), updated.modRevision);
    }));

    test('delete removes a key, returning its last value at the delete revision; NotFound and Conflict as expected', withBackend(async (b, root) => {
      const k = `${root}d`;
      const c = await b.create(k, 'last');
      const removed = await b.delete(k);
      assert.deepEqual(removed, { key: k, value: 'last', createRevision: c.createRevision, modRevision: c.modRevision + 1 });
      assert.equal(await b.get(k), undefined);
      await rejection(b.delete(k), 'NotFound');
      await rejection(b.delete(k, removed.modRevision), 'NotFound');

      const again = await b.create(k, 'second');
      assert.equal(again.createRevision, removed.modRevision + 1, 'a re-created key gets a new createRevision');
      const err = await rejection(b.delete(k, c.modRevision), 'Conflict');
      assert.deepEqual(err.current, again);
      assert.deepEqual(await b.get(k), again);
      const removed2 = await b.delete(k, again.modRevision);
      assert.equal(removed2.modRevision, again.modRevision + 1);
      assert.equal(await b.get(k), undefined);
    }));

    test('the global revision grows by exactly one per successful write, across keys', withBackend(async (b, root) => {
      const r0 = await b.currentRevision();
      const a = await b.create(`${root}a`, '1');
      const bb = await b.create(`${root}b`, '1');
      await rejection(b.update(`${root}a`, '2', r0), 'Conflict');
      const a2 = await b.update(`${root}a`, '2', a.modRevision);
      const bDel = await b.delete(`${root}b`);
      assert.deepEqual([a.modRevision, bb.modRevision, a2.modRevision, bDel.modRevision], [r0 + 1, r0 + 2, r0 + 3, r0 + 4]);
      assert.equal(await b.currentRevision(), r0 + 4);
    }));

    test('list returns the keys under a prefix in byte order, and only those', withBackend(async (b, root) => {
      const keys = [`${root}a/y`, `${root}ab/z`, `${root}a/x`, `${root}b`, `${root}a/x/deep`, `${root}a`];
      for (const k of keys) await b.create(k, `v:${k}`);
      await b.create(`${root}a/gone`, 'x');
      await b.delete(`${root}a/gone`);
      const rev = await b.currentRevision();

      const res = await b.list(`${root}a/`);
      assert.deepEqual(res.items.map((kv) => kv.key), [`${root}a/x`, `${root}a/x/deep`, `${root}a/y`]);
      assert.equal(res.items[0]?.value, `v:${root}a/x`);
      assert.equal(res.revision, rev);
      assert.equal(res.more, false);
      const all = await b.list(root);
      assert.deepEqual(all.items.map((kv) => kv.key), [...keys].sort());
      const one = all.items.find((kv) => kv.key === `${root}b`);
      assert.deepEqual(one, await b.get(`${root}b`));
      assert.deepEqual((await b.list(`${root}zzz/`)).items, []);
    }));

    test('count counts the live keys under a prefix', withBackend(async (b, root) => {
      assert.equal(await b.count(root), 0);
      for (const k of ['p/1', 'p/2', 'p/3', 'pq/1']) await b.create(root + k, 'v');
      await b.delete(`${root}p/2`);
      assert.equal(await b.count(`${root}p/`), 2);
      assert.equal(await b.count(root), 3);
    }));

    test('list pages with limit and startKey, reporting more and remaining', withBackend(async (b, root) => {
      for (const n of [1, 2, 3, 4, 5, 6]) await b.create(`${root}k${n}`, `${n}`);
      await b.delete(`${root}k6`);
      await b.create(`${root}l1`, 'outside');
      const p1 = await b.list(`${root}k`, { limit: 2 });
      assert.deepEqual(p1.items.map((kv) => kv.value), ['1', '2']);
      assert.equal(p1.more, true);
      assert.equal(p1.remaining, 3);
      const next = `${p1.items[1]?.key}\u0000`;
      const p2 = await b.list(`${root}k`, { limit: 2, startKey: next, revision: p1.revision });
      assert.deepEqual(p2.items.map((kv) => kv.value), ['3', '4']);
      assert.equal(p2.more, true);
      assert.equal(p2.remaining, 1);
      assert.equal(p2.revision, p1.revision);
      const p3 = await b.list(`${root}k`, { limit: 2, startKey: `${p2.items[1]?.key}\u0000`, revision: p1.revision });
      assert.deepEqual(p3.items.map((kv) => kv.value), ['5']);
      assert.equal(p3.more, false);
      const exact = await b.list(`${root}k`, { limit: 5 });
      assert.equal(exact.items.length, 5);
      assert.equal(exact.more, false, 'a page that holds the last key has no more');
      const fromKey = await b.list(`${root}k`, { startKey: `${root}k4` });
      assert.deepEqual(fromKey.items.map((kv) => kv.value), ['4', '5'], 'startKey is inclusive');
    }));

    test('get and list at an older revision see the keyspace as it was; a future revision fails', withBackend(async (b, root) => {
      const a1 = await b.create(`${root}a`, 'v1');
      const bKv = await b.create(`${root}b`, 'b1');
      const old = await b.currentRevision();
      await b.update(`${root}a`, 'v2', a1.modRevision);
      await b.delete(`${root}b`);
      await b.create(`${root}c`, 'c1');

      const then = await b.list(root, { revision: old });
      assert.equal(then.revision, old);
      assert.deepEqual(then.items, [a1, bKv]);
      assert.deepEqual(await b.get(`${root}a`, old), a1);
      assert.deepEqual(await b.get(`${root}b`, old), bKv);
      assert.equal(await b.get(`${root}c`, old), undefined);
      const now = await b.list(root);
      assert.deepEqual(now.items.map((kv) => `${kv.key.slice(root.length)}=${kv.value}`), ['a=v2', 'c=c1']);
      const future = (await b.currentRevision()) + 100;
      await rejection(b.list(root, { revision: future }), 'FutureRevision');
      await rejection(b.get(`${root}a`, future), 'FutureRevision');
      await rejection(b.watch(root, future, () => undefined), 'FutureRevision');
    }));

    test('watch from an older revision replays history in order, then streams live writes', withBackend(async (b, root) => {
      const p = `${root}w/`;
      const before = await b.create(`${p}before`, 'x');
      const start = before.modRevision;
      const a = await b.create(`${p}a`, 'a1');
      const a2 = await b.update(`${p}a`, 'a2', a.modRevision);
      await b.create(`${root}other`, 'not watched');
      const aDel = await b.delete(`${p}a`);

      const got = collector();
      const w = await b.watch(p, start, got.onEvents, got.onError);
      try {
        await got.until(3);
        const a3 = await b.create(`${p}a`, 'a3');
        const bKv = await b.create(`${p}b`, 'b1');
        const b2 = await b.update(`${p}b`, 'b2', bKv.modRevision);
        const bDel = await b.delete(`${p}b`, b2.modRevision);
        await got.until(7);
        await settle();
        assert.deepEqual(got.events, [
          { type: 'put', kv: a },
          { type: 'put', kv: a2, prevKv: a },
          { type: 'delete', kv: aDel, prevKv: a2 },
          { type: 'put', kv: a3 },
          { type: 'put', kv: bKv },
          { type: 'put', kv: b2, prevKv: bKv },
          { type: 'delete', kv: bDel, prevKv: b2 },
        ]);
        assert.equal(aDel.value, 'a2');
        assert.equal(got.errors.length, 0);
      } finally {
        w.close();
      }
    }));

    test('watch from the current revision sees only new writes; close stops delivery', withBackend(async (b, root) => {
      await b.create(`${root}old`, 'x');
      const got = collector();
      const w = await b.watch(root, await b.currentRevision(), got.onEvents, got.onError);
      const n = await b.create(`${root}new`, 'y');
      await got.until(1);
      assert.deepEqual(got.events, [{ type: 'put', kv: n }]);
      w.close();
      w.close();
      await b.create(`${root}after-close`, 'z');
      await settle();
      assert.equal(got.events.length, 1);
    }));

    test('watch on a prefix only sees that prefix (/a/ does not match /ab/)', withBackend(async (b, root) => {
      const got = collector();
      const w = await b.watch(`${root}a/`, await b.currentRevision(), got.onEvents, got.onError);
      try {
        await b.create(`${root}ab/1`, 'no');
        await b.create(`${root}a`, 'no');
        const yes = await b.create(`${root}a/1`, 'yes');
        await b.create(`${root}b/1`, 'no');
        const yes2 = await b.create(`${root}a/2/x`, 'yes');
        await got.until(2);
        await settle();
        assert.deepEqual(got.events.map((e) => e.kv), [yes, yes2]);
      } finally {
        w.close();
      }
    }));

    test('many watchers each receive every write once and in order', withBackend(async (b, root) => {
      const from = await b.currentRevision();
      const watchers: Watcher[] = [];
      const collectors = [collector(), collector(), collector()];
      for (const c of collectors) watchers.push(await b.watch(root, from, c.onEvents, c.onError));
      try {
        const writes: Promise<KeyValue>[] = [];
        for (let i = 0; i < 50; i++) writes.push(b.create(`${root}k${String(i).padStart(2, '0')}`, `${i}`));
        await Promise.all(writes);
        for (const c of collectors) await c.until(50);
        await settle();
        for (const c of collectors) {
          const revs = c.events.map((e) => e.kv.modRevision);
          assert.deepEqual(revs, Array.from({ length: 50 }, (_, i) => from + 1 + i));
        }
      } finally {
        for (const w of watchers) w.close();
      }
    }));

    test('compaction makes older revisions fail with Compacted and keeps current values', withBackend(async (b, root) => {
      const keep = await b.create(`${root}keep`, 'k1');
      const gone = await b.create(`${root}gone`, 'g1');
      const beforeCompact = await b.currentRevision();
      const keep2 = await b.update(`${root}keep`, 'k2', keep.modRevision);
      await b.delete(`${root}gone`, gone.modRevision);
      const still = await b.create(`${root}still`, 's1');
      const target = await b.currentRevision();
      const later = await b.update(`${root}still`, 's2', still.modRevision);

      await rejection(b.compact(later.modRevision + 100), 'FutureRevision');
      await b.compact(target);
      assert.equal(await b.compactRevision(), target);
      const e1 = await rejection(b.list(root, { revision: beforeCompact }), 'Compacted');
      assert.equal(e1.compactRevision, target);
      await rejection(b.list(root, { revision: target - 1 }), 'Compacted');
      await rejection(b.get(`${root}keep`, keep.modRevision), 'Compacted');
      await rejection(b.watch(root, beforeCompact, () => undefined), 'Compacted');

      assert.deepEqual((await b.list(root)).items, [keep2, later]);
      assert.deepEqual((await b.list(root, { revision: target })).items, [keep2, still]);
      assert.equal(await b.get(`${root}gone`), undefined);
      assert.equal(await b.count(root), 2);

      const got = collector();
      const w = await b.watch(root, target, got.onEvents, got.onError);
      try {
        await got.until(1);
        await settle();
        assert.deepEqual(got.events, [{ type: 'put', kv: later, prevKv: still }]);
      } finally {
        w.close();
      }
      // Writes go on normally after a compaction, and a deleted key can come back.
      const back = await b.create(`${root}gone`, 'g2');
      assert.equal(back.modRevision, later.modRevision + 1);
      assert.equal(await b.currentRevision(), back.modRevision);
    }));
  });
}

/** Awaits a promise that must reject with a StoreError of `code`, and returns that error. */
export async function rejection(p: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected StoreError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected StoreError ${code}, but the call succeeded`);
}

interface Collector {
  events: WatchEvent[];
  errors: StoreError[];
  onEvents(events: WatchEvent[]): void;
  onError(err: StoreError): void;
  /** Resolves once at least `n` events arrived; fails after a few seconds. */
  until(n: number): Promise<void>;
}

function collector(): Collector {
  const c: Collector = {
    events: [],
    errors: [],
    onEvents: (events) => {
      // Normalize away undefined prevKv so deepEqual compares what a user sees.
      for (const e of events) c.events.push(e.prevKv ? { type: e.type, kv: e.kv, prevKv: e.prevKv } : { type: e.type, kv: e.kv });
    },
    onError: (err) => {
      c.errors.push(err);
    },
    until: async (n) => {
      const deadline = Date.now() + 5000;
      while (c.events.length < n) {
        if (c.errors.length > 0) assert.fail(`watch failed: ${c.errors[0]?.message}`);
        if (Date.now() > deadline) assert.fail(`expected ${n} watch events, got ${c.events.length}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  return c;
}

/** Gives late (duplicate or misrouted) events a chance to show up. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}
