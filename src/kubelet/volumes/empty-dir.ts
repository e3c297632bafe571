/**
 * emptyDir: a directory under the pod (mode 0777, as Kubernetes makes it) that lives as long as
 * the pod; `medium: Memory` puts a tmpfs there, capped by `sizeLimit` (or by the pod's memory
 * limit when every container has one).
 */
import { chmod, mkdir } from 'node:fs/promises';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../machinery/quantity.js';
import { canMount, mountTmpfs } from './host-mounts.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

/** The size of a memory-backed volume: its sizeLimit, else the sum of the containers' memory limits when all have one. */
export function memoryVolumeSize(pod: Pod, sizeLimit: string | undefined): bigint | undefined {
  if (sizeLimit) return Quantity.parse(sizeLimit).value();
  let total = 0n;
  for (const c of pod.spec?.containers ?? []) {
    const limit = c.resources?.limits?.['memory'];
    if (limit === undefined) return undefined;
    total += Quantity.parse(limit).value();
  }
  return total > 0n ? total : undefined;
}

/**
 * Makes `dir` a tmpfs when this process may mount; otherwise (tests and development as a user)
 * a plain directory, which is all an unprivileged kubelet could offer.
 */
export async function ensureMemoryDir(dir: string, host: VolumeHost, sizeBytes?: bigint): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (canMount()) await mountTmpfs(dir, sizeBytes);
  else host.log.debug('not root: memory-backed volume is a plain directory', { dir });
}

export class EmptyDirPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~empty-dir';

  handles(volume: Volume): boolean {
    return !!volume.emptyDir;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const source = volume.emptyDir ?? {};
    const dir = host.volumeDir(podUid(pod), this.name, volume.name);
    const medium = source.medium ?? '';
    if (medium === 'Memory') {
      await ensureMemoryDir(dir, host, memoryVolumeSize(pod, source.sizeLimit));
    } else if (medium === '') {
      await mkdir(dir, { recursive: true });
    } else {
      throw new Error(`unknown storage medium ${JSON.stringify(medium)}`);
    }
    // whatever the umask, every user of every container may write
    await chmod(dir, 0o777);
    return { hostPath: dir, readOnly: false, selinuxRelabel: true, projected: false };
  }
}
