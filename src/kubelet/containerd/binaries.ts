/**
 * Finding what real containers need on this machine — containerd, runc, the CNI plugins, mounted
 * cgroups — without loading the kubelet: the CLI asks this to choose its default runtime.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
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

/** Whether a mountinfo table (`/proc/self/mountinfo`) holds a cgroup (v1) or cgroup2 filesystem. */
export function cgroupsMounted(mountinfo: string): boolean {
  // Each line: … mount point … ` - ` fstype source options.
  return mountinfo.split('\n').some((line) => /^cgroup2?$/.test(line.split(' - ')[1]?.split(' ')[0] ?? ''));
}

/**
 * Why runc would fail for want of cgroups here, or undefined. `ip netns exec` remounts /sys for
 * the namespace, without the cgroup filesystems under it — the usual way to end up here.
 */
export function cgroupsUnavailable(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | undefined {
  if (cgroupsMounted(mountinfo)) return undefined;
  return 'no cgroup filesystem is mounted in this mount namespace, and runc needs one (under `ip netns exec`, which remounts /sys without it? enter the namespace with `nsenter --net=/run/netns/NAME` instead)';
}

/** Why this machine cannot run real containers (what to do about it), or undefined when it can. */
export function containersUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const missing = [findBinary('containerd') ? '' : 'containerd', findBinary('runc', ['/usr/sbin', '/sbin']) ? '' : 'runc', findCniBinDir() ? '' : 'containernetworking-plugins'].filter(Boolean);
  if (missing.length) return `${missing.join(', ')} not installed (Debian: apt-get install containerd runc containernetworking-plugins)`;
  return cgroupsUnavailable();
}
