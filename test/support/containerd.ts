/**
 * What end-to-end tests of real containers need: root, containerd, runc, CNI plugins and busybox.
 * CI installs them (.ci/run) and runs as root, so there these tests never skip.
 */
import { existsSync } from 'node:fs';
import { findBinary, findCniBinDir } from '../../src/kubelet/containerd/containerd-process.js';
import { busyboxPaths } from '../../src/kubelet/images/pause-image.js';

/** Why real-container tests cannot run here, or undefined when they can. */
export function containerTestsBlocked(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!findBinary('containerd')) return 'needs containerd';
  if (!findBinary('runc', ['/usr/sbin', '/sbin'])) return 'needs runc';
  if (!findCniBinDir()) return 'needs containernetworking-plugins';
  if (!busyboxPaths.some((p) => existsSync(p))) return 'needs busybox-static';
  return undefined;
}

/** `skip` for node:test: a reason outside CI; in CI, never (a missing dependency must fail loudly). */
export function skipWithoutContainers(): string | false {
  const blocked = containerTestsBlocked();
  return blocked && !process.env['CI'] ? blocked : false;
}
