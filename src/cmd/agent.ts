/**
 * `k8ts agent --server URL --token TOKEN`: joins this machine (or, with the sim runtime, any
 * number of simulated nodes) to a cluster run by `k8ts server`, as `k3s agent` does.
 * Its flags; what it runs lives in run-agent.ts, loaded only when the command runs.
 */
import { addNodeOptions, type NodeFlags } from './node-flags.js';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { LogLevel } from '../machinery/logger.js';

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
      const { runAgent } = await import('./run-agent.js');
      await runAgent(flags);
    });
}
