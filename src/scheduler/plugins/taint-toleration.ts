import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { Status, maxNodeScore, type CycleState, type FilterPlugin, type NodeInfo, type ScorePlugin } from '../framework.js';

/** Whether `t` tolerates `taint` (Kubernetes' Toleration.ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Pick<Taint, 'key' | 'effect' | 'value'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/** The message Kubernetes gives for a taint no toleration covers. */
export function untoleratedTaintMessage(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/**
 * Filters out nodes with NoSchedule/NoExecute taints the pod does not tolerate; prefers nodes
 * with fewer untolerated PreferNoSchedule taints.
 */
export class TaintTolerationPlugin implements FilterPlugin, ScorePlugin {
  readonly name = 'TaintToleration';

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const tolerations = pod.spec?.tolerations ?? [];
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tolerations.some((t) => toleratesTaint(t, taint))) return Status.unresolvable(untoleratedTaintMessage(taint));
    }
    return Status.success();
  }

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => toleratesTaint(t, taint))) n++;
    }
    return n;
  }

  /** Fewer intolerable taints is better: reverse the counts onto 0‥100. */
  normalizeScore(_state: CycleState, _pod: Pod, scores: Array<{ name: string; score: number }>): void {
    normalize(scores, true);
  }
}

/** Kubernetes' DefaultNormalizeScore: scale to 0‥100 by the maximum, optionally reversed. */
export function normalize(scores: Array<{ score: number }>, reverse: boolean): void {
  let max = 0;
  for (const s of scores) max = Math.max(max, s.score);
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxNodeScore;
    return;
  }
  for (const s of scores) {
    const v = Math.floor((maxNodeScore * s.score) / max);
    s.score = reverse ? maxNodeScore - v : v;
  }
}
