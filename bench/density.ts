/**
 * bench/density: 110 pods (the kubelet's default maximum) on one real node — time until all are
 * Running, then the CPU and memory of the `k8ts server` process that runs the kubelet while the
 * pods idle. That process also holds the API server, store, scheduler and controllers, so its
 * figures are an upper bound for the kubelet; the same process with no pods is measured first and
 * the difference is printed too. containerd and the shims are not counted. Prints figures; asserts
 * nothing. Needs root. Run: `npm run build && node dist/bench/density.js [--pods N] [--idle S]`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster } from '../test/support/cluster.js';
import { busyboxImageArchive } from '../test/support/containerd.js';
import { cpuSeconds, rssMB } from './bench-support.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const PODS = arg('pods', 110);
const IDLE_S = arg('idle', 30);

/** CPU (% of one core) and RSS (MB) of a process over `seconds`. */
async function steady(pid: number, seconds: number): Promise<{ cpuPercent: number; rss: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuSeconds(pid) - c0;
  return { cpuPercent: (cpu / ((performance.now() - t0) / 1000)) * 100, rss: rssMB(pid) };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/density runs real containers: run it as root');
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-density-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep']);
  const cluster = await startCluster({ dataDir, containerd: { nodeName: 'density-node' } });
  try {
    await cluster.k(['wait', '--for=condition=Ready', 'node/density-node', '--timeout=60s']);
    const pid = cluster.pid();
    process.stdout.write(`bench/density: ${PODS} pods on one node, idle window ${IDLE_S} s (2 shared cores)\n`);
    const empty = await steady(pid, IDLE_S);
    process.stdout.write(`no pods:        k8ts server ${empty.cpuPercent.toFixed(1)}% of a core, RSS ${empty.rss} MB\n`);
    const t0 = performance.now();
    await cluster.k(['create', 'deployment', 'idle', '--image=busybox:1.36', `--replicas=${PODS}`, '--', 'sleep', '86400']);
    await cluster.k(['rollout', 'status', 'deployment/idle', '--timeout=600s']);
    const running = (performance.now() - t0) / 1000;
    const count = (await cluster.k(['get', 'pods', '--field-selector=status.phase=Running', '--no-headers'])).trim().split('\n').filter(Boolean).length;
    process.stdout.write(`${count} pods Running and Ready ${running.toFixed(1)} s after the Deployment was created\n`);
    await new Promise((r) => setTimeout(r, 10_000));
    const full = await steady(pid, IDLE_S);
    process.stdout.write(`${PODS} idle pods: k8ts server ${full.cpuPercent.toFixed(1)}% of a core, RSS ${full.rss} MB\n`);
    process.stdout.write(`difference (what the pods cost the process): ${(full.cpuPercent - empty.cpuPercent).toFixed(1)} percentage points of a core, ${full.rss - empty.rss} MB\n`);
  } finally {
    await cluster.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
