import type { Pod } from 'kubernetes-types/core/v1.js';
import { Status, type CycleState, type FilterPlugin, type NodeInfo } from '../framework.js';

export const errReasonNodeName = "node(s) didn't match the requested node name";

/** A pod that names a node (spec.nodeName) fits only that node. */
export class NodeNamePlugin implements FilterPlugin {
  readonly name = 'NodeName';

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const want = pod.spec?.nodeName;
    if (want && want !== nodeInfo.name) return Status.unresolvable(errReasonNodeName);
    return Status.success();
  }
}
