/**
 * Usage of nodes with real kubelets, as metrics-server gets it: every `intervalMs` (and once when
 * a node appears) each kubelet's `/stats/summary` is fetched and kept in memory; metrics.k8s.io
 * answers from the last samples. Like metrics-server, CPU is a rate between two scrapes of the
 * cumulative counters (`usageCoreNanoSeconds`), and `window` is the time between them. Simulated
 * nodes are left to the sim source.
 */
import type { ApiObject } from '../../client/interface.js';
import type { EventHandler } from '../../client/informer.js';
import type { NodeUsageSample, PodUsageSample } from '../../api/usage-samples.js';
import type { MetricsSource } from './metrics-api.js';

interface CpuLike {
  time?: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

/** The part of the kubelet's Summary (stats/v1alpha1) this source reads. */
export interface SummaryLike {
  node: { cpu?: CpuLike; memory?: { time?: string; workingSetBytes?: number } };
  pods?: Array<{
    podRef: { name: string; namespace: string; uid?: string };
    containers?: Array<{ name: string; startTime?: string; cpu?: CpuLike; memory?: { workingSetBytes?: number } }>;
  }>;
}

/** The informer methods this source uses (a SharedInformer fits). */
export interface NodeWatch {
  addEventHandler(h: EventHandler): void;
  list(): ApiObject[];
}

export interface PodLookup {
  get(namespace: string, name: string): ApiObject | undefined;
}

export interface KubeletSummarySourceOptions {
  nodes: NodeWatch;
  pods: PodLookup;
  /** Fetches one node's Summary from its kubelet. */
  fetch(node: ApiObject): Promise<SummaryLike>;
  /** Which nodes have a kubelet to ask (not the simulated ones). */
  isReal(node: ApiObject): boolean;
  /** Time between scrapes; 10 s unless told. */
  intervalMs?: number;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
  onError?(node: string, error: unknown): void;
}

/** One cumulative CPU reading, to make a rate with the next. */
interface CpuReading {
  at: number;
  nanos: number;
  /** A container's start time: a restarted container's counter starts again. */
  startTime?: string;
}

interface Scraped {
  at: number;
  node?: NodeUsageSample;
  pods: PodUsageSample[];
  /** Readings of this scrape, by `node` or `uid/container`. */
  readings: Map<string, CpuReading>;
}

interface Rate {
  nanoCores: number;
  windowSeconds: number;
}

export class KubeletSummarySource implements MetricsSource {
  private readonly samples = new Map<string, Scraped>();
  private timer: NodeJS.Timeout | undefined;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly inFlight = new Set<string>();

  constructor(private readonly o: KubeletSummarySourceOptions) {
    this.interval = o.intervalMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.o.nodes.addEventHandler({
      onAdd: (n) => void this.scrape(n),
      onDelete: (n) => this.samples.delete(n.metadata?.name ?? ''),
    });
    this.timer = setInterval(() => void this.scrapeAll(), this.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Scrapes every real node once (what the timer does). */
  async scrapeAll(): Promise<void> {
    await Promise.all(this.o.nodes.list().map((n) => this.scrape(n)));
  }

  /** Fetches one node's Summary and keeps what metrics.k8s.io serves of it. */
  async scrape(node: ApiObject): Promise<void> {
    const name = node.metadata?.name ?? '';
    if (!this.o.isReal(node) || this.inFlight.has(name)) return;
    // A scrape right after another (a node just added, then the timer) would make a rate over too short a window.
    const last = this.samples.get(name);
    if (last && this.now() - last.at < this.interval / 2) return;
    this.inFlight.add(name);
    try {
      const summary = await this.o.fetch(node);
      // The kubelet reads its counters when asked, and Summary times have whole seconds only:
      // our own clock at the answer measures the window more finely.
      const at = this.now();
      const prev = this.samples.get(name);
      const scraped: Scraped = { at, pods: [], readings: new Map() };
      const rate = (key: string, cpu: CpuLike | undefined, startTime?: string): Rate | undefined => {
        if (cpu?.usageCoreNanoSeconds === undefined) return undefined;
        const reading: CpuReading = { at, nanos: cpu.usageCoreNanoSeconds, startTime };
        scraped.readings.set(key, reading);
        const before = prev?.readings.get(key);
        if (before && before.startTime === startTime && reading.nanos >= before.nanos && at > before.at) {
          return { nanoCores: ((reading.nanos - before.nanos) * 1000) / (at - before.at), windowSeconds: (at - before.at) / 1000 };
        }
        return undefined;
      };
      const nodeRate = rate('node', summary.node.cpu);
      // A rate needs two readings: until then the node reports nothing, as with metrics-server.
      if (nodeRate) {
        scraped.node = {
          name,
          labels: { ...(node.metadata?.labels ?? {}) },
          cpuNanoCores: nodeRate.nanoCores,
          memoryBytes: summary.node.memory?.workingSetBytes ?? 0,
          timestamp: new Date(at),
          windowSeconds: nodeRate.windowSeconds,
        };
      }
      for (const p of summary.pods ?? []) {
        const podKey = p.podRef.uid ?? `${p.podRef.namespace}/${p.podRef.name}`;
        const containers: PodUsageSample['containers'] = [];
        let window = 0;
        for (const c of p.containers ?? []) {
          const r = rate(`${podKey}/${c.name}`, c.cpu, c.startTime);
          if (!r) continue;
          containers.push({ name: c.name, cpuNanoCores: r.nanoCores, memoryBytes: c.memory?.workingSetBytes ?? 0 });
          window = Math.max(window, r.windowSeconds);
        }
        if (!containers.length) continue;
        const pod = this.o.pods.get(p.podRef.namespace, p.podRef.name);
        scraped.pods.push({ namespace: p.podRef.namespace, name: p.podRef.name, labels: { ...(pod?.metadata?.labels ?? {}) }, containers, timestamp: new Date(at), windowSeconds: window });
      }
      this.samples.set(name, scraped);
    } catch (e) {
      this.o.onError?.(name, e);
    } finally {
      this.inFlight.delete(name);
    }
  }

  /** A node whose kubelet stopped answering drops out after a few missed scrapes, as it would from metrics-server. */
  private fresh(s: Scraped): boolean {
    return this.now() - s.at <= this.interval * 3;
  }

  nodeUsage(name?: string): NodeUsageSample[] {
    const out: NodeUsageSample[] = [];
    for (const [n, s] of this.samples) if (s.node && this.fresh(s) && (name === undefined || n === name)) out.push(s.node);
    return out;
  }

  podUsage(namespace?: string, name?: string): PodUsageSample[] {
    const out: PodUsageSample[] = [];
    for (const s of this.samples.values()) {
      if (!this.fresh(s)) continue;
      for (const p of s.pods) {
        if (namespace && p.namespace !== namespace) continue;
        if (name !== undefined && p.name !== name) continue;
        // A pod deleted since the scrape is gone from metrics too.
        if (!this.o.pods.get(p.namespace, p.name)) continue;
        out.push(p);
      }
    }
    return out;
  }
}

/** Several sources answering as one (simulated nodes and real kubelets side by side). */
export class CombinedMetricsSource implements MetricsSource {
  constructor(private readonly sources: MetricsSource[]) {}

  nodeUsage(name?: string): NodeUsageSample[] {
    return this.sources.flatMap((s) => s.nodeUsage(name));
  }

  podUsage(namespace?: string, name?: string): PodUsageSample[] {
    return this.sources.flatMap((s) => s.podUsage(namespace, name));
  }
}
