/**
 * The iptables rules kube-proxy's iptables mode writes for a set of Service ports, chain by chain
 * (same chain names and layout, so `iptables-save` reads as it does on a Kubernetes node):
 *
 *   nat  PREROUTING/OUTPUT → KUBE-SERVICES → KUBE-SVC-… (ClusterIP) / KUBE-EXT-… (LB, external IP)
 *        → KUBE-NODEPORTS (last, for local destinations) → KUBE-EXT-…
 *        KUBE-SVC-… picks an endpoint at random (or by client IP) → KUBE-SEP-… DNATs to it
 *        KUBE-SVL-… the same, over this node's endpoints only (the Local traffic policies)
 *        POSTROUTING → KUBE-POSTROUTING masquerades what KUBE-MARK-MASQ marked
 *  filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES reject connections to ports without endpoints,
 *        so they fail at once instead of hanging; KUBE-FORWARD accepts marked and established
 *        traffic; KUBE-FIREWALL drops martian traffic to 127/8 let through by route_localnet.
 *
 * Pure: the same ports give the same text. Traffic from this node's pods is told apart by the
 * pod bridge it comes in on (kube-proxy's `--detect-local-mode=BridgeInterface`).
 */
import { createHash } from 'node:crypto';
import type { ServiceEndpoint, ServicePort } from './service-ports.js';

/** Chains by name, each a list of `-A CHAIN …` lines. */
export type Chains = Map<string, string[]>;

export interface RuleSet {
  nat: Chains;
  filter: Chains;
}

export interface ProxyRulesOptions {
  /** The bridge this node's pods are on. */
  bridge: string;
}

export const MASQ_MARK = '0x4000';

/** The chains kube-proxy owns that always exist, and the built-in chains that jump to them. */
export const baseChains = {
  nat: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'],
  filter: ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-FIREWALL'],
} as const;

export interface JumpRule {
  table: 'nat' | 'filter';
  chain: string;
  /** The rule's arguments, without `-A chain`. */
  args: string[];
}

export const jumpRules: JumpRule[] = [
  { table: 'nat', chain: 'PREROUTING', args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'OUTPUT', args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'POSTROUTING', args: ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'] },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'INPUT', args: ['-j', 'KUBE-FIREWALL'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'comment', '--comment', 'kubernetes forwarding rules', '-j', 'KUBE-FORWARD'] },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
];

/**
 * Which chains a writer owns: its fixed chains, the prefixes of the chains it makes per object
 * (any such chain not in its rule set is stale), and its jumps from the built-in chains.
 */
export interface ChainLayout {
  base: { nat: readonly string[]; filter: readonly string[] };
  prefixes: readonly string[];
  jumps: readonly JumpRule[];
}

export const proxyLayout: ChainLayout = { base: baseChains, prefixes: ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-SEP-'], jumps: jumpRules };

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `prefix` + 16 base32 characters of a SHA-256: unique, stable, within iptables' 28 characters. */
export function chainName(prefix: string, key: string): string {
  const digest = createHash('sha256').update(key).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return prefix + out;
}

export const svcChain = (p: ServicePort): string => chainName('KUBE-SVC-', p.id + p.protocol.toLowerCase());
export const svlChain = (p: ServicePort): string => chainName('KUBE-SVL-', p.id + p.protocol.toLowerCase());
export const extChain = (p: ServicePort): string => chainName('KUBE-EXT-', p.id + p.protocol.toLowerCase());
export const sepChain = (p: ServicePort, e: ServiceEndpoint): string => chainName('KUBE-SEP-', `${p.id}${p.protocol.toLowerCase()}${e.ip}:${e.port}`);

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

export function proxyRules(ports: ServicePort[], o: ProxyRulesOptions): RuleSet {
  const nat: Chains = new Map(baseChains.nat.map((c) => [c, [] as string[]]));
  const filter: Chains = new Map(baseChains.filter.map((c) => [c, [] as string[]]));
  const add = (chains: Chains, chain: string, rule: string): void => {
    let rules = chains.get(chain);
    if (!rules) chains.set(chain, (rules = []));
    rules.push(`-A ${chain} ${rule}`);
  };

  add(nat, 'KUBE-MARK-MASQ', `-j MARK --or-mark ${MASQ_MARK}`);
  add(nat, 'KUBE-POSTROUTING', `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  // Clear the mark so a packet that is re-routed is not masqueraded twice.
  add(nat, 'KUBE-POSTROUTING', `-j MARK --xor-mark ${MASQ_MARK}`);
  add(nat, 'KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`);
  add(filter, 'KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
  add(filter, 'KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);
  add(filter, 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  add(filter, 'KUBE-FIREWALL', '! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');

  for (const p of ports) {
    const proto = p.protocol.toLowerCase();
    const match = `-p ${proto} -m ${proto}`;
    const svc = svcChain(p);
    const svl = svlChain(p);
    const ext = extChain(p);
    const id = p.id;

    // Endpoint chains, and the chains that pick among them.
    const sepsOf = new Map<string, string>();
    for (const e of p.allEndpoints) {
      const sep = sepChain(p, e);
      sepsOf.set(`${e.ip}:${e.port}`, sep);
      // Hairpin: a pod reaching itself through the Service must see the reply come from the node.
      add(nat, sep, `-s ${e.ip}/32 -m comment --comment ${quote(id)} -j KUBE-MARK-MASQ`);
      const affinity = p.affinitySeconds !== undefined ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : '';
      add(nat, sep, `${match} -m comment --comment ${quote(id)}${affinity} -j DNAT --to-destination ${e.ip}:${e.port}`);
    }
    const pick = (chain: string, endpoints: ServiceEndpoint[]): void => {
      nat.set(chain, nat.get(chain) ?? []);
      if (p.affinitySeconds !== undefined) {
        for (const e of endpoints) {
          const sep = sepsOf.get(`${e.ip}:${e.port}`)!;
          add(nat, chain, `-m comment --comment ${quote(`${id} -> ${e.ip}:${e.port}`)} -m recent --name ${sep} --rcheck --seconds ${p.affinitySeconds} --reap -j ${sep}`);
        }
      }
      endpoints.forEach((e, i) => {
        const sep = sepsOf.get(`${e.ip}:${e.port}`)!;
        const left = endpoints.length - i;
        const random = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
        add(nat, chain, `-m comment --comment ${quote(`${id} -> ${e.ip}:${e.port}`)}${random} -j ${sep}`);
      });
    };

    const externalEndpoints = p.externalLocal ? p.localEndpoints : p.allEndpoints;
    const hasExternal = p.nodePort !== undefined || p.externalIPs.length > 0;
    if (p.allEndpoints.length) pick(svc, p.allEndpoints);
    if ((p.internalLocal || p.externalLocal) && p.localEndpoints.length) pick(svl, p.localEndpoints);

    // ClusterIP.
    if (p.clusterIP) {
      if (p.clusterEndpoints.length) {
        // Traffic that does not come from a local pod (the node itself, another node) is
        // masqueraded, so the reply comes back through this node's conntrack.
        const internal = p.internalLocal ? svl : svc;
        nat.get(internal)!.unshift(`-A ${internal} ! -i ${o.bridge} -d ${p.clusterIP}/32 ${match} --dport ${p.port} -m comment --comment ${quote(`${id} cluster IP`)} -j KUBE-MARK-MASQ`);
        add(nat, 'KUBE-SERVICES', `-d ${p.clusterIP}/32 ${match} --dport ${p.port} -m comment --comment ${quote(`${id} cluster IP`)} -j ${internal}`);
      } else {
        const [verdict, why] = p.allEndpoints.length ? ['DROP', 'has no local endpoints'] : ['REJECT --reject-with icmp-port-unreachable', 'has no endpoints'];
        add(filter, 'KUBE-SERVICES', `-d ${p.clusterIP}/32 ${match} --dport ${p.port} -m comment --comment ${quote(`${id} ${why}`)} -j ${verdict}`);
      }
    }
    if (!hasExternal) continue;

    // NodePort, load-balancer and external IPs.
    if (externalEndpoints.length) {
      if (!p.externalLocal) {
        add(nat, ext, `-m comment --comment ${quote(`masquerade traffic for ${id} external destinations`)} -j KUBE-MARK-MASQ`);
        add(nat, ext, `-j ${svc}`);
      } else {
        // Pods and the node itself may use any endpoint; traffic from outside stays on this node
        // and keeps its source address.
        add(nat, ext, `-i ${o.bridge} -m comment --comment ${quote(`pod traffic for ${id} external destinations`)} -j ${svc}`);
        add(nat, ext, `-m comment --comment ${quote(`masquerade LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
        add(nat, ext, `-m comment --comment ${quote(`route LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j ${svc}`);
        add(nat, ext, `-j ${svl}`);
      }
      for (const ip of p.externalIPs) add(nat, 'KUBE-SERVICES', `-d ${ip}/32 ${match} --dport ${p.port} -m comment --comment ${quote(`${id} external IP`)} -j ${ext}`);
      if (p.nodePort !== undefined) add(nat, 'KUBE-NODEPORTS', `${match} --dport ${p.nodePort} -m comment --comment ${quote(id)} -j ${ext}`);
    } else {
      const [verdict, why] = p.allEndpoints.length ? ['DROP', 'has no local endpoints'] : ['REJECT --reject-with icmp-port-unreachable', 'has no endpoints'];
      for (const ip of p.externalIPs) add(filter, 'KUBE-EXTERNAL-SERVICES', `-d ${ip}/32 ${match} --dport ${p.port} -m comment --comment ${quote(`${id} ${why}`)} -j ${verdict}`);
      if (p.nodePort !== undefined) add(filter, 'KUBE-EXTERNAL-SERVICES', `-m addrtype --dst-type LOCAL ${match} --dport ${p.nodePort} -m comment --comment ${quote(`${id} ${why}`)} -j ${verdict}`);
    }
  }
  add(nat, 'KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return { nat, filter };
}
