/**
 * The scheduling framework (Kubernetes' pkg/scheduler/framework): plugin extension points,
 * `Status`, `CycleState`, and the `NodeInfo`/`PodInfo` snapshot plugins read.
 *
 * Everything up to Reserve runs synchronously over the cache, so a scheduling cycle sees one
 * consistent snapshot; PostFilter, PreBind and Bind talk to the API server and are async.
 */
import type { Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { Client } from '../client/interface.js';
import type { InformerFactory } from '../client/informer.js';
import type { EventRecorder } from '../client/event-recorder.js';
import type { Clock } from '../machinery/clock.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../machinery/labels.js';
import { addInto, cloneResources, emptyResources, nodeAllocatable, podRequests, type NonZeroResources, type Resources } from './pod-resources.js';

/** Kubernetes' status codes of a plugin result. */
export enum Code {
  Success = 0,
  Error = 1,
  /** The pod does not fit now; preemption or a cluster change may help. */
  Unschedulable = 2,
  /** The pod does not fit and preemption on this node cannot help. */
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
}

/** A plugin's verdict with the reasons users read in FailedScheduling events. */
export class Status {
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: string[] = [],
    readonly error?: Error,
  ) {}

  static success(): Status {
    return successStatus;
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }

  static skip(): Status {
    return skipStatus;
  }

  static fromError(e: unknown): Status {
    const err = e instanceof Error ? e : new Error(String(e));
    return new Status(Code.Error, [err.message], err);
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  isSkip(): boolean {
    return this.code === Code.Skip;
  }

  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }

  message(): string {
    return this.reasons.join(', ');
  }

  withPlugin(name: string): Status {
    if (this === successStatus || this === skipStatus) return this;
    this.plugin = name;
    return this;
  }
}

const successStatus = new Status(Code.Success);
const skipStatus = new Status(Code.Skip);

/** Per-cycle scratch space plugins write in PreFilter/PreScore and read in Filter/Score. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter/PreScore said Skip: their Filter/Score is not run. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  /** Preemption tries "what if" on a copy. Values are shared: plugins must not mutate them after PreFilter. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v);
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

/** A parsed (anti-)affinity term: which pods it selects and over which topology. Shared: never mutate. */
export interface AffinityTerm {
  selector: Selector;
  /** Explicit namespaces; with no namespaceSelector and none listed, the pod's own. */
  namespaces: Set<string>;
  namespaceSelector: Selector | undefined;
  topologyKey: string;
  weight: number;
}

/** Namespace labels by name, for namespaceSelector terms. */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

/** Parsed terms by their spec: pods of one template share term objects, so per-cycle memos by term hit. */
const internedTerms = new Map<string, AffinityTerm>();
const maxInternedTerms = 10_000;

function parseTerm(term: PodAffinityTerm, podNamespace: string, weight: number): AffinityTerm {
  const namespaces = [...(term.namespaces ?? [])].sort();
  const key = JSON.stringify([term.labelSelector ?? null, term.namespaceSelector ?? null, namespaces, podNamespace, term.topologyKey, weight]);
  const hit = internedTerms.get(key);
  if (hit) return hit;
  const nsSel = term.namespaceSelector ? selectorFromLabelSelector(term.namespaceSelector as LabelSelector) : undefined;
  const set = new Set(namespaces);
  if (set.size === 0 && !nsSel) set.add(podNamespace);
  const parsed: AffinityTerm = { selector: selectorFromLabelSelector(term.labelSelector as LabelSelector | undefined), namespaces: set, namespaceSelector: nsSel, topologyKey: term.topologyKey, weight };
  if (internedTerms.size >= maxInternedTerms) internedTerms.clear();
  internedTerms.set(key, parsed);
  return parsed;
}

/** Whether `pod` is one of the pods `term` selects. */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: NamespaceLabels): boolean {
  const ns = pod.metadata?.namespace ?? '';
  if (!term.namespaces.has(ns)) {
    if (!term.namespaceSelector) return false;
    if (!term.namespaceSelector.matches(nsLabels(ns) ?? {})) return false;
  }
  return term.selector.matches(pod.metadata?.labels ?? {});
}

/** A pod with what the scheduler derives from it, computed once. */
export class PodInfo {
  readonly key: string;
  readonly requests: Resources;
  readonly nonZero: NonZeroResources;
  readonly priority: number;
  readonly requiredAffinity: AffinityTerm[];
  readonly requiredAntiAffinity: AffinityTerm[];
  readonly preferredAffinity: AffinityTerm[];
  readonly preferredAntiAffinity: AffinityTerm[];
  /** `proto/port` with host IP, for NodePorts. */
  readonly hostPorts: Array<{ protocol: string; port: number; ip: string }>;

  constructor(readonly pod: Pod) {
    const ns = pod.metadata?.namespace ?? '';
    this.key = `${ns}/${pod.metadata?.name ?? ''}`;
    const { requests, nonZero } = podRequests(pod);
    this.requests = requests;
    this.nonZero = nonZero;
    this.priority = pod.spec?.priority ?? 0;
    const a = pod.spec?.affinity;
    this.requiredAffinity = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t, ns, 1));
    this.requiredAntiAffinity = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t, ns, 1));
    this.preferredAffinity = (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t.podAffinityTerm, ns, t.weight));
    this.preferredAntiAffinity = (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseTerm(t.podAffinityTerm, ns, t.weight));
    const ports: PodInfo['hostPorts'] = [];
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort || p.hostPort <= 0) continue;
        ports.push({ protocol: p.protocol ?? 'TCP', port: p.hostPort, ip: p.hostIP || '0.0.0.0' });
      }
    }
    this.hostPorts = ports;
  }

  hasAffinity(): boolean {
    return this.requiredAffinity.length + this.requiredAntiAffinity.length + this.preferredAffinity.length + this.preferredAntiAffinity.length > 0;
  }
}

/** Images on a node and how many nodes have each (for ImageLocality). */
export interface ImageState {
  size: number;
  numNodes: number;
}

/**
 * One node as the scheduler sees it: the Node, the pods on it (bound or assumed), their summed
 * requests, the host ports in use and the images present. Mutated only by the cache (and by
 * preemption on clones).
 */
let generations = 0;
function nextGeneration(): number {
  return ++generations;
}

export class NodeInfo {
  node: Node | undefined;
  readonly pods = new Map<string, PodInfo>();
  requested: Resources = emptyResources();
  nonZeroRequested: NonZeroResources = { milliCPU: 0, memory: 0 };
  allocatable: Resources & { pods: number } = { ...emptyResources(), pods: 0 };
  /** `protocol/port` → host IPs using it. */
  usedPorts = new Map<string, Map<string, number>>();
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** Normalized image name → size; `numNodes` filled from the cache. */
  imageStates = new Map<string, ImageState>();
  /**
   * Changes on every change, to a number no NodeInfo had before (clones included): a node's
   * name and generation identify its contents, so plugins may memoize per-node work by them.
   */
  generation = nextGeneration();

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.generation = nextGeneration();
  }

  addPod(pi: PodInfo): void {
    if (this.pods.has(pi.key)) this.removePod(pi.key);
    this.pods.set(pi.key, pi);
    addInto(this.requested, pi.requests);
    this.nonZeroRequested.milliCPU += pi.nonZero.milliCPU;
    this.nonZeroRequested.memory += pi.nonZero.memory;
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
    }
    if (pi.hasAffinity()) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.generation = nextGeneration();
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    addInto(this.requested, pi.requests, -1);
    this.nonZeroRequested.milliCPU -= pi.nonZero.milliCPU;
    this.nonZeroRequested.memory -= pi.nonZero.memory;
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      if (!ips) continue;
      const n = (ips.get(hp.ip) ?? 0) - 1;
      if (n > 0) ips.set(hp.ip, n);
      else ips.delete(hp.ip);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    if (pi.hasAffinity()) this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.key !== key);
    if (pi.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.key !== key);
    this.generation = nextGeneration();
    return pi;
  }

  /** Whether a host port is free (a wildcard IP conflicts with every IP and vice versa). */
  portFree(protocol: string, port: number, ip: string): boolean {
    const ips = this.usedPorts.get(`${protocol}/${port}`);
    if (!ips || ips.size === 0) return true;
    if (ip === '0.0.0.0' || ip === '::') return false;
    return !ips.has(ip) && !ips.has('0.0.0.0') && !ips.has('::');
  }

  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    for (const [k, v] of this.pods) c.pods.set(k, v);
    c.requested = cloneResources(this.requested);
    c.nonZeroRequested = { ...this.nonZeroRequested };
    c.allocatable = this.allocatable;
    for (const [k, v] of this.usedPorts) c.usedPorts.set(k, new Map(v));
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.imageStates = this.imageStates;
    c.generation = this.generation;
    return c;
  }
}

/**
 * The nodes of a cycle with their pods findable by namespace and label, so that plugins visit the
 * pods a selector selects instead of every pod of the cluster (Kubernetes walks every pod, in
 * parallel; one event loop cannot afford that per cycle at 5,000 nodes).
 */
export interface PodIndex {
  /** Nodes with a Node object, in a stable order; the same array until a node changes. */
  list(): NodeInfo[];
  /**
   * Calls `visit` for every pod (bound or assumed) on a listed node whose namespace passes
   * `namespaces` and whose labels `selector` matches.
   */
  forEachMatchingPod(namespaces: (ns: string) => boolean, selector: Selector, visit: (p: PodInfo, n: NodeInfo) => void): void;
}

/** A PodIndex over a plain list of nodes (tests, "what if" node sets): scans every pod. */
export function scanIndex(nodes: NodeInfo[]): PodIndex {
  return {
    list: () => nodes,
    forEachMatchingPod(namespaces, selector, visit) {
      for (const n of nodes) {
        if (!n.node) continue;
        for (const p of n.pods.values()) if (namespaces(p.pod.metadata?.namespace ?? '') && selector.matches(p.pod.metadata?.labels ?? {})) visit(p, n);
      }
    },
  };
}

/** The nodes of one scheduling cycle (the cache's live view; stable within a synchronous cycle). */
export interface Snapshot extends PodIndex {
  get(name: string): NodeInfo | undefined;
  /** Nodes that hold at least one pod with (anti-)affinity. */
  withAffinityPods(): Iterable<NodeInfo>;
  /** Nodes that hold at least one pod with required anti-affinity. */
  withRequiredAntiAffinityPods(): Iterable<NodeInfo>;
}

/** What plugins may use besides the snapshot. */
export interface FrameworkHandle {
  client: Client;
  informers: InformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  snapshot: Snapshot;
  nsLabels: NamespaceLabels;
}

/** Nodes → the status that rejected them. */
export type NodeToStatus = Map<string, Status>;

export interface Plugin {
  readonly name: string;
}

/** Runs once per pod before filtering; may reject the pod outright or precompute state. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status;
  /** Preemption asks "what if this pod were gone/added": plugins with cross-pod state update it here. */
  removePod?(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void;
  addPod?(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void;
}

/** Says whether the pod may run on one node. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

/** Runs when no node passed the filters (preemption); may nominate a node. */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<{ nominatedNodeName?: string; status: Status }>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status;
}

/** Ranks feasible nodes; `normalizeScore` maps raw scores to 0‥100. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number;
  normalizeScore?(state: CycleState, pod: Pod, scores: Array<{ name: string; score: number }>): void;
}

/** Reserve runs when the pod is assumed on a node; Unreserve undoes it if a later step fails. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Work that must happen before binding (volumes). */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

/** Binds; returns Skip to let the next binder do it. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

/** Highest score a node can get from one plugin. */
export const maxNodeScore = 100;

export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === 'function';
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === 'function';
}
export function isReserve(p: Plugin): p is ReservePlugin {
  return typeof (p as Partial<ReservePlugin>).reserve === 'function';
}
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as Partial<PreBindPlugin>).preBind === 'function';
}
export function isBind(p: Plugin): p is BindPlugin {
  return typeof (p as Partial<BindPlugin>).bind === 'function';
}
