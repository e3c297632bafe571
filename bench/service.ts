/**
 * bench/service: HTTP requests/s and latency to busybox httpd pods through a ClusterIP (kube-proxy's
 * iptables DNAT) and through the Ingress (the node's reverse proxy), next to the same client
 * hitting the pod IPs directly (round robin over the same pods) in the same run — the ratios are
 * the cost of each path (targets: ClusterIP within 1.1× of direct, Ingress within 2×). The
 * client runs on the node (a network-lab machine), a new connection per request, as busybox
 * httpd closes them. Each path runs `--rounds` times, interleaved; medians are printed.
 * Prints figures; asserts nothing. Needs root and containerd.
 * Run: `npm run build && node dist/bench/service.js [--seconds S] [--concurrency N] [--rounds N]`.
 */
import { startLabCluster, type LoadResult, numberArg } from './bench-support.js';

const SECONDS = numberArg('seconds', 8);
const CONCURRENCY = numberArg('concurrency', 8);
const ROUNDS = numberArg('rounds', 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/service runs real containers: run it as root');
  const lab = await startLabCluster('service', ['sh', 'mkdir', 'httpd', 'echo']);
  const { cluster: c } = lab;
  try {
    await c.k(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=2', '--port=8080', '--', 'sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']);
    await c.k(['expose', 'deployment', 'web', '--port=8080']);
    await c.k(['create', 'ingress', 'web', '--rule=web.bench/*=web:8080']);
    await c.k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    const podIPs = (await c.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(' ');
    const clusterIP = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const common = ['--seconds', String(SECONDS), '--concurrency', String(Math.max(1, Math.floor(CONCURRENCY / podIPs.length)))];
    process.stdout.write(`bench/service: ${podIPs.length} busybox httpd pods, ${CONCURRENCY} requests in flight, ${SECONDS} s × ${ROUNDS} rounds per path (2 shared cores)\n`);
    const paths: Record<string, () => Promise<LoadResult>> = {
      // Direct: the same number of clients per pod as the Service spreads over them.
      'pod IPs (direct)': async () => {
        const parts = await Promise.all(podIPs.map((ip) => lab.load(['http', `http://${ip}:8080/index.html`, ...common])));
        const seconds = Math.max(...parts.map((p) => p.seconds));
        return { requests: parts.reduce((n, p) => n + p.requests, 0), errors: parts.reduce((n, p) => n + p.errors, 0), seconds, perSecond: parts.reduce((n, p) => n + p.perSecond, 0), p50: Math.max(...parts.map((p) => p.p50)), p99: Math.max(...parts.map((p) => p.p99)) };
      },
      ClusterIP: () => lab.load(['http', `http://${clusterIP}:8080/index.html`, '--seconds', String(SECONDS), '--concurrency', String(CONCURRENCY)]),
      Ingress: () => lab.load(['http', `http://${lab.machine.ip}:80/index.html`, '--host', 'web.bench', '--seconds', String(SECONDS), '--concurrency', String(CONCURRENCY)]),
    };
    await lab.load(['http', `http://${lab.machine.ip}:80/index.html`, '--host', 'web.bench', '--seconds', '2']); // warm up
    const results: Record<string, LoadResult[]> = {};
    for (let r = 0; r < ROUNDS; r++) for (const [name, f] of Object.entries(paths)) (results[name] ??= []).push(await f());
    const direct = median(results['pod IPs (direct)']!.map((x) => x.perSecond));
    process.stdout.write('| path | requests/s (median) | p50 ms | p99 ms | errors | direct ÷ path |\n|---|---|---|---|---|---|\n');
    for (const [name, rs] of Object.entries(results)) {
      const rps = median(rs.map((x) => x.perSecond));
      process.stdout.write(`| ${name} | ${Math.round(rps)} | ${median(rs.map((x) => x.p50)).toFixed(1)} | ${median(rs.map((x) => x.p99)).toFixed(1)} | ${rs.reduce((n, x) => n + x.errors, 0)} | ${(direct / rps).toFixed(2)}× |\n`);
    }
  } finally {
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
