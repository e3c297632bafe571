/**
 * `k8ts agent --server URL --token TOKEN`: joins this machine (or, with the sim runtime, any
 * number of simulated nodes) to a cluster run by `k8ts server`, as `k3s agent` does.
 */
import { addNodeOptions, nodeFlagOptions, type NodeFlags } from './node-flags.js';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { request, type RequestOptions } from 'node:https';
import type { Command } from 'commander';
import { chooseRuntime } from './runtime-choice.js';
import { primaryAddress } from './host-address.js';
import { createLogger, type LogLevel, type Logger } from '../machinery/logger.js';
import { HttpClient } from '../client/http-client.js';
import { SimCluster } from '../kubelet/sim/sim-cluster.js';
import { caHash, parseJoinToken } from './join-token.js';

export interface AgentFlags extends NodeFlags {
  server: string;
  token?: string;
  runtime?: string;
  nodeName: string;
  nodeIp?: string;
  simNodes?: string;
  simCpu: string;
  simMemory: string;
  simPods: string;
  nodeLeaseDurationSeconds: string;
  dataDir: string;
  clusterDns: string;
  logLevel: LogLevel;
}

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

export function addAgentCommand(program: Command): void {
  const command = program
    .command('agent')
    .description('Join this machine as a node of a cluster run by `k8ts server`.')
    .requiredOption('--server <url>', 'the server to join, e.g. https://10.0.0.1:6443')
    .option('--token <token>', 'join token (the server prints where it is: <data-dir>/server/token); or K8TS_TOKEN')
    .option('--runtime <runtime>', 'containerd (real containers; needs root) or sim (simulated nodes); default: containerd when this machine has it, else sim')
    .option('--data-dir <dir>', 'state directory (containerd, pods, logs, images under <dir>/agent)', process.getuid?.() === 0 ? '/var/lib/k8ts' : join(homedir(), '.k8ts'))
    .option('--cluster-dns <ip>', 'cluster DNS Service IP written into pods\' resolv.conf', '10.43.0.10')
    .option('--node-name <name>', 'name of the node', hostname())
    .option('--node-ip <ip>', 'InternalIP the node reports (default: the first non-loopback IPv4 address)')
    .option('--sim-nodes <n>', 'simulate this many nodes, named <node-name>-0 … (implies --runtime sim; default 1, named --node-name)')
    .option('--sim-cpu <cores>', 'CPU capacity of each simulated node', '8')
    .option('--sim-memory <quantity>', 'memory capacity of each simulated node', '32Gi')
    .option('--sim-pods <n>', 'pod capacity of each simulated node', '110')
    .option('--node-lease-duration-seconds <seconds>', 'duration of the node\'s Lease; it is renewed every quarter of it', '40');
  addNodeOptions(command)
    .option('--log-level <level>', 'error | warn | info | debug', 'info')
    .action(async (flags: AgentFlags) => {
      await runAgent(flags);
    });
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
  const token = parseJoinToken(tokenText);
  let ca: string;
  try {
    ca = await clusterCA(flags.server, token.caHash, log);
  } catch (e) {
    process.stderr.write(`k8ts agent: ${(e as Error).message}\n`);
    process.exit(1);
  }
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
