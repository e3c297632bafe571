/** Acknowledged writes survive `kill -9` of the server under write load, and a restart keeps everything. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../support/cluster.js';
import { rawClient } from '../support/api-client.js';

test('every acknowledged create survives kill -9 under load (sqlite)', async () => {
  const c = await startCluster();
  try {
    const api = rawClient(c.kubeconfig, c.port, 32);
    const acked = new Set<string>();
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 32 }, async () => {
      while (!stop) {
        const name = `w-${n++}`;
        try {
          const r = await api.call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } });
          if (r.status === 201) acked.add(name);
        } catch {
          return; // the server is gone
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await c.kill9();
    stop = true;
    await Promise.all(writers);
    api.close();
    assert.ok(acked.size > 100, `expected a real write load, got ${acked.size} acknowledged writes`);

    await c.restart();
    const after = rawClient(c.kubeconfig, c.port);
    const list = JSON.parse((await after.call('GET', '/api/v1/namespaces/default/configmaps')).body) as { items: Array<{ metadata: { name: string }; data: { n: string } }> };
    after.close();
    const stored = new Map(list.items.map((i) => [i.metadata.name, i.data.n]));
    const lost = [...acked].filter((name) => stored.get(name) !== name);
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged writes were lost`);
  } finally {
    await c.destroy();
  }
});
