import type { Pod } from 'kubernetes-types/core/v1.js';
import { maxNodeScore, type CycleState, type NodeInfo, type ScorePlugin } from '../framework.js';

const mb = 1024 * 1024;
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;

/** `nginx` → `docker.io/library/nginx:latest`, the form nodes report images in. */
export function normalizedImageName(image: string): string {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.includes('@') && !name.slice(lastSlash).includes(':')) name += ':latest';
  return name;
}

/**
 * ImageLocality: prefers nodes that already have the pod's images, weighted by image size and
 * by how many nodes share it (spread), between 23 MB and 1000 MB per container.
 */
export class ImageLocalityPlugin implements ScorePlugin {
  readonly name = 'ImageLocality';

  constructor(private readonly totalNodes: () => number) {}

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    if (containers.length === 0 || nodeInfo.imageStates.size === 0) return 0;
    const total = Math.max(1, this.totalNodes());
    let sum = 0;
    for (const c of containers) {
      const st = c.image ? nodeInfo.imageStates.get(normalizedImageName(c.image)) : undefined;
      if (st) sum += st.size * (st.numNodes / total);
    }
    const maxThreshold = maxContainerThreshold * containers.length;
    const clamped = Math.min(Math.max(sum, minThreshold), maxThreshold);
    return Math.floor((maxNodeScore * (clamped - minThreshold)) / (maxThreshold - minThreshold));
  }
}
