/**
 * What end-to-end tests of real containers need: root, containerd, runc, CNI plugins and busybox.
 * CI installs them (.ci/run) and runs as root, so there these tests never skip.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, findCniBinDir, startContainerd, PAUSE_IMAGE, type RunningContainerd } from '../../src/kubelet/containerd/containerd-process.js';
import { buildPauseImage } from '../../src/kubelet/images/pause-image.js';
import { importArchive } from '../../src/kubelet/images/oci-archive.js';
import { writeCniConfig } from '../../src/kubelet/cni-config.js';
import { eventually } from './eventually.js';
import { busyboxPaths } from '../../src/kubelet/images/pause-image.js';
import { buildOciArchive } from '../../src/kubelet/images/oci-archive.js';
import { CriClient } from '../../src/kubelet/cri/cri-client.js';
import { createLogger } from '../../src/machinery/logger.js';

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

/** A containerd of the test's own (state in a temp dir) with a CRI client, and its clean-up. */
export interface TestRuntime {
  work: string;
  containerd: RunningContainerd;
  cri: CriClient;
  /** Stops containerd and removes the bridge, mounts and state the test left. */
  stop(): Promise<void>;
}

export interface TestRuntimeOptions {
  /** A bridge of the test's own, so a k8ts running on this machine is not disturbed. */
  bridge: string;
  podCIDR: string;
  /** A busybox image to import: its name and applets. */
  image: { ref: string; applets: string[] };
}

/**
 * Starts the test's containerd, imports the pause image and a busybox image, writes a CNI
 * config for `podCIDR` on the test's bridge and waits until the runtime's network is ready.
 */
export async function startTestRuntime(prefix: string, opts: TestRuntimeOptions): Promise<TestRuntime> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const bridge = opts.bridge;
  const containerd = await startContainerd(join(work, 'agent'), createLogger('error'));
  const cri = new CriClient(containerd.endpoint);
  await buildPauseImage(PAUSE_IMAGE, join(work, 'pause.tar'));
  await importArchive(containerd.paths.socket, join(work, 'pause.tar'));
  await busyboxImageArchive(opts.image.ref, join(work, 'app.tar'), opts.image.applets);
  await importArchive(containerd.paths.socket, join(work, 'app.tar'));
  writeCniConfig(containerd.paths.cniConfDir, opts.podCIDR, join(work, 'agent', 'ipam'), bridge);
  await eventually('the runtime\'s network to be ready', async () => {
    const st = await cri.runtime<{ status: { conditions: Array<{ type: string; status: boolean }> } }>('Status');
    return st.status.conditions.find((c) => c.type === 'NetworkReady')?.status === true;
  }, 15_000);
  return {
    work,
    containerd,
    cri,
    async stop() {
      cri.close();
      await containerd.stop();
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      } catch {
        // never created
      }
      try {
        execFileSync('sh', ['-c', `grep -o ' ${work}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
      } catch {
        // nothing mounted
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Writes an image archive of the host's static busybox with these applets, named `ref`, running `cmd` by default. */
export async function busyboxImageArchive(ref: string, out: string, applets: string[] = ['sh', 'sleep', 'echo', 'cat'], cmd: string[] = ['sh']): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'k8ts-busybox-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync(busyboxPaths.find((p) => existsSync(p))!, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
    await buildOciArchive(root, ref, { cmd }, out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
