/** What `k8ts server` runs: certificates, datastore, control plane, metrics and this machine's node. */
import { nodeFlagOptions } from './node-flags.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chooseRuntime } from './runtime-choice.js';
import { primaryAddress } from './host-address.js';
import { createLogger, type Logger } from '../machinery/logger.js';
import { loadOrCreateCertificates } from '../pki/certificate-authority.js';
import { firstServiceIp } from '../pki/service-ip.js';
import { writeKubeconfig } from './kubeconfig.js';
import { openBackend } from './datastore.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { SimCluster } from '../kubelet/sim/sim-cluster.js';
import { MetricsApi, metricsResources } from '../apiserver/metrics/metrics-api.js';
import { CombinedMetricsSource, KubeletSummarySource, type SummaryLike } from '../apiserver/metrics/kubelet-summary-source.js';
import { kubeletGetJson } from '../apiserver/kubelet-proxy.js';
import { SimMetricsSource } from '../kubelet/sim/sim-metrics.js';
import { InformerFactory, refs } from '../client/informer.js';
import { formatJoinToken, parseJoinToken } from './join-token.js';
import type { ServerFlags } from './server.js';

/**
 * The join secret: `--token` (bare or in join-token form), or the one saved in the data dir, or a
 * new one. `server/token` always holds the full join token (with the CA hash) for agents to use.
 */
async function serverToken(dataDir: string, flag: string | undefined, caPem: string): Promise<{ secret: string; joinToken: string; file: string }> {
  const file = join(dataDir, 'server', 'token');
  let secret: string;
  if (flag) secret = parseJoinToken(flag).secret;
  else if (existsSync(file)) secret = parseJoinToken(await readFile(file, 'utf8')).secret;
  else secret = randomBytes(24).toString('hex');
  const joinToken = formatJoinToken(caPem, secret);
  await writeFile(file, joinToken + '\n', { mode: 0o600 });
  return { secret, joinToken, file };
}

export async function runServer(flags: ServerFlags): Promise<void> {
  const log = createLogger(flags.logLevel);
  const dataDir = flags.dataDir;
  await mkdir(join(dataDir, 'server'), { recursive: true, mode: 0o700 });
  const port = Number(flags.httpsListenPort);
  const anyAddress = flags.bindAddress === '0.0.0.0' || flags.bindAddress === '::';
  // The address pods and other machines use (the `kubernetes` Endpoints); local tools use loopback, as k3s's kubeconfig does.
  const advertise = flags.advertiseAddress ?? (anyAddress ? primaryAddress() ?? '127.0.0.1' : flags.bindAddress);
  const localHost = anyAddress ? '127.0.0.1' : flags.bindAddress;
  const kubernetesServiceIP = firstServiceIp(flags.serviceCidr);
  const certs = await loadOrCreateCertificates(dataDir, { hostnames: [hostname()], ips: [...new Set([advertise, localHost, '127.0.0.1'])], serviceCidr: flags.serviceCidr });
  const token = await serverToken(dataDir, flags.token, certs.serverCa.certPem);
  const backend = await openBackend(dataDir, flags.datastoreEndpoint, log);
  const runtime = flags.disableAgent ? 'none' : chooseRuntime(flags.runtime, flags.simNodes !== undefined, log);
  const plane = await startControlPlane({
    backend,
    dataDir,
    certs,
    token: token.joinToken,
    bindAddress: flags.bindAddress,
    port,
    advertiseAddress: advertise,
    serviceCIDR: flags.serviceCidr,
    kubernetesServiceIP,
    clusterDNS: flags.clusterDns,
    logger: log,
    controllerOptions: {
      clusterCIDR: flags.clusterCidr,
      serviceCIDR: flags.serviceCidr,
      nodeMonitorGracePeriodSeconds: Number(flags.nodeMonitorGracePeriod),
      hpaSyncPeriodSeconds: Number(flags.horizontalPodAutoscalerSyncPeriod),
      hpaDownscaleStabilizationSeconds: Number(flags.horizontalPodAutoscalerDownscaleStabilization),
    },
    defaultTolerationSeconds: Number(flags.defaultTolerationSeconds),
  });
  const nodeSide = serveNodeMetrics(plane, log);
  const agent = await startAgentRuntime(runtime, flags, plane, nodeSide, log, advertise, token.secret, certs.clientCa.certPem);
  await nodeSide.start();
  const kubeconfig = flags.writeKubeconfig ?? join(dataDir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfig, {
    server: `https://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`,
    caPem: certs.serverCa.certPem,
    clientCertPem: certs.admin.certPem,
    clientKeyPem: certs.admin.keyPem,
    mode: parseInt(flags.writeKubeconfigMode, 8),
  });
  log.info('k8ts server is ready', { apiserver: `https://${localHost}:${port}`, advertise, kubeconfig, datastore: backend.describe, dataDir });
  const joinURL = `https://${advertise.includes(':') ? `[${advertise}]` : advertise}:${port}`;
  process.stdout.write(
    `k8ts server is ready at https://${localHost}:${port}\n  export KUBECONFIG=${kubeconfig}\n` +
      `join more nodes with:\n  k8ts agent --server ${joinURL} --token $(cat ${token.file})\n`,
  );
  const shutdown = async (signal: string): Promise<void> => {
    log.info('shutting down', { signal });
    await agent?.close();
    await plane.stop();
    await backend.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * metrics.k8s.io, answered from what nodes report: usage of every simulated node (this server's
 * or an agent's) is computed from the pods on it; nodes with real kubelets are scraped for their
 * Summary, as metrics-server does. Served for kubectl (HTTP) and the HPA (in-process).
 */
function serveNodeMetrics(plane: ControlPlane, log: Logger): InformerFactory {
  const informers = new InformerFactory(plane.apiServer.client);
  const sim = new SimMetricsSource(informers.for(refs.pods), informers.for(refs.nodes));
  const kubelets = new KubeletSummarySource({
    nodes: informers.for(refs.nodes),
    pods: informers.for(refs.pods),
    isReal: (n) => !String((n['status'] as { nodeInfo?: { containerRuntimeVersion?: string } } | undefined)?.nodeInfo?.containerRuntimeVersion ?? 'sim://').startsWith('sim://'),
    fetch: (n) => kubeletGetJson<SummaryLike>(n as never, '/stats/summary', plane.kubeletCredentials),
    onError: (node, e) => log.debug('kubelet stats scrape failed', { node, error: (e as Error).message }),
  });
  kubelets.start();
  const metrics = new MetricsApi(new CombinedMetricsSource([sim, kubelets]));
  plane.apiServer.serveAnswered(metricsResources, metrics.handle, (method, path, query) => metrics.answer(method, path, query));
  return informers;
}

/** The nodes this server runs itself: simulated ones for now (the containerd kubelet comes later). */
async function startAgentRuntime(runtime: string, flags: ServerFlags, plane: ControlPlane, informers: InformerFactory, log: Logger, nodeIP: string, token: string, clientCA: string): Promise<{ close(): Promise<void> } | undefined> {
  if (runtime === 'none') return undefined;
  if (runtime === 'containerd') {
    // Loaded only when asked for: the sim runtime needs none of the kubelet's code.
    const { startNode } = await import('./node.js');
    const node = await startNode({
      client: plane.apiServer.client,
      agentDir: join(flags.dataDir, 'agent'),
      nodeName: flags.nodeName ?? hostname(),
      internalIP: nodeIP,
      clusterDNS: flags.clusterDns,
      leaseDurationSeconds: flags.nodeLeaseDurationSeconds ? Number(flags.nodeLeaseDurationSeconds) : Math.min(40, Number(flags.nodeMonitorGracePeriod)),
      ...nodeFlagOptions(flags),
      token,
      clientCA,
      log,
    });
    return { close: () => node.stop() };
  }
  if (runtime !== 'sim') throw new Error(`unknown --runtime ${runtime}: use containerd or sim`);
  const count = Math.max(0, Number(flags.simNodes ?? '1'));
  const sim = new SimCluster(
    plane.apiServer.client,
    {
      nodes: count,
      nodeNames: count === 1 && flags.nodeName ? [flags.nodeName] : undefined,
      cpu: flags.simCpu,
      memory: flags.simMemory,
      pods: flags.simPods,
      // Heartbeats must come more often than the node monitor expects them.
      leaseDurationSeconds: flags.nodeLeaseDurationSeconds ? Number(flags.nodeLeaseDurationSeconds) : Math.min(40, Number(flags.nodeMonitorGracePeriod)),
      log: log.child('sim'),
    },
    informers,
  );
  await sim.start();
  log.info('simulated nodes are running', { nodes: count });
  return { close: async () => sim.close() };
}
