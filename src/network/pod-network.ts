/**
 * The pod network across nodes, as flannel does it for k3s: every other node's podCIDR is routed
 * to that node — straight to its address when it is on one of this node's links (host-gw), else
 * through a VXLAN device whose peers are told apart by MAC (the VTEP MAC each node publishes on its
 * Node object). Pod traffic keeps its address between pods of the cluster and is masqueraded only
 * when it leaves the cluster's pod ranges. Routes and the masquerade chain stay when k8ts stops:
 * pods keep talking across nodes while k8ts restarts. Backend `none` routes nothing (another
 * tool does) but still masquerades.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApiObject, Client } from '../client/interface.js';
import { refs, type SharedInformer } from '../client/informer.js';
import type { Logger } from '../machinery/logger.js';
import { CoalescedRun } from '../machinery/coalesced-run.js';
import { ipToBigInt } from '../machinery/ip.js';
import { systemIptables, type IptablesRunner } from '../proxy/iptables.js';

const run = promisify(execFile);

export type NetworkBackend = 'auto' | 'host-gw' | 'vxlan' | 'none';

export const VXLAN_DEVICE = 'k8ts.vxlan';
const VXLAN_ID = '1';
const VXLAN_PORT = '8472';
export const annotations = {
  vtepMAC: 'k8ts.io/vtep-mac',
  publicIP: 'k8ts.io/public-ip',
};

interface NodeView {
  name: string;
  podCIDR?: string;
  ip?: string;
  vtepMAC?: string;
}

function view(n: ApiObject): NodeView {
  const spec = (n['spec'] ?? {}) as { podCIDR?: string };
  const status = (n['status'] ?? {}) as { addresses?: Array<{ type: string; address: string }> };
  return {
    name: n.metadata?.name ?? '',
    podCIDR: spec.podCIDR,
    ip: n.metadata?.annotations?.[annotations.publicIP] ?? status.addresses?.find((a) => a.type === 'InternalIP')?.address,
    vtepMAC: n.metadata?.annotations?.[annotations.vtepMAC],
  };
}

/** Whether `ip` is on one of this machine's links (a route to it has no gateway). */
async function onLink(ip: string): Promise<boolean> {
  try {
    const { stdout } = await run('ip', ['-o', 'route', 'get', ip]);
    return !/\svia\s/.test(stdout) && !/\sdev lo\s/.test(stdout);
  } catch {
    return false;
  }
}

/** The network's address with host bits zero, as the VXLAN device's own address (flannel's `.0`). */
function networkAddress(cidr: string): string {
  return cidr.split('/')[0]!;
}

/** This node's masquerade chain in the nat table. */
export const masqueradeChain = (bridge: string): string => `K8TS-MASQ-${bridge}`;

export const networkBackends: NetworkBackend[] = ['auto', 'host-gw', 'vxlan', 'none'];

export interface PodNetworkOptions {
  client: Client;
  nodeName: string;
  nodeIP: string;
  nodes: SharedInformer;
  backend: NetworkBackend;
  /** The pod bridge: it names this node's masquerade chain, so nodes sharing a host keep theirs apart. */
  bridge: string;
  log: Logger;
  iptables?: IptablesRunner;
}

export class PodNetwork {
  private readonly iptables: IptablesRunner;
  /** podCIDR → the route's arguments as installed, to skip unchanged ones and remove stale ones. */
  private readonly routes = new Map<string, string>();
  private vtepMAC: string | undefined;
  private readonly runs: CoalescedRun;
  private lastMasq = '';

  constructor(private readonly o: PodNetworkOptions) {
    this.iptables = o.iptables ?? systemIptables();
    this.runs = new CoalescedRun(() => this.sync(), { retryMs: 2000, onError: (e) => o.log.warn('could not program the pod network; retrying in 2 s', { err: e.message }) });
    // Heartbeats change Nodes every few seconds; only pod ranges, addresses and VTEPs matter here.
    const changed = (a: ApiObject, b: ApiObject): boolean => JSON.stringify(view(a)) !== JSON.stringify(view(b));
    o.nodes.addEventHandler({ onAdd: () => this.schedule(), onUpdate: (a, b) => changed(a, b) && this.schedule(), onDelete: () => this.schedule() });
  }

  async start(podCIDR: string): Promise<void> {
    // With auto, the VXLAN device comes only when a node off this node's links appears.
    if (this.o.backend === 'vxlan') await this.ensureVxlan(podCIDR);
    await this.o.nodes.start();
    this.schedule();
    await this.runs.idle();
  }

  stop(): void {
    void this.runs.stop();
  }

  /** The VXLAN device, with this node's `.0` address; its MAC goes on the Node for the peers. */
  private async ensureVxlan(podCIDR: string): Promise<void> {
    const exists = await run('ip', ['link', 'show', 'dev', VXLAN_DEVICE]).then(() => true, () => false);
    if (!exists) await run('ip', ['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'id', VXLAN_ID, 'local', this.o.nodeIP, 'dstport', VXLAN_PORT, 'nolearning']);
    const addr = `${networkAddress(podCIDR)}/32`;
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', VXLAN_DEVICE]);
    if (!stdout.includes(` ${addr} `)) {
      await run('ip', ['addr', 'flush', 'dev', VXLAN_DEVICE]);
      await run('ip', ['addr', 'add', addr, 'dev', VXLAN_DEVICE]);
    }
    await run('ip', ['link', 'set', VXLAN_DEVICE, 'up']);
    const link = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', VXLAN_DEVICE])).stdout) as Array<{ address: string }>;
    this.vtepMAC = link[0]?.address;
    const node = await this.o.client.get(refs.nodes, '', this.o.nodeName);
    const ann = node.metadata?.annotations ?? {};
    if (ann[annotations.vtepMAC] !== this.vtepMAC || ann[annotations.publicIP] !== this.o.nodeIP) {
      await this.o.client.update(refs.nodes, '', { ...node, metadata: { ...node.metadata, annotations: { ...ann, [annotations.vtepMAC]: this.vtepMAC ?? '', [annotations.publicIP]: this.o.nodeIP } } });
    }
  }

  private schedule(): void {
    if (!this.o.nodes.hasSynced()) return;
    this.runs.request();
  }

  private async sync(): Promise<void> {
    const nodes = this.o.nodes.list().map(view);
    const self = nodes.find((n) => n.name === this.o.nodeName);
    if (!self?.podCIDR) return;
    const wanted = new Map<string, string[]>();
    for (const n of nodes) {
      if (n.name === this.o.nodeName || !n.podCIDR || !n.ip || this.o.backend === 'none') continue;
      const direct = this.o.backend === 'host-gw' || (this.o.backend === 'auto' && (await onLink(n.ip)));
      if (direct) {
        wanted.set(n.podCIDR, [n.podCIDR, 'via', n.ip]);
      } else {
        if (!this.vtepMAC) await this.ensureVxlan(self.podCIDR);
        if (!n.vtepMAC) {
          this.o.log.debug('node not routable yet: it has published no VTEP MAC', { node: n.name });
          continue;
        }
        const peer = networkAddress(n.podCIDR);
        // The peer's VTEP: its `.0` answers to its MAC, and that MAC lives behind its node address.
        await run('ip', ['neigh', 'replace', peer, 'lladdr', n.vtepMAC, 'dev', VXLAN_DEVICE, 'nud', 'permanent']);
        await run('bridge', ['fdb', 'replace', n.vtepMAC, 'dev', VXLAN_DEVICE, 'dst', n.ip, 'self', 'permanent']);
        wanted.set(n.podCIDR, [n.podCIDR, 'via', peer, 'dev', VXLAN_DEVICE, 'onlink']);
      }
    }
    for (const [cidr, args] of wanted) {
      if (this.routes.get(cidr) === args.join(' ')) continue;
      await run('ip', ['route', 'replace', ...args]);
      this.routes.set(cidr, args.join(' '));
      this.o.log.info('route to a node\'s pods', { route: args.join(' ') });
    }
    for (const cidr of [...this.routes.keys()]) {
      if (wanted.has(cidr)) continue;
      await run('ip', ['route', 'del', cidr]).catch(() => undefined);
      this.routes.delete(cidr);
    }
    await this.masquerade(self.podCIDR, nodes.map((n) => n.podCIDR).filter((c): c is string => !!c));
  }

  /**
   * Pods' traffic to other pods keeps its source address; anything else leaving the node is
   * masqueraded (the bridge plugin's own ipMasq would hide pod addresses from other nodes).
   */
  private async masquerade(own: string, podCIDRs: string[]): Promise<void> {
    const MASQ_CHAIN = masqueradeChain(this.o.bridge);
    const rules = [...new Set(podCIDRs)].sort((a, b) => (ipToBigInt(a.split('/')[0]!) < ipToBigInt(b.split('/')[0]!) ? -1 : 1)).map((c) => `-A ${MASQ_CHAIN} -d ${c} -m comment --comment "pod to pod" -j RETURN`);
    rules.push(`-A ${MASQ_CHAIN} -d 224.0.0.0/4 -j RETURN`, `-A ${MASQ_CHAIN} -m comment --comment "pod traffic leaving the cluster" -j MASQUERADE --random-fully`);
    const text = `*nat\n:${MASQ_CHAIN} - [0:0]\n${rules.join('\n')}\nCOMMIT\n`;
    if (text === this.lastMasq) return;
    await this.iptables.restore(text);
    const jump = ['POSTROUTING', '-s', own, '-m', 'comment', '--comment', 'k8ts pod masquerade', '-j', MASQ_CHAIN];
    if (!(await this.iptables.iptables(['-t', 'nat', '-C', ...jump]))) await this.iptables.iptables(['-t', 'nat', '-A', ...jump]);
    this.lastMasq = text;
  }
}
