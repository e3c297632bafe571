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
  const containerd = o.runtimeEndpoint ? externalRuntime(o.runtimeEndpoint) : await startContainerd(o.agentDir, o.log.child('containerd'));
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
  });
  try {
    await kubelet.start();
  } catch (e) {
    await containerd.stop();
    throw e;
  }
  return {
    async stop() {
      await kubelet.stop();
      await containerd.stop();
    },
  };
}
