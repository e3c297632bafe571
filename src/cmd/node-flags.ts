/**
 * The flags of this machine's real node (`--runtime containerd`), the same for `k8ts server` and
 * `k8ts agent`: their declaration, and what they become for `startNode`.
 */
import type { Command } from 'commander';
import type { NodeOptions } from './node.js';
import type { NetworkBackend } from '../network/pod-network.js';

export interface NodeFlags {
  kubeletPort: string;
  containerRuntimeEndpoint?: string;
  podManifestPath?: string;
  cniBridge: string;
  flannelBackend: string;
  disableIngress?: boolean;
  disableNetworkPolicy?: boolean;
  disableKubeProxy?: boolean;
}

export function addNodeOptions(command: Command): Command {
  return command
    .option('--kubelet-port <port>', 'port of the kubelet\'s HTTPS server with --runtime containerd (0: any free port)', '10250')
    .option('--container-runtime-endpoint <endpoint>', 'with containerd: use this CRI runtime (unix:///run/containerd/containerd.sock) instead of starting one')
    .option('--pod-manifest-path <dir>', 'static pods: pod manifests the kubelet runs itself (default: <data-dir>/agent/pod-manifests)')
    .option('--cni-bridge <name>', 'Linux bridge of the pod network with --runtime containerd', 'k8ts0')
    .option('--flannel-backend <backend>', 'how pods reach other nodes\' pods with --runtime containerd: auto (host-gw to nodes on a shared link, VXLAN to the others), host-gw, vxlan, or none', 'auto')
    .option('--disable-ingress', 'run no ingress controller on ports 80 and 443 of this node (with --runtime containerd)')
    .option('--disable-network-policy', 'do not enforce NetworkPolicies on this node (with --runtime containerd)')
    .option('--disable-kube-proxy', 'program no iptables rules for Services on this node (with --runtime containerd)');
}

export function nodeFlagOptions(flags: NodeFlags): Pick<NodeOptions, 'kubeletPort' | 'runtimeEndpoint' | 'podManifestPath' | 'bridge' | 'networkBackend' | 'disableIngress' | 'disableNetworkPolicy' | 'disableKubeProxy'> {
  return {
    kubeletPort: Number(flags.kubeletPort),
    runtimeEndpoint: flags.containerRuntimeEndpoint,
    podManifestPath: flags.podManifestPath,
    bridge: flags.cniBridge,
    networkBackend: flags.flannelBackend as NetworkBackend,
    disableIngress: flags.disableIngress,
    disableNetworkPolicy: flags.disableNetworkPolicy,
    disableKubeProxy: flags.disableKubeProxy,
  };
}
