import type { Pod } from 'kubernetes-types/core/v1.js';
import { PodInfo, Status, maxNodeScore, scanIndex, termMatches, type AffinityTerm, type CycleState, type FilterPlugin, type NamespaceLabels, type NodeInfo, type PodIndex, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';

export const errReasonAffinityRules = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRules = "node(s) didn't match pod anti-affinity rules";
export const errReasonExistingAntiAffinityRules = "node(s) didn't satisfy existing pods anti-affinity rules";

/** topologyKey → value → count (or summed weight) of matching pods. */
type TopologyCounts = Map<string, Map<string, number>>;

interface FilterState {
  podInfo: PodInfo;
  /** Domains where an existing pod's required anti-affinity selects the incoming pod. */
  existingAnti: TopologyCounts;
  /** Per required affinity term: domains holding a pod it selects. */
  affinity: TopologyCounts[];
  /** Per required anti-affinity term: domains holding a pod it selects. */
  anti: TopologyCounts[];
}

function bump(m: TopologyCounts, key: string, value: string, d: number): void {
  let byValue = m.get(key);
  if (!byValue) m.set(key, (byValue = new Map()));
  const v = (byValue.get(value) ?? 0) + d;
  if (v === 0) {
    byValue.delete(value);
    if (byValue.size === 0) m.delete(key);
  } else byValue.set(value, v);
}

function countAt(m: TopologyCounts, key: string, value: string): number {
  return m.get(key)?.get(value) ?? 0;
}

function cloneCounts(m: TopologyCounts): TopologyCounts {
  return new Map([...m].map(([k, v]) => [k, new Map(v)]));
}

/** The nodes, pod index and affinity-pod node lists InterPodAffinity reads (the cache is one). */
export interface AffinitySource extends PodIndex {
  withAffinityPods(): Iterable<NodeInfo>;
  withRequiredAntiAffinityPods(): Iterable<NodeInfo>;
}

/**
 * InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and the
 * required anti-affinity of pods already running, filter nodes by topology domain; preferred
 * terms (both ways) score. The incoming pod's terms visit only the pods they select (the pod
 * index); existing pods' terms only the nodes holding pods with affinity.
 */
export class InterPodAffinityPlugin implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'InterPodAffinity';
  private readonly source: () => AffinitySource;

  /**
   * `nodes` is the snapshot, or a function giving the node list (scanned, for tests);
   * `nsLabels` gives namespace labels for namespaceSelector terms.
   */
  constructor(
    nodes: AffinitySource | (() => NodeInfo[]),
    private readonly nsLabels: NamespaceLabels = () => undefined,
    private readonly hardPodAffinityWeight = 1,
    withAntiAffinityPods?: () => Iterable<NodeInfo>,
  ) {
    if (typeof nodes !== 'function') {
      this.source = () => nodes;
      return;
    }
    this.source = () => {
      const list = nodes();
      return {
        ...scanIndex(list),
        withAffinityPods: () => list.filter((n) => n.podsWithAffinity.length > 0),
        withRequiredAntiAffinityPods: withAntiAffinityPods ?? (() => list.filter((n) => n.podsWithRequiredAntiAffinity.length > 0)),
      };
    };
  }

  /** The namespaces a term looks in. */
  private namespacesOf(t: AffinityTerm): (ns: string) => boolean {
    const sel = t.namespaceSelector;
    return (ns) => t.namespaces.has(ns) || (sel !== undefined && sel.matches(this.nsLabels(ns) ?? {}));
  }

  preFilter(state: CycleState, pod: Pod): Status {
    const src = this.source();
    const podInfo = new PodInfo(pod);
    const existingAnti: TopologyCounts = new Map();
    for (const n of src.withRequiredAntiAffinityPods()) this.countExistingAnti(existingAnti, podInfo, n, 1);
    const affinity = podInfo.requiredAffinity.map((t) => this.domainsSelected(src, t));
    const anti = podInfo.requiredAntiAffinity.map((t) => this.domainsSelected(src, t));
    if (existingAnti.size === 0 && affinity.length + anti.length === 0) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    state.write(this.name, { podInfo, existingAnti, affinity, anti } satisfies FilterState);
    return Status.success();
  }

  /** Per domain of `t.topologyKey`: the pods `t` selects there. */
  private domainsSelected(src: PodIndex, t: AffinityTerm): TopologyCounts {
    const m: TopologyCounts = new Map();
    src.forEachMatchingPod(this.namespacesOf(t), t.selector, (_p, n) => {
      const v = n.node?.metadata?.labels?.[t.topologyKey];
      if (v !== undefined) bump(m, t.topologyKey, v, 1);
    });
    return m;
  }

  private countExistingAnti(m: TopologyCounts, incoming: PodInfo, n: NodeInfo, d: number, only?: PodInfo): void {
    if (!n.node) return;
    const labels = n.node.metadata?.labels ?? {};
    for (const p of only ? [only] : n.podsWithRequiredAntiAffinity) {
      for (const t of p.requiredAntiAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatches(t, incoming.pod, this.nsLabels)) bump(m, t.topologyKey, v, d);
      }
    }
  }

  private countIncoming(incoming: PodInfo, affinity: TopologyCounts[], anti: TopologyCounts[], p: PodInfo, n: NodeInfo, d: number): void {
    const labels = n.node?.metadata?.labels ?? {};
    incoming.requiredAffinity.forEach((t, i) => {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, p.pod, this.nsLabels)) bump(affinity[i]!, t.topologyKey, v, d);
    });
    incoming.requiredAntiAffinity.forEach((t, i) => {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, p.pod, this.nsLabels)) bump(anti[i]!, t.topologyKey, v, d);
    });
  }

  private update(state: CycleState, other: PodInfo, n: NodeInfo, d: number): void {
    const st = state.read<FilterState>(this.name);
    if (!st) return;
    const next: FilterState = { podInfo: st.podInfo, existingAnti: cloneCounts(st.existingAnti), affinity: st.affinity.map(cloneCounts), anti: st.anti.map(cloneCounts) };
    if (other.requiredAntiAffinity.length > 0) this.countExistingAnti(next.existingAnti, st.podInfo, n, d, other);
    this.countIncoming(st.podInfo, next.affinity, next.anti, other, n, d);
    state.write(this.name, next);
  }

  removePod(state: CycleState, _pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void {
    this.update(state, removed, nodeInfo, -1);
  }

  addPod(state: CycleState, _pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void {
    this.update(state, added, nodeInfo, 1);
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const st = state.read<FilterState>(this.name);
    if (!st) return Status.success();
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    const terms = st.podInfo.requiredAffinity;
    if (terms.length > 0) {
      const ok = terms.every((t, i) => {
        const v = labels[t.topologyKey];
        return v !== undefined && countAt(st.affinity[i]!, t.topologyKey, v) > 0;
      });
      if (!ok) {
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        const none = st.affinity.every((m) => m.size === 0);
        const selfMatch = terms.every((t) => termMatches(t, st.podInfo.pod, this.nsLabels));
        const keys = terms.every((t) => labels[t.topologyKey] !== undefined);
        if (!(none && selfMatch && keys)) return Status.unresolvable(errReasonAffinityRules);
      }
    }
    for (let i = 0; i < st.podInfo.requiredAntiAffinity.length; i++) {
      const t = st.podInfo.requiredAntiAffinity[i]!;
      const v = labels[t.topologyKey];
      if (v !== undefined && countAt(st.anti[i]!, t.topologyKey, v) > 0) return Status.unschedulable(errReasonAntiAffinityRules);
    }
    for (const [key, byValue] of st.existingAnti) {
      const v = labels[key];
      if (v !== undefined && (byValue.get(v) ?? 0) > 0) return Status.unschedulable(errReasonExistingAntiAffinityRules);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod): Status {
    const src = this.source();
    const podInfo = new PodInfo(pod);
    const scores: TopologyCounts = new Map();
    const add = (t: AffinityTerm, labels: Record<string, string>, w: number): void => {
      const v = labels[t.topologyKey];
      if (v !== undefined) bump(scores, t.topologyKey, v, w);
    };
    // The incoming pod's preferred terms, over the pods each selects anywhere.
    for (const [terms, sign] of [[podInfo.preferredAffinity, 1], [podInfo.preferredAntiAffinity, -1]] as const) {
      for (const t of terms) {
        if (t.weight === 0) continue;
        src.forEachMatchingPod(this.namespacesOf(t), t.selector, (_p, n) => add(t, n.node?.metadata?.labels ?? {}, sign * t.weight));
      }
    }
    // Existing pods' terms that select the incoming pod (pods of one template share terms: match each once).
    const matched = new Map<AffinityTerm, boolean>();
    const selects = (t: AffinityTerm): boolean => {
      let m = matched.get(t);
      if (m === undefined) matched.set(t, (m = termMatches(t, pod, this.nsLabels)));
      return m;
    };
    for (const n of src.withAffinityPods()) {
      const labels = n.node?.metadata?.labels ?? {};
      for (const p of n.podsWithAffinity) {
        for (const t of p.preferredAffinity) if (selects(t)) add(t, labels, t.weight);
        if (this.hardPodAffinityWeight > 0) for (const t of p.requiredAffinity) if (selects(t)) add(t, labels, this.hardPodAffinityWeight);
        for (const t of p.preferredAntiAffinity) if (selects(t)) add(t, labels, -t.weight);
      }
    }
    if (scores.size === 0) {
      state.skipScore.add(this.name);
      return Status.skip();
    }
    state.write(`${this.name}/score`, scores);
    return Status.success();
  }

  /** One lookup per topology key in the scores. */
  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const scores = state.read<TopologyCounts>(`${this.name}/score`);
    if (!scores) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let s = 0;
    for (const [key, byValue] of scores) {
      const v = labels[key];
      if (v !== undefined) s += byValue.get(v) ?? 0;
    }
    return s;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: Array<{ name: string; score: number }>): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.floor((maxNodeScore * (s.score - min)) / diff) : 0;
  }
}
