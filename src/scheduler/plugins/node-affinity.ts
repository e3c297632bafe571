import type { Pod } from 'kubernetes-types/core/v1.js';
import { Status, type CycleState, type FilterPlugin, type NodeInfo, type ScorePlugin } from '../framework.js';
import { nodeSelectorTermMatches, podMatchesNodeSelectorAndAffinity } from '../../machinery/node-selector.js';
import { normalize } from './taint-toleration.js';

export const errReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";

/** nodeSelector and required node affinity filter; preferred node affinity scores (sum of matching weights). */
export class NodeAffinityPlugin implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeAffinity';

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node) return Status.unresolvable('node not found');
    return podMatchesNodeSelectorAndAffinity(pod, nodeInfo.node) ? Status.success() : Status.unresolvable(errReasonNodeAffinity);
  }

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!preferred || !nodeInfo.node) return 0;
    let s = 0;
    for (const p of preferred) if (p.weight !== 0 && nodeSelectorTermMatches(p.preference, nodeInfo.node)) s += p.weight;
    return s;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: Array<{ name: string; score: number }>): void {
    normalize(scores, false);
  }
}
