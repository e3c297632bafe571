/**
 * Starts a real `k8ts server` process for end-to-end tests, the way a user would (the compiled
 * CLI), on loopback, with its own data dir, and runs the real `kubectl` against it.
 */
import type { LabMachine } from './network-lab.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { masqueradeChain } from '../../src/network/pod-network.js';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const cli = join(repoRoot, 'dist', 'src', 'cmd', 'k8ts.js');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ClusterOptions {
  /** etcd endpoint (`http://127.0.0.1:port`) or undefined for the embedded SQLite store. */
  etcd?: string;
  dataDir?: string;
  extraArgs?: string[];
  /** Simulated nodes to run (default: none — an API-only server). */
  simNodes?: number;
  /**
   * Run this machine's node with real containers (`--runtime containerd`), named `nodeName`, on a
   * bridge and pod range of its own (and any free kubelet port), so that test clusters running
   * side by side — or a k8ts of the machine's own — do not meet.
   */
  containerd?: { nodeName: string };
  /**
   * Run the server on this machine of a network lab (its own network namespace), reached at the
   * machine's address. With `containerd`, its node has the namespace's network to itself: the
   * default bridge, pod range and kubelet port, and kube-proxy programs the namespace's iptables.
   * Without a machine, a containerd node runs no kube-proxy and no network policies: the host's
   * iptables are left alone (but for the pod masquerade chain of its bridge, removed at the end).
   */
  machine?: LabMachine;
}

export interface TestCluster {
  dataDir: string;
  kubeconfig: string;
  port: number;
  server: string;
  /** Runs kubectl with this cluster's kubeconfig; never throws on a non-zero exit. */
  kubectl(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Like kubectl but throws with stderr when it fails; returns stdout. */
  k(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<string>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait (no clean shutdown). */
  kill9(): Promise<void>;
  /** Starts the server again on the same data dir and port. */
  restart(): Promise<void>;
  /** Stops and deletes the data dir. */
  destroy(): Promise<void>;
  /** The server's stderr so far (for failing tests). */
  logs(): string;
  /** The server process id. */
  pid(): number;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
    // A command that exits before reading its input (most do) would fail the write with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Resolves when the process prints `text` on stdout; fails with its logs when it exits first or takes 60 s. */
function untilPrinted(proc: ChildProcess, text: string, what: string, logs: () => string): Promise<void> {
  return new Promise<void>((ready, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not print "${text}" in 60s:\n${logs()}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        ready();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code}:\n${logs()}`));
    });
  });
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'k8ts-e2e-'));
  const home = mkdtempSync(join(tmpdir(), 'k8ts-home-'));
  const port = await freePort();
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  let child: ChildProcess | undefined;
  let logs = '';
  // Linux interface names hold 15 characters.
  const machine = opts.machine;
  const bridge = opts.containerd && !machine ? `k8tse${Math.random().toString(36).slice(2, 8)}` : '';
  const podRange = `10.${100 + Math.floor(Math.random() * 100)}.0.0/16`;
  const host = machine?.ip ?? '127.0.0.1';
  const nodeArgs = opts.containerd
    ? machine
      ? ['--runtime', 'containerd', '--node-name', opts.containerd.nodeName]
      : ['--runtime', 'containerd', '--node-name', opts.containerd.nodeName, '--cni-bridge', bridge, '--kubelet-port', '0', '--cluster-cidr', podRange, '--disable-kube-proxy', '--disable-network-policy', '--disable-ingress']
    : opts.simNodes
      ? ['--runtime', 'sim', '--sim-nodes', String(opts.simNodes)]
      : ['--disable-agent'];

  const launch = async (): Promise<void> => {
    const args = [cli, 'server', '--data-dir', dataDir, '--https-listen-port', String(port), '--bind-address', host, '--write-kubeconfig', kubeconfig, '--log-level', 'warn', ...nodeArgs, ...(opts.extraArgs ?? [])];
    if (opts.etcd) args.push('--datastore-endpoint', `etcd://${opts.etcd.replace(/^http:\/\//, '')}`);
    const proc = machine ? spawn(machine.exec[0]!, [...machine.exec.slice(1), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    await untilPrinted(proc, 'k8ts server is ready', 'k8ts server', () => logs);
  };

  const waitExit = (signal: NodeJS.Signals): Promise<void> =>
    new Promise((done) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill(signal);
    });

  await launch();
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: home };
  const cluster: TestCluster = {
    dataDir,
    kubeconfig,
    port,
    server: `https://${host}:${port}`,
    kubectl: (args, o = {}) => run('kubectl', args, { input: o.input, env: { ...env, ...o.env } }),
    async k(args, o = {}) {
      const r = await cluster.kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    stop: () => waitExit('SIGTERM'),
    kill9: () => waitExit('SIGKILL'),
    async restart() {
      await waitExit('SIGTERM');
      await launch();
    },
    async destroy() {
      if (opts.containerd) {
        // Containers outlive the server (as they outlive a kubelet restart): delete every
        // workload and pod while the kubelet still runs, so nothing keeps running or mounted.
        await deleteWorkloads(cluster);
      }
      await waitExit('SIGTERM');
      if (opts.containerd) {
        if (bridge) {
          spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
          removeNatChain(masqueradeChain(bridge));
        }
        unmountUnder(dataDir);
      }
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
    logs: () => logs,
    pid: () => child?.pid ?? 0,
  };
  return cluster;
}

/**
 * Deletes every workload, then every pod, and waits until the pods are gone. The workloads go
 * first and orphan their pods: `kubectl delete all` deletes pods before Deployments, whose
 * ReplicaSets make new pods that would still be terminating when the kubelet stops (and their
 * containers would run on); and pods the garbage collector deletes get their full grace period.
 */
export async function deleteWorkloads(cluster: Pick<TestCluster, 'kubectl'>): Promise<void> {
  await cluster.kubectl(['delete', 'deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,replicationcontrollers', '--all', '--all-namespaces', '--cascade=orphan', '--wait=true', '--timeout=60s']).catch(() => undefined);
  await cluster.kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=1', '--wait=true', '--timeout=180s']).catch(() => undefined);
}

/** Detaches whatever is still mounted under `dir` (a pod that would not go), so it can be removed. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
  for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

/** Removes a nat chain a test node left in the host's iptables, and the rules that jump to it. */
export function removeNatChain(chain: string): void {
  const saved = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of saved.split('\n')) {
    const m = /^-A (\S+) (.*-j (\S+))$/.exec(line);
    if (m && m[3] === chain && m[1] !== chain) spawnSync('sh', ['-c', `iptables -t nat -D ${m[1]} ${m[2]}`], { stdio: 'ignore' });
  }
  spawnSync('iptables', ['-t', 'nat', '-F', chain], { stdio: 'ignore' });
  spawnSync('iptables', ['-t', 'nat', '-X', chain], { stdio: 'ignore' });
}

/** Writes an executable editor script for `kubectl edit` that runs `sed` expressions on the file. */
export function sedEditor(dir: string, ...expressions: string[]): string {
  const path = join(dir, `editor-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(path, `#!/bin/sh\nsed -i ${expressions.map((e) => `-e '${e}'`).join(' ')} "$1"\n`);
  chmodSync(path, 0o755);
  return path;
}

export interface TestAgent {
  /** SIGKILL and wait: the machine is gone, as far as the server can tell. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
  /** The agent process id. */
  pid(): number;
}

/**
 * Starts `k8ts agent` joining `cluster` with the token the server saved, as a user would copy it;
 * resolves once the agent says it joined.
 */
export async function startAgent(cluster: TestCluster, args: string[], machine?: LabMachine): Promise<TestAgent> {
  const token = readFileSync(join(cluster.dataDir, 'server', 'token'), 'utf8').trim();
  const argv = [cli, 'agent', '--server', cluster.server, '--token', token, '--log-level', 'warn', ...args];
  const proc = machine ? spawn(machine.exec[0]!, [...machine.exec.slice(1), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  proc.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  await untilPrinted(proc, 'k8ts agent joined', 'k8ts agent', () => logs);
  const waitExit = (signal: NodeJS.Signals): Promise<void> =>
    new Promise((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill(signal);
    });
  return { kill9: () => waitExit('SIGKILL'), stop: () => waitExit('SIGTERM'), logs: () => logs, pid: () => proc.pid ?? 0 };
}
