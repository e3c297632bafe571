/**
 * bench/density: 110 pods (the kubelet's default maximum) on one real node — time until all are
 * Running, then the CPU and memory of the process that runs the kubelet while the pods idle.
 * By default that is `k8ts server`, which also holds the API server, store, scheduler and
 * controllers, so its figures are an upper bound for the kubelet. With `--agent` the node is a
 * `k8ts agent` process of its own joined to a server that runs no node: its figures are the
 * kubelet's (with its heartbeats, its API client and its watch of the node's pods). The same
 * process with no pods is measured first and the difference is printed too. containerd and the
 * shims are not counted. Prints figures; asserts nothing. Needs root.
 * Run: `npm run build && node dist/bench/density.js [--pods N] [--idle S] [--agent]`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { deleteWorkloads, removeNatChain, startAgent, startCluster, unmountUnder, type TestAgent } from '../test/support/cluster.js';
import { busyboxImageArchive } from '../test/support/containerd.js';
import { masqueradeChain } from '../src/network/pod-network.js';
import { cpuSeconds, rssBreakdownMB, rssMB, numberArg } from './bench-support.js';

const PODS = numberArg('pods', 110);
const IDLE_S = numberArg('idle', 30);
const AGENT = process.argv.includes('--agent');

/** CPU (% of one core) over `seconds`, and RSS (MB) sampled each second of it: median and peak. */
async function steady(pid: number, seconds: number): Promise<{ cpuPercent: number; rss: number; peak: number; detail: string }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    samples.push(rssMB(pid));
  }
  const cpu = cpuSeconds(pid) - c0;
  samples.sort((a, b) => a - b);
  const parts = rssBreakdownMB(pid);
  const detail = `(median of ${samples.length} samples; peak ${samples.at(-1)}; now anonymous ${parts.anon}, file-backed ${parts.file})`;
  return { cpuPercent: (cpu / ((performance.now() - t0) / 1000)) * 100, rss: samples[samples.length >> 1]!, peak: samples.at(-1)!, detail };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/density runs real containers: run it as root');
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-density-'));
  // With --agent the node's state (containerd, images, pods) lives in a data dir of its own.
  const nodeDir = AGENT ? mkdtempSync(join(tmpdir(), 'k8ts-bench-density-agent-')) : dataDir;
  mkdirSync(join(nodeDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(nodeDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep']);
  const bridge = `k8tsd${Math.random().toString(36).slice(2, 8)}`;
  const cluster = AGENT ? await startCluster({ dataDir, extraArgs: ['--cluster-cidr', '10.199.0.0/16'] }) : await startCluster({ dataDir, containerd: { nodeName: 'density-node' } });
  let agent: TestAgent | undefined;
  try {
    if (AGENT) agent = await startAgent(cluster, ['--runtime', 'containerd', '--data-dir', nodeDir, '--node-name', 'density-node', '--kubelet-port', '0', '--cni-bridge', bridge, '--disable-kube-proxy', '--disable-network-policy', '--disable-ingress']);
    await cluster.k(['wait', '--for=condition=Ready', 'node/density-node', '--timeout=60s']);
    const pid = agent ? agent.pid() : cluster.pid();
    const what = agent ? 'k8ts agent' : 'k8ts server';
    process.stdout.write(`bench/density: ${PODS} pods on one node run by ${what}, idle window ${IDLE_S} s (2 shared cores)\n`);
    const empty = await steady(pid, IDLE_S);
    process.stdout.write(`no pods:        ${what} ${empty.cpuPercent.toFixed(1)}% of a core, RSS ${empty.rss} MB ${empty.detail}\n`);
    const t0 = performance.now();
    await cluster.k(['create', 'deployment', 'idle', '--image=busybox:1.36', `--replicas=${PODS}`, '--', 'sleep', '86400']);
    await cluster.k(['rollout', 'status', 'deployment/idle', '--timeout=600s']);
    const running = (performance.now() - t0) / 1000;
    const count = (await cluster.k(['get', 'pods', '--field-selector=status.phase=Running', '--no-headers'])).trim().split('\n').filter(Boolean).length;
    process.stdout.write(`${count} pods Running and Ready ${running.toFixed(1)} s after the Deployment was created\n`);
    await new Promise((r) => setTimeout(r, 10_000));
    const full = await steady(pid, IDLE_S);
    process.stdout.write(`${PODS} idle pods: ${what} ${full.cpuPercent.toFixed(1)}% of a core, RSS ${full.rss} MB ${full.detail}\n`);
    process.stdout.write(`difference (what the pods cost the process): ${(full.cpuPercent - empty.cpuPercent).toFixed(1)} percentage points of a core, ${full.rss - empty.rss} MB\n`);
  } finally {
    if (agent) {
      // The agent must still run while the pods are deleted, so that their containers stop.
      await deleteWorkloads(cluster);
      await agent.stop();
      spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      removeNatChain(masqueradeChain(bridge));
      unmountUnder(nodeDir);
      rmSync(nodeDir, { recursive: true, force: true });
    }
    await cluster.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
