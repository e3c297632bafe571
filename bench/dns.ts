/**
 * bench/dns: queries/s and latency of cluster DNS under dnsperf-style load (a fixed number of UDP
 * queries in flight), through the kube-dns Service address as pods query it and straight at the
 * node's DNS server, with 200 Services in the cluster. The client runs in a pod's network
 * namespace (Node.js from the node). Prints figures; asserts nothing. Needs root and containerd.
 * Run: `npm run build && node dist/bench/dns.js [--seconds S] [--concurrency N]`.
 */
import { pool, startLabCluster, numberArg } from './bench-support.js';

const SECONDS = numberArg('seconds', 10);
const CONCURRENCY = numberArg('concurrency', 20);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/dns runs a real node: run it as root');
  const lab = await startLabCluster('dns', ['sh', 'sleep']);
  try {
    const c = lab.cluster;
    await c.k(['run', 'client', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '86400']);
    await c.k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=90s']);
    await pool(200, 8, async (i) => void (await c.k(['create', 'service', 'clusterip', `svc-${i}`, '--tcp=80:8080'])));
    const dnsEndpoint = (await c.k(['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=kube-dns', '-o', 'jsonpath={.items[0].endpoints[0].addresses[0]}'])).trim();
    process.stdout.write(`bench/dns: ${CONCURRENCY} queries in flight for ${SECONDS} s, 200 Services (2 shared cores)\n`);
    process.stdout.write('| path | queries/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n');
    for (const [name, server] of [['kube-dns Service 10.43.0.10', '10.43.0.10:53'], [`the node's server ${dnsEndpoint}`, `${dnsEndpoint}:53`]] as const) {
      await lab.load(['dns', server, 'svc-7.default.svc.cluster.local', '--seconds', '2', '--concurrency', String(CONCURRENCY)], 'client');
      const r = await lab.load(['dns', server, 'svc-7.default.svc.cluster.local', '--seconds', String(SECONDS), '--concurrency', String(CONCURRENCY)], 'client');
      process.stdout.write(`| ${name} | ${Math.round(r.perSecond)} | ${(r.p50 ?? NaN).toFixed(2)} | ${(r.p99 ?? NaN).toFixed(2)} | ${r.errors} |\n`);
    }
  } finally {
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
