/**
 * The node a `k8ts server` or `k8ts agent` runs on its own machine with real containers: its
 * containerd, then the kubelet on it. Stopping stops the kubelet and containerd; containers keep
 * running in their shims and are found again at the next start.
 */
import { dirname, join } from 'node:path';
import type { Client } from '../client/interface.js';
import type { Logger } from '../machinery/logger.js';
import { startContainerd, type RunningContainerd } from '../kubelet/containerd/containerd-process.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { CNI_BRIDGE } from '../kubelet/cni-config.js';
import { refs, SharedInformer } from '../client/informer.js';
import { KubeProxy } from '../proxy/kube-proxy.js';
import { NodeDns } from '../dns/node-dns.js';
import { IngressController } from '../ingress/ingress-controller.js';
import { NetworkPolicyEnforcer } from '../network/network-policy.js';
import { networkBackends, PodNetwork, type NetworkBackend } from '../network/pod-network.js';

export interface NodeOptions {
  client: Client;
  /** `DATA_DIR/agent`. */
  agentDir: string;
  nodeName: string;
  internalIP: string;
  clusterDNS: string;
  leaseDurationSeconds?: number;
  /** The join secret: the API server presents it to the kubelet. */
  token: string;
  /** The cluster's client CA (PEM): the kubelet accepts the API server's client certificate by it. */
  clientCA?: string;
  /** `--kubelet-port`. */
  kubeletPort?: number;
  /** `--cni-bridge`. */
  bridge?: string;
  /** `--pod-manifest-path` (default `DATA_DIR/agent/pod-manifests`). */
  podManifestPath?: string;
  /** `--container-runtime-endpoint`: a CRI runtime already running (k8ts starts none). */
  runtimeEndpoint?: string;
  /** `--flannel-backend`: how pods reach other nodes' pods (default auto: host-gw on a shared link, else VXLAN). */
  networkBackend?: NetworkBackend;
  /** `--disable-ingress`: no ingress controller on this node's ports 80 and 443. */
  disableIngress?: boolean;
  /** `--disable-network-policy`: NetworkPolicies are not enforced on this node. */
  disableNetworkPolicy?: boolean;
  /** `--disable-kube-proxy`: Services get no rules on this node (another proxy, or none). */
  disableKubeProxy?: boolean;
  log: Logger;
}

/**
 * A CRI runtime someone else runs (`unix:///run/containerd/containerd.sock`): its CNI config goes
 * where such a containerd reads it, /etc/cni/net.d, and stopping k8ts leaves it running.
 */
function externalRuntime(endpoint: string): RunningContainerd {
  const socket = endpoint.replace(/^unix:\/\//, '');
  return { endpoint: endpoint.includes('://') ? endpoint : `unix://${endpoint}`, paths: { dir: dirname(socket), socket, config: '', cniConfDir: '/etc/cni/net.d', log: '' }, stop: async () => undefined };
}

export async function startNode(o: NodeOptions): Promise<{ stop(): Promise<void> }> {
  if (process.getuid?.() !== 0) throw new Error('--runtime containerd runs containers and needs root; run as root, or use --runtime sim');
  if (o.networkBackend && !networkBackends.includes(o.networkBackend)) throw new Error(`unknown --flannel-backend ${o.networkBackend}: use ${networkBackends.join(', ')}`);
  const containerd = o.runtimeEndpoint ? externalRuntime(o.runtimeEndpoint) : await startContainerd(o.agentDir, o.log.child('containerd'));
  // kube-proxy, cluster DNS and the kubelet share one cache of Services (and EndpointSlices).
  const services = new SharedInformer(o.client, refs.services);
  const endpointSlices = new SharedInformer(o.client, refs.endpointslices);
  const kubelet = new Kubelet({
    client: o.client,
    nodeName: o.nodeName,
    agentDir: o.agentDir,
    containerd,
    internalIP: o.internalIP,
    clusterDNS: [o.clusterDNS],
    leaseDurationSeconds: o.leaseDurationSeconds,
    serverToken: o.token,
    clientCA: o.clientCA,
    port: o.kubeletPort,
    bridge: o.bridge,
    podManifestPath: o.podManifestPath ?? join(o.agentDir, 'pod-manifests'),
    log: o.log.child('kubelet'),
    services,
  });
  const proxy = o.disableKubeProxy ? undefined : new KubeProxy({ nodeName: o.nodeName, bridge: o.bridge ?? CNI_BRIDGE, services, endpointSlices, log: o.log.child('kube-proxy') });
  const network = new PodNetwork({ client: o.client, nodeName: o.nodeName, nodeIP: o.internalIP, nodes: new SharedInformer(o.client, refs.nodes), backend: o.networkBackend ?? 'auto', bridge: o.bridge ?? CNI_BRIDGE, log: o.log.child('pod-network') });
  const policies = o.disableNetworkPolicy ? undefined : new NetworkPolicyEnforcer({ nodeName: o.nodeName, policies: new SharedInformer(o.client, refs.networkpolicies), pods: new SharedInformer(o.client, refs.pods), namespaces: new SharedInformer(o.client, refs.namespaces), log: o.log.child('network-policy') });
  const ingress = o.disableIngress
    ? undefined
    : new IngressController({
        ingresses: new SharedInformer(o.client, refs.ingresses),
        ingressClasses: new SharedInformer(o.client, refs.ingressclasses),
        services,
        endpointSlices,
        secrets: new SharedInformer(o.client, refs.secrets),
        httpPort: 80,
        httpsPort: 443,
        log: o.log.child('ingress'),
      });
  const dns = new NodeDns({ client: o.client, nodeName: o.nodeName, services, endpointSlices, log: o.log.child('dns') });
  try {
    // Rules first: pods that start (or still run from before) find their Services routed.
    await proxy?.start();
    await policies?.start();
    await kubelet.start();
  } catch (e) {
    await proxy?.stop();
    await kubelet.stop();
    await containerd.stop();
    throw e;
  }
  // DNS listens on the bridge's address, which exists once the node has its pod range.
  const dnsStarted = kubelet.podNetwork.then(({ gateway }) => dns.start(gateway)).catch((e: unknown) => o.log.error('cluster DNS could not start; pods will not resolve Service names', { err: (e as Error).message }));
  // Ports 80/443 may be taken on this machine: the node runs on without an ingress controller.
  const ingressStarted = ingress?.start().catch((e: unknown) => o.log.error('the ingress controller could not start; Ingresses will not be served on this node (--disable-ingress to leave ports 80 and 443 alone)', { err: (e as Error).message }));
  void kubelet.podNetwork.then(({ podCIDR }) => network.start(podCIDR)).catch((e: unknown) => o.log.error('the pod network could not start; pods will not reach other nodes or leave the node', { err: (e as Error).message }));
  return {
    async stop() {
      // DNS may be starting; it waits for the pod range, which may never come, so not for long.
      await Promise.race([dnsStarted, new Promise((r) => setTimeout(r, 100))]);
      network.stop();
      policies?.stop();
      await ingressStarted;
      await ingress?.stop();
      await dns.stop();
      await proxy?.stop();
      await kubelet.stop();
      await containerd.stop();
    },
  };
}
