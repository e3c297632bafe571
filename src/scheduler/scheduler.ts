/**
 * The scheduler loop (Kubernetes' scheduleOne): pop a pending pod, filter nodes, score the
 * feasible ones, assume the pod on the best, and bind it asynchronously; on failure run
 * preemption, say why in a FailedScheduling event and the PodScheduled condition, and requeue.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiObject, Client } from '../client/interface.js';
import { isConflict, isNotFound } from '../client/interface.js';
import { refs, type InformerFactory, type SharedInformer } from '../client/informer.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { realClock, type Clock } from '../machinery/clock.js';
import type { Logger } from '../machinery/logger.js';
import { selectorFromSet, type LabelSelector, type LabelSelectorRequirement } from '../machinery/labels.js';
import { SchedulerCache } from './cache.js';
import { Code, CycleState, PodInfo, Status, type NodeInfo, type NodeToStatus } from './framework.js';
import { SchedulingFramework } from './framework-runner.js';
import { fitErrorMessage, type Diagnosis } from './fit-error.js';
import { SchedulingQueue, type ClusterEvent, type QueuedPodInfo } from './queue.js';
import { defaultProfile, inTreeRegistry, type PluginContext, type PluginRegistry } from './plugins/registry.js';

export const defaultSchedulerName = 'default-scheduler';

/** What the scheduler is built with (a ControllerContext fits). */
export interface SchedulerContext {
  client: Client;
  informers: InformerFactory;
  /** A recorder, or a factory by component name (as ControllerContext has it). */
  recorder: EventRecorder | ((component: string) => EventRecorder);
  clock?: Clock;
  log: Logger;
}

export interface SchedulerOptions {
  /** Pods with this spec.schedulerName are ours (default `default-scheduler`). */
  schedulerName?: string;
  /** Share of nodes to look at for feasible ones when there are many; 0/undefined = Kubernetes' adaptive rule. */
  percentageOfNodesToScore?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
  /** Plugins to run, in order, with score weights (default: Kubernetes' default profile). */
  profile?: Array<{ name: string; weight?: number }>;
  registry?: PluginRegistry;
  /** How long PreBind waits for volumes to bind (Kubernetes: 600 s). */
  bindTimeoutMs?: number;
  /** For tie-breaks between equally scored nodes. */
  random?: () => number;
}

const minFeasibleNodesToFind = 100;
const minFeasibleNodesPercentageToFind = 5;

/** Kubernetes' numFeasibleNodesToFind: all of small clusters, a shrinking share of large ones. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage?: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let pct = percentage ?? 0;
  if (pct <= 0) pct = Math.max(minFeasibleNodesPercentageToFind, 50 - Math.floor(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  return Math.max(minFeasibleNodesToFind, Math.floor((numAllNodes * pct) / 100));
}

function asApi(o: unknown): ApiObject {
  return o as ApiObject;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly cache = new SchedulerCache();
  readonly framework: SchedulingFramework;
  private readonly client: Client;
  private readonly informers: InformerFactory;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly schedulerName: string;
  private readonly random: () => number;
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly namespaces: SharedInformer;
  private nextStartNodeIndex = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly bindings = new Set<Promise<void>>();

  constructor(
    ctx: SchedulerContext,
    private readonly options: SchedulerOptions = {},
  ) {
    this.client = ctx.client;
    this.informers = ctx.informers;
    this.recorder = typeof ctx.recorder === 'function' ? ctx.recorder(defaultSchedulerName) : ctx.recorder;
    this.clock = ctx.clock ?? realClock;
    this.log = ctx.log;
    this.schedulerName = options.schedulerName ?? defaultSchedulerName;
    this.random = options.random ?? Math.random;
    this.queue = new SchedulingQueue({ clock: this.clock, initialBackoffMs: options.initialBackoffMs, maxBackoffMs: options.maxBackoffMs, maxUnschedulableMs: options.maxUnschedulableMs });
    this.pods = this.informers.for(refs.pods);
    this.nodes = this.informers.for(refs.nodes);
    this.namespaces = this.informers.for(refs.namespaces);
    const registry = options.registry ?? inTreeRegistry();
    let fw: SchedulingFramework | undefined;
    const pctx: PluginContext = {
      client: this.client,
      informers: this.informers,
      clock: this.clock,
      recorder: this.recorder,
      snapshot: this.cache,
      nsLabels: (ns) => this.namespaces.get('', ns)?.metadata?.labels,
      framework: () => fw!,
      pdbs: this.informers.for(refs.poddisruptionbudgets),
      defaultSelector: (pod) => this.defaultSelector(pod),
      bindTimeoutMs: options.bindTimeoutMs ?? 600_000,
    };
    const profile = options.profile ?? defaultProfile;
    fw = new SchedulingFramework(profile.map((p) => ({ plugin: registry.create(p.name, pctx), weight: p.weight })));
    this.framework = fw;
    // Informers default spreading reads; created now so they start with the rest.
    for (const r of [refs.services, refs.replicasets, refs.replicationcontrollers, refs.statefulsets]) this.informers.for(r);
  }

  /** Registers handlers, starts the informers it needs, waits for them, and runs the loop. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.setupHandlers();
    await this.informers.start();
    this.loop = this.run();
  }

  /** Stops scheduling; in-flight bindings finish on their own. */
  async stop(): Promise<void> {
    this.running = false;
    this.queue.close();
    await this.loop;
    await Promise.allSettled([...this.bindings]);
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? defaultSchedulerName) === this.schedulerName && !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && !isTerminal(pod);
  }

  private move(event: ClusterEvent): void {
    this.queue.moveAllToActiveOrBackoff(event);
  }

  private setupHandlers(): void {
    this.pods.addEventHandler({
      onAdd: (o) => {
        const pod = o as Pod;
        if (pod.spec?.nodeName) {
          if (isTerminal(pod)) return;
          this.cache.addPod(pod);
          this.move('AssignedPodAdd');
        } else if (this.responsibleFor(pod)) this.queue.add(pod);
      },
      onUpdate: (oldO, newO) => {
        const pod = newO as Pod;
        const old = oldO as Pod;
        if (pod.spec?.nodeName) {
          if (!old.spec?.nodeName) this.queue.delete(pod);
          if (isTerminal(pod)) {
            this.cache.removePod(pod);
            this.move('AssignedPodDelete');
            return;
          }
          this.cache.addPod(pod);
          if (!old.spec?.nodeName) this.move('AssignedPodAdd');
          else if (old !== pod && JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) this.move('AssignedPodUpdate');
          return;
        }
        if (this.cache.isAssumed(podKey(pod))) return;
        if (this.responsibleFor(pod)) this.queue.update(pod);
        else this.queue.delete(pod);
      },
      onDelete: (o) => {
        const pod = o as Pod;
        if (pod.spec?.nodeName || this.cache.nodeOf(podKey(pod)) !== undefined) {
          this.cache.removePod(pod);
          this.move('AssignedPodDelete');
        }
        this.queue.delete(pod);
      },
    });
    this.nodes.addEventHandler({
      onAdd: (o) => {
        this.cache.addNode(o as Node);
        this.move('NodeAdd');
      },
      onUpdate: (oldO, newO) => {
        const old = oldO as Node;
        const node = newO as Node;
        this.cache.updateNode(node);
        if (nodeSchedulingChanged(old, node)) this.move('NodeUpdate');
      },
      onDelete: (o) => this.cache.removeNode(o as Node),
    });
    const volumeEvent = (e: ClusterEvent): { onAdd: () => void; onUpdate: () => void } => ({ onAdd: () => this.move(e), onUpdate: () => this.move(e) });
    this.informers.for(refs.persistentvolumes).addEventHandler(volumeEvent('PersistentVolumeChange'));
    this.informers.for(refs.persistentvolumeclaims).addEventHandler(volumeEvent('PersistentVolumeClaimChange'));
    this.informers.for(refs.storageclasses).addEventHandler(volumeEvent('StorageClassChange'));
  }

  private async run(): Promise<void> {
    let n = 0;
    while (this.running) {
      const more = await this.scheduleOne();
      if (!more) return;
      // Let informer events and bindings in between cycles.
      if (++n % 8 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** One scheduling cycle. Resolves false when the queue is closed. */
  async scheduleOne(): Promise<boolean> {
    const q = await this.queue.pop();
    if (!q) return false;
    const cached = this.pods.getByKey(q.key) as Pod | undefined;
    if (!cached || !this.responsibleFor(cached) || this.cache.isAssumed(q.key)) {
      this.queue.done(q.key);
      return true;
    }
    const pod = cached;
    if (q.podInfo.pod !== pod) q.podInfo = new PodInfo(pod);
    const state = new CycleState();
    const result = this.schedulePod(state, pod);
    if ('host' in result) {
      this.assumeAndBind(q, state, pod, result.host);
      return true;
    }
    await this.handleFailure(q, state, pod, result);
    return true;
  }

  /** Filter and score synchronously over the cache. */
  private schedulePod(state: CycleState, pod: Pod): { host: string } | { diagnosis: Diagnosis; numNodes: number; error?: Status; plugins: Set<string> } {
    const all = this.cache.list();
    const plugins = new Set<string>();
    if (all.length === 0) return { diagnosis: { nodeToStatus: new Map(), preFilterMsg: 'no nodes available to schedule pods' }, numNodes: 0, plugins };
    const pre = this.framework.runPreFilters(state, pod, all);
    if (pre.code === Code.Error) return { diagnosis: { nodeToStatus: new Map() }, numNodes: all.length, error: pre, plugins };
    if (!pre.isSuccess()) {
      plugins.add(pre.plugin);
      const nodeToStatus: NodeToStatus = new Map(all.map((n) => [n.name, pre]));
      return { diagnosis: { nodeToStatus, preFilterMsg: pre.message() }, numNodes: all.length, plugins };
    }
    // A preemptor first tries the node it was nominated to.
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.cache.get(nominated);
      if (ni && this.framework.runFiltersWithNominated(state, pod, ni, this.queue.nominatedPodsFor(ni.name)).isSuccess()) return { host: ni.name };
    }
    const statuses: NodeToStatus = new Map();
    const feasible = this.findFeasible(state, pod, all, statuses);
    for (const s of statuses.values()) {
      if (s.code === Code.Error) return { diagnosis: { nodeToStatus: statuses }, numNodes: all.length, error: s, plugins };
      if (s.plugin) plugins.add(s.plugin);
    }
    if (feasible.length === 0) return { diagnosis: { nodeToStatus: statuses }, numNodes: all.length, plugins };
    if (feasible.length === 1) return { host: feasible[0]!.name };
    this.framework.runPreScores(state, pod, feasible);
    const scores = this.framework.runScores(state, pod, feasible);
    return { host: feasible[this.pickBest(scores)]!.name };
  }

  private findFeasible(state: CycleState, pod: Pod, all: NodeInfo[], statuses: NodeToStatus): NodeInfo[] {
    const want = numFeasibleNodesToFind(all.length, this.options.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const n = all.length;
    const start = this.nextStartNodeIndex % n;
    let processed = 0;
    for (; processed < n && feasible.length < want; processed++) {
      const ni = all[(start + processed) % n]!;
      const nominated = this.queue.nominatedPodsFor(ni.name);
      const s = nominated.length > 0 ? this.framework.runFiltersWithNominated(state, pod, ni, nominated) : this.framework.runFilters(state, pod, ni);
      if (s.isSuccess()) feasible.push(ni);
      else statuses.set(ni.name, s);
    }
    this.nextStartNodeIndex = (start + processed) % n;
    return feasible;
  }

  /** Highest total; ties broken uniformly at random (reservoir sampling). */
  private pickBest(scores: number[]): number {
    let best = 0;
    let max = -Infinity;
    let ties = 0;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!;
      if (s > max) {
        max = s;
        best = i;
        ties = 1;
      } else if (s === max) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return best;
  }

  private assumeAndBind(q: QueuedPodInfo, state: CycleState, pod: Pod, host: string): void {
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName: host } };
    this.cache.assumePod(assumed);
    const r = this.framework.runReserve(state, pod, host);
    if (!r.isSuccess()) {
      this.cache.forgetPod(q.key);
      this.queue.addUnschedulable(q, { error: true });
      return;
    }
    const p = this.bindingCycle(q, state, pod, host).finally(() => this.bindings.delete(p));
    this.bindings.add(p);
  }

  private async bindingCycle(q: QueuedPodInfo, state: CycleState, pod: Pod, host: string): Promise<void> {
    let s = await this.framework.runPreBind(state, pod, host);
    if (s.isSuccess()) s = await this.framework.runBind(state, pod, host);
    if (s.isSuccess()) {
      this.queue.done(q.key);
      this.queue.deleteNominated(q.key);
      this.recorder.event(asApi(pod), 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${host}`);
      return;
    }
    this.framework.runUnreserve(state, pod, host);
    this.cache.forgetPod(q.key);
    const err = s.error;
    if (err && (isNotFound(err) || (isConflict(err) && /already assigned|being deleted/.test(err.message)))) {
      this.queue.done(q.key);
      return;
    }
    this.log.debug('binding failed', { pod: q.key, node: host, error: s.message() });
    this.recorder.event(asApi(pod), 'Warning', 'FailedScheduling', `running ${s.plugin || 'Bind'} plugin: ${s.message()}`);
    this.queue.addUnschedulable(q, { error: true });
  }

  private async handleFailure(q: QueuedPodInfo, state: CycleState, pod: Pod, r: { diagnosis: Diagnosis; numNodes: number; error?: Status; plugins: Set<string> }): Promise<void> {
    if (r.error) {
      this.log.debug('scheduling error', { pod: q.key, error: r.error.message() });
      this.recorder.event(asApi(pod), 'Warning', 'FailedScheduling', r.error.message());
      this.queue.addUnschedulable(q, { error: true });
      return;
    }
    let nominatedNodeName: string | undefined;
    if (r.numNodes > 0 && !r.diagnosis.preFilterMsg) {
      try {
        const pf = await this.framework.runPostFilters(state, pod, r.diagnosis.nodeToStatus);
        if (pf.status.isSuccess()) nominatedNodeName = pf.nominatedNodeName;
        else if (pf.status.message()) r.diagnosis.postFilterMsg = pf.status.message();
      } catch (e) {
        this.log.warn('preemption failed', { pod: q.key, error: (e as Error).message });
      }
    }
    q.unschedulablePlugins = r.plugins;
    const msg = fitErrorMessage(r.numNodes, r.diagnosis);
    this.recorder.event(asApi(pod), 'Warning', 'FailedScheduling', msg);
    if (nominatedNodeName) this.queue.addNominated(q.podInfo, nominatedNodeName);
    this.queue.addUnschedulable(q);
    void this.updateCondition(pod, msg, nominatedNodeName).catch((e: unknown) => this.log.debug('pod status update failed', { pod: q.key, error: (e as Error).message }));
  }

  /** PodScheduled=False/Unschedulable with the message, and the nominated node, on the pod's status. */
  private async updateCondition(pod: Pod, message: string, nominatedNodeName: string | undefined): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = (attempt === 0 ? pod : await this.client.get(refs.pods, ns, name)) as Pod;
      if (cur.spec?.nodeName || cur.metadata?.uid !== pod.metadata?.uid) return;
      const conditions = [...(cur.status?.conditions ?? [])];
      const i = conditions.findIndex((c) => c.type === 'PodScheduled');
      const prev = i >= 0 ? conditions[i] : undefined;
      const same = prev && prev.status === 'False' && prev.reason === 'Unschedulable' && prev.message === message;
      const nominatedSame = nominatedNodeName === undefined || cur.status?.nominatedNodeName === nominatedNodeName;
      if (same && nominatedSame) return;
      const cond = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null as unknown as string, lastTransitionTime: prev?.status === 'False' && prev.lastTransitionTime ? prev.lastTransitionTime : timestamp(this.clock.now()) };
      if (i >= 0) conditions[i] = cond;
      else conditions.push(cond);
      const status = { ...cur.status, conditions, ...(nominatedNodeName ? { nominatedNodeName } : {}) };
      try {
        await this.client.update(refs.pods, ns, asApi({ ...cur, status }), { subresource: 'status' });
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
  }

  /**
   * The labels a pod's services and controller select it by, for default topology spreading
   * (Kubernetes' DefaultSelector).
   */
  private defaultSelector(pod: Pod): LabelSelector | undefined {
    const ns = pod.metadata?.namespace ?? '';
    const labels = pod.metadata?.labels ?? {};
    const matchLabels: Record<string, string> = {};
    const matchExpressions: LabelSelectorRequirement[] = [];
    let found = false;
    for (const svc of this.informers.for(refs.services).list(ns)) {
      const sel = (svc['spec'] as { selector?: Record<string, string> } | undefined)?.selector;
      if (!sel || Object.keys(sel).length === 0 || !selectorFromSet(sel).matches(labels)) continue;
      Object.assign(matchLabels, sel);
      found = true;
    }
    const owner = (pod.metadata?.ownerReferences ?? []).find((r) => r.controller);
    if (owner) {
      const ref = owner.kind === 'ReplicaSet' ? refs.replicasets : owner.kind === 'ReplicationController' ? refs.replicationcontrollers : owner.kind === 'StatefulSet' ? refs.statefulsets : undefined;
      const ctl = ref ? this.informers.for(ref).get(ns, owner.name) : undefined;
      const sel = (ctl?.['spec'] as { selector?: LabelSelector | Record<string, string> } | undefined)?.selector;
      if (sel) {
        found = true;
        if (owner.kind === 'ReplicationController') Object.assign(matchLabels, sel as Record<string, string>);
        else {
          const ls = sel as LabelSelector;
          Object.assign(matchLabels, ls.matchLabels ?? {});
          matchExpressions.push(...(ls.matchExpressions ?? []));
        }
      }
    }
    if (!found) return undefined;
    return { matchLabels, matchExpressions };
  }
}

/** Node changes that can make a pod fit: labels, taints, cordon, allocatable, readiness. */
function nodeSchedulingChanged(a: Node, b: Node): boolean {
  if (a === b) return false;
  if (JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels)) return true;
  if (!!a.spec?.unschedulable !== !!b.spec?.unschedulable) return true;
  if (JSON.stringify(a.spec?.taints ?? []) !== JSON.stringify(b.spec?.taints ?? [])) return true;
  if (JSON.stringify(a.status?.allocatable) !== JSON.stringify(b.status?.allocatable)) return true;
  const ready = (n: Node): string | undefined => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return ready(a) !== ready(b);
}
