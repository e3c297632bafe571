/**
 * bench/controllers: 1,000 Deployments × 10 replicas on 500 simulated nodes through a real
 * `k8ts server` process — time until every Deployment is available, and how many API writes the
 * cluster makes per pod it creates (lower is better), broken down by resource and by what changed.
 * Prints figures; asserts nothing.
 * Run: `npm run build && node dist/bench/controllers.js [--quick] [--deployments N] [--nodes N]
 * [--replicas N] [--concurrency N] [--cpu-prof DIR]`.
 *
 * Writes are counted from watches on every watchable resource (one event = one stored write),
 * because components inside `k8ts server` write through the in-process client, which
 * `apiserver_request_total` does not see; the metric is still read, to show what it does see.
 * The store's global revision gives the total as a cross-check.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { rawClient, type RawClient } from '../test/support/api-client.js';
import { cpuSeconds, getJSON, openWatch, pool, rssMB, withCpuProfile } from './bench-support.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const strArg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const DEPLOYMENTS = arg('deployments', quick ? 100 : 1000);
const NODES = arg('nodes', quick ? 50 : 500);
const REPLICAS = arg('replicas', 10);
const CONCURRENCY = arg('concurrency', 24);
const BASELINE_S = arg('baseline', quick ? 5 : 10);
const SETTLE_S = 5;
const TIMEOUT_S = arg('timeout', quick ? 300 : 1200);
const CPU_PROF = strArg('cpu-prof');
const NS = 'bench';
// The default 10.42.0.0/16 holds 256 node /24s; beyond that nodes get no podCIDR and their pods never start.
const CLUSTER_CIDR = '10.64.0.0/10';

interface Obj {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; managedFields?: unknown; [k: string]: unknown };
  spec?: unknown;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

// ---- process figures -------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number): string => n.toLocaleString('en-US');

// ---- API helpers -----------------------------------------------------------------------------

/** The store's current global revision (a list's resourceVersion is the revision it was read at). */
async function globalRevision(api: RawClient): Promise<number> {
  const l = await getJSON<{ metadata: { resourceVersion: string } }>(api, '/api/v1/namespaces?limit=1');
  return Number(l.metadata.resourceVersion);
}

async function waitNodesReady(api: RawClient, n: number, timeoutS: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const l = await getJSON<{ items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }>(api, '/api/v1/nodes');
    const ready = l.items.filter((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready >= n) return (performance.now() - t0) / 1000;
    if ((performance.now() - t0) / 1000 > timeoutS) throw new Error(`only ${ready}/${n} nodes Ready after ${timeoutS}s`);
    await sleep(1000);
  }
}

interface WatchedResource {
  path: string; // list path, e.g. /apis/apps/v1/deployments
  resource: string; // e.g. deployments.apps
}

/** Every watchable top-level resource, at each group's preferred version (events.k8s.io is core events' storage again). */
async function discoverWatchable(api: RawClient): Promise<WatchedResource[]> {
  type ResList = { resources: Array<{ name: string; verbs: string[] }> };
  const out: WatchedResource[] = [];
  const core = await getJSON<ResList>(api, '/api/v1');
  for (const r of core.resources) if (!r.name.includes('/') && r.verbs.includes('watch')) out.push({ path: `/api/v1/${r.name}`, resource: r.name });
  const groups = await getJSON<{ groups: Array<{ name: string; preferredVersion: { groupVersion: string } }> }>(api, '/apis');
  for (const g of groups.groups) {
    if (g.name === 'events.k8s.io') continue;
    const gv = g.preferredVersion.groupVersion;
    let list: ResList;
    try {
      list = await getJSON<ResList>(api, `/apis/${gv}`);
    } catch {
      continue;
    }
    for (const r of list.resources) if (!r.name.includes('/') && r.verbs.includes('watch')) out.push({ path: `/apis/${gv}/${r.name}`, resource: `${r.name}.${g.name}` });
  }
  return out;
}


// ---- write accounting ------------------------------------------------------------------------

const strip = (m: Obj['metadata']): string => {
  if (!m) return '';
  const { resourceVersion: _rv, managedFields: _mf, ...rest } = m;
  return JSON.stringify(rest);
};

/** What a MODIFIED event changed: status, spec, metadata (or a combination), or nothing at all. */
function classify(prev: Obj | undefined, next: Obj): string {
  if (!prev) return 'update (unseen before)';
  const parts: string[] = [];
  if (strip(prev.metadata) !== strip(next.metadata)) parts.push('metadata');
  if (JSON.stringify(prev.spec) !== JSON.stringify(next.spec)) parts.push('spec');
  if (JSON.stringify(prev.status) !== JSON.stringify(next.status)) parts.push('status');
  const rest = Object.keys({ ...prev, ...next }).filter((k) => !['metadata', 'spec', 'status'].includes(k) && JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
  parts.push(...rest);
  return parts.length ? `update ${parts.join('+')}` : 'update with no change';
}

/** Counts stored writes per resource and kind of change, from watch events. */
class WriteCounter {
  readonly counts = new Map<string, number>(); // `${resource}\t${what}`
  readonly eventReasons = new Map<string, number>(); // Event objects by component/reason
  private readonly last = new Map<string, Obj>();
  private frozen = false;

  constructor(private readonly keepObjects: (resource: string) => boolean) {}

  record(resource: string, type: string, obj: Obj): void {
    if (this.frozen || type === 'BOOKMARK' || type === 'ERROR') return;
    const key = `${resource}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    let what: string;
    if (type === 'ADDED') what = 'create';
    else if (type === 'DELETED') what = 'delete';
    else what = this.keepObjects(resource) ? classify(this.last.get(key), obj) : 'update';
    if (type === 'DELETED') this.last.delete(key);
    else if (this.keepObjects(resource)) this.last.set(key, obj);
    const k = `${resource}\t${what}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    if (resource === 'events') {
      const src = (obj['reportingComponent'] as string | undefined) || ((obj['source'] as { component?: string } | undefined)?.component ?? '?');
      const rk = `${src} ${(obj['reason'] as string | undefined) ?? '?'} (${type === 'ADDED' ? 'new' : 'series update'})`;
      this.eventReasons.set(rk, (this.eventReasons.get(rk) ?? 0) + 1);
    }
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }

  total(m: Map<string, number> = this.counts): number {
    let n = 0;
    for (const v of m.values()) n += v;
    return n;
  }

  freeze(): void {
    this.frozen = true;
  }
}

/** apiserver_request_total for write verbs, by `verb resource/subresource`. */
async function requestMetric(api: RawClient): Promise<Map<string, number>> {
  const r = await api.call('GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const verb = labels['verb'] ?? '';
    if (!['CREATE', 'UPDATE', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'POST', 'PUT'].includes(verb)) continue;
    const res = `${labels['resource']}${labels['group'] ? `.${labels['group']}` : ''}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    const key = `${verb} ${res}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d) out.set(k, d);
  }
  return out;
}

/**
 * Runs `start` with `process.execPath` pointing at a wrapper that adds `--cpu-prof` (node refuses
 * it in NODE_OPTIONS, and startCluster spawns `process.execPath`); the profile is written when the
 * server exits cleanly.
 */

// ---- the bench -------------------------------------------------------------------------------

const deployment = (i: number): unknown => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `d-${i}`, namespace: NS },
  spec: {
    replicas: REPLICAS,
    selector: { matchLabels: { app: `d-${i}` } },
    template: {
      metadata: { labels: { app: `d-${i}` } },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
    },
  },
});

async function main(): Promise<void> {
  console.log(`# bench/controllers — ${new Date().toISOString()} — node ${process.version}${quick ? ' (quick)' : ''}`);
  console.log(`${fmt(DEPLOYMENTS)} Deployments × ${REPLICAS} replicas on ${fmt(NODES)} sim nodes, ${CONCURRENCY} creates in flight`);
  const tStart = performance.now();
  const cluster: TestCluster = await withCpuProfile(CPU_PROF, () => startCluster({ simNodes: NODES, extraArgs: ['--cluster-cidr', CLUSTER_CIDR] }));
  const pid = cluster.pid();
  const api = rawClient(cluster.kubeconfig, cluster.port, CONCURRENCY + 8);
  const watchApi = rawClient(cluster.kubeconfig, cluster.port, 500);
  const watches: Array<{ stop(): void }> = [];
  let stopping = false;
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMB(pid))), 1000);
  try {
    console.log(`server started in ${((performance.now() - tStart) / 1000).toFixed(1)} s (pid ${pid}, RSS ${rssMB(pid)} MB)`);
    const nodesS = await waitNodesReady(api, NODES, 600);
    console.log(`${NODES} nodes Ready ${nodesS.toFixed(1)} s later; RSS ${rssMB(pid)} MB, CPU ${cpuSeconds(pid).toFixed(1)} s so far`);
    await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

    // Watch everything from now on.
    const counter = new WriteCounter((r) => r !== 'events');
    const expectedPods = DEPLOYMENTS * REPLICAS;
    const available = new Set<string>();
    const podState = { added: 0, bound: 0, ready: 0 };
    const seenPod = new Map<string, { bound: boolean; ready: boolean }>();
    const marks: { allPodsCreated?: number; allBound?: number; allReady?: number; allAvailable?: number } = {};
    let allAvailable: () => void = () => {};
    const allAvailablePromise = new Promise<void>((r) => (allAvailable = r));
    let tRun = 0;
    const since = (): number => (performance.now() - tRun) / 1000;
    const onPod = (type: string, o: Obj): void => {
      if (o.metadata?.namespace !== NS || !tRun) return;
      const name = o.metadata.name ?? '';
      let s = seenPod.get(name);
      if (!s && type !== 'DELETED') {
        s = { bound: false, ready: false };
        seenPod.set(name, s);
        if (++podState.added === expectedPods) marks.allPodsCreated = since();
      }
      if (!s) return;
      if (!s.bound && (o.spec as { nodeName?: string } | undefined)?.nodeName) {
        s.bound = true;
        if (++podState.bound === expectedPods) marks.allBound = since();
      }
      const ready = ((o.status?.['conditions'] ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Ready' && c.status === 'True');
      if (!s.ready && ready) {
        s.ready = true;
        if (++podState.ready === expectedPods) marks.allReady = since();
      }
    };
    const onDeployment = (o: Obj): void => {
      if (o.metadata?.namespace !== NS) return;
      if ((o.status?.['availableReplicas'] as number | undefined) === REPLICAS) available.add(o.metadata.name ?? '');
      else available.delete(o.metadata.name ?? '');
      if (available.size === DEPLOYMENTS && tRun && marks.allAvailable === undefined) {
        marks.allAvailable = since();
        allAvailable();
      }
    };
    const resources = await discoverWatchable(api);
    const rev0 = await globalRevision(api);
    for (const r of resources) {
      // Each resource's own list revision: a watch cache started lazily answers 410 to an older one.
      // A watch cache started by this very watch answers 410 to the list's revision: once, retry.
      for (let attempt = 0; attempt < 2; attempt++) {
        const rv = Number((await getJSON<{ metadata: { resourceVersion: string } }>(api, `${r.path}?limit=1`)).metadata.resourceVersion);
        let expired = false;
        const w = await openWatch<Obj>(watchApi, cluster.port, r.path, rv, (type, obj) => {
          if (type === 'ERROR') expired = true;
          counter.record(r.resource, type, obj);
          if (r.resource === 'pods') onPod(type, obj);
          else if (r.resource === 'deployments.apps') onDeployment(obj);
        }, (why) => stopping || console.log(`! ${why}`));
        await sleep(100);
        if (!expired) {
          watches.push(w);
          break;
        }
        w.stop();
      }
    }
    console.log(`watching ${resources.length} resources from revision ${rev0}`);

    // Background: what the idle cluster writes (node heartbeats, leases) before the run.
    await sleep(BASELINE_S * 1000);
    const baseline = counter.snapshot();
    const baselineRate = new Map([...baseline].map(([k, v]) => [k, v / BASELINE_S]));
    console.log(`background writes while idle: ${(counter.total(baseline) / BASELINE_S).toFixed(1)}/s (${[...baselineRate].map(([k, v]) => `${k.replace('\t', ' ')} ${v.toFixed(1)}/s`).join(', ') || 'none'})`);

    const metricsBefore = await requestMetric(api);
    const revBefore = await globalRevision(api);
    const cpu0 = cpuSeconds(pid);
    const before = counter.snapshot();
    tRun = performance.now();
    let failures = 0;
    await pool(DEPLOYMENTS, CONCURRENCY, async (i) => {
      const r = await api.call('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment(i));
      if (r.status !== 201) {
        failures++;
        if (failures <= 3) console.log(`! create d-${i}: ${r.status} ${r.body.slice(0, 200)}`);
      }
    });
    const createS = since();
    console.log(`created ${DEPLOYMENTS - failures} Deployments in ${createS.toFixed(2)} s (${Math.round(DEPLOYMENTS / createS)}/s${failures ? `, ${failures} failed` : ''})`);

    const progress = setInterval(() => {
      console.log(`  t=${since().toFixed(0)}s pods created ${podState.added}, bound ${podState.bound}, ready ${podState.ready}; Deployments available ${available.size}/${DEPLOYMENTS}; RSS ${rssMB(pid)} MB`);
    }, quick ? 5000 : 15000);
    const timedOut = await Promise.race([allAvailablePromise.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), TIMEOUT_S * 1000).unref())]);
    clearInterval(progress);
    const runS = since();
    const cpuRun = cpuSeconds(pid) - cpu0;
    await sleep(SETTLE_S * 1000);
    counter.freeze();
    const revAfter = await globalRevision(api);
    const metricsAfter = await requestMetric(api);
    const settledS = since();
    const during = diff(counter.snapshot(), before);
    const ownCreates = DEPLOYMENTS - failures;

    console.log(`\n## Results${timedOut ? ` (TIMED OUT after ${TIMEOUT_S} s: ${available.size}/${DEPLOYMENTS} available)` : ''}`);
    console.log(`- time to create ${fmt(DEPLOYMENTS)} Deployments: ${createS.toFixed(2)} s`);
    const m = (x: number | undefined): string => (x === undefined ? 'not reached' : `${x.toFixed(1)} s`);
    console.log(`- all ${fmt(expectedPods)} pods created: ${m(marks.allPodsCreated)}; all bound: ${m(marks.allBound)}; all Ready: ${m(marks.allReady)}`);
    console.log(`- all Deployments available: ${m(marks.allAvailable)} → ${Math.round(podState.ready / runS)} pods/s end to end`);
    console.log(`- server CPU during the run: ${cpuRun.toFixed(1)} s over ${runS.toFixed(1)} s wall (${((100 * cpuRun) / runS).toFixed(0)}% of one core); total ${cpuSeconds(pid).toFixed(1)} s`);
    console.log(`- server RSS: ${rssMB(pid)} MB now, peak ${peakRss} MB`);

    // Writes: everything seen in [run start, all available + settle], minus the bench's own creates,
    // minus the background rate for resources that wrote while idle.
    const podsCreated = podState.added || 1;
    const rows: Array<[string, number, number]> = [];
    let net = 0;
    let gross = 0;
    for (const [k, v] of [...during].sort((a, b) => b[1] - a[1])) {
      // Node heartbeats (Leases, Node status) are background, whatever the change looked like while idle.
      const heartbeat = k.startsWith('leases.coordination.k8s.io\t') || k.startsWith('nodes\t');
      const bg = heartbeat ? v : (baselineRate.get(k) ?? 0) * settledS;
      const own = k === 'deployments.apps\tcreate' ? ownCreates : 0;
      const n = Math.max(0, v - own - bg);
      gross += v;
      net += n;
      rows.push([k, v, n]);
    }
    console.log(`\n### Writes (${fmt(gross)} stored writes seen by watches over ${settledS.toFixed(0)} s incl. ${SETTLE_S} s settle; global revision advanced ${fmt(revAfter - revBefore)})`);
    console.log(`- API writes per pod created: **${(net / podsCreated).toFixed(2)}** (${fmt(Math.round(net))} writes by the cluster for ${fmt(podState.added)} pods, excluding the bench's ${fmt(ownCreates)} creates, node heartbeats and idle background)`);
    console.log(`- including background (heartbeats): ${((gross - ownCreates) / podsCreated).toFixed(2)} per pod`);
    console.log('\n| resource | change | writes | net of bench & background | per pod |');
    console.log('|---|---|---|---|---|');
    for (const [k, v, n] of rows) {
      const [res, what] = k.split('\t');
      console.log(`| ${res} | ${what} | ${fmt(v)} | ${fmt(Math.round(n))} | ${(n / podsCreated).toFixed(3)} |`);
    }
    if (counter.eventReasons.size) {
      console.log('\nEvents written, by component and reason:');
      for (const [k, v] of [...counter.eventReasons].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`- ${k}: ${fmt(v)}`);
    }
    const metric = diff(metricsAfter, metricsBefore);
    console.log(`\napiserver_request_total (write verbs) over the run — HTTP requests only, the in-process components are not counted: ${[...metric].map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}`);
  } finally {
    clearInterval(rssTimer);
    stopping = true;
    for (const w of watches) w.stop();
    watchApi.close();
    api.close();
    await cluster.destroy();
    if (CPU_PROF) console.log(`\nserver CPU profile written to ${CPU_PROF}`);
  }
}

await main();
