/**
 * The few mount operations the volume plugins need on the host (tmpfs for memory-backed volumes,
 * and unmounting when a pod goes), through mount(8)/umount(8) and /proc/self/mountinfo.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether this process may mount (root). Without it memory-backed volumes are plain directories. */
export function canMount(): boolean {
  return process.getuid?.() === 0;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * mountinfo grows with every pod (rootfs, shm, tmpfs volumes), and each pod sync asks about its
 * own mounts: one read serves every question for a second, and our own mounts and unmounts drop it.
 */
const CACHE_MS = 1000;
let cached: { at: number; points: Promise<string[]> } | undefined;

/** Mount points of this process' namespace, in mount order (at most a second old). */
export function mountPoints(): Promise<string[]> {
  const now = Date.now();
  if (!cached || now - cached.at > CACHE_MS) cached = { at: now, points: readMountPoints() };
  return cached.points;
}

async function readMountPoints(): Promise<string[]> {
  let text: string;
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const point = line.split(' ')[4];
    if (point) out.push(unescapeMountPath(point));
  }
  return out;
}

async function canonical(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return p.replace(/\/+$/, '');
  }
}

export async function isMountPoint(dir: string): Promise<boolean> {
  const target = await canonical(dir);
  return (await mountPoints()).includes(target);
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const base = await canonical(dir);
  const under = (await mountPoints()).filter((p) => p === base || p.startsWith(base + '/'));
  return [...new Set(under)].sort((a, b) => b.length - a.length);
}

/** Mounts a tmpfs on `dir` unless one is there already; `sizeBytes` caps it. */
export async function mountTmpfs(dir: string, sizeBytes?: bigint): Promise<void> {
  if (await isMountPoint(dir)) return;
  const options = sizeBytes !== undefined && sizeBytes > 0n ? ['-o', `size=${sizeBytes}`] : [];
  cached = undefined;
  await run('mount', ['-t', 'tmpfs', ...options, 'tmpfs', dir]);
  cached = undefined;
}

/** Unmounts `dir`; a busy mount is detached lazily so the pod's removal can go on. */
export async function unmount(dir: string): Promise<void> {
  try {
    await run('umount', [dir]);
  } catch {
    await run('umount', ['-l', dir]);
  } finally {
    cached = undefined;
  }
}
