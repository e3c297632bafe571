import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../machinery/labels.js';
import { Status, maxNodeScore, scanIndex, type CycleState, type FilterPlugin, type NodeInfo, type PodIndex, type PodInfo, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import { podMatchesNodeSelectorAndAffinity } from '../../machinery/node-selector.js';
import { toleratesTaint } from './taint-toleration.js';

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
  /** Per constraint: domain value → matching pods (every domain of an eligible node, zeros included). */
  counts: Array<Map<string, number>>;
  mins: number[];
  selfMatch: number[];
}

interface ScoreState {
  constraints: Constraint[];
  /** Per constraint: domain value → matching pods, for the domains of the filtered nodes (not hostname). */
  counts: Array<Map<string, number>>;
  /** Per hostname constraint: node name → matching pods on it. */
  perNode: Array<Map<string, number>>;
  weights: number[];
  /** Filtered nodes missing a topology key of explicit constraints: scored 0. */
  ignored: Set<string>;
}

const hostnameKey = 'kubernetes.io/hostname';

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

/** Whether every node is eligible for the constraint (no node inclusion policy can exclude one). */
function everyNodeEligible(pod: Pod, c: Constraint): boolean {
  if (c.honorTaints) return false;
  if (!c.honorAffinity) return true;
  return Object.keys(pod.spec?.nodeSelector ?? {}).length === 0 && !pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
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
  for (const c of constraints) if (labels[c.topologyKey] === undefined) return false;
  return true;
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
 *
 * Counts come from the snapshot's pod index (the pods a constraint selects), so a cycle costs
 * the matching pods, not every pod; the domains of nodes are remembered per node list.
 */
export class PodTopologySpreadPlugin implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';

  private readonly defaultSelector: DefaultSelectorFor;
  private readonly snapshot: PodIndex | undefined;
  /** Topology keys → per key the domain values of nodes having all those keys; valid for one node list. */
  private domainsMemo: { list: NodeInfo[]; byKeys: Map<string, string[][]> } | undefined;

  /** `snapshot` gives every node and the pod index; without it the nodes passed in are scanned. */
  constructor(opts: { defaultSelector?: DefaultSelectorFor; snapshot?: PodIndex } = {}) {
    this.defaultSelector = opts.defaultSelector ?? (() => undefined);
    this.snapshot = opts.snapshot;
  }

  /** Domain values (per constraint) of the nodes that have every constraint's key. */
  private domainsOf(list: NodeInfo[], constraints: Constraint[]): string[][] {
    if (this.domainsMemo?.list !== list) this.domainsMemo = { list, byKeys: new Map() };
    const key = constraints.map((c) => c.topologyKey).join('\u0000');
    let d = this.domainsMemo.byKeys.get(key);
    if (!d) {
      const sets = constraints.map(() => new Set<string>());
      for (const n of list) {
        if (!n.node || !hasAllKeys(n, constraints)) continue;
        const labels = n.node.metadata?.labels ?? {};
        constraints.forEach((c, i) => sets[i]!.add(labels[c.topologyKey]!));
      }
      d = sets.map((s) => [...s]);
      this.domainsMemo.byKeys.set(key, d);
    }
    return d;
  }

  preFilter(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    const constraints = toConstraints(pod, pod.spec?.topologySpreadConstraints ?? [], 'DoNotSchedule');
    if (constraints.length === 0) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    const index = this.snapshot ?? scanIndex(nodes);
    const list = index.list();
    const ns = pod.metadata?.namespace ?? '';
    const trivial = constraints.map((c) => everyNodeEligible(pod, c));
    // Every domain of an eligible node is a domain, with or without matching pods.
    const counts = constraints.map(() => new Map<string, number>());
    if (trivial.every((t) => t)) {
      this.domainsOf(list, constraints).forEach((values, i) => {
        for (const v of values) counts[i]!.set(v, 0);
      });
    } else {
      for (const n of list) {
        if (!hasAllKeys(n, constraints)) continue;
        const labels = n.node?.metadata?.labels ?? {};
        constraints.forEach((c, i) => {
          if (nodeEligible(pod, c, n)) counts[i]!.set(labels[c.topologyKey]!, 0);
        });
      }
    }
    constraints.forEach((c, i) => {
      const m = counts[i]!;
      index.forEachMatchingPod((x) => x === ns, c.selector, (p, n) => {
        if (p.pod.metadata?.deletionTimestamp || !hasAllKeys(n, constraints)) return;
        if (!trivial[i] && !nodeEligible(pod, c, n)) return;
        const domain = n.node?.metadata?.labels?.[c.topologyKey] ?? '';
        m.set(domain, (m.get(domain) ?? 0) + 1);
      });
    });
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

  /**
   * As Kubernetes: the domains (and their number, which weighs each constraint) come from the
   * filtered nodes, their pod counts from every node; hostname constraints count per node.
   */
  preScore(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    const explicit = (pod.spec?.topologySpreadConstraints ?? []).length > 0;
    let constraints = toConstraints(pod, pod.spec?.topologySpreadConstraints ?? [], 'ScheduleAnyway');
    if (!explicit) {
      const sel = this.defaultSelector(pod);
      if (sel) {
        const selector = selectorFromLabelSelector(sel);
        constraints = [
          { maxSkew: 3, topologyKey: 'topology.kubernetes.io/zone', selector, minDomains: 1, honorAffinity: true, honorTaints: false },
          { maxSkew: 5, topologyKey: hostnameKey, selector, minDomains: 1, honorAffinity: true, honorTaints: false },
        ];
      }
    }
    const index = this.snapshot ?? scanIndex(nodes);
    if (constraints.length === 0 || index.list().length === 0) {
      state.skipScore.add(this.name);
      return Status.skip();
    }
    // System default constraints do not require every key: a cluster without zones spreads by hostname.
    const requireAll = explicit;
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const n of nodes) {
      if (requireAll && !hasAllKeys(n, constraints)) {
        ignored.add(n.name);
        continue;
      }
      const labels = n.node?.metadata?.labels ?? {};
      constraints.forEach((c, i) => {
        if (c.topologyKey !== hostnameKey) counts[i]!.set(labels[c.topologyKey] ?? '', 0);
      });
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === hostnameKey ? nodes.length - ignored.size : counts[i]!.size) + 2));
    const ns = pod.metadata?.namespace ?? '';
    const perNode = constraints.map(() => new Map<string, number>());
    constraints.forEach((c, i) => {
      const trivial = everyNodeEligible(pod, c);
      index.forEachMatchingPod((x) => x === ns, c.selector, (p, n) => {
        if (p.pod.metadata?.deletionTimestamp) return;
        if (c.topologyKey === hostnameKey) {
          // Counted at Score over the node's own pods in Kubernetes: no eligibility check.
          perNode[i]!.set(n.name, (perNode[i]!.get(n.name) ?? 0) + 1);
          return;
        }
        if (requireAll && !hasAllKeys(n, constraints)) return;
        if (!trivial && !nodeEligible(pod, c, n)) return;
        const domain = n.node?.metadata?.labels?.[c.topologyKey] ?? '';
        const cnt = counts[i]!.get(domain);
        if (cnt !== undefined) counts[i]!.set(domain, cnt + 1);
      });
    });
    state.write(`${this.name}/score`, { constraints, counts, perNode, weights, ignored } satisfies ScoreState);
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const st = state.read<ScoreState>(`${this.name}/score`);
    if (!st || st.ignored.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let s = 0;
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i]!;
      const domain = labels[c.topologyKey];
      if (domain === undefined) continue;
      const cnt = c.topologyKey === hostnameKey ? (st.perNode[i]!.get(nodeInfo.name) ?? 0) : (st.counts[i]!.get(domain) ?? 0);
      s += cnt * st.weights[i]! + (c.maxSkew - 1);
    }
    return Math.round(s);
  }

  /** Fewer matching pods is better; ignored nodes (missing a topology label) get 0. */
  normalizeScore(state: CycleState, _pod: Pod, scores: Array<{ name: string; score: number }>): void {
    const ignored = state.read<ScoreState>(`${this.name}/score`)?.ignored ?? new Set<string>();
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (ignored.has(s.name)) continue;
      min = Math.min(min, s.score);
      max = Math.max(max, s.score);
    }
    for (const s of scores) {
      if (ignored.has(s.name)) s.score = 0;
      else if (max === 0) s.score = maxNodeScore;
      else s.score = Math.floor((maxNodeScore * (max + min - s.score)) / max);
    }
  }
}
