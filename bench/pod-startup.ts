/**
 * bench/pod-startup: how long a pod takes from creation to Running and Ready on real containers
 * (image present), next to what containerd alone takes for the same sandbox and container through
 * raw CRI calls (the kubelet's own sandbox and container configs), in the same run on the same
 * containerd. Pods are created one after another (the
 * latency of one pod) and then all at once (a burst). Prints figures; asserts nothing. Needs root.
 * Run: `npm run build && node dist/bench/pod-startup.js [--pods N]`.
 *
 * Readiness is seen through a watch on pods, so the figures are what a client observes.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster } from '../test/support/cluster.js';
import { rawClient } from '../test/support/api-client.js';
import { busyboxImageArchive } from '../test/support/containerd.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CriClient } from '../src/kubelet/cri/cri-client.js';
import { containerConfig, podSandboxConfig, type CriMount } from '../src/kubelet/container-config.js';
import { getJSON, openWatch, percentile, pool } from './bench-support.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const PODS = arg('pods', 100);
const NS = 'default';
const IMAGE = 'docker.io/library/busybox:1.36';

interface PodObj {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `${label.padEnd(34)} p50 ${percentile(s, 50).toFixed(0).padStart(5)} ms   p99 ${percentile(s, 99).toFixed(0).padStart(5)} ms   max ${s[s.length - 1]!.toFixed(0).padStart(5)} ms`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/pod-startup runs real containers: run it as root');
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-startup-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive(IMAGE, join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep']);
  const cluster = await startCluster({ dataDir, containerd: { nodeName: 'bench-node' } });
  const api = rawClient(cluster.kubeconfig, cluster.port, 32);
  const cri = new CriClient(`unix://${join(dataDir, 'agent', 'containerd', 'containerd.sock')}`);
  try {
    await cluster.k(['wait', '--for=condition=Ready', 'node/bench-node', '--timeout=60s']);
    // Ready times, as the watch sees them.
    const readyAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const rv = Number((await getJSON<{ metadata: { resourceVersion: string } }>(api, `/api/v1/namespaces/${NS}/pods?limit=1`)).metadata.resourceVersion);
    // One pod as k8ts ran it (defaults filled in), for containerd alone to run the same way.
    let template: Pod | undefined;
    const watch = await openWatch<PodObj>(api, cluster.port, `/api/v1/namespaces/${NS}/pods`, rv, (_type, pod) => {
      const name = pod.metadata.name;
      if (name.startsWith('seq-')) template = pod as Pod;
      if (pod.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, performance.now());
      if (readyAt.has(name) || !pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
      readyAt.set(name, performance.now());
      waiters.get(name)?.();
    }, () => undefined);
    const podBody = (name: string): unknown => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    });
    // Where one pod's time goes: create → bound (API server + scheduler), bound → Ready (kubelet).
    const toBound: number[] = [];
    const boundToReady: number[] = [];
    const startPod = async (name: string, split = false): Promise<number> => {
      const ready = new Promise<void>((resolve) => waiters.set(name, resolve));
      const t0 = performance.now();
      const res = await api.call('POST', `/api/v1/namespaces/${NS}/pods`, podBody(name));
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.body}`);
      await ready;
      if (split) {
        toBound.push(boundAt.get(name)! - t0);
        boundToReady.push(readyAt.get(name)! - boundAt.get(name)!);
      }
      return readyAt.get(name)! - t0;
    };
    const deleteAll = async (): Promise<void> => {
      await cluster.k(['delete', 'pods', '--all', '--grace-period=0', '--wait=true', '--timeout=300s']);
    };

    await startPod('warm-up');
    await deleteAll();

    process.stdout.write(`bench/pod-startup: ${PODS} pods, busybox image present, one node on this machine (${process.arch}, shared cores)\n`);
    const sequential: number[] = [];
    for (let i = 0; i < PODS; i++) sequential.push(await startPod(`seq-${i}`, true));
    await deleteAll();

    const burst: number[] = new Array<number>(PODS);
    const burstSeconds = await pool(PODS, PODS, async (i) => {
      burst[i] = await startPod(`burst-${i}`);
    });
    await deleteAll();
    watch.stop();

    // containerd alone: the same sandbox (with its network) and container by raw CRI calls, with
    // the very configs the kubelet sends (cgroup parent, seccomp, DNS, resources, labels) and the
    // same three mounts (service-account token, /etc/hosts, termination log), prepared beforehand.
    const raw: number[] = [];
    for (let i = 0; i < PODS; i++) {
      const pod: Pod = { ...template!, metadata: { name: `raw-${i}`, namespace: NS, uid: randomUUID() }, status: {} };
      const dir = join(dataDir, 'bench-raw', String(i));
      mkdirSync(join(dir, 'logs'), { recursive: true });
      mkdirSync(join(dir, 'token'), { recursive: true });
      for (const f of ['token/token', 'token/ca.crt', 'token/namespace', 'etc-hosts', 'termination-log']) writeFileSync(join(dir, f), 'x\n');
      const mounts: CriMount[] = [
        { containerPath: '/var/run/secrets/kubernetes.io/serviceaccount', hostPath: join(dir, 'token'), readonly: true },
        { containerPath: '/etc/hosts', hostPath: join(dir, 'etc-hosts') },
        { containerPath: '/dev/termination-log', hostPath: join(dir, 'termination-log') },
      ];
      const dns = { servers: ['10.43.0.10'], searches: [`${NS}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
      const sandboxConfig = podSandboxConfig(pod, { attempt: 0, logDirectory: join(dir, 'logs'), dns });
      const config = containerConfig(pod, pod.spec!.containers[0]!, { attempt: 0, env: [], mounts, image: IMAGE });
      const t0 = performance.now();
      const { podSandboxId } = await cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
      const { containerId } = await cri.runtime<{ containerId: string }>('CreateContainer', { podSandboxId, sandboxConfig, config });
      await cri.runtime('StartContainer', { containerId });
      raw.push(performance.now() - t0);
      await cri.runtime('StopPodSandbox', { podSandboxId });
      await cri.runtime('RemovePodSandbox', { podSandboxId });
    }

    const p = (ms: number[], q: number): number => percentile([...ms].sort((a, b) => a - b), q);
    process.stdout.write(`${summary('k8ts, one pod at a time', sequential)}\n`);
    process.stdout.write(`${summary('  of which create → bound', toBound)}\n`);
    process.stdout.write(`${summary('  of which bound → Ready (kubelet)', boundToReady)}\n`);
    process.stdout.write(`${summary(`k8ts, burst of ${PODS}`, burst)}   (all Ready in ${burstSeconds.toFixed(1)} s)\n`);
    process.stdout.write(`${summary('containerd alone (raw CRI)', raw)}\n`);
    process.stdout.write(`ratio k8ts / containerd alone, one at a time: p50 ${(p(sequential, 50) / p(raw, 50)).toFixed(2)}×, p99 ${(p(sequential, 99) / p(raw, 99)).toFixed(2)}×\n`);
  } finally {
    cri.close();
    api.close();
    await cluster.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
