/**
 * Usage of nodes with real kubelets, as metrics-server gets it: every `intervalMs` (and when a
 * node appears) each kubelet's `/stats/summary` is fetched and kept in memory; metrics.k8s.io
 * answers from the last samples. Simulated nodes are left to the sim source.
 */
import type { ApiObject } from '../../client/interface.js';
import type { SharedInformer } from '../../client/informer.js';
import type { NodeUsageSample, PodUsageSample } from '../../api/usage-samples.js';
import type { MetricsSource } from './metrics-api.js';

/** The part of the kubelet's Summary this source reads. */
export interface SummaryLike {
  node: { cpu?: { time?: string; usageNanoCores?: number }; memory?: { time?: string; workingSetBytes?: number } };
  pods?: Array<{
    podRef: { name: string; namespace: string };
    containers?: Array<{ name: string; cpu?: { time?: string; usageNanoCores?: number }; memory?: { workingSetBytes?: number } }>;
  }>;
}

export interface KubeletSummarySourceOptions {
  nodes: SharedInformer;
  pods: SharedInformer;
  /** Fetches one node's Summary from its kubelet. */
  fetch(node: ApiObject): Promise<SummaryLike>;
  /** Which nodes have a kubelet to ask (not the simulated ones). */
  isReal(node: ApiObject): boolean;
  intervalMs?: number;
  onError?(node: string, error: unknown): void;
}

interface Scraped {
  node?: NodeUsageSample;
  pods: PodUsageSample[];
}

export class KubeletSummarySource implements MetricsSource {
  private readonly samples = new Map<string, Scraped>();
  private timer: NodeJS.Timeout | undefined;
  private readonly interval: number;
  private readonly inFlight = new Set<string>();

  constructor(private readonly o: KubeletSummarySourceOptions) {
    this.interval = o.intervalMs ?? 10_000;
  }

  start(): void {
    this.o.nodes.addEventHandler({
      onAdd: (n) => void this.scrape(n),
      onDelete: (n) => this.samples.delete(n.metadata?.name ?? ''),
    });
    this.timer = setInterval(() => {
      for (const n of this.o.nodes.list()) void this.scrape(n);
    }, this.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async scrape(node: ApiObject): Promise<void> {
    const name = node.metadata?.name ?? '';
    if (!this.o.isReal(node) || this.inFlight.has(name)) return;
    this.inFlight.add(name);
    try {
      const summary = await this.o.fetch(node);
      const windowSeconds = this.interval / 1000;
      const at = (t?: string): Date => new Date(t ? Date.parse(t) : Date.now());
      const scraped: Scraped = { pods: [] };
      // A rate needs two samples: until the kubelet has them, the node reports nothing, as metrics-server.
      if (summary.node.cpu?.usageNanoCores !== undefined) {
        scraped.node = {
          name,
          labels: { ...(node.metadata?.labels ?? {}) },
          cpuNanoCores: summary.node.cpu.usageNanoCores,
          memoryBytes: summary.node.memory?.workingSetBytes ?? 0,
          timestamp: at(summary.node.cpu.time),
          windowSeconds,
        };
      }
      for (const p of summary.pods ?? []) {
        const containers = (p.containers ?? []).filter((c) => c.cpu?.usageNanoCores !== undefined);
        if (!containers.length) continue;
        const pod = this.o.pods.get(p.podRef.namespace, p.podRef.name);
        scraped.pods.push({
          namespace: p.podRef.namespace,
          name: p.podRef.name,
          labels: { ...(pod?.metadata?.labels ?? {}) },
          containers: containers.map((c) => ({ name: c.name, cpuNanoCores: c.cpu?.usageNanoCores ?? 0, memoryBytes: c.memory?.workingSetBytes ?? 0 })),
          timestamp: at(containers[0]?.cpu?.time),
          windowSeconds,
        });
      }
      this.samples.set(name, scraped);
    } catch (e) {
      this.o.onError?.(name, e);
    } finally {
      this.inFlight.delete(name);
    }
  }

  nodeUsage(name?: string): NodeUsageSample[] {
    const out: NodeUsageSample[] = [];
    for (const [n, s] of this.samples) if (s.node && (name === undefined || n === name)) out.push(s.node);
    return out;
  }

  podUsage(namespace?: string, name?: string): PodUsageSample[] {
    const out: PodUsageSample[] = [];
    for (const s of this.samples.values()) {
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
