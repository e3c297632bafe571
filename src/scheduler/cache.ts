/**
 * The scheduler's cache: a NodeInfo per node with the pods bound to it, plus pods the scheduler
 * has assumed onto a node while their binding is in flight. Fed by the informers; read as the
 * cycle's snapshot.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo, type ImageState, type Snapshot } from './framework.js';
import { normalizedImageName } from './plugins/image-locality.js';

function keyOfPod(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class SchedulerCache implements Snapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private ordered: NodeInfo[] | undefined;
  private readonly podNode = new Map<string, string>();
  private readonly assumed = new Set<string>();
  private readonly images = new Map<string, ImageState>();

  list(): NodeInfo[] {
    if (!this.ordered) this.ordered = [...this.nodes.values()].filter((n) => n.node);
    return this.ordered;
  }

  get(name: string): NodeInfo | undefined {
    const n = this.nodes.get(name);
    return n?.node ? n : undefined;
  }

  withAffinityPods(): NodeInfo[] {
    return this.list().filter((n) => n.podsWithAffinity.length > 0);
  }

  withRequiredAntiAffinityPods(): NodeInfo[] {
    return this.list().filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
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
    this.nodeInfo(node).addPod(new PodInfo(pod));
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
    const ni = this.nodes.get(node);
    if (!ni) return;
    ni.removePod(key);
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
