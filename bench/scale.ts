/**
 * bench/scale: the largest cluster one machine holds with simulated nodes — goal 5,000 nodes and
 * 150,000 pods — while a mutating API call stays under 1 s at p99. Starts a real `k8ts server`
 * with N sim nodes for each N in `--nodes` (restarting between steps), then grows pods on the
 * last one in steps (ReplicaSets of 100 replicas) until p99 > 1 s, memory or time runs out.
 * At each step: p50/p99 of ConfigMap creates (open loop, 10/s) while the step ramps and once it
 * has settled, and the server's RSS and CPU. Prints figures; asserts nothing.
 * Run: `npm run build && node dist/bench/scale.js [--quick] [--nodes 500,1000,2000,5000]
 * [--pod-step 10000] [--max-pods 150000] [--minutes 20] [--max-rss-mb 16000] [--cpu-prof DIR]`.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { rawClient, type RawClient } from '../test/support/api-client.js';
import { cpuSeconds, getJSON, percentile, pool, rssMB, withCpuProfile } from './bench-support.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const strArg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const arg = (name: string, dflt: number): number => Number(strArg(name) ?? dflt);
const NODE_STEPS = (strArg('nodes') ?? (quick ? '100,500' : '500,1000,2000,5000')).split(',').map(Number);
const POD_STEP = arg('pod-step', quick ? 2000 : 10_000);
const MAX_PODS = arg('max-pods', quick ? 6000 : 150_000);
const MINUTES = arg('minutes', quick ? 2 : 20);
const MAX_RSS_MB = arg('max-rss-mb', 16_000);
const PROBE_N = arg('probe', quick ? 50 : 200);
const PROBE_RATE = 10;
const RS_SIZE = 100;
// 10.42.0.0/16 (the default) holds only 256 node /24s; a /10 holds 16,384.
const CPU_PROF = strArg('cpu-prof');
const deadline = performance.now() + MINUTES * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number): string => n.toLocaleString('en-US');
const remainingS = (): number => (deadline - performance.now()) / 1000;

function memAvailableMB(): number {
  return Math.round(Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024);
}

async function readyNodes(api: RawClient): Promise<number> {
  const l = await getJSON<{ items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }>(api, '/api/v1/nodes');
  return l.items.filter((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

/** Open loop: `n` ConfigMap creates at `rate`/s whatever the answers take; latencies in ms. */
class Probe {
  private seq = 0;
  constructor(private readonly api: RawClient) {}

  async run(n: number, rate: number): Promise<{ p50: number; p99: number; max: number; failed: number }> {
    const lat: number[] = [];
    let failed = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const wait = start + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        const t0 = performance.now();
        const r = await this.api.call('POST', '/api/v1/namespaces/probe/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `p-${this.seq++}` }, data: { k: 'v' } }).catch(() => ({ status: 0 }));
        lat.push(performance.now() - t0);
        if (r.status !== 201) failed++;
      }),
    );
    lat.sort((a, b) => a - b);
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? NaN, failed };
  }
}

interface Row {
  nodes: number;
  pods: number;
  rampS?: number;
  podsPerS?: number;
  ramp?: { p50: number; p99: number };
  settled: { p50: number; p99: number; max: number; failed: number };
  rssMB: number;
  cpuS: number;
  cpuPct: number;
  note?: string;
}

const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);

function printRow(r: Row): void {
  console.log(
    `| ${fmt(r.nodes)} | ${fmt(r.pods)} | ${r.rampS === undefined ? '' : `${r.rampS.toFixed(0)} s (${Math.round(r.podsPerS ?? 0)} pods/s)`} | ${r.ramp ? `${ms(r.ramp.p50)} / ${ms(r.ramp.p99)}` : ''} | ${ms(r.settled.p50)} / ${ms(r.settled.p99)}${r.settled.failed ? ` (${r.settled.failed} failed)` : ''} | ${fmt(r.rssMB)} MB | ${r.cpuS.toFixed(0)} s (${r.cpuPct.toFixed(0)}%) |${r.note ? ` ${r.note}` : ''}`,
  );
}

const header = (): void => {
  console.log('| nodes | pods | step ramp | ConfigMap create p50 / p99 during ramp | p50 / p99 settled | server RSS | server CPU (step % of a core) |');
  console.log('|---|---|---|---|---|---|---|');
};

const replicaSet = (i: number): unknown => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: `rs-${i}`, namespace: 'scale' },
  spec: {
    replicas: RS_SIZE,
    selector: { matchLabels: { rs: `rs-${i}` } },
    template: {
      metadata: { labels: { rs: `rs-${i}` } },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
    },
  },
});

/** Sum of readyReplicas over the scale namespace's ReplicaSets. */
async function readyPods(api: RawClient): Promise<number> {
  const l = await getJSON<{ items: Array<{ status?: { readyReplicas?: number } }> }>(api, '/apis/apps/v1/namespaces/scale/replicasets');
  return l.items.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
}

async function main(): Promise<void> {
  console.log(`# bench/scale — ${new Date().toISOString()} — node ${process.version}${quick ? ' (quick)' : ''}`);
  console.log(`node steps ${NODE_STEPS.join(', ')}; then pods in steps of ${fmt(POD_STEP)} up to ${fmt(MAX_PODS)}; probe ${PROBE_N} ConfigMap creates at ${PROBE_RATE}/s; budget ${MINUTES} min, server RSS cap ${fmt(MAX_RSS_MB)} MB`);
  const rows: Row[] = [];
  let stop: string | undefined;
  let cluster: TestCluster | undefined;
  let api: RawClient | undefined;
  let lastNodes = 0;
  header();
  try {
    // Phase 1: nodes.
    for (const [idx, n] of NODE_STEPS.entries()) {
      if (remainingS() < 60) {
        stop = `time budget spent before the ${fmt(n)}-node step`;
        break;
      }
      if (cluster) {
        api?.close();
        await cluster.destroy();
      }
      const t0 = performance.now();
      cluster = await withCpuProfile(idx === NODE_STEPS.length - 1 ? CPU_PROF : undefined, () => startCluster({ simNodes: n, extraArgs: ['--cluster-cidr', '10.64.0.0/10'] }));
      api = rawClient(cluster.kubeconfig, cluster.port, 64);
      const pid = cluster.pid();
      let ready = 0;
      while ((ready = await readyNodes(api)) < n && remainingS() > 0) await sleep(2000);
      const startS = (performance.now() - t0) / 1000;
      await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'probe' } });
      await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scale' } });
      const cpu0 = cpuSeconds(pid);
      const p0 = performance.now();
      const settled = await new Probe(api).run(PROBE_N, PROBE_RATE);
      const cpuPct = (100 * (cpuSeconds(pid) - cpu0)) / ((performance.now() - p0) / 1000);
      const row: Row = { nodes: n, pods: 0, rampS: startS, podsPerS: 0, settled, rssMB: rssMB(pid), cpuS: cpuSeconds(pid), cpuPct, note: `start + ${ready} nodes Ready` };
      rows.push(row);
      printRow(row);
      lastNodes = n;
      if (ready < n) {
        stop = `only ${ready}/${n} nodes became Ready within the budget`;
        break;
      }
      if (settled.p99 > 1000) {
        stop = `p99 ${ms(settled.p99)} > 1 s with ${fmt(n)} nodes and no pods`;
        break;
      }
    }

    // Phase 2: pods on the last server.
    if (!stop && cluster && api) {
      const pid = cluster.pid();
      const probe = new Probe(api);
      let pods = 0;
      let rsNext = 0;
      while (pods < MAX_PODS) {
        if (remainingS() < 30) {
          stop = 'time budget spent';
          break;
        }
        if (memAvailableMB() < 3000) {
          stop = `machine memory low (${memAvailableMB()} MB available)`;
          break;
        }
        const prev = pods;
        const target = Math.min(MAX_PODS, pods + POD_STEP);
        const sets = Math.ceil((target - pods) / RS_SIZE);
        const cpu0 = cpuSeconds(pid);
        const t0 = performance.now();
        // The ramp probe runs at the same rate for as long as the step takes (bounded by PROBE_N × 10).
        let ramping = true;
        const rampLat: number[] = [];
        const rampProbe = (async () => {
          while (ramping && rampLat.length < PROBE_N * 10) {
            const r = await probe.run(PROBE_RATE, PROBE_RATE);
            rampLat.push(r.p50, r.p99);
          }
        })();
        const first = rsNext;
        await pool(sets, 16, async (i) => {
          const r = await api!.call('POST', '/apis/apps/v1/namespaces/scale/replicasets', replicaSet(first + i));
          if (r.status !== 201) console.log(`! create rs-${first + i}: ${r.status} ${r.body.slice(0, 200)}`);
        });
        rsNext += sets;
        let ready = 0;
        let peakRss = 0;
        for (;;) {
          ready = await readyPods(api);
          peakRss = Math.max(peakRss, rssMB(pid));
          if (ready >= target || remainingS() < 0 || peakRss > MAX_RSS_MB || memAvailableMB() < 2000) break;
          await sleep(2000);
        }
        ramping = false;
        await rampProbe;
        const rampS = (performance.now() - t0) / 1000;
        pods = ready;
        // Per-second batches: the p50 of batch p50s and the worst batch p99 (a conservative p99).
        const batchP50 = rampLat.filter((_, i) => i % 2 === 0).sort((a, b) => a - b);
        const batchP99 = rampLat.filter((_, i) => i % 2 === 1);
        const ramp = { p50: percentile(batchP50, 50), p99: Math.max(...batchP99, 0) };
        const settled = ready >= target ? await probe.run(PROBE_N, PROBE_RATE) : { p50: NaN, p99: NaN, max: NaN, failed: 0 };
        const stepS = (performance.now() - t0) / 1000;
        const row: Row = { nodes: lastNodes, pods: ready, rampS, podsPerS: (ready - prev) / rampS, ramp, settled, rssMB: Math.max(peakRss, rssMB(pid)), cpuS: cpuSeconds(pid), cpuPct: (100 * (cpuSeconds(pid) - cpu0)) / stepS };
        rows.push(row);
        printRow(row);
        if (ready < target) {
          stop = `step to ${fmt(target)} pods did not finish (${fmt(ready)} ready; ${peakRss > MAX_RSS_MB ? 'RSS cap' : memAvailableMB() < 2000 ? 'machine memory' : 'time budget'})`;
          break;
        }
        if (settled.p99 > 1000) {
          stop = `p99 ${ms(settled.p99)} > 1 s at ${fmt(ready)} pods`;
          break;
        }
      }
      if (!stop) stop = `reached ${fmt(pods)} pods`;
    }
  } finally {
    api?.close();
    if (cluster) await cluster.destroy();
  }
  console.log(`\n## Summary`);
  header();
  for (const r of rows) printRow(r);
  const best = rows.filter((r) => r.settled.p99 <= 1000).at(-1);
  console.log(`\nlargest step with settled p99 ≤ 1 s: ${best ? `${fmt(best.nodes)} nodes, ${fmt(best.pods)} pods` : 'none'}; stopped: ${stop ?? 'all steps done'}`);
  if (CPU_PROF) console.log(`server CPU profile (last server) written to ${CPU_PROF}`);
}

await main();
