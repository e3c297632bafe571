/**
 * NetworkPolicy enforcement for the pods of one node, in iptables' filter table (what kube-router
 * and Calico do). Every forwarded packet — between pods on the bridge (br_netfilter), from other
 * nodes, to the outside — passes K8TS-NETPOL first: replies of allowed connections go on; a
 * packet from a pod isolated for egress goes through that pod's K8TS-NP-E-… chain, a packet to a
 * pod isolated for ingress through its K8TS-NP-I-… chain. Such a chain marks the packet when a
 * rule of a policy selecting the pod allows it, and drops it otherwise. Traffic from the node
 * itself (kubelet probes) does not pass FORWARD and is always allowed, as Kubernetes requires.
 */
import type { ApiObject } from '../client/interface.js';
import type { SharedInformer } from '../client/informer.js';
import { selectorFromLabelSelector, type LabelSelector } from '../machinery/labels.js';
import type { Logger } from '../machinery/logger.js';
import { CoalescedRun } from '../machinery/coalesced-run.js';
import { IptablesSyncer, type IptablesRunner } from '../proxy/iptables.js';
import { chainName, type Chains, type ChainLayout, type RuleSet } from '../proxy/iptables-rules.js';

const ALLOWED = '0x10000';
export const policyLayout: ChainLayout = {
  base: { nat: [], filter: ['K8TS-NETPOL'] },
  prefixes: ['K8TS-NP-'],
  jumps: [{ table: 'filter', chain: 'FORWARD', args: ['-m', 'comment', '--comment', 'k8ts network policies', '-j', 'K8TS-NETPOL'] }],
};

interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}
interface PolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: string[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

export interface PolicyPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  node: string;
  /** Container ports by name, for named ports. */
  ports: Map<string, { port: number; protocol: string }>;
}

export function policyPod(p: ApiObject): PolicyPod | undefined {
  const spec = (p['spec'] ?? {}) as { nodeName?: string; hostNetwork?: boolean; containers?: Array<{ ports?: Array<{ name?: string; containerPort: number; protocol?: string }> }> };
  const status = (p['status'] ?? {}) as { podIP?: string; phase?: string };
  if (!status.podIP || spec.hostNetwork || status.phase === 'Succeeded' || status.phase === 'Failed' || !/^\d+\.\d+\.\d+\.\d+$/.test(status.podIP)) return undefined;
  const ports = new Map<string, { port: number; protocol: string }>();
  for (const c of spec.containers ?? []) for (const cp of c.ports ?? []) if (cp.name) ports.set(cp.name, { port: cp.containerPort, protocol: cp.protocol ?? 'TCP' });
  return { namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', labels: p.metadata?.labels ?? {}, ip: status.podIP, node: spec.nodeName ?? '', ports };
}

export interface PolicyInput {
  policies: ApiObject[];
  pods: PolicyPod[];
  namespaces: ApiObject[];
  nodeName: string;
}

const typesOf = (spec: PolicySpec): string[] => spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);

/** `-p … --dport …` for each port of a rule, named ports resolved on `portPod`; `['']` for all ports. */
function portMatches(ports: PolicyPort[] | undefined, portPod: PolicyPod | undefined): string[] {
  if (!ports?.length) return [''];
  const out: string[] = [];
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    if (p.port === undefined) out.push(`-p ${proto}`);
    else if (typeof p.port === 'number') out.push(`-p ${proto} -m ${proto} --dport ${p.port}${p.endPort ? `:${p.endPort}` : ''}`);
    else {
      const named = portPod?.ports.get(p.port);
      if (named && named.protocol.toLowerCase() === proto) out.push(`-p ${proto} -m ${proto} --dport ${named.port}`);
    }
  }
  return out;
}

export function policyRules(input: PolicyInput): RuleSet {
  const filter: Chains = new Map([['K8TS-NETPOL', [] as string[]]]);
  const add = (chain: string, rule: string): void => {
    let rules = filter.get(chain);
    if (!rules) filter.set(chain, (rules = []));
    rules.push(`-A ${chain} ${rule}`);
  };
  add('K8TS-NETPOL', '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN');
  const nsLabels = new Map(input.namespaces.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
  const policies = input.policies.map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', spec: (p['spec'] ?? {}) as PolicySpec }));

  /** The pods a peer stands for (relative to the policy's namespace). */
  const peerPods = (peer: PolicyPeer, ns: string): PolicyPod[] => {
    const podSel = peer.podSelector ? selectorFromLabelSelector(peer.podSelector) : undefined;
    const nsSel = peer.namespaceSelector ? selectorFromLabelSelector(peer.namespaceSelector) : undefined;
    return input.pods.filter((p) => (nsSel ? nsSel.matches(nsLabels.get(p.namespace) ?? {}) : p.namespace === ns) && (!podSel || podSel.matches(p.labels)));
  };

  for (const pod of input.pods.filter((p) => p.node === input.nodeName)) {
    for (const direction of ['Ingress', 'Egress'] as const) {
      const selecting = policies.filter((p) => p.namespace === pod.namespace && typesOf(p.spec).includes(direction) && selectorFromLabelSelector(p.spec.podSelector ?? {}).matches(pod.labels));
      if (!selecting.length) continue;
      const chain = chainName(direction === 'Ingress' ? 'K8TS-NP-I-' : 'K8TS-NP-E-', `${pod.namespace}/${pod.name}/${pod.ip}`);
      add('K8TS-NETPOL', `${direction === 'Ingress' ? '-d' : '-s'} ${pod.ip}/32 -m comment --comment "${pod.namespace}/${pod.name} ${direction.toLowerCase()}" -j ${chain}`);
      add(chain, `-j MARK --set-xmark 0x0/${ALLOWED}`);
      const peerFlag = direction === 'Ingress' ? '-s' : '-d';
      // Named ports are the destination's: this pod's for ingress, the peer pod's for egress.
      const ownPorts = direction === 'Ingress' ? pod : undefined;
      for (const policy of selecting) {
        const rules = (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
        rules.forEach((rule, i) => {
          const comment = `-m comment --comment "${policy.namespace}/${policy.name} ${direction.toLowerCase()}[${i}]"`;
          const peers = (direction === 'Ingress' ? rule.from : rule.to) ?? [];
          const allow = (peerMatch: string, portPod: PolicyPod | undefined): void => {
            for (const port of portMatches(rule.ports, portPod)) add(chain, `${peerMatch}${port ? `${peerMatch ? ' ' : ''}${port}` : ''} ${comment} -j MARK --or-mark ${ALLOWED}`.trim());
          };
          if (!peers.length) {
            // No peers: from (or to) anywhere.
            allow('', ownPorts);
            return;
          }
          for (const peer of peers) {
            if (peer.ipBlock) {
              const except = peer.ipBlock.except ?? [];
              if (except.length) {
                // The excepted ranges skip this peer; a sub-chain returns before marking.
                const sub = chainName('K8TS-NP-B-', `${chain}/${policy.namespace}/${policy.name}/${i}/${peer.ipBlock.cidr}`);
                if (!filter.has(sub)) {
                  for (const e of except) add(sub, `${peerFlag} ${e} -j RETURN`);
                  add(sub, `-j MARK --or-mark ${ALLOWED}`);
                }
                for (const port of portMatches(rule.ports, ownPorts)) add(chain, `${peerFlag} ${peer.ipBlock.cidr}${port ? ` ${port}` : ''} ${comment} -j ${sub}`);
              } else {
                allow(`${peerFlag} ${peer.ipBlock.cidr}`, ownPorts);
              }
              continue;
            }
            for (const peerPod of peerPods(peer, policy.namespace)) allow(`${peerFlag} ${peerPod.ip}/32`, ownPorts ?? peerPod);
          }
        });
      }
      add(chain, `-m mark --mark ${ALLOWED}/${ALLOWED} -j RETURN`);
      add(chain, `-m comment --comment "${pod.namespace}/${pod.name}: not allowed by any policy" -j DROP`);
    }
  }
  return { nat: new Map(), filter };
}

export interface NetworkPolicyOptions {
  nodeName: string;
  policies: SharedInformer;
  pods: SharedInformer;
  namespaces: SharedInformer;
  log: Logger;
  runner?: IptablesRunner;
}

/**
 * Keeps the node's policy chains in line with NetworkPolicies, pods and namespaces. Pods and
 * namespaces of the whole cluster are watched only once there is a policy. The rules stay when
 * k8ts stops: a pod a policy isolates stays isolated while k8ts restarts.
 */
export class NetworkPolicyEnforcer {
  private readonly syncer: IptablesSyncer;
  private readonly runs: CoalescedRun;
  private stopped = false;
  private watchingPods: Promise<void> | undefined;

  constructor(private readonly o: NetworkPolicyOptions) {
    this.syncer = new IptablesSyncer(o.runner, policyLayout);
    this.runs = new CoalescedRun(() => this.sync(), { retryMs: 1000, onError: (e) => o.log.error('could not sync network policy rules; retrying in 1 s', { err: e.message }) });
    const changed = { onAdd: () => this.schedule(), onUpdate: (a: ApiObject, b: ApiObject) => a !== b && this.schedule(), onDelete: () => this.schedule() };
    for (const inf of [o.policies, o.pods, o.namespaces]) inf.addEventHandler(changed);
  }

  async start(): Promise<void> {
    await this.o.policies.start();
    this.schedule();
    await this.runs.idle();
  }

  stop(): void {
    this.stopped = true;
    void this.runs.stop();
  }

  private schedule(): void {
    if (this.stopped || !this.o.policies.hasSynced()) return;
    if (this.o.policies.list().length && !this.watchingPods) {
      this.watchingPods = Promise.all([this.o.pods.start(), this.o.namespaces.start()]).then(() => undefined);
      void this.watchingPods.then(() => this.schedule());
      return;
    }
    // Without policies no pod is isolated: one sync with no pods clears what an earlier run left.
    if (this.watchingPods && (!this.o.pods.hasSynced() || !this.o.namespaces.hasSynced())) return;
    this.runs.request();
  }

  private async sync(): Promise<void> {
    const pods = this.watchingPods ? this.o.pods.list().map(policyPod).filter((p): p is PolicyPod => !!p) : [];
    const result = await this.syncer.sync(policyRules({ policies: this.o.policies.list(), pods, namespaces: this.watchingPods ? this.o.namespaces.list() : [], nodeName: this.o.nodeName }));
    this.o.log.debug('synced network policy rules', { ...result });
  }
}
