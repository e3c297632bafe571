import type { Pod } from 'kubernetes-types/core/v1.js';
import { PodInfo, Status, type CycleState, type FilterPlugin, type NodeInfo, type PreFilterPlugin } from '../framework.js';

export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

/** Host ports the pod asks for must be free on the node (same protocol and port; wildcard IPs clash with all). */
export class NodePortsPlugin implements PreFilterPlugin, FilterPlugin {
  readonly name = 'NodePorts';

  preFilter(state: CycleState, pod: Pod): Status {
    const ports = new PodInfo(pod).hostPorts;
    if (ports.length === 0) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    state.write(this.name, ports);
    return Status.success();
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const ports = state.read<PodInfo['hostPorts']>(this.name) ?? new PodInfo(pod).hostPorts;
    for (const p of ports) if (!nodeInfo.portFree(p.protocol, p.port, p.ip)) return Status.unschedulable(errReasonNodePorts);
    return Status.success();
  }
}
