/**
 * bench/proxy-sync: how long kube-proxy takes from an EndpointSlice change to programmed rules,
 * with 1,000 Services and 10,000 endpoints (target: under 1 s; Kubernetes' iptables proxier is
 * the reference). A real API server (loopback, no node) holds the objects; k8ts' KubeProxy runs
 * in this process against it, through the same informers as on a node, and programs the iptables
 * of a network namespace the bench makes. Each round changes one endpoint of one Service and
 * times from the update request to the end of the iptables-restore that carried it.
 * Prints figures; asserts nothing. Needs root.
 * Run: `npm run build && node dist/bench/proxy-sync.js [--services N] [--endpoints-per-service N] [--rounds N]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { startCluster } from '../test/support/cluster.js';
import { refs, SharedInformer } from '../src/client/informer.js';
import { createLogger } from '../src/machinery/logger.js';
import { KubeProxy } from '../src/proxy/kube-proxy.js';
import { systemIptables } from '../src/proxy/iptables.js';
import { svcChain } from '../src/proxy/iptables-rules.js';
import type { ServicePort } from '../src/proxy/service-ports.js';
import { percentile, pool, numberArg } from './bench-support.js';
import { HttpClient } from '../src/client/http-client.js';

const SERVICES = numberArg('services', 1000);
const PER = numberArg('endpoints-per-service', 10);
const ROUNDS = numberArg('rounds', 20);

const ip = (i: number): string => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
/** Where round `gen` moves the first endpoint of Service `s`. */
const moved = (s: number, gen: number): string => `172.${16 + (s >> 8)}.${s % 256}.${gen}`;
const slice = (s: number, gen: number) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `svc-${s}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${s}` } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: Array.from({ length: PER }, (_, e) => ({ addresses: [e === 0 && gen ? moved(s, gen) : ip(s * PER + e)], conditions: { ready: true }, nodeName: 'bench-node' })),
});

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/proxy-sync programs iptables: run it as root');
  const netns = `k8tsb${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', netns]);
  const cluster = await startCluster({});
  const client = HttpClient.fromKubeconfig(cluster.kubeconfig);
  try {
    process.stdout.write(`bench/proxy-sync: ${SERVICES} Services × ${PER} endpoints, ${ROUNDS} rounds (2 shared cores)\n`);
    const ref = refs.services;
    const t0 = performance.now();
    await pool(SERVICES, 32, async (s) => {
      await client.create(ref, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}` }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
      await client.create(refs.endpointslices, 'default', slice(s, 0));
    });
    process.stdout.write(`created in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const proxy = new KubeProxy({
      nodeName: 'bench-node',
      bridge: 'k8ts0',
      services: new SharedInformer(client, refs.services),
      endpointSlices: new SharedInformer(client, refs.endpointslices),
      log: createLogger('warn'),
      runner: systemIptables(['nsenter', `--net=/run/netns/${netns}`]),
    });
    const t1 = performance.now();
    await proxy.start();
    const rules = execFileSync('nsenter', [`--net=/run/netns/${netns}`, 'iptables-save'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').filter((l) => l.startsWith('-A ')).length;
    process.stdout.write(`first (full) sync: ${(proxy.lastSync()!.ms / 1000).toFixed(2)} s for ${rules} rules (${((performance.now() - t1) / 1000).toFixed(1)} s with the initial list)\n`);

    const times: number[] = [];
    const written: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const s = Math.floor(Math.random() * SERVICES);
      const current = await client.get(refs.endpointslices, 'default', `svc-${s}-x`);
      const start = Date.now();
      await client.update(refs.endpointslices, 'default', { ...slice(s, r), metadata: { ...slice(s, r).metadata, resourceVersion: current.metadata?.resourceVersion } });
      const want = `${moved(s, r)}:8080`;
      const chain = svcChain({ id: `default/svc-${s}:http`, protocol: 'TCP' } as ServicePort);
      for (;;) {
        const last = proxy.lastSync();
        if (last && last.at >= start && spawnSync('nsenter', [`--net=/run/netns/${netns}`, 'iptables', '-t', 'nat', '-S', chain], { encoding: 'utf8' }).stdout.includes(want)) {
          times.push(last.at - start);
          written.push(last.written);
          break;
        }
        await new Promise((res) => setTimeout(res, 5));
      }
    }
    times.sort((a, b) => a - b);
    process.stdout.write(`EndpointSlice change → rules programmed: median ${percentile(times, 50)} ms, p99 ${percentile(times, 99)} ms, max ${times.at(-1)} ms (chains rewritten per change: ${[...new Set(written)].join('/')})\n`);
    await proxy.stop();
  } finally {
    await cluster.destroy();
    spawnSync('ip', ['netns', 'del', netns]);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
