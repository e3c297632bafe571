/**
 * bench/pod-startup: how long a pod takes from creation to Running and Ready on real containers
 * (image present), next to what containerd alone takes for the same sandbox and container through
 * raw CRI calls, in the same run on the same containerd. Pods are created one after another (the
 * latency of one pod) and then all at once (a burst). Prints figures; asserts nothing. Needs root.
 * Run: `npm run build && node dist/bench/pod-startup.js [--pods N]`.
 *
 * Readiness is seen through a watch on pods, so the figures are what a client observes.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster } from '../test/support/cluster.js';
import { rawClient } from '../test/support/api-client.js';
import { busyboxImageArchive } from '../test/support/containerd.js';
import { CriClient } from '../src/kubelet/cri/cri-client.js';
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
    const waiters = new Map<string, () => void>();
    const rv = Number((await getJSON<{ metadata: { resourceVersion: string } }>(api, `/api/v1/namespaces/${NS}/pods?limit=1`)).metadata.resourceVersion);
    const watch = await openWatch<PodObj>(api, cluster.port, `/api/v1/namespaces/${NS}/pods`, rv, (_type, pod) => {
      const name = pod.metadata.name;
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
    const startPod = async (name: string): Promise<number> => {
      const ready = new Promise<void>((resolve) => waiters.set(name, resolve));
      const t0 = performance.now();
      const res = await api.call('POST', `/api/v1/namespaces/${NS}/pods`, podBody(name));
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.body}`);
      await ready;
      return readyAt.get(name)! - t0;
    };
    const deleteAll = async (): Promise<void> => {
      await cluster.k(['delete', 'pods', '--all', '--grace-period=0', '--wait=true', '--timeout=300s']);
    };

    await startPod('warm-up');
    await deleteAll();

    process.stdout.write(`bench/pod-startup: ${PODS} pods, busybox image present, one node on this machine (${process.arch}, shared cores)\n`);
    const sequential: number[] = [];
    for (let i = 0; i < PODS; i++) sequential.push(await startPod(`seq-${i}`));
    await deleteAll();

    const burst: number[] = new Array<number>(PODS);
    const burstSeconds = await pool(PODS, PODS, async (i) => {
      burst[i] = await startPod(`burst-${i}`);
    });
    await deleteAll();
    watch.stop();

    // containerd alone: the same sandbox (with its network) and container, by raw CRI calls.
    const raw: number[] = [];
    for (let i = 0; i < PODS; i++) {
      const logDirectory = join(dataDir, 'bench-raw', String(i));
      mkdirSync(logDirectory, { recursive: true });
      const sandboxConfig = { metadata: { name: `raw-${i}`, uid: `raw-uid-${i}`, namespace: NS, attempt: 0 }, hostname: `raw-${i}`, logDirectory, linux: {} };
      const t0 = performance.now();
      const { podSandboxId } = await cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
      const { containerId } = await cri.runtime<{ containerId: string }>('CreateContainer', {
        podSandboxId,
        sandboxConfig,
        config: { metadata: { name: 'main', attempt: 0 }, image: { image: IMAGE }, args: ['sleep', '3600'], logPath: 'main/0.log', linux: {} },
      });
      await cri.runtime('StartContainer', { containerId });
      raw.push(performance.now() - t0);
      await cri.runtime('StopPodSandbox', { podSandboxId });
      await cri.runtime('RemovePodSandbox', { podSandboxId });
    }

    const p = (ms: number[], q: number): number => percentile([...ms].sort((a, b) => a - b), q);
    process.stdout.write(`${summary('k8ts, one pod at a time', sequential)}\n`);
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
