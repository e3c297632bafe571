import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../machinery/labels.js';
import { Status, maxNodeScore, type CycleState, type FilterPlugin, type NodeInfo, type PodInfo, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import { podMatchesNodeSelectorAndAffinity } from '../../machinery/node-selector.js';
import { toleratesTaint } from './taint-toleration.js';
import { MatchCounts } from './match-counts.js';

export const errReasonTopologySpread = "node(s) didn't match pod topology spread constraints";
export const errReasonTopologySpreadLabel = "node(s) didn't match pod topology spread constraints (missing required label)";

/** A constraint with its selector parsed. */
interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

interface FilterState {
  constraints: Constraint[];
  /** Per constraint: domain value → matching pods. */
  counts: Array<Map<string, number>>;
  mins: number[];
  selfMatch: number[];
}

interface ScoreState {
  constraints: Constraint[];
  counts: Array<Map<string, number>>;
  weights: number[];
  selfMatch: number[];
}

/** Finds the labels a pod's controller and services select it by (for default spreading). */
export type DefaultSelectorFor = (pod: Pod) => LabelSelector | undefined;

function toConstraints(pod: Pod, list: TopologySpreadConstraint[], when: string): Constraint[] {
  const out: Constraint[] = [];
  for (const c of list) {
    if (c.whenUnsatisfiable !== when) continue;
    const ls: LabelSelector = { matchLabels: { ...(c.labelSelector?.matchLabels ?? {}) }, matchExpressions: [...((c.labelSelector?.matchExpressions as LabelSelector['matchExpressions']) ?? [])] };
    const labels = pod.metadata?.labels ?? {};
    // matchLabelKeys: the pod's own values for these keys narrow the selector (e.g. pod-template-hash).
    for (const k of c.matchLabelKeys ?? []) if (labels[k] !== undefined) ls.matchExpressions!.push({ key: k, operator: 'In', values: [labels[k]!] });
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: c.labelSelector ? selectorFromLabelSelector(ls) : selectorFromLabelSelector(undefined),
      minDomains: c.minDomains ?? 1,
      honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

function countable(p: PodInfo, ns: string, sel: Selector): boolean {
  return p.pod.metadata?.namespace === ns && !p.pod.metadata?.deletionTimestamp && sel.matches(p.pod.metadata?.labels ?? {});
}


function nodeEligible(pod: Pod, c: Constraint, n: NodeInfo): boolean {
  if (!n.node) return false;
  if (c.honorAffinity && !podMatchesNodeSelectorAndAffinity(pod, n.node)) return false;
  if (c.honorTaints) {
    const tol = pod.spec?.tolerations ?? [];
    for (const t of n.node.spec?.taints ?? []) if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tol.some((x) => toleratesTaint(x, t))) return false;
  }
  return true;
}

function hasAllKeys(n: NodeInfo, constraints: Constraint[]): boolean {
  const labels = n.node?.metadata?.labels ?? {};
  return constraints.every((c) => labels[c.topologyKey] !== undefined);
}

function minOf(m: Map<string, number>, minDomains: number): number {
  if (m.size < minDomains) return 0;
  let min = Infinity;
  for (const v of m.values()) min = Math.min(min, v);
  return min === Infinity ? 0 : min;
}

/**
 * PodTopologySpread: DoNotSchedule constraints filter nodes whose domain would exceed
 * `maxSkew` over the least loaded domain (with `minDomains`); ScheduleAnyway constraints (or the
 * system defaults: 3 per zone, 5 per node, for pods a controller or service selects) score.
 */
export class PodTopologySpreadPlugin implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';

  private readonly defaultSelector: DefaultSelectorFor;
  private readonly counts = new MatchCounts();
  private readonly allNodes: ((feasible: NodeInfo[]) => NodeInfo[]) | undefined;

  /** `allNodes` gives every node for scoring counts (defaults to the feasible ones). */
  constructor(opts: { defaultSelector?: DefaultSelectorFor; allNodes?: () => NodeInfo[] } = {}) {
    this.defaultSelector = opts.defaultSelector ?? (() => undefined);
    const all = opts.allNodes;
    this.allNodes = all ? () => all() : undefined;
  }

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    const constraints = toConstraints(pod, pod.spec?.topologySpreadConstraints ?? [], 'DoNotSchedule');
    if (constraints.length === 0) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    const ns = pod.metadata?.namespace ?? '';
    const counts = constraints.map(() => new Map<string, number>());
    const keys = constraints.map((c) => `${ns}|${c.selector.toString()}`);
    for (const n of nodes) {
      if (!hasAllKeys(n, constraints)) continue;
      const labels = n.node?.metadata?.labels ?? {};
      constraints.forEach((c, i) => {
        if (!nodeEligible(pod, c, n)) return;
        const domain = labels[c.topologyKey]!;
        const cnt = this.counts.count(n, keys[i]!, (p) => countable(p, ns, c.selector));
        counts[i]!.set(domain, (counts[i]!.get(domain) ?? 0) + cnt);
      });
    }
    const podLabels = pod.metadata?.labels ?? {};
    const st: FilterState = { constraints, counts, mins: constraints.map((c, i) => minOf(counts[i]!, c.minDomains)), selfMatch: constraints.map((c) => (c.selector.matches(podLabels) ? 1 : 0)) };
    state.write(this.name, st);
    return Status.success();
  }

  private update(state: CycleState, pod: Pod, other: PodInfo, nodeInfo: NodeInfo, delta: number): void {
    const st = state.read<FilterState>(this.name);
    if (!st || !hasAllKeys(nodeInfo, st.constraints)) return;
    const ns = pod.metadata?.namespace ?? '';
    const counts = st.counts.map((m) => new Map(m));
    st.constraints.forEach((c, i) => {
      if (!nodeEligible(pod, c, nodeInfo) || !countable(other, ns, c.selector)) return;
      const domain = nodeInfo.node?.metadata?.labels?.[c.topologyKey] ?? '';
      counts[i]!.set(domain, (counts[i]!.get(domain) ?? 0) + delta);
    });
    state.write(this.name, { ...st, counts, mins: st.constraints.map((c, i) => minOf(counts[i]!, c.minDomains)) });
  }

  removePod(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void {
    this.update(state, pod, removed, nodeInfo, -1);
  }

  addPod(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void {
    this.update(state, pod, added, nodeInfo, 1);
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const st = state.read<FilterState>(this.name);
    if (!st) return Status.success();
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i]!;
      const domain = labels[c.topologyKey];
      if (domain === undefined) return Status.unresolvable(errReasonTopologySpreadLabel);
      const skew = (st.counts[i]!.get(domain) ?? 0) + st.selfMatch[i]! - st.mins[i]!;
      if (skew > c.maxSkew) return Status.unschedulable(errReasonTopologySpread);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    let constraints = toConstraints(pod, pod.spec?.topologySpreadConstraints ?? [], 'ScheduleAnyway');
    if ((pod.spec?.topologySpreadConstraints ?? []).length === 0) {
      const sel = this.defaultSelector(pod);
      if (sel) {
        const selector = selectorFromLabelSelector(sel);
        constraints = [
          { maxSkew: 3, topologyKey: 'topology.kubernetes.io/zone', selector, minDomains: 1, honorAffinity: true, honorTaints: false },
          { maxSkew: 5, topologyKey: 'kubernetes.io/hostname', selector, minDomains: 1, honorAffinity: true, honorTaints: false },
        ];
      }
    }
    if (constraints.length === 0) {
      state.skipScore.add(this.name);
      return Status.skip();
    }
    // System defaults skip keys no node has (a cluster without zones spreads by hostname only).
    const present = constraints.filter((c) => nodes.some((n) => n.node?.metadata?.labels?.[c.topologyKey] !== undefined));
    const ns = pod.metadata?.namespace ?? '';
    const counts = present.map(() => new Map<string, number>());
    const keys = present.map((c) => `${ns}|${c.selector.toString()}`);
    for (const n of this.allNodes ? this.allNodes(nodes) : nodes) {
      const labels = n.node?.metadata?.labels ?? {};
      present.forEach((c, i) => {
        const domain = labels[c.topologyKey];
        if (domain === undefined || !nodeEligible(pod, c, n)) return;
        const cnt = this.counts.count(n, keys[i]!, (p) => countable(p, ns, c.selector));
        counts[i]!.set(domain, (counts[i]!.get(domain) ?? 0) + cnt);
      });
    }
    const podLabels = pod.metadata?.labels ?? {};
    const st: ScoreState = { constraints: present, counts, weights: counts.map((m) => Math.log(m.size + 2)), selfMatch: present.map((c) => (c.selector.matches(podLabels) ? 1 : 0)) };
    state.write(`${this.name}/score`, st);
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const st = state.read<ScoreState>(`${this.name}/score`);
    if (!st) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let s = 0;
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i]!;
      const domain = labels[c.topologyKey];
      if (domain === undefined) return -1;
      s += ((st.counts[i]!.get(domain) ?? 0) + st.selfMatch[i]!) * st.weights[i]! + (c.maxSkew - 1);
    }
    return Math.round(s * 1000) / 1000;
  }

  /** Fewer matching pods is better; nodes missing a topology label (score −1) get 0. */
  normalizeScore(_state: CycleState, _pod: Pod, scores: Array<{ name: string; score: number }>): void {
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (s.score < 0) continue;
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    for (const s of scores) {
      if (s.score < 0) s.score = 0;
      else if (max === 0) s.score = maxNodeScore;
      else s.score = Math.floor((maxNodeScore * (max + min - s.score)) / max);
    }
  }
}
