/**
 * A network of machines on one host, for tests that program a node's network (iptables, routes,
 * the pod bridge): each "machine" is a network namespace with an `eth0` on a bridge the test owns,
 * so rules and routes made inside never touch the host's, and clusters running side by side do
 * not meet. The host has an address on the bridge too, so the test reaches the machines as a
 * client on their network would (kubectl, NodePorts). Only the network is separate: processes
 * run in it with `nsenter --net`, sharing the host's mounts and cgroups as k8ts on a real
 * machine would. The machines' default route has no gateway: nothing in a lab reaches beyond it.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface LabMachine {
  /** The network namespace (`/run/netns/<netns>`). */
  netns: string;
  /** The machine's address on the lab network. */
  ip: string;
  /** Prefix for a command to run on the machine: `nsenter --net=/run/netns/<netns>`. */
  exec: string[];
}

export interface NetworkLab {
  machines: LabMachine[];
  /** The host's address on the lab network. */
  hostIP: string;
  /** Runs a command on a machine; returns stdout, throws with stderr. */
  run(machine: LabMachine, cmd: string, args: string[]): string;
  destroy(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export function createNetworkLab(count: number): NetworkLab {
  const id = Math.random().toString(36).slice(2, 7);
  // 10.2<xx>.<yy>.0/24: away from pod (10.42, 10.1xx) and Service (10.43) ranges.
  const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  const bridge = `k8tsl${id}`;
  const machines: LabMachine[] = [];
  const lab: NetworkLab = {
    machines,
    hostIP: `${net}.254`,
    run(m, cmd, args) {
      return execFileSync('nsenter', [`--net=/run/netns/${m.netns}`, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
    destroy() {
      for (const m of machines) spawnSync('ip', ['netns', 'del', m.netns], { stdio: 'ignore' });
      spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    },
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${lab.hostIP}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 0; i < count; i++) {
      const netns = `k8tsn${id}${i}`;
      const veth = `k8tsv${id}${i}`;
      const m: LabMachine = { netns, ip: `${net}.${i + 1}`, exec: ['nsenter', `--net=/run/netns/${netns}`] };
      ip('netns', 'add', netns);
      machines.push(m);
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ip('link', 'set', veth, 'master', bridge, 'up');
      ip('-n', netns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      // A default route, as every machine has (Services' addresses must be routable before
      // kube-proxy rewrites them), but on-link: no gateway, so nothing is sent beyond the lab.
      ip('-n', netns, 'route', 'add', 'default', 'dev', 'eth0');
    }
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/**
 * The network namespace of the pod with address `podIP` on a lab machine: among the namespaces
 * whose veth peers are on that machine (a crashed run may have left others holding the same
 * addresses), the one with the address.
 */
export function podNetns(machine: LabMachine, podIP: string): string {
  const links = execFileSync('ip', ['-n', machine.netns, '-o', 'link'], { encoding: 'utf8' });
  const peers = [...links.matchAll(/link-netns (\S+)/g)].map((m) => m[1]!);
  const netns = peers.find((n) => spawnSync('ip', ['-n', n, '-4', '-o', 'addr'], { encoding: 'utf8' }).stdout.includes(` ${podIP}/`));
  if (!netns) throw new Error(`no network namespace on ${machine.netns} holds the pod address ${podIP}`);
  return netns;
}
