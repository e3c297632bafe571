/** What `k8ts agent` runs: trust in the server's CA from the join token, then this machine's node (or simulated ones). */
import { nodeFlagOptions } from './node-flags.js';
import { join } from 'node:path';
import { request, type RequestOptions } from 'node:https';
import { setFlagsFromString } from 'node:v8';
import { chooseRuntime } from './runtime-choice.js';
import { primaryAddress } from './host-address.js';
import { createLogger, type Logger } from '../machinery/logger.js';
import { HttpClient } from '../client/http-client.js';
import { caHash, parseJoinToken } from './join-token.js';
import type { AgentFlags } from './agent.js';

/** GETs a PEM certificate from the server; `what` names the request in errors. */
function fetchPem(url: URL, options: RequestOptions, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200 && text.includes('BEGIN CERTIFICATE')) resolve(text);
        else reject(new Error(`GET ${url.pathname} answered ${res.statusCode ?? '?'}${what}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** GET `/cacerts` without trusting the server yet (the token's hash is what establishes trust). */
function fetchCA(server: string): Promise<string> {
  return fetchPem(new URL('/cacerts', server), { rejectUnauthorized: false }, `: is ${server} a k8ts server?`);
}

/** The cluster's client CA, by which the kubelet knows the API server's client certificate. */
function fetchClientCA(server: string, ca: string, secret: string): Promise<string> {
  return fetchPem(new URL('/v1-k8ts/client-ca.crt', server), { ca, headers: { authorization: `Bearer ${secret}` } }, '');
}

/** Fetches and checks the cluster CA, retrying while the server is not up yet (agents often start first). */
async function clusterCA(server: string, expectedHash: string | undefined, log: Logger): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const ca = await fetchCA(server);
      if (expectedHash && caHash(ca) !== expectedHash) {
        throw Object.assign(new Error(`the server at ${server} presents a CA that does not match the token; check --server and --token (the token is in the server's <data-dir>/server/token)`), { fatal: true });
      }
      if (!expectedHash) log.warn('the token carries no CA hash, so the server CA is trusted as first seen; use the full token from the server\'s <data-dir>/server/token to verify it');
      return ca;
    } catch (e) {
      if ((e as { fatal?: boolean }).fatal) throw e;
      if (attempt % 5 === 0) log.info('waiting for the server', { server, error: (e as Error).message });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export async function runAgent(flags: AgentFlags): Promise<void> {
  const log = createLogger(flags.logLevel);
  const tokenText = flags.token ?? process.env['K8TS_TOKEN'];
  if (!tokenText) {
    process.stderr.write('k8ts agent: --token is required (the server keeps it in <data-dir>/server/token)\n');
    process.exit(2);
  }
  try {
    flags.runtime = chooseRuntime(flags.runtime, flags.simNodes !== undefined, log);
  } catch (e) {
    process.stderr.write(`k8ts agent: ${(e as Error).message}\n`);
    process.exit(2);
  }
  // A real node allocates in bursts (a rollout) and then idles for hours. In a burst V8 grows its
  // young generation from 1 MB to 16 MB semi-spaces and, with little allocation afterwards, never
  // shrinks it: ~25 MB of RSS held for nothing (bench/density). Keeping it at its initial size
  // costs more frequent scavenges, each as cheap as before (they copy only live objects).
  // Simulated nodes (thousands of heartbeats) allocate all the time and keep V8's defaults.
  if (flags.runtime === 'containerd') setFlagsFromString('--semi-space-growth-factor=1');
  const token = parseJoinToken(tokenText);
  // A CA that does not match the token ends the agent (k8ts.ts prints why).
  const ca = await clusterCA(flags.server, token.caHash, log);
  const count = Math.max(1, Number(flags.simNodes) || 1);
  const client = new HttpClient({ server: flags.server, ca, token: token.secret, userAgent: `k8ts-agent/${flags.nodeName}` });
  // Fail early and clearly on a wrong secret, before any node is registered.
  try {
    await client.list({ group: '', version: 'v1', resource: 'nodes' }, '', { limit: 1 });
  } catch (e) {
    process.stderr.write(`k8ts agent: the server refused the token (${(e as Error).message}); use the one in the server's <data-dir>/server/token\n`);
    process.exit(1);
  }
  let stopNode: () => Promise<void>;
  if (flags.runtime === 'containerd') {
    // Loaded only when asked for: the sim runtime needs none of the kubelet's code.
    const { startNode } = await import('./node.js');
    const node = await startNode({
      client,
      agentDir: join(flags.dataDir, 'agent'),
      nodeName: flags.nodeName,
      internalIP: flags.nodeIp ?? primaryAddress() ?? '127.0.0.1',
      clusterDNS: flags.clusterDns,
      leaseDurationSeconds: Number(flags.nodeLeaseDurationSeconds),
      ...nodeFlagOptions(flags),
      token: token.secret,
      clientCA: await fetchClientCA(flags.server, ca, token.secret),
      log,
    });
    stopNode = () => node.stop();
  } else {
    const { SimCluster } = await import('../kubelet/sim/sim-cluster.js');
    const sim = new SimCluster(client, {
      nodeNames: count === 1 ? [flags.nodeName] : Array.from({ length: count }, (_, i) => `${flags.nodeName}-${i}`),
      internalIP: count === 1 ? (flags.nodeIp ?? primaryAddress()) : undefined,
      cpu: flags.simCpu,
      memory: flags.simMemory,
      pods: flags.simPods,
      leaseDurationSeconds: Number(flags.nodeLeaseDurationSeconds),
      log: log.child('sim'),
    });
    await sim.start();
    stopNode = async () => sim.close();
  }
  log.info('k8ts agent is running', { server: flags.server, runtime: flags.runtime, nodes: flags.runtime === 'containerd' ? 1 : count });
  process.stdout.write(`k8ts agent joined ${flags.server} as ${count === 1 || flags.runtime === 'containerd' ? flags.nodeName : `${count} nodes ${flags.nodeName}-0…${count - 1}`}\n`);
  const shutdown = async (signal: string): Promise<void> => {
    log.info('shutting down', { signal });
    await stopNode();
    client.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
