/**
 * hostPath: the host's own path, used in place. Its `type` is checked as Kubernetes checks it
 * (pkg/volume/hostpath), with the same messages; the *OrCreate types create what is missing.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { ReadyVolume, VolumePlugin } from './volume-plugin.js';

async function statOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/** Checks (and for DirectoryOrCreate/FileOrCreate, makes) `path` as the hostPath `type` demands. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (!type) return;
  const st = await statOrUndefined(path);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'Directory':
      if (!st?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!st) {
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        // O_EXCL-free create: a file racing into existence is fine
        const fh = await open(path, constants.O_CREAT | constants.O_RDONLY, 0o644);
        await fh.close();
        return;
      }
      if (!st.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'File':
      if (!st?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'Socket':
      if (!st?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}

export class HostPathPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~host-path';

  handles(volume: Volume): boolean {
    return !!volume.hostPath;
  }

  async setUp(_pod: Pod, volume: Volume): Promise<ReadyVolume> {
    const path = volume.hostPath?.path ?? '';
    await checkHostPathType(path, volume.hostPath?.type);
    return { hostPath: path, readOnly: false, selinuxRelabel: false, projected: false };
  }
}
