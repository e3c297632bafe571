import type { Pod } from 'kubernetes-types/core/v1.js';
import { Status, maxNodeScore, type CycleState, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type ScorePlugin } from '../framework.js';
import { podRequests, type Resources } from '../pod-resources.js';

export const errReasonTooManyPods = 'Too many pods';

/** Kubernetes' message for a resource the node lacks: `Insufficient cpu`. */
export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

/** How scoring weighs resources (Kubernetes' default LeastAllocated: cpu and memory, weight 1 each). */
export interface ResourceWeight {
  name: string;
  weight: number;
}

export const defaultResourceWeights: ResourceWeight[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** The requested (with the pod) and allocatable amount of one resource on a node, for scoring. */
export function resourceAmounts(nodeInfo: NodeInfo, pod: Pod, name: string): { requested: number; allocatable: number } {
  const { nonZero, requests } = podRequests(pod);
  if (name === 'cpu') return { requested: nodeInfo.nonZeroRequested.milliCPU + nonZero.milliCPU, allocatable: nodeInfo.allocatable.milliCPU };
  if (name === 'memory') return { requested: nodeInfo.nonZeroRequested.memory + nonZero.memory, allocatable: nodeInfo.allocatable.memory };
  if (name === 'ephemeral-storage') return { requested: nodeInfo.requested.ephemeralStorage + requests.ephemeralStorage, allocatable: nodeInfo.allocatable.ephemeralStorage };
  return { requested: (nodeInfo.requested.scalar.get(name) ?? 0) + (requests.scalar.get(name) ?? 0), allocatable: nodeInfo.allocatable.scalar.get(name) ?? 0 };
}

const fits: { reasons: string[]; unresolvable: boolean } = Object.freeze({ reasons: Object.freeze([]) as unknown as string[], unresolvable: false });

/** Checks the pod's requests against what is left of the node's allocatable; reasons for each shortfall. */
export function fitsRequest(req: Resources, nodeInfo: NodeInfo): { reasons: string[]; unresolvable: boolean } {
  const a0 = nodeInfo.allocatable;
  const u0 = nodeInfo.requested;
  // The common case, checked without allocating: everything fits.
  if (
    nodeInfo.pods.size + 1 <= a0.pods &&
    (req.milliCPU <= 0 || req.milliCPU <= a0.milliCPU - u0.milliCPU) &&
    (req.memory <= 0 || req.memory <= a0.memory - u0.memory) &&
    (req.ephemeralStorage <= 0 || req.ephemeralStorage <= a0.ephemeralStorage - u0.ephemeralStorage) &&
    req.scalar.size === 0
  ) {
    return fits;
  }
  const reasons: string[] = [];
  let unresolvable = false;
  const a = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.size + 1 > a.pods) reasons.push(errReasonTooManyPods);
  const check = (name: string, want: number, alloc: number, inUse: number): void => {
    if (want <= 0) return;
    if (want > alloc - inUse) {
      reasons.push(insufficient(name));
      if (want > alloc) unresolvable = true;
    }
  };
  check('cpu', req.milliCPU, a.milliCPU, used.milliCPU);
  check('memory', req.memory, a.memory, used.memory);
  check('ephemeral-storage', req.ephemeralStorage, a.ephemeralStorage, used.ephemeralStorage);
  for (const [name, want] of req.scalar) check(name, want, a.scalar.get(name) ?? 0, used.scalar.get(name) ?? 0);
  return { reasons, unresolvable };
}

/**
 * NodeResourcesFit: the pod's requests (init-container rule, overhead) must fit in what the
 * node's allocatable leaves, pod count included; scores by the LeastAllocated strategy.
 */
export class NodeResourcesFitPlugin implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';

  constructor(private readonly weights: ResourceWeight[] = defaultResourceWeights) {}

  preFilter(state: CycleState, pod: Pod): Status {
    state.write(this.name, podRequests(pod).requests);
    return Status.success();
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const req = state.read<Resources>(this.name) ?? podRequests(pod).requests;
    const { reasons, unresolvable } = fitsRequest(req, nodeInfo);
    if (reasons.length === 0) return Status.success();
    return unresolvable ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
  }

  /** LeastAllocated: the weighted mean over resources of the free share left after placing the pod. */
  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    let total = 0;
    let weights = 0;
    for (const w of this.weights) {
      const { requested, allocatable } = resourceAmounts(nodeInfo, pod, w.name);
      if (allocatable === 0) continue;
      const s = requested > allocatable ? 0 : Math.floor(((allocatable - requested) * maxNodeScore) / allocatable);
      total += s * w.weight;
      weights += w.weight;
    }
    return weights === 0 ? 0 : Math.floor(total / weights);
  }
}
