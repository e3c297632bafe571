/**
 * bench/api: throughput and latency of the API server on SQLite and on etcd, next to raw etcd.
 * Prints figures; asserts nothing. Run: `npm run build && node dist/bench/api.js [--quick]`.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { findEtcd, startEtcd } from '../test/support/etcd-process.js';
import { rawClient, type RawClient } from '../test/support/api-client.js';
import { percentile, pool, rssMB } from './bench-support.js';

const quick = process.argv.includes('--quick');
const N_CREATES = quick ? 2000 : 10_000;
const CONCURRENCY = 64;
const WATCHERS = quick ? 200 : 1000;
const WATCH_EVENTS = quick ? 100 : 200;

type Client = RawClient;

function client(c: TestCluster, maxSockets = CONCURRENCY): Client {
  return rawClient(c.kubeconfig, c.port, maxSockets);
}

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});

async function benchCluster(label: string, c: TestCluster): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const api = client(c);
  out['idle RSS'] = `${rssMB(c.pid())} MB`;
  const ns = `bench`;
  await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

  // Creates: closed loop, CONCURRENCY in flight.
  let failures = 0;
  const createSecs = await pool(N_CREATES, CONCURRENCY, async (i) => {
    const r = await api.call('POST', `/api/v1/namespaces/${ns}/pods`, pod(`p-${i}`));
    if (r.status !== 201) failures++;
  });
  out['pod creates/s'] = `${Math.round(N_CREATES / createSecs)} (${N_CREATES} creates, ${CONCURRENCY} in flight${failures ? `, ${failures} failed` : ''})`;

  const getSecs = await pool(N_CREATES, CONCURRENCY, async (i) => {
    await api.call('GET', `/api/v1/namespaces/${ns}/pods/p-${i}`);
  });
  out['pod gets/s'] = `${Math.round(N_CREATES / getSecs)}`;

  // LIST of everything created (10,000 pods in the full run).
  const listTimes: number[] = [];
  let count = 0;
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    const r = await api.call('GET', `/api/v1/namespaces/${ns}/pods`);
    listTimes.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`LIST failed: ${r.status} ${r.body.slice(0, 300)}`);
    count = (JSON.parse(r.body) as { items: unknown[] }).items.length;
  }
  listTimes.sort((a, b) => a - b);
  out[`LIST ${count} pods`] = `median ${Math.round(percentile(listTimes, 50))} ms (9 runs, min ${Math.round(listTimes[0]!)} ms)`;

  // Create latency under an open-loop 500 creates/s for 10 s (5 s quick).
  const seconds = quick ? 5 : 10;
  const latencies: number[] = [];
  const total = 500 * seconds;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const due = start + (i * 1000) / 500;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      await api.call('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `lat-${i}` }, data: { k: 'v' } });
      latencies.push(performance.now() - t0);
    }),
  );
  latencies.sort((a, b) => a - b);
  out['create latency at 500/s'] = `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`;

  // Watch fan-out: WATCHERS watches, WATCH_EVENTS writes, time until every watcher saw every event.
  const watchAgent = client(c, WATCHERS + 10);
  const listRV = (JSON.parse((await api.call('GET', `/api/v1/namespaces/${ns}/secrets`)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  let received = 0;
  const expected = WATCHERS * WATCH_EVENTS;
  let allDone: () => void = () => {};
  const done = new Promise<void>((r) => (allDone = r));
  const reqs = await Promise.all(
    Array.from({ length: WATCHERS }, () =>
      new Promise<{ destroy(): void }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: c.port, path: `/api/v1/namespaces/${ns}/secrets?watch=true&resourceVersion=${listRV}`, agent: watchAgent.agent }, (res) => {
          let buf = '';
          res.on('data', (d: Buffer) => {
            buf += d.toString();
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              buf = buf.slice(nl + 1);
              if (++received === expected) allDone();
            }
          });
          resolve(req);
        });
        req.on('error', reject);
        req.end();
      }),
    ),
  );
  const t0 = performance.now();
  for (let i = 0; i < WATCH_EVENTS; i++) await api.call('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `w-${i}` }, data: {} });
  const writeSecs = (performance.now() - t0) / 1000;
  await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
  const fanSecs = (performance.now() - t0) / 1000;
  out[`watch fan-out (${WATCHERS} watchers × ${WATCH_EVENTS} events)`] = `${received}/${expected} delivered in ${fanSecs.toFixed(2)} s (${Math.round(received / fanSecs)} events/s; writes took ${writeSecs.toFixed(2)} s)`;
  for (const r of reqs) r.destroy();
  watchAgent.close();
  api.close();
  console.log(`\n## ${label}`);
  for (const [k, v] of Object.entries(out)) console.log(`- ${k}: ${v}`);
  return out;
}

async function rawEtcdPuts(endpoint: string): Promise<number> {
  const etcd = new Etcd3({ hosts: endpoint });
  const value = JSON.stringify(pod('raw'));
  const secs = await pool(N_CREATES, CONCURRENCY, async (i) => {
    await etcd.put(`/raw/pods/p-${i}`).value(value);
  });
  etcd.close();
  return N_CREATES / secs;
}

async function main(): Promise<void> {
  console.log(`# bench/api — ${new Date().toISOString()} — node ${process.version}${quick ? ' (quick)' : ''}`);
  const sqlite = await startCluster();
  try {
    await benchCluster('sqlite', sqlite);
  } finally {
    await sqlite.destroy();
  }
  if (!findEtcd()) {
    console.log('\n(etcd not installed: skipping the etcd run — apt-get install etcd-server)');
    return;
  }
  const etcd = await startEtcd();
  try {
    const raw = await rawEtcdPuts(etcd.endpoint);
    const onEtcd = await startCluster({ etcd: etcd.endpoint });
    try {
      const r = await benchCluster('etcd', onEtcd);
      const apiRate = Number(/^\d+/.exec(r['pod creates/s'] ?? '0')?.[0] ?? 0);
      console.log(`- raw etcd puts/s (etcd3 client, same value size and concurrency): ${Math.round(raw)}`);
      console.log(`- API creates / raw etcd puts: ${(apiRate / raw).toFixed(2)}`);
    } finally {
      await onEtcd.destroy();
    }
  } finally {
    await etcd.stop();
  }
}

await main();
