/**
 * The pod sandbox ("pause") image: a process that holds the pod's namespaces and does nothing.
 * No registry is reachable on many machines k8ts runs on, so it is built locally from the host's
 * static busybox: a shell as PID 1 that sleeps, and exits on SIGTERM/SIGINT.
 */
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciArchive } from './oci-archive.js';

export const busyboxPaths = ['/usr/bin/busybox', '/bin/busybox'];

export async function buildPauseImage(ref: string, out: string): Promise<void> {
  const busybox = busyboxPaths.find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is needed to build the pod sandbox image (Debian: apt-get install busybox-static)');
  const root = mkdtempSync(join(tmpdir(), 'k8ts-pause-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
    await buildOciArchive(root, ref, {
      // `wait` returns when a trapped signal arrives, so TERM/INT end the sandbox at once.
      entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"],
    }, out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
