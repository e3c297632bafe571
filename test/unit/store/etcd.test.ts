import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { runBackendContract, rejection } from '../../../src/store/backend.contract.js';
import { EtcdBackend } from '../../../src/store/etcd.js';
import type { WatchEvent } from '../../../src/store/backend.js';
import { findEtcd, startEtcd, type EtcdProcess } from '../../support/etcd-process.js';

const missing = findEtcd() === undefined;

if (missing && process.env.CI) {
  test('etcd binary is installed (required in CI)', () => {
    assert.fail('etcd not found on PATH: apt-get install etcd-server');
  });
}

describe('etcd backend', { skip: missing ? 'etcd binary not found on PATH' : false }, () => {
  let etcd: EtcdProcess | undefined;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });
  const endpoint = (): string => {
    if (!etcd) throw new Error('etcd not started');
    return etcd.endpoint;
  };

  runBackendContract('etcd', async () => new EtcdBackend([endpoint()]));

  test('etcd: compactRevision finds a compaction made by another client', async () => {
    const a = new EtcdBackend([endpoint()]);
    const b = new EtcdBackend([endpoint()]);
    await a.start();
    await b.start();
    try {
      const kv = await a.create(`/other-compactor/${Date.now()}`, 'x');
      await a.update(kv.key, 'y', kv.modRevision);
      const target = await a.currentRevision();
      await a.create(`/other-compactor/${Date.now()}-2`, 'z');
      await a.compact(target);
      assert.equal(await b.compactRevision(), target);
      await rejection(b.get(kv.key, target - 1), 'Compacted');
      await b.compact(target - 1); // already compacted further: a no-op, not an error
    } finally {
      await a.close();
      await b.close();
    }
  });

  // Last in this suite: it restarts the shared etcd.
  test('etcd: a watch survives an etcd restart without losing or repeating events', async () => {
    const b = new EtcdBackend([endpoint()], { requestTimeoutMs: 2000 });
    await b.start();
    const root = `/restart/${Date.now()}/`;
    const got: WatchEvent[] = [];
    const errors: string[] = [];
    try {
      const from = await b.currentRevision();
      const written = [await b.create(`${root}a`, '1'), await b.create(`${root}b`, '1')];
      const w = await b.watch(root, from, (ev) => got.push(...ev), (err) => errors.push(err.code));
      await until(() => got.length === 2);
      await etcd?.restart();
      await until(async () => {
        try {
          written.push(await b.create(`${root}c`, '1'));
          return true;
        } catch {
          return false;
        }
      }, 20000);
      written.push(await b.update(`${root}a`, '2', (written[0] as { modRevision: number }).modRevision));
      await until(() => got.length >= 4, 20000);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got.map((e) => e.kv), written);
      assert.deepEqual(errors, []);
      w.close();
    } finally {
      await b.close();
    }
  });

  test('etcd: a watch on the whole keyspace (empty prefix) works', async () => {
    const b = new EtcdBackend([endpoint()]);
    await b.start();
    const got: WatchEvent[] = [];
    try {
      const w = await b.watch('', await b.currentRevision(), (ev) => got.push(...ev));
      const kv = await b.create(`/everything/${Date.now()}`, 'v');
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got, [{ type: 'put', kv }]);
      assert.ok((await b.count('')) >= 1);
      w.close();
    } finally {
      await b.close();
    }
  });
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('etcd: an unreachable endpoint fails with Unavailable', async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
  const b = new EtcdBackend([`http://127.0.0.1:${port}`], { dialTimeoutMs: 1000, requestTimeoutMs: 2000 });
  const started = Date.now();
  await rejection(b.start(), 'Unavailable');
  assert.ok(Date.now() - started < 15000);
  await b.close();
});
