/**
 * Kubernetes' AtomicWriter (pkg/volume/util/atomic_writer.go): the files of a configMap, secret,
 * downwardAPI or projected volume live in a timestamped directory `..<UTC time>.<random>`, reached
 * through the symlink `..data`; each top-level user-visible name is a symlink `name -> ..data/name`.
 * An update writes a whole new timestamped directory and renames a fresh `..data_tmp` symlink onto
 * `..data`, so a container that has the volume mounted sees every file change at once, in place.
 */
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';

/** One file of a volume's payload. */
export interface FileProjection {
  data: Buffer;
  /** Permission bits (0–0o777). */
  mode: number;
}

/** Relative path → contents. */
export type Payload = Map<string, FileProjection>;

const dataDirName = '..data';
const newDataDirName = '..data_tmp';
const maxPathLength = 4096;
const maxFileNameLength = 255;

/** Throws for a payload path the writer must refuse (absolute, `..` elements, a leading `..`, too long). */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new Error(`invalid path: must not be empty: ${JSON.stringify(p)}`);
  if (p.startsWith('/')) throw new Error(`invalid path: must be relative path: ${p}`);
  if (p.length > maxPathLength) throw new Error(`invalid path: must be less than or equal to ${maxPathLength} characters`);
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new Error(`invalid path: must not contain '..': ${p}`);
    if (item.length > maxFileNameLength) throw new Error(`invalid path: filenames must be less than or equal to ${maxFileNameLength} characters`);
  }
  if ((items[0] ?? '').startsWith('..') && (items[0] ?? '').length > 2) throw new Error(`invalid path: must not start with '..': ${p}`);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `..2006_01_02_15_04_05.` in UTC, the prefix of a timestamped directory. */
function timestampPrefix(now: Date): string {
  return `..${now.getUTCFullYear()}_${two(now.getUTCMonth() + 1)}_${two(now.getUTCDate())}_${two(now.getUTCHours())}_${two(now.getUTCMinutes())}_${two(now.getUTCSeconds())}.`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every path (files and directories) below `dir`, relative to it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await walk(join(dir, entry.name), rel)));
  }
  return out;
}

async function needsWrite(payload: Payload, oldTsPath: string): Promise<boolean> {
  for (const [p, f] of payload) {
    const file = join(oldTsPath, p);
    try {
      const [content, st] = await Promise.all([readFile(file), stat(file)]);
      if (!content.equals(f.data) || (st.mode & 0o777) !== f.mode) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * Projects `payload` into `targetDir` (which must exist). Returns false when the volume already
 * held exactly this payload (nothing written), true after a swap.
 */
export async function writeAtomic(targetDir: string, payload: Payload, now: Date = new Date()): Promise<boolean> {
  const clean: Payload = new Map();
  for (const [p, f] of payload) {
    validatePayloadPath(p);
    clean.set(normalize(p).replace(/\/+$/, ''), f);
  }
  const dataDirPath = join(targetDir, dataDirName);
  let oldTsDir = '';
  try {
    oldTsDir = await readlink(dataDirPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const oldTsPath = oldTsDir ? join(targetDir, oldTsDir) : '';

  let toRemove: string[] = [];
  if (oldTsPath) {
    const current = await walk(oldTsPath).catch(() => [] as string[]);
    const wanted = new Set<string>();
    for (const p of clean.keys()) {
      for (let sub = p; sub !== '.' && sub !== ''; sub = dirname(sub)) wanted.add(sub);
    }
    toRemove = current.filter((p) => !wanted.has(p));
    if (toRemove.length === 0 && !(await needsWrite(clean, oldTsPath))) return false;
  }

  const tsDir = await mkdtemp(join(targetDir, timestampPrefix(now)));
  // group and others must be able to traverse, whatever the umask
  await chmod(tsDir, 0o755);
  try {
    for (const [p, f] of clean) {
      const full = join(tsDir, p);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, f.data, { mode: f.mode });
      await chmod(full, f.mode);
    }
    for (const p of clean.keys()) {
      const top = p.split('/')[0] ?? p;
      const visible = join(targetDir, top);
      if (!(await exists(visible))) await symlink(join(dataDirName, top), visible);
    }
    const tmpLink = join(targetDir, newDataDirName);
    await rm(tmpLink, { force: true });
    await symlink(tsDir.slice(targetDir.length + 1), tmpLink);
    await rename(tmpLink, dataDirPath);
  } catch (e) {
    await rm(tsDir, { recursive: true, force: true });
    throw e;
  }
  for (const p of toRemove) {
    // only the top-level symlinks are user-visible; deeper paths vanish with the old directory
    if (!p.includes('/')) await unlink(join(targetDir, p)).catch(() => undefined);
  }
  if (oldTsPath) await rm(oldTsPath, { recursive: true, force: true });
  return true;
}
