/**
 * A container's volumeMounts as CRI bind mounts (Kubernetes' makeMounts): subPath and subPathExpr
 * resolved inside their volume, read-only where the mount or the volume demands it, and mount
 * propagation translated (Bidirectional only for privileged containers).
 */
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, VolumeMount } from 'kubernetes-types/core/v1.js';
import type { CriMount } from '../container-config.js';
import { ContainerConfigError, expandEnvRefs } from '../container-env.js';
import type { ReadyVolume } from './volume-plugin.js';

/** Kubernetes' ExpandContainerVolumeMounts: `$(VAR)` from the container's env; a missing or empty variable is an error. */
export function expandSubPathExpr(expr: string, env: Record<string, string>): string {
  const missing = new Set<string>();
  const out = expandEnvRefs(expr, (name) => {
    const v = env[name];
    if (!v) missing.add(name);
    return v ?? '';
  });
  if (missing.size) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

/** The CRI's propagation for a mount. */
export function translatePropagation(mode: string | undefined, privileged: boolean): string {
  switch (mode ?? 'None') {
    case 'None':
      return 'PROPAGATION_PRIVATE';
    case 'HostToContainer':
      return 'PROPAGATION_HOST_TO_CONTAINER';
    case 'Bidirectional':
      if (!privileged) throw new ContainerConfigError('Bidirectional mount propagation is available only to privileged containers');
      return 'PROPAGATION_BIDIRECTIONAL';
    default:
      throw new ContainerConfigError(`invalid MountPropagation mode: ${mode ?? ''}`);
  }
}

function within(base: string, p: string): boolean {
  return p === base || p.startsWith(base.endsWith('/') ? base : base + '/');
}

/**
 * The host path of `subPath` inside the volume at `volumePath`: created (with the volume's own
 * mode) when missing, and refused when it, or a symlink on its way, leads out of the volume.
 */
export async function resolveSubPath(volumePath: string, subPath: string, mount: VolumeMount, container: Container): Promise<string> {
  if (subPath.startsWith('/')) throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const hostPath = join(volumePath, subPath);
  const exists = await stat(hostPath).then(
    () => true,
    () => false,
  );
  if (!exists) {
    try {
      const mode = (await stat(volumePath)).mode & 0o7777;
      await mkdir(hostPath, { recursive: true, mode });
    } catch {
      throw new ContainerConfigError(`failed to create subPath directory for volumeMount "${mount.name}" of container "${container.name}"`);
    }
  }
  try {
    const [base, real] = await Promise.all([realpath(volumePath), realpath(hostPath)]);
    if (!within(base, real)) throw new Error('outside');
    return real;
  } catch {
    throw new ContainerConfigError(`failed to prepare subPath for volumeMount "${mount.name}" of container "${container.name}"`);
  }
}

/** The mounts of `container`'s volumeMounts, given the pod's ready volumes by name. */
export async function volumeMounts(container: Container, ready: Map<string, ReadyVolume>, env: Record<string, string>, selinuxEnabled: boolean): Promise<CriMount[]> {
  const privileged = container.securityContext?.privileged === true;
  const out: CriMount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const vol = ready.get(m.name);
    if (!vol) throw new ContainerConfigError(`cannot find volume "${m.name}" to mount into container "${container.name}"`);
    let hostPath = vol.hostPath;
    const subPath = m.subPathExpr ? expandSubPathExpr(m.subPathExpr, env) : (m.subPath ?? '');
    if (subPath) hostPath = await resolveSubPath(vol.hostPath, subPath, m, container);
    out.push({
      containerPath: m.mountPath,
      hostPath,
      readonly: m.readOnly === true || vol.readOnly,
      propagation: translatePropagation(m.mountPropagation, privileged),
      selinuxRelabel: vol.selinuxRelabel && selinuxEnabled,
    });
  }
  return out;
}
