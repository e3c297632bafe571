/**
 * The text of FailedScheduling events and of the PodScheduled condition, in Kubernetes' format:
 * `0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. preemption: …`
 */
import type { NodeToStatus } from './framework.js';

/** Why no node fit: per-node statuses, or one PreFilter rejection that applies to all. */
export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Set when a PreFilter rejected the pod (its message replaces the per-node histogram). */
  preFilterMsg?: string;
  /** The PostFilter's (preemption's) own message. */
  postFilterMsg?: string;
  /** Reasons counted for nodes that were not evaluated at all. */
  absentReason?: string;
}

function withPeriod(s: string): string {
  return s.endsWith('.') ? s : `${s}.`;
}

/** Kubernetes' FitError.Error(): reasons counted over nodes, sorted as strings, then the PostFilter note. */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) {
    msg += ` ${withPeriod(d.preFilterMsg)}`;
  } else {
    const reasons = new Map<string, number>();
    for (const st of d.nodeToStatus.values()) for (const r of st.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    if (d.absentReason && d.nodeToStatus.size < numAllNodes) reasons.set(d.absentReason, (reasons.get(d.absentReason) ?? 0) + numAllNodes - d.nodeToStatus.size);
    const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg) msg += ` ${withPeriod(d.postFilterMsg)}`;
  return msg;
}
