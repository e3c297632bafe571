/**
 * The scheduler's cache: a NodeInfo per node with the pods bound to it, plus pods the scheduler
 * has assumed onto a node while their binding is in flight. Fed by the informers; read as the
 * cycle's snapshot.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Selector } from '../machinery/labels.js';
import { NodeInfo, PodInfo, type ImageState, type Snapshot } from './framework.js';
import { normalizedImageName } from './plugins/image-locality.js';

function labelKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function keyOfPod(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class SchedulerCache implements Snapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private ordered: NodeInfo[] | undefined;
  private readonly podNode = new Map<string, string>();
  private readonly assumed = new Set<string>();
  private readonly images = new Map<string, ImageState>();
  /** The PodInfo counted for each pod key (bound or assumed). */
  private readonly podInfos = new Map<string, PodInfo>();
  /** namespace → pods, and namespace → `key\0value` → pods carrying that label. */
  private readonly byNamespace = new Map<string, Map<PodInfo, NodeInfo>>();
  private readonly byLabel = new Map<string, Map<string, Map<PodInfo, NodeInfo>>>();
  private readonly affinityNodes = new Set<NodeInfo>();
  private readonly antiAffinityNodes = new Set<NodeInfo>();

  list(): NodeInfo[] {
    if (!this.ordered) this.ordered = [...this.nodes.values()].filter((n) => n.node);
    return this.ordered;
  }

  get(name: string): NodeInfo | undefined {
    const n = this.nodes.get(name);
    return n?.node ? n : undefined;
  }

  *withAffinityPods(): Iterable<NodeInfo> {
    for (const n of this.affinityNodes) if (n.node) yield n;
  }

  *withRequiredAntiAffinityPods(): Iterable<NodeInfo> {
    for (const n of this.antiAffinityNodes) if (n.node) yield n;
  }

  forEachMatchingPod(namespaces: (ns: string) => boolean, selector: Selector, visit: (p: PodInfo, n: NodeInfo) => void): void {
    if (selector.matchesNothing()) return;
    // Candidates: the pods carrying one label value the selector requires, else the namespace's pods.
    let pinned: { key: string; values: readonly string[] } | undefined;
    for (const r of selector.requirements) {
      if (r.operator === '=' || r.operator === '==' || r.operator === 'in') {
        pinned = { key: r.key, values: r.values };
        break;
      }
    }
    // A selector that is just the pinned label needs no further check.
    const exact = pinned !== undefined && selector.requirements.length === 1;
    for (const [ns, pods] of this.byNamespace) {
      if (!namespaces(ns)) continue;
      if (!pinned) {
        for (const [p, n] of pods) if (n.node && selector.matches(p.pod.metadata?.labels)) visit(p, n);
        continue;
      }
      const labels = this.byLabel.get(ns);
      for (const v of pinned.values) {
        const set = labels?.get(labelKey(pinned.key, v));
        if (!set) continue;
        for (const [p, n] of set) if (n.node && (exact || selector.matches(p.pod.metadata?.labels))) visit(p, n);
      }
    }
  }

  private index(pi: PodInfo, ni: NodeInfo): void {
    const ns = pi.pod.metadata?.namespace ?? '';
    let pods = this.byNamespace.get(ns);
    if (!pods) this.byNamespace.set(ns, (pods = new Map()));
    pods.set(pi, ni);
    let labels = this.byLabel.get(ns);
    if (!labels) this.byLabel.set(ns, (labels = new Map()));
    for (const [k, v] of Object.entries(pi.pod.metadata?.labels ?? {})) {
      const lk = labelKey(k, v);
      let set = labels.get(lk);
      if (!set) labels.set(lk, (set = new Map()));
      set.set(pi, ni);
    }
    this.podInfos.set(pi.key, pi);
  }

  private unindex(key: string): void {
    const pi = this.podInfos.get(key);
    if (!pi) return;
    this.podInfos.delete(key);
    const ns = pi.pod.metadata?.namespace ?? '';
    const pods = this.byNamespace.get(ns);
    pods?.delete(pi);
    if (pods?.size === 0) this.byNamespace.delete(ns);
    const labels = this.byLabel.get(ns);
    if (!labels) return;
    for (const [k, v] of Object.entries(pi.pod.metadata?.labels ?? {})) {
      const lk = labelKey(k, v);
      const set = labels.get(lk);
      set?.delete(pi);
      if (set?.size === 0) labels.delete(lk);
    }
    if (labels.size === 0) this.byLabel.delete(ns);
  }

  /** Keeps the nodes-with-affinity-pods sets in step with one node. */
  private trackAffinity(ni: NodeInfo): void {
    if (ni.podsWithAffinity.length > 0) this.affinityNodes.add(ni);
    else this.affinityNodes.delete(ni);
    if (ni.podsWithRequiredAntiAffinity.length > 0) this.antiAffinityNodes.add(ni);
    else this.antiAffinityNodes.delete(ni);
  }

  private nodeInfo(name: string): NodeInfo {
    let n = this.nodes.get(name);
    if (!n) this.nodes.set(name, (n = new NodeInfo(name)));
    return n;
  }

  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodeInfo(name);
    if (ni.node) this.dropImages(ni);
    ni.setNode(node);
    this.addImages(ni, node);
    this.ordered = undefined;
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    this.dropImages(ni);
    // Pods still bound to a deleted node keep a placeholder until they go.
    if (ni.pods.size === 0) this.nodes.delete(name);
    else ni.node = undefined;
    this.ordered = undefined;
  }

  private addImages(ni: NodeInfo, node: Node): void {
    const states = new Map<string, ImageState>();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) {
        const name = normalizedImageName(n);
        let st = this.images.get(name);
        if (!st) this.images.set(name, (st = { size: img.sizeBytes ?? 0, numNodes: 0 }));
        if (!states.has(name)) {
          st.numNodes++;
          states.set(name, st);
        }
      }
    }
    ni.imageStates = states;
  }

  private dropImages(ni: NodeInfo): void {
    for (const [name, st] of ni.imageStates) {
      st.numNodes--;
      if (st.numNodes <= 0) this.images.delete(name);
    }
    ni.imageStates = new Map();
  }

  /** A pod bound to a node (from the informer); confirms an assumed pod. */
  addPod(pod: Pod): void {
    const key = keyOfPod(pod);
    const node = pod.spec?.nodeName ?? '';
    const prev = this.podNode.get(key);
    if (prev !== undefined && prev !== node) this.removePodByKey(key);
    this.assumed.delete(key);
    const ni = this.nodeInfo(node);
    const pi = new PodInfo(pod);
    this.unindex(key);
    ni.addPod(pi);
    this.index(pi, ni);
    this.trackAffinity(ni);
    this.podNode.set(key, node);
  }

  removePod(pod: Pod): void {
    this.removePodByKey(keyOfPod(pod));
  }

  private removePodByKey(key: string): void {
    const node = this.podNode.get(key);
    if (node === undefined) return;
    this.podNode.delete(key);
    this.assumed.delete(key);
    this.unindex(key);
    const ni = this.nodes.get(node);
    if (!ni) return;
    ni.removePod(key);
    this.trackAffinity(ni);
    if (!ni.node && ni.pods.size === 0) this.nodes.delete(node);
  }

  /** Counts the pod on its chosen node before the API knows (so the next cycle sees it). */
  assumePod(pod: Pod): void {
    const key = keyOfPod(pod);
    this.addPod(pod);
    this.assumed.add(key);
  }

  /** Binding failed: the assumed pod leaves its node. */
  forgetPod(key: string): void {
    if (this.assumed.has(key)) this.removePodByKey(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** Node name a pod is counted on (bound or assumed). */
  nodeOf(key: string): string | undefined {
    return this.podNode.get(key);
  }
}
