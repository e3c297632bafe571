/**
 * `k8ts server`: its flags. What it runs lives in run-server.ts, loaded only when the command
 * runs, so that `k8ts agent` and `k8ts images` never load the control plane's code.
 */
import { addNodeOptions, type NodeFlags } from './node-flags.js';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { LogLevel } from '../machinery/logger.js';

export interface ServerFlags extends NodeFlags {
  dataDir: string;
  httpsListenPort: string;
  bindAddress: string;
  advertiseAddress?: string;
  writeKubeconfig?: string;
  writeKubeconfigMode: string;
  datastoreEndpoint?: string;
  token?: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  disableAgent?: boolean;
  runtime?: string;
  simNodes?: string;
  simCpu: string;
  simMemory: string;
  simPods: string;
  nodeName?: string;
  logLevel: LogLevel;
  nodeMonitorGracePeriod: string;
  defaultTolerationSeconds: string;
  horizontalPodAutoscalerSyncPeriod: string;
  nodeLeaseDurationSeconds?: string;
  horizontalPodAutoscalerDownscaleStabilization: string;
}

function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/k8ts' : join(homedir(), '.k8ts');
}

export function addServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description('Run a cluster: API server and control plane (and, in later versions, a node).')
    .option('--data-dir <dir>', 'state directory', defaultDataDir())
    .option('--https-listen-port <port>', 'HTTPS port of the API server', '6443')
    .option('--bind-address <ip>', 'address the API server listens on', '0.0.0.0')
    .option('--advertise-address <ip>', 'address clients and the kubernetes Service use (default: 127.0.0.1 for loopback binds)')
    .option('--write-kubeconfig <path>', 'where to write the admin kubeconfig (default: <data-dir>/kubeconfig.yaml)')
    .option('--write-kubeconfig-mode <mode>', 'file mode of the kubeconfig', '600')
    .option('--datastore-endpoint <url>', 'etcd://host:port[,host:port…]; absent: embedded SQLite')
    .option('--token <token>', 'shared secret for agents joining (default: generated, saved in <data-dir>/server/token)')
    .option('--cluster-cidr <cidr>', 'pod network', '10.42.0.0/16')
    .option('--service-cidr <cidr>', 'Service ClusterIP range', '10.43.0.0/16')
    .option('--cluster-dns <ip>', 'cluster DNS Service IP', '10.43.0.10')
    .option('--disable-agent', 'run no node on this machine')
    .option('--runtime <runtime>', 'containerd (real containers: a kubelet on containerd; needs root) or sim (simulated nodes); default: containerd when this machine has it, else sim')
    .option('--sim-nodes <n>', 'simulated nodes (implies --runtime sim; default 1, named --node-name)')
    .option('--sim-cpu <cores>', 'CPU capacity of each simulated node', '8')
    .option('--sim-memory <quantity>', 'memory capacity of each simulated node', '32Gi')
    .option('--sim-pods <n>', 'pod capacity of each simulated node', '110')
    .option('--node-name <name>', 'name of this machine\'s node', hostname());
  addNodeOptions(command)
    .option('--log-level <level>', 'error | warn | info | debug', 'info')
    .option('--node-monitor-grace-period <seconds>', 'a node silent this long becomes NotReady (Unknown)', '40')
    .option('--default-toleration-seconds <seconds>', 'how long pods tolerate not-ready/unreachable nodes by default', '300')
    .option('--node-lease-duration-seconds <seconds>', 'Lease duration of this server\'s nodes, renewed every quarter of it (default: 40, or the node monitor grace period when shorter)')
    .option('--horizontal-pod-autoscaler-sync-period <seconds>', 'how often each HorizontalPodAutoscaler is evaluated', '15')
    .option('--horizontal-pod-autoscaler-downscale-stabilization <seconds>', 'how far back the HPA looks for a higher recommendation before scaling down', '300')
    .action(async (flags: ServerFlags) => {
      const { runServer } = await import('./run-server.js');
      await runServer(flags);
    });
}

