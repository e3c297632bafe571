/**
 * bench/scheduler: pods scheduled per second and scheduling latency, with many nodes, through the
 * real API server (in-process client, SQLite store) and the real scheduler. Prints figures.
 * Run: `npm run build && node dist/bench/scheduler.js [--nodes 5000] [--pods 10000] [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from '../src/store/sqlite.js';
import { loadOrCreateCertificates } from '../src/pki/certificate-authority.js';
import { startControlPlane } from '../src/cmd/control-plane.js';
import { createLogger } from '../src/machinery/logger.js';
import { InformerFactory, refs } from '../src/client/informer.js';
import { ClientEventRecorder } from '../src/client/event-recorder.js';
import { realClock } from '../src/machinery/clock.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import type { ApiObject, Client } from '../src/client/interface.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const NODES = arg('nodes', quick ? 500 : 5000);
const PODS = arg('pods', quick ? 1000 : 10000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      await work(i);
    }
  }));
}

async function createNodes(client: Client): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await pool(NODES, 32, async (i) => {
    const name = `node-${i}`;
    const node = await client.create(refs.nodes, '', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    });
    await client.update(refs.nodes, '', {
      ...node,
      status: {
        capacity: { cpu: '8', memory: '32Gi', pods: '110' },
        allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    }, { subresource: 'status' });
  });
}

function pod(name: string, kind: 'plain' | 'spread'): ApiObject {
  const spec: Record<string, unknown> = {
    containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
  };
  if (kind === 'spread') {
    spec['topologySpreadConstraints'] = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
    spec['affinity'] = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'spread' } } } }] } };
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: kind } }, spec };
}

async function run(client: Client, label: string, kind: 'plain' | 'spread', count: number): Promise<void> {
  const created = new Map<string, number>();
  const bound: number[] = [];
  const latencies: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const w = await client.watch(refs.pods, 'bench', {}, (e) => {
    const name = e.object.metadata?.name ?? '';
    const node = (e.object['spec'] as { nodeName?: string } | undefined)?.nodeName;
    const t0 = created.get(name);
    if (node && t0 !== undefined) {
      created.delete(name);
      const t = performance.now();
      bound.push(t);
      latencies.push(t - t0);
      if (bound.length === count) done();
    }
  });
  const start = performance.now();
  await pool(count, 16, async (i) => {
    const name = `${kind}-${i}`;
    created.set(name, performance.now());
    await client.create(refs.pods, 'bench', pod(name, kind));
  });
  const createdIn = (performance.now() - start) / 1000;
  await Promise.race([finished, new Promise((r) => setTimeout(r, 600_000))]);
  w.stop();
  bound.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  // Steady state: the middle 80% of bindings.
  const lo = bound[Math.floor(bound.length * 0.1)]!;
  const hi = bound[Math.floor(bound.length * 0.9)]!;
  const steady = (Math.floor(bound.length * 0.9) - Math.floor(bound.length * 0.1)) / ((hi - lo) / 1000);
  const total = (bound[bound.length - 1]! - start) / 1000;
  console.log(`\n## ${label}`);
  console.log(`- ${bound.length}/${count} pods bound; created in ${createdIn.toFixed(1)} s, all bound ${total.toFixed(1)} s after the first create`);
  console.log(`- steady state: ${Math.round(steady)} pods/s (middle 80% of bindings)`);
  console.log(`- scheduling latency (create → bound): p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  console.log(`# bench/scheduler — ${new Date().toISOString()} — node ${process.version} — ${NODES} nodes, ${PODS} pods${quick ? ' (quick)' : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sched-'));
  const backend = new SqliteBackend(join(dir, 'state.db'));
  await backend.start();
  const log = createLogger('error');
  const certs = await loadOrCreateCertificates(dir, { hostnames: ['localhost'], ips: ['127.0.0.1'] });
  const plane = await startControlPlane({
    backend, dataDir: dir, certs, token: 'bench', bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1',
    serviceCIDR: '10.43.0.0/16', kubernetesServiceIP: '10.43.0.1', logger: log, disableControllers: true,
  });
  const client = plane.apiServer.client;
  try {
    await client.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    let t = performance.now();
    await createNodes(client);
    console.log(`- ${NODES} nodes created in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const informers = new InformerFactory(client);
    const scheduler = new Scheduler({ client, informers, recorder: (c: string) => new ClientEventRecorder(client, c), clock: realClock, log }, {});
    t = performance.now();
    await scheduler.start();
    console.log(`- scheduler synced in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await run(client, 'plain pods (requests only)', 'plain', PODS);
    await run(client, 'pods with topology spread + preferred anti-affinity', 'spread', Math.round(PODS / 3));
    console.log(`- server RSS after the runs: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB (API server + scheduler in one process)`);
    await scheduler.stop();
    informers.stop();
  } finally {
    await plane.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
