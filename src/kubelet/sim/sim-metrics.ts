/**
 * Simulated CPU and memory usage of pods on sim nodes, read by the metrics.k8s.io API (and so by
 * `kubectl top` and the HPA). Usage is what the pod's annotations say, per running container.
 */
import type { ApiObject } from '../../client/interface.js';
import { indexes, type SharedInformer } from '../../client/informer.js';
import { realClock, type Clock } from '../../machinery/clock.js';
import { Quantity } from '../../machinery/quantity.js';
import type { ContainerUsageSample, NodeUsageSample, PodUsageSample } from '../../api/usage-samples.js';

/** Annotations that steer the simulation of a pod (or, for `stopped`, of a Node). */
export const simAnnotations = {
  /** How long containers run before they exit (seconds, may be fractional). */
  runSeconds: 'sim.k8ts.io/run-seconds',
  /** The exit code containers end with. */
  exitCode: 'sim.k8ts.io/exit-code',
  /** Simulated CPU use per container (a quantity: `250m`). */
  cpu: 'sim.k8ts.io/cpu',
  /** Simulated memory use per container (a quantity: `64Mi`). */
  memory: 'sim.k8ts.io/memory',
  /** On a Node: `"true"` stops the simulated kubelet (no heartbeats, pods frozen). */
  stopped: 'sim.k8ts.io/stopped',
} as const;

/** The index of pods by `spec.nodeName` that sim nodes, the metrics source and controllers share. */
export const NODE_NAME_INDEX = 'nodeName';

export function indexPodsByNode(pods: SharedInformer): void {
  pods.addIndexer(NODE_NAME_INDEX, indexes.nodeName);
}

/** Usage of one container: CPU in nanocores, memory in bytes. */
export type ContainerUsage = ContainerUsageSample;

export const DEFAULT_CONTAINER_CPU = '1m';
export const DEFAULT_CONTAINER_MEMORY = '4Mi';

function nanoCores(text: string | undefined, fallback: string): number {
  const q = (text !== undefined ? Quantity.tryParse(text) : undefined) ?? Quantity.parse(fallback);
  return Number(q.scaledValue(-9));
}

function bytes(text: string | undefined, fallback: string): number {
  const q = (text !== undefined ? Quantity.tryParse(text) : undefined) ?? Quantity.parse(fallback);
  return Number(q.value());
}

/**
 * Simulated usage of a pod's running containers (none unless the pod is Running): the
 * `sim.k8ts.io/cpu` / `sim.k8ts.io/memory` annotations per container, else 1m / 4Mi.
 */
export function usageOf(pod: ApiObject): ContainerUsage[] {
  const status = (pod['status'] ?? {}) as { phase?: string; containerStatuses?: Array<{ name?: string; state?: { running?: unknown } }> };
  if (status.phase !== 'Running') return [];
  const ann = pod.metadata?.annotations ?? {};
  const cpu = nanoCores(ann[simAnnotations.cpu], DEFAULT_CONTAINER_CPU);
  const memory = bytes(ann[simAnnotations.memory], DEFAULT_CONTAINER_MEMORY);
  const out: ContainerUsage[] = [];
  for (const cs of status.containerStatuses ?? []) {
    if (cs.name && cs.state?.running) out.push({ name: cs.name, cpuNanoCores: cpu, memoryBytes: memory });
  }
  return out;
}

export interface SimMetricsOptions {
  clock?: Clock;
  /** metrics-server's scrape window (10 s). */
  windowSeconds?: number;
  /** What the node itself uses besides its pods (system daemons). */
  nodeBaseCpu?: string;
  nodeBaseMemory?: string;
  /** Which nodes this source reports; default: every node labelled instance-type k8ts-sim, unless stopped. */
  isSimNode?: (node: ApiObject) => boolean;
}

export const SIM_INSTANCE_TYPE = 'k8ts-sim';

/**
 * Usage of sim nodes and their pods, computed from the informers' caches on each call (no
 * state of its own). It has the shape the metrics.k8s.io API reads (`MetricsSource`).
 */
export class SimMetricsSource {
  private readonly clock: Clock;
  private readonly window: number;
  private readonly baseCpu: number;
  private readonly baseMemory: number;
  private readonly isSim: (node: ApiObject) => boolean;

  constructor(
    private readonly pods: SharedInformer,
    private readonly nodes: SharedInformer,
    opts: SimMetricsOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.window = opts.windowSeconds ?? 10;
    this.baseCpu = nanoCores(opts.nodeBaseCpu, '20m');
    this.baseMemory = bytes(opts.nodeBaseMemory, '256Mi');
    this.isSim = opts.isSimNode ?? ((n) => n.metadata?.labels?.['node.kubernetes.io/instance-type'] === SIM_INSTANCE_TYPE && n.metadata?.annotations?.[simAnnotations.stopped] !== 'true');
    indexPodsByNode(pods);
  }

  private timestamp(): Date {
    // Samples are taken at whole seconds, as metrics-server reports them.
    return new Date(Math.floor(this.clock.now().getTime() / 1000) * 1000);
  }

  /** Usage of every sim node, or of the named one (empty when unknown or not simulated). */
  nodeUsage(name?: string): NodeUsageSample[] {
    const nodes = name !== undefined ? [this.nodes.get('', name)].filter((n): n is ApiObject => !!n) : this.nodes.list();
    const ts = this.timestamp();
    const out: NodeUsageSample[] = [];
    for (const node of nodes) {
      if (!this.isSim(node) || !isReady(node)) continue;
      const nodeName = node.metadata?.name ?? '';
      let cpu = this.baseCpu;
      let memory = this.baseMemory;
      for (const pod of this.pods.byIndex(NODE_NAME_INDEX, nodeName)) {
        for (const c of usageOf(pod)) {
          cpu += c.cpuNanoCores;
          memory += c.memoryBytes;
        }
      }
      out.push({ name: nodeName, labels: { ...(node.metadata?.labels ?? {}) }, cpuNanoCores: cpu, memoryBytes: memory, timestamp: ts, windowSeconds: this.window });
    }
    return out;
  }

  /** Usage of running pods on sim nodes: all, one namespace's, or one pod's. */
  podUsage(namespace?: string, name?: string): PodUsageSample[] {
    let pods: ApiObject[];
    if (namespace && name !== undefined) pods = [this.pods.get(namespace, name)].filter((p): p is ApiObject => !!p);
    else pods = this.pods.list(namespace || undefined);
    const ts = this.timestamp();
    const out: PodUsageSample[] = [];
    for (const pod of pods) {
      const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
      const node = nodeName ? this.nodes.get('', nodeName) : undefined;
      if (!node || !this.isSim(node)) continue;
      const containers = usageOf(pod);
      if (containers.length === 0) continue;
      out.push({
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        labels: { ...(pod.metadata?.labels ?? {}) },
        containers,
        timestamp: ts,
        windowSeconds: this.window,
      });
    }
    return out;
  }
}

function isReady(node: ApiObject): boolean {
  const conds = ((node['status'] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? []);
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}
