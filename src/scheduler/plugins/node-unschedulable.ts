import type { Pod } from 'kubernetes-types/core/v1.js';
import { Status, type CycleState, type FilterPlugin, type NodeInfo } from '../framework.js';
import { toleratesTaint } from './taint-toleration.js';

export const errReasonUnschedulable = 'node(s) were unschedulable';

/** Cordoned nodes (spec.unschedulable) take only pods tolerating `node.kubernetes.io/unschedulable:NoSchedule`. */
export class NodeUnschedulablePlugin implements FilterPlugin {
  readonly name = 'NodeUnschedulable';

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node?.spec?.unschedulable) return Status.success();
    const tolerated = (pod.spec?.tolerations ?? []).some((t) => toleratesTaint(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }));
    return tolerated ? Status.success() : Status.unresolvable(errReasonUnschedulable);
  }
}
