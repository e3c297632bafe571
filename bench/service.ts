/**
 * bench/service: HTTP requests/s and latency to busybox httpd pods through a ClusterIP (kube-proxy's
 * iptables DNAT) and through the Ingress (the node's reverse proxy), next to the same client
 * hitting the pod IPs directly (round robin over the same pods) in the same run — the ratios are
 * the cost of each path (targets: ClusterIP within 1.1× of direct, Ingress within 2×). The
 * client runs in a pod's network namespace (Node.js from the node, so the pod's traffic is what
 * kube-proxy sees). It is one HTTP/1.1 client on every path, keeping its connections where the
 * server lets it, as wrk, hey and browsers do: busybox httpd closes each one, so direct and
 * through the ClusterIP that is a new connection per request, while the ingress keeps the client's
 * and opens a new one to a pod per request. One more Ingress row has the client open a new
 * connection per request too. Each path runs `--rounds` times, interleaved; medians are printed,
 * with each path's TCP connections per request as the client saw them.
 * Prints figures; asserts nothing. Needs root and containerd.
 * Run: `npm run build && node dist/bench/service.js [--seconds S] [--concurrency N] [--rounds N]`.
 */
import { cpuSeconds, startLabCluster, type LoadResult, numberArg } from './bench-support.js';

const SECONDS = numberArg('seconds', 8);
const CONCURRENCY = numberArg('concurrency', 8);
const ROUNDS = numberArg('rounds', 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/service runs real containers: run it as root');
  const lab = await startLabCluster('service', ['sh', 'mkdir', 'httpd', 'echo', 'sleep']);
  const { cluster: c } = lab;
  try {
    await c.k(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=2', '--port=8080', '--', 'sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']);
    await c.k(['expose', 'deployment', 'web', '--port=8080']);
    await c.k(['create', 'ingress', 'web', '--rule=web.bench/*=web:8080']);
    // One client pod per path: a connection's conntrack entry lingers 2 min after it closes, and a
    // ClusterIP connection from a port that just reached the same pod directly would clash with it.
    for (const client of ['client-direct', 'client-service', 'client-ingress']) await c.k(['run', client, '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '86400']);
    await c.k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    await c.k(['wait', '--for=condition=Ready', 'pod/client-direct', 'pod/client-service', 'pod/client-ingress', '--timeout=90s']);
    // A client that opens ~5,000 connections/s needs its ports back: where it closes first (on
    // some of its connections to the ingress both ends close at once), a port stays in TIME_WAIT
    // for 60 s, and after ~28,000 of them its connects slow tenfold. Load generators are set up to
    // reuse such ports; so is this one, on every path alike.
    for (const client of ['client-direct', 'client-service', 'client-ingress']) await lab.inPod(client, ['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1']);
    const podIPs = (await c.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(' ');
    const clusterIP = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    process.stdout.write(`bench/service: ${podIPs.length} busybox httpd pods, ${CONCURRENCY} requests in flight, ${SECONDS} s × ${ROUNDS} rounds per path (2 shared cores)\n`);
    const load = (urls: string, client: string, ...extra: string[]): Promise<LoadResult> =>
      lab.load(['http', urls, ...extra, '--seconds', String(SECONDS), '--concurrency', String(CONCURRENCY)], client);
    const ingressURL = `http://${lab.machine.ip}:80/index.html`;
    const paths: Record<string, () => Promise<LoadResult>> = {
      // Direct: the pods in turn, as the Service spreads over them.
      'pod IPs (direct)': () => load(podIPs.map((ip) => `http://${ip}:8080/index.html`).join(','), 'client-direct', '--keep-alive'),
      ClusterIP: () => load(`http://${clusterIP}:8080/index.html`, 'client-service', '--keep-alive'),
      Ingress: () => load(ingressURL, 'client-ingress', '--host', 'web.bench', '--keep-alive'),
      // A client that never keeps a connection: two connections per request, one to the ingress
      // and one from it to a pod, against one direct.
      'Ingress, a new connection per request': () => load(ingressURL, 'client-ingress', '--host', 'web.bench'),
    };
    await lab.load(['http', ingressURL, '--host', 'web.bench', '--seconds', '2'], 'client-ingress'); // warm up
    // The k8ts process's CPU per request in each round: kube-proxy's part is in the kernel (none of
    // it shows here), the ingress's is its Node.js event loop.
    const results: Record<string, Array<LoadResult & { k8tsCpuUs: number }>> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, f] of Object.entries(paths)) {
        const cpu0 = cpuSeconds(c.pid());
        const result = await f();
        (results[name] ??= []).push({ ...result, k8tsCpuUs: ((cpuSeconds(c.pid()) - cpu0) * 1e6) / Math.max(1, result.requests + result.errors) });
      }
    }
    const direct = median(results['pod IPs (direct)']!.map((x) => x.perSecond));
    process.stdout.write('| path | requests/s (median) | p50 ms | p99 ms | errors | direct ÷ path | client connections/request | k8ts CPU µs/request | client CPU µs/request |\n|---|---|---|---|---|---|---|---|---|\n');
    for (const [name, rs] of Object.entries(results)) {
      const rps = median(rs.map((x) => x.perSecond));
      process.stdout.write(`| ${name} | ${Math.round(rps)} | ${(median(rs.map((x) => x.p50)) ?? NaN).toFixed(1)} | ${(median(rs.map((x) => x.p99)) ?? NaN).toFixed(1)} | ${rs.reduce((n, x) => n + x.errors, 0)} | ${(direct / rps).toFixed(2)}× | ${median(rs.map((x) => x.connectionsPerRequest ?? NaN)).toFixed(2)} | ${Math.round(median(rs.map((x) => x.k8tsCpuUs)))} | ${Math.round(median(rs.map((x) => x.cpuPerRequestUs)))} |\n`);
    }
  } finally {
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
