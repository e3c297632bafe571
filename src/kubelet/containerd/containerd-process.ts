/**
 * The containerd that `k8ts server`/`k8ts agent` run for their kubelet, as k3s runs its embedded
 * one: its own config, root, state and socket under `DATA_DIR/agent/containerd`, the CRI plugin
 * pointed at our CNI config and our pause image, stopped with k8ts (containers keep running in
 * their shims and are found again after a restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupsUnavailable, cniBinDirs, findBinary, findCniBinDir } from './binaries.js';
import type { Logger } from '../../machinery/logger.js';
import { CriClient } from '../cri/cri-client.js';

export { findBinary, findCniBinDir } from './binaries.js';

export const PAUSE_IMAGE = 'k8ts.local/pause:1';


export interface ContainerdPaths {
  dir: string;
  socket: string;
  config: string;
  cniConfDir: string;
  log: string;
}

export function containerdPaths(agentDir: string): ContainerdPaths {
  const dir = join(agentDir, 'containerd');
  return { dir, socket: join(dir, 'containerd.sock'), config: join(dir, 'config.toml'), cniConfDir: join(agentDir, 'etc', 'cni', 'net.d'), log: join(dir, 'containerd.log') };
}

/** containerd's config (version 2 format, as containerd 1.6/1.7 read it). */
export function containerdConfig(paths: ContainerdPaths, cniBinDir: string, restrictOomScoreAdj: boolean): string {
  const q = (s: string): string => JSON.stringify(s);
  return `# Written by k8ts at every start; edits are lost.
version = 2
root = ${q(join(paths.dir, 'root'))}
state = ${q(join(paths.dir, 'state'))}

[grpc]
  address = ${q(paths.socket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE)}
  restrict_oom_score_adj = ${restrictOomScoreAdj}
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(cniBinDir)}
    conf_dir = ${q(paths.cniConfDir)}
`;
}

/**
 * Gives this process oom_score_adj -999, as the kubelet does for itself. Where that is not allowed
 * (inside a container, without CAP_SYS_RESOURCE) runc could not lower a sandbox's score either,
 * so containerd must be told to keep scores at or above its own.
 */
function protectFromOomKiller(): boolean {
  try {
    writeFileSync('/proc/self/oom_score_adj', '-999');
    return true;
  } catch {
    return false;
  }
}

export interface RunningContainerd {
  /** The CRI endpoint (`unix://…`). */
  endpoint: string;
  paths: ContainerdPaths;
  stop(): Promise<void>;
}

/**
 * Starts containerd for this agent and waits until its CRI answers. Fails with what to install
 * when containerd, runc or the CNI plugins are missing.
 */
export async function startContainerd(agentDir: string, log: Logger): Promise<RunningContainerd> {
  const bin = findBinary('containerd');
  if (!bin) throw new Error('containerd is not installed (Debian: apt-get install containerd runc containernetworking-plugins); or run with --runtime sim');
  if (!findBinary('runc', ['/usr/sbin', '/sbin'])) throw new Error('runc is not installed (Debian: apt-get install runc)');
  const cniBinDir = findCniBinDir();
  if (!cniBinDir) throw new Error(`CNI plugins not found in ${cniBinDirs.join(' or ')} (Debian: apt-get install containernetworking-plugins)`);
  const noCgroups = cgroupsUnavailable();
  if (noCgroups) throw new Error(noCgroups);
  const paths = containerdPaths(agentDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.cniConfDir, { recursive: true });
  writeFileSync(paths.config, containerdConfig(paths, cniBinDir, !protectFromOomKiller()));
  const out = openSync(paths.log, 'a');
  const child: ChildProcess = spawn(bin, ['--config', paths.config], { stdio: ['ignore', out, out], detached: false });
  let exited: number | null | undefined;
  let stopping = false;
  child.once('exit', (code) => {
    exited = code;
    if (stopping) log.info('containerd stopped', { code });
    else log.warn('containerd exited', { code, log: paths.log });
  });
  const endpoint = `unix://${paths.socket}`;
  const cri = new CriClient(endpoint);
  try {
    await cri.waitReady(30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`containerd did not answer on ${paths.socket}${exited !== undefined ? ` (it exited with ${exited})` : ''}; see ${paths.log}: ${(e as Error).message}`);
  } finally {
    cri.close();
  }
  log.info('containerd is running', { socket: paths.socket, pid: child.pid });
  return {
    endpoint,
    paths,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        stopping = true;
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
