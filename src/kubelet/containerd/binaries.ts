/**
 * Finding what real containers need on this machine — containerd, runc, the CNI plugins — without
 * loading the kubelet: the CLI asks this to choose its default runtime.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where CNI plugins live on Debian (containernetworking-plugins) and where upstream puts them. */
export const cniBinDirs = ['/usr/lib/cni', '/opt/cni/bin'];

/** The path of a binary on PATH (or in the extra directories), or undefined. */
export function findBinary(name: string, extraDirs: string[] = []): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export function findCniBinDir(): string | undefined {
  return cniBinDirs.find((d) => {
    try {
      accessSync(join(d, 'bridge'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why this machine cannot run real containers (what to do about it), or undefined when it can. */
export function containersUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const missing = [findBinary('containerd') ? '' : 'containerd', findBinary('runc', ['/usr/sbin', '/sbin']) ? '' : 'runc', findCniBinDir() ? '' : 'containernetworking-plugins'].filter(Boolean);
  if (missing.length) return `${missing.join(', ')} not installed (Debian: apt-get install containerd runc containernetworking-plugins)`;
  return undefined;
}
