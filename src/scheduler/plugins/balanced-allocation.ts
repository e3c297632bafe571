import type { Pod } from 'kubernetes-types/core/v1.js';
import { maxNodeScore, type CycleState, type NodeInfo, type ScorePlugin } from '../framework.js';
import { resourceAmounts } from './node-resources-fit.js';

/**
 * NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory utilisation (with the pod)
 * stay close to each other: score = (1 − standard deviation of the fractions) × 100.
 */
export class BalancedAllocationPlugin implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';

  constructor(private readonly resources: string[] = ['cpu', 'memory']) {}

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const fractions: number[] = [];
    for (const r of this.resources) {
      const { requested, allocatable } = resourceAmounts(nodeInfo, pod, r);
      if (allocatable === 0) continue;
      fractions.push(Math.min(1, requested / allocatable));
    }
    if (fractions.length === 0) return 0;
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    const variance = fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length;
    return Math.floor((1 - Math.sqrt(variance)) * maxNodeScore);
  }
}
