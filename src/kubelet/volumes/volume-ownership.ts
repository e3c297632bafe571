/**
 * `securityContext.fsGroup`: the kubelet gives the files of a pod's emptyDir, configMap, secret,
 * downwardAPI and projected volumes to the group (volume.SetVolumeOwnership): group ownership,
 * group read (and write, for writable volumes), and setgid directories so new files inherit it.
 */
import { chown, lstat, readdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';

const rwMask = 0o660;
const roMask = 0o440;
const execMask = 0o110;

/** Whether the kubelet manages ownership of this kind of volume. */
export function ownershipManaged(volume: Volume): boolean {
  return !!(volume.emptyDir || volume.configMap || volume.secret || volume.downwardAPI || volume.projected);
}

/** The fsGroup a pod asks for, if any. */
export function fsGroupOf(pod: Pod): number | undefined {
  const g = pod.spec?.securityContext?.fsGroup;
  return typeof g === 'number' ? g : undefined;
}

/** Gives everything under `dir` to `gid` with the kubelet's permission masks; symlinks are left alone. */
export async function setVolumeOwnership(dir: string, gid: number, readOnly: boolean): Promise<void> {
  const mask = readOnly ? roMask : rwMask;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return;
    if (st.gid !== gid) await chown(path, st.uid, gid);
    const mode = st.mode & 0o7777;
    const wanted = st.isDirectory() ? mode | mask | execMask | 0o2000 : mode | mask;
    if (wanted !== mode) await chmod(path, wanted);
    if (st.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
}
