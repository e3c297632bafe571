/**
 * Runs a profile's plugins at each extension point, in order (Kubernetes' frameworkImpl).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  Code,
  CycleState,
  Status,
  isBind,
  isFilter,
  isPostFilter,
  isPreBind,
  isPreFilter,
  isPreScore,
  isReserve,
  isScore,
  maxNodeScore,
  type BindPlugin,
  type FilterPlugin,
  type NodeInfo,
  type NodeToStatus,
  type Plugin,
  type PodInfo,
  type PostFilterPlugin,
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
} from './framework.js';

/** A plugin with its score weight (Kubernetes' defaults: TaintToleration 3, NodeAffinity 2 …). */
export interface ConfiguredPlugin {
  plugin: Plugin;
  weight?: number;
}

export class SchedulingFramework {
  readonly preFilters: PreFilterPlugin[] = [];
  readonly filters: FilterPlugin[] = [];
  readonly postFilters: PostFilterPlugin[] = [];
  readonly preScores: PreScorePlugin[] = [];
  readonly scores: Array<{ plugin: ScorePlugin; weight: number }> = [];
  readonly reserves: ReservePlugin[] = [];
  readonly preBinds: PreBindPlugin[] = [];
  readonly binds: BindPlugin[] = [];

  constructor(plugins: ConfiguredPlugin[]) {
    for (const { plugin: p, weight } of plugins) {
      if (isPreFilter(p)) this.preFilters.push(p);
      if (isFilter(p)) this.filters.push(p);
      if (isPostFilter(p)) this.postFilters.push(p);
      if (isPreScore(p)) this.preScores.push(p);
      if (isScore(p)) this.scores.push({ plugin: p, weight: weight ?? 1 });
      if (isReserve(p)) this.reserves.push(p);
      if (isPreBind(p)) this.preBinds.push(p);
      if (isBind(p)) this.binds.push(p);
    }
  }

  /** Stops at the first rejection; the status names the plugin (for queueing hints). */
  runPreFilters(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    for (const p of this.preFilters) {
      let s: Status;
      try {
        s = p.preFilter(state, pod, nodes);
      } catch (e) {
        return Status.fromError(e).withPlugin(p.name);
      }
      if (s.isSkip() || s.isSuccess()) continue;
      return s.withPlugin(p.name);
    }
    return Status.success();
  }

  runFilters(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    for (const p of this.filters) {
      if (state.skipFilter.has(p.name)) continue;
      let s: Status;
      try {
        s = p.filter(state, pod, nodeInfo);
      } catch (e) {
        return Status.fromError(e).withPlugin(p.name);
      }
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  /**
   * Filters with pods nominated to this node (of at least the pod's priority) counted as if
   * running, so a preemptor's freed room is not taken by others; then without them.
   */
  runFiltersWithNominated(state: CycleState, pod: Pod, nodeInfo: NodeInfo, nominated: PodInfo[]): Status {
    const prio = pod.spec?.priority ?? 0;
    const uid = pod.metadata?.uid;
    const others = nominated.filter((p) => p.priority >= prio && p.pod.metadata?.uid !== uid);
    if (others.length > 0) {
      const ni = nodeInfo.clone();
      const st = state.clone();
      for (const p of others) {
        ni.addPod(p);
        this.runAddPod(st, pod, p, ni);
      }
      const s = this.runFilters(st, pod, ni);
      if (!s.isSuccess()) return s;
    }
    return this.runFilters(state, pod, nodeInfo);
  }

  runRemovePod(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void {
    for (const p of this.preFilters) if (!state.skipFilter.has(p.name)) p.removePod?.(state, pod, removed, nodeInfo);
  }

  runAddPod(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void {
    for (const p of this.preFilters) if (!state.skipFilter.has(p.name)) p.addPod?.(state, pod, added, nodeInfo);
  }

  runPreScores(state: CycleState, pod: Pod, nodes: NodeInfo[]): Status {
    for (const p of this.preScores) {
      const s = p.preScore(state, pod, nodes);
      if (!s.isSuccess() && !s.isSkip()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  /** Weighted sum of normalized plugin scores per node. */
  runScores(state: CycleState, pod: Pod, nodes: NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const { plugin, weight } of this.scores) {
      if (state.skipScore.has(plugin.name)) continue;
      const scores = nodes.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < scores.length; i++) totals[i]! += Math.max(0, Math.min(maxNodeScore, scores[i]!.score)) * weight;
    }
    return totals;
  }

  runReserve(state: CycleState, pod: Pod, nodeName: string): Status {
    for (let i = 0; i < this.reserves.length; i++) {
      const s = this.reserves[i]!.reserve(state, pod, nodeName);
      if (!s.isSuccess()) {
        for (let j = i; j >= 0; j--) this.reserves[j]!.unreserve(state, pod, nodeName);
        return s.withPlugin(this.reserves[i]!.name);
      }
    }
    return Status.success();
  }

  runUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let j = this.reserves.length - 1; j >= 0; j--) this.reserves[j]!.unreserve(state, pod, nodeName);
  }

  async runPreBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.preBinds) {
      const s = await p.preBind(state, pod, nodeName);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.success();
  }

  async runBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.binds) {
      const s = await p.bind(state, pod, nodeName);
      if (s.isSkip()) continue;
      return s.withPlugin(p.name);
    }
    return new Status(Code.Error, ['no bind plugin bound the pod']);
  }

  async runPostFilters(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<{ nominatedNodeName?: string; status: Status }> {
    let last: { nominatedNodeName?: string; status: Status } = { status: Status.unschedulable() };
    for (const p of this.postFilters) {
      const r = await p.postFilter(state, pod, filtered);
      if (r.status.isSuccess()) return r;
      last = r;
    }
    return last;
  }
}
