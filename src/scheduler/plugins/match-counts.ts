import type { NodeInfo, PodInfo } from '../framework.js';

/**
 * Pods matching a predicate per node, remembered by the node's generation: between two
 * scheduling cycles only the node that got the last pod changes, so a cycle recounts that node
 * instead of every pod in the cluster. `key` names the predicate (namespace and selector); only
 * the most recently used keys are kept.
 */
export class MatchCounts {
  private readonly byKey = new Map<string, Map<string, { generation: number; count: number }>>();

  constructor(private readonly maxKeys = 256) {}

  count(n: NodeInfo, key: string, matches: (p: PodInfo) => boolean): number {
    let memo = this.byKey.get(key);
    if (memo) {
      // Most recently used last, so the least recently used goes first.
      this.byKey.delete(key);
      this.byKey.set(key, memo);
    } else {
      if (this.byKey.size >= this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
      this.byKey.set(key, (memo = new Map()));
    }
    const hit = memo.get(n.name);
    if (hit && hit.generation === n.generation) return hit.count;
    let count = 0;
    for (const p of n.pods.values()) if (matches(p)) count++;
    memo.set(n.name, { generation: n.generation, count });
    return count;
  }
}
