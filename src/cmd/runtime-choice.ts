/**
 * Which runtime a node of `k8ts server`/`k8ts agent` uses when `--runtime` is not given: real
 * containers when this machine can run them (root, containerd, runc, CNI plugins), else the
 * simulated runtime — and the log says which, and why.
 */
import type { Logger } from '../machinery/logger.js';
import { containersUnavailable } from '../kubelet/containerd/binaries.js';

export type RuntimeName = 'containerd' | 'sim';

export function chooseRuntime(explicit: string | undefined, simNodesGiven: boolean, log: Logger): RuntimeName {
  if (explicit !== undefined) {
    if (explicit !== 'containerd' && explicit !== 'sim') throw new Error(`unknown --runtime ${explicit}: use containerd or sim`);
    return explicit;
  }
  if (simNodesGiven) return 'sim';
  const why = containersUnavailable();
  if (why) {
    log.warn('using the simulated runtime: pods get simulated containers', { reason: why, hint: 'run as root with containerd installed for real containers, or pass --runtime sim to silence this' });
    return 'sim';
  }
  return 'containerd';
}
