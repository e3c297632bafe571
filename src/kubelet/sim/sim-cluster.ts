/**
 * Many simulated nodes in one process (`k8ts server --runtime sim --sim-nodes N`, or
 * `k8ts agent --runtime sim --node-name X`). Built to hold thousands of nodes: one pod and one
 * node informer for all of them (pods indexed by spec.nodeName, events dispatched to the node),
 * heartbeats spread evenly over the renew interval, registration in bounded batches.
 */
import type { ApiObject, Client } from '../../client/interface.js';
import { refs, SharedInformer, type InformerFactory } from '../../client/informer.js';
import { ClientEventRecorder, type EventRecorder } from '../../client/event-recorder.js';
import { realClock, type Clock } from '../../machinery/clock.js';
import type { Logger } from '../../machinery/logger.js';
import { SimNode, type SimTimings } from './sim-node.js';
import { SimMetricsSource, indexPodsByNode } from './sim-metrics.js';

export interface SimClusterOptions extends SimTimings {
  /** `--sim-nodes N`: nodes `sim-0 … sim-N-1` (with `namePrefix`). */
  nodes?: number;
  /** Explicit node names (`--node-name`); used instead of `nodes` when given. */
  nodeNames?: string[];
  /** Default `sim-`. */
  namePrefix?: string;
  /** Capacity of every node (defaults 8, 32Gi, 110, 100Gi). */
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Extra labels on every node. */
  labels?: Record<string, string>;
  /** InternalIPs are handed out from here (default 172.30.0.0/16 → 172.30.0.2, .3 …). */
  nodeIPBase?: string;
  /** An InternalIP to use for the first node (an agent's own address). */
  internalIP?: string;
  /** Pod range of a node whose Node has no spec.podCIDR yet; default: wait for node IPAM. */
  defaultPodCIDR?: (nodeName: string, index: number) => string | undefined;
  clock?: Clock;
  statusUpdateFrequencyMs?: number;
  statusReportFrequencyMs?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  /** Pod workers per node (default 2). */
  workersPerNode?: number;
  /** Nodes registered at once while starting (default 50). */
  startConcurrency?: number;
  /** Kubelet events of every node; default: each node writes its own as `kubelet` on its host, as a kubelet does. */
  recorder?: EventRecorder;
  log?: Logger;
}

/** The Nth node address from a base such as `172.30.0.0`. */
export function nthNodeIP(base: string, index: number): string {
  const parts = base.split('.').map(Number);
  let n = ((parts[0] ?? 0) * 2 ** 24 + (parts[1] ?? 0) * 2 ** 16 + (parts[2] ?? 0) * 2 ** 8 + (parts[3] ?? 0)) + index + 2;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(n % 256);
    n = Math.floor(n / 256);
  }
  return out.join('.');
}

/** Runs a fleet of `SimNode`s over shared informers and reports their simulated usage. */
export class SimCluster {
  readonly metrics: SimMetricsSource;
  private readonly byName = new Map<string, SimNode>();
  private readonly podInformer: SharedInformer;
  private readonly nodeInformer: SharedInformer;
  private readonly clock: Clock;
  private started = false;
  private readonly ownInformers: boolean;

  /** With `informers`, shares the process's pod and node informers (they are started here if not yet). */
  constructor(
    private readonly client: Client,
    private readonly opts: SimClusterOptions,
    informers?: InformerFactory,
  ) {
    this.clock = opts.clock ?? realClock;
    this.ownInformers = !informers;
    // One node of its own (an agent): watch only its pods and its Node, as a kubelet does.
    const single = !informers && opts.nodeNames?.length === 1 ? opts.nodeNames[0] : undefined;
    this.podInformer = informers?.for(refs.pods) ?? new SharedInformer(client, refs.pods, single ? { fieldSelector: `spec.nodeName=${single}` } : {});
    this.nodeInformer = informers?.for(refs.nodes) ?? new SharedInformer(client, refs.nodes, single ? { fieldSelector: `metadata.name=${single}` } : {});
    indexPodsByNode(this.podInformer);
    this.metrics = new SimMetricsSource(this.podInformer, this.nodeInformer, {
      clock: this.clock,
      isSimNode: (n) => {
        const sim = this.byName.get(n.metadata?.name ?? '');
        return !!sim && !sim.stopped;
      },
    });
    const names = opts.nodeNames?.length ? opts.nodeNames : Array.from({ length: opts.nodes ?? 0 }, (_, i) => `${opts.namePrefix ?? 'sim-'}${i}`);
    const count = names.length;
    const renew = opts.leaseRenewIntervalMs ?? (opts.leaseDurationSeconds ?? 40) * 250;
    names.forEach((name, i) => {
      const capacity: Record<string, string> = {};
      if (opts.cpu) capacity['cpu'] = opts.cpu;
      if (opts.memory) capacity['memory'] = opts.memory;
      if (opts.pods) capacity['pods'] = opts.pods;
      if (opts.ephemeralStorage) capacity['ephemeral-storage'] = opts.ephemeralStorage;
      const node = new SimNode(client, {
        name,
        capacity,
        internalIP: i === 0 && opts.internalIP ? opts.internalIP : nthNodeIP(opts.nodeIPBase ?? '172.30.0.0', i),
        labels: opts.labels,
        clock: this.clock,
        statusUpdateFrequencyMs: opts.statusUpdateFrequencyMs,
        statusReportFrequencyMs: opts.statusReportFrequencyMs,
        leaseRenewIntervalMs: opts.leaseRenewIntervalMs,
        leaseDurationSeconds: opts.leaseDurationSeconds,
        // Spread heartbeats evenly over one renew interval.
        initialDelayMs: count > 1 ? Math.floor((renew * i) / count) : 0,
        shared: { pods: this.podInformer, nodes: this.nodeInformer },
        defaultPodCIDR: opts.defaultPodCIDR?.(name, i),
        workers: opts.workersPerNode,
        recorder: opts.recorder ?? new ClientEventRecorder(client, 'kubelet', name, this.clock),
        startDelayMs: opts.startDelayMs,
        initContainerRunMs: opts.initContainerRunMs,
        runMs: opts.runMs,
        terminateDelayMs: opts.terminateDelayMs,
        backoffBaseMs: opts.backoffBaseMs,
        backoffMaxMs: opts.backoffMaxMs,
        onError: (err, what) => opts.log?.debug('sim node error', { node: name, what, error: err instanceof Error ? err.message : String(err) }),
      });
      this.byName.set(name, node);
    });
  }

  /** Every simulated node. */
  nodes(): SimNode[] {
    return [...this.byName.values()];
  }

  node(name: string): SimNode | undefined {
    return this.byName.get(name);
  }

  /** Registers every node (in batches), starts the informers and the nodes' pod workers. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const nodeOf = (o: ApiObject): SimNode | undefined => this.byName.get((o['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '');
    this.podInformer.addEventHandler({
      onAdd: (p) => nodeOf(p)?.podChanged(p),
      onUpdate: (_o, p) => nodeOf(p)?.podChanged(p),
      onDelete: (p) => nodeOf(p)?.podDeleted(p),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (n) => this.byName.get(n.metadata?.name ?? '')?.nodeChanged(n),
      onUpdate: (_o, n) => this.byName.get(n.metadata?.name ?? '')?.nodeChanged(n),
    });
    const all = this.nodes();
    const batch = Math.max(1, this.opts.startConcurrency ?? 50);
    for (let i = 0; i < all.length; i += batch) {
      await Promise.all(all.slice(i, i + batch).map((n) => n.start()));
    }
    await Promise.all([this.podInformer.start(), this.nodeInformer.start()]);
    this.opts.log?.info('simulated nodes started', { nodes: all.length });
  }

  /** Stops a node as a crashed machine: no heartbeats, pods frozen. */
  stopNode(name: string): void {
    this.byName.get(name)?.stop();
  }

  /** Brings a stopped node back. */
  async resumeNode(name: string): Promise<void> {
    await this.byName.get(name)?.resume();
  }

  /** Ends every node's work (Node objects stay); informers stop unless they came from a factory. */
  close(): void {
    for (const n of this.byName.values()) n.close();
    if (this.ownInformers) {
      this.podInformer.stop();
      this.nodeInformer.stop();
    }
  }

  /** API writes made for pods and node heartbeats so far (for benchmarks). */
  writeCounts(): { podStatus: number; podDelete: number; nodeStatus: number; lease: number } {
    const out = { podStatus: 0, podDelete: 0, nodeStatus: 0, lease: 0 };
    for (const n of this.byName.values()) {
      out.podStatus += n.writes.podStatus;
      out.podDelete += n.writes.podDelete;
      out.nodeStatus += n.reporter.writes.status;
      out.lease += n.reporter.writes.lease;
    }
    return out;
  }
}
