/**
 * What the benchmarks share: a bounded pool of concurrent work, percentiles, a process's memory
 * and CPU time from /proc, and CPU profiles of a spawned server.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import type { RawClient } from '../test/support/api-client.js';
import { deleteWorkloads, run, startCluster, type TestCluster } from '../test/support/cluster.js';
import { busyboxImageArchive } from '../test/support/containerd.js';
import { createNetworkLab, podNetns, type LabMachine } from '../test/support/network-lab.js';

/** The p-th percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs work(0 … n-1) with at most `concurrency` in flight; answers the seconds it took. */
export async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await work(i);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** Resident memory of a process, in MB. */
export function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** A process's resident memory split as the kernel counts it: anonymous (heaps), file-backed (code), shared. */
export function rssBreakdownMB(pid: number): { anon: number; file: number; shmem: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024);
  return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

/** utime + stime of a process, in seconds (clock ticks are 100/s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `start` with `process.execPath` pointing at a wrapper that adds `--cpu-prof` (node refuses
 * it in NODE_OPTIONS, and startCluster spawns `process.execPath`); the profile is written when the
 * server exits cleanly.
 */
export async function withCpuProfile<T>(dir: string | undefined, start: () => Promise<T>): Promise<T> {
  if (!dir) return start();
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'node-cpu-prof.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' --cpu-prof --cpu-prof-dir='${dir}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const real = process.execPath;
  process.execPath = wrapper;
  try {
    return await start();
  } finally {
    process.execPath = real;
  }
}

/** GET and parse, failing with the status and the start of the body. */
export async function getJSON<T>(api: RawClient, path: string): Promise<T> {
  const r = await api.call('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as T;
}

/** Opens a streaming watch; calls `onEvent` per event line. */
export function openWatch<Obj = unknown>(api: RawClient, port: number, path: string, rv: number, onEvent: (type: string, obj: Obj) => void, onEnd: (why: string) => void): Promise<{ stop(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `${path}?watch=true&resourceVersion=${rv}&timeoutSeconds=3600`, agent: api.agent }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${path}: ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: Obj };
          if (ev.type === 'ERROR') onEnd(`watch ${path}: ERROR ${JSON.stringify(ev.object).slice(0, 200)}`);
          onEvent(ev.type, ev.object);
        }
      });
      res.on('end', () => onEnd(`watch ${path} ended`));
      res.on('error', (e) => onEnd(`watch ${path}: ${e.message}`));
      resolve({ stop: () => req.destroy() });
    });
    req.on('error', (e) => reject(e));
    req.end();
  });
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** The load generator's own CPU per request, µs. */
  cpuPerRequestUs: number;
  /** TCP connections the load generator opened per request (HTTP only). */
  connectionsPerRequest?: number;
}

export interface LabCluster {
  cluster: TestCluster;
  machine: LabMachine;
  /** Runs a command in pod `pod`'s network namespace; its stdout. */
  inPod(pod: string, cmd: string[]): Promise<string>;
  /** Runs bench/load.js on the node, or in the network namespace of pod `fromPod` (as that pod's traffic). */
  load(args: string[], fromPod?: string): Promise<LoadResult>;
  destroy(): Promise<void>;
}

/**
 * A k8ts server with a real node (containerd, kube-proxy, DNS, ingress) on a network-lab machine,
 * with a busybox image holding `applets`; `load` runs bench/load.js on that machine or, with
 * `fromPod`, inside a pod's network namespace — the node's own Node.js, the pod's network.
 */
export async function startLabCluster(name: string, applets: string[]): Promise<LabCluster> {
  const lab = createNetworkLab(1);
  const machine = lab.machines[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), `k8ts-bench-${name}-`));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), applets);
  const cluster = await startCluster({ dataDir, containerd: { nodeName: `${name}-node` }, machine });
  await cluster.k(['wait', '--for=condition=Ready', `node/${name}-node`, '--timeout=60s']);
  const loadScript = join(import.meta.dirname, 'load.js');
  /** Runs a command on the node or, with `pod`, in that pod's network namespace (its traffic is the pod's). */
  const inNetwork = async (pod: string | undefined, cmd: string[]): Promise<string> => {
    const exec = pod ? ['nsenter', `--net=/run/netns/${podNetns(machine, (await cluster.k(['get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim())}`] : machine.exec;
    const r = await run(exec[0]!, [...exec.slice(1), ...cmd], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`${cmd.join(' ')} on ${pod ?? 'the node'} failed: ${r.stderr}`);
    return r.stdout;
  };
  return {
    cluster,
    machine,
    inPod: (pod, cmd) => inNetwork(pod, cmd),
    load: async (args, fromPod) => JSON.parse(await inNetwork(fromPod, [process.execPath, loadScript, ...args])) as LoadResult,
    async destroy() {
      await deleteWorkloads(cluster);
      await cluster.destroy();
      lab.destroy();
    },
  };
}

/** `--name N` from the command line, or `dflt`. */
export function numberArg(name: string, dflt: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
