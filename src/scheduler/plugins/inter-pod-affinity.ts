import type { Pod } from 'kubernetes-types/core/v1.js';
import { MatchCounts } from './match-counts.js';
import { PodInfo, Status, maxNodeScore, termMatches, type AffinityTerm, type CycleState, type FilterPlugin, type NamespaceLabels, type NodeInfo, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';

export const errReasonAffinityRules = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRules = "node(s) didn't match pod anti-affinity rules";
export const errReasonExistingAntiAffinityRules = "node(s) didn't satisfy existing pods anti-affinity rules";

/** `topologyKey\0value` → count of matching pods. */
type TopologyCounts = Map<string, number>;

interface FilterState {
  podInfo: PodInfo;
  /** Domains where an existing pod's required anti-affinity selects the incoming pod. */
  existingAnti: TopologyCounts;
  /** Per required affinity term: domains holding a pod it selects. */
  affinity: TopologyCounts[];
  /** Per required anti-affinity term: domains holding a pod it selects. */
  anti: TopologyCounts[];
}

function pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function bump(m: TopologyCounts, k: string, d: number): void {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}

/**
 * InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and the
 * required anti-affinity of pods already running, filter nodes by topology domain; preferred
 * terms (both ways) score.
 */
export class InterPodAffinityPlugin implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  private readonly counts = new MatchCounts();
  private readonly scoreKeys = new WeakMap<TopologyCounts, string[]>();
  readonly name = 'InterPodAffinity';

  /** `allNodes` gives the snapshot; `nsLabels` namespace labels for namespaceSelector terms. */
  constructor(
    private readonly allNodes: () => NodeInfo[],
    private readonly nsLabels: NamespaceLabels = () => undefined,
    private readonly hardPodAffinityWeight = 1,
    private readonly withAntiAffinityPods: () => NodeInfo[] = allNodes,
  ) {}

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    const podInfo = new PodInfo(pod);
    const existingAnti: TopologyCounts = new Map();
    for (const n of this.withAntiAffinityPods()) this.countExistingAnti(existingAnti, podInfo, n, 1);
    const affinity = podInfo.requiredAffinity.map(() => new Map<string, number>());
    const anti = podInfo.requiredAntiAffinity.map(() => new Map<string, number>());
    if (affinity.length + anti.length > 0) {
      for (const n of nodes) for (const p of n.pods.values()) this.countIncoming(podInfo, affinity, anti, p, n, 1);
    }
    if (existingAnti.size === 0 && affinity.length + anti.length === 0) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    state.write(this.name, { podInfo, existingAnti, affinity, anti } satisfies FilterState);
    return Status.success();
  }

  private countExistingAnti(m: TopologyCounts, incoming: PodInfo, n: NodeInfo, d: number, only?: PodInfo): void {
    const labels = n.node?.metadata?.labels ?? {};
    for (const p of only ? [only] : n.podsWithRequiredAntiAffinity) {
      for (const t of p.requiredAntiAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatches(t, incoming.pod, this.nsLabels)) bump(m, pair(t.topologyKey, v), d);
      }
    }
  }

  private countIncoming(incoming: PodInfo, affinity: TopologyCounts[], anti: TopologyCounts[], p: PodInfo, n: NodeInfo, d: number): void {
    const labels = n.node?.metadata?.labels ?? {};
    incoming.requiredAffinity.forEach((t, i) => {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, p.pod, this.nsLabels)) bump(affinity[i]!, pair(t.topologyKey, v), d);
    });
    incoming.requiredAntiAffinity.forEach((t, i) => {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, p.pod, this.nsLabels)) bump(anti[i]!, pair(t.topologyKey, v), d);
    });
  }

  private update(state: CycleState, other: PodInfo, n: NodeInfo, d: number): void {
    const st = state.read<FilterState>(this.name);
    if (!st) return;
    const next: FilterState = { podInfo: st.podInfo, existingAnti: new Map(st.existingAnti), affinity: st.affinity.map((m) => new Map(m)), anti: st.anti.map((m) => new Map(m)) };
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
        return v !== undefined && (st.affinity[i]!.get(pair(t.topologyKey, v)) ?? 0) > 0;
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
      if (v !== undefined && (st.anti[i]!.get(pair(t.topologyKey, v)) ?? 0) > 0) return Status.unschedulable(errReasonAntiAffinityRules);
    }
    if (st.existingAnti.size > 0) {
      for (const [k, v] of Object.entries(labels)) if ((st.existingAnti.get(pair(k, v)) ?? 0) > 0) return Status.unschedulable(errReasonExistingAntiAffinityRules);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod): Status {
    const podInfo = new PodInfo(pod);
    const hasPreferred = podInfo.preferredAffinity.length + podInfo.preferredAntiAffinity.length > 0;
    const scores: TopologyCounts = new Map();
    const add = (t: AffinityTerm, labels: Record<string, string>, w: number): void => {
      if (w === 0) return;
      const v = labels[t.topologyKey];
      if (v !== undefined) bump(scores, pair(t.topologyKey, v), w);
    };
    const termKey = (t: AffinityTerm): string => `${[...t.namespaces].sort().join(',')}|${t.selector.toString()}`;
    const affinityKeys = podInfo.preferredAffinity.map(termKey);
    const antiKeys = podInfo.preferredAntiAffinity.map(termKey);
    for (const n of this.allNodes()) {
      const labels = n.node?.metadata?.labels ?? {};
      if (hasPreferred) {
        // The incoming pod's terms against every pod of the node: counted once per node change.
        podInfo.preferredAffinity.forEach((t, i) => add(t, labels, t.weight * this.matching(n, t, affinityKeys[i]!)));
        podInfo.preferredAntiAffinity.forEach((t, i) => add(t, labels, -t.weight * this.matching(n, t, antiKeys[i]!)));
      }
      for (const p of n.podsWithAffinity) {
        for (const t of p.preferredAffinity) if (termMatches(t, pod, this.nsLabels)) add(t, labels, t.weight);
        if (this.hardPodAffinityWeight > 0) for (const t of p.requiredAffinity) if (termMatches(t, pod, this.nsLabels)) add(t, labels, this.hardPodAffinityWeight);
        for (const t of p.preferredAntiAffinity) if (termMatches(t, pod, this.nsLabels)) add(t, labels, -t.weight);
      }
    }
    if (scores.size === 0) {
      state.skipScore.add(this.name);
      return Status.skip();
    }
    state.write(`${this.name}/score`, scores);
    return Status.success();
  }

  /** Pods of the node the term selects (memoized unless it selects namespaces by label, which may change). */
  private matching(n: NodeInfo, t: AffinityTerm, key: string): number {
    if (t.namespaceSelector) {
      let c = 0;
      for (const p of n.pods.values()) if (termMatches(t, p.pod, this.nsLabels)) c++;
      return c;
    }
    return this.counts.count(n, key, (p) => termMatches(t, p.pod, this.nsLabels));
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const scores = state.read<TopologyCounts>(`${this.name}/score`);
    if (!scores) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    // One lookup per topology key (not a pass over every scored domain for every node).
    let keys = this.scoreKeys.get(scores);
    if (!keys) {
      keys = [...new Set([...scores.keys()].map((k) => k.slice(0, k.indexOf('\u0000'))))];
      this.scoreKeys.set(scores, keys);
    }
    let s = 0;
    for (const key of keys) {
      const v = labels[key];
      if (v !== undefined) s += scores.get(pair(key, v)) ?? 0;
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
