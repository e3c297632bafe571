import { refs, type SharedInformer } from '../client/informer.js';
import type { ApiObject } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';

interface LbService {
  metadata?: ApiObject['metadata'] & { creationTimestamp?: string };
  spec?: { type?: string; loadBalancerClass?: string; ports?: Array<{ port: number; protocol?: string }> };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string; ipMode?: string }> } };
}

interface NodeInfo {
  spec?: { unschedulable?: boolean };
  status?: { addresses?: Array<{ type: string; address: string }>; conditions?: Array<{ type: string; status: string }> };
}

/** ExternalIP when a node has one, else its InternalIP, of every Ready node: where load balancers answer. */
export function readyNodeAddresses(nodes: SharedInformer): string[] {
  const out = new Set<string>();
  for (const n of nodes.list() as NodeInfo[]) {
    if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') continue;
    const addrs = n.status.addresses ?? [];
    const ip = addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'InternalIP')?.address;
    if (ip) out.add(ip);
  }
  return [...out].sort();
}

/** Whether a Node change can change `readyNodeAddresses`. */
export function nodeAddressesChanged(a: ApiObject, b: ApiObject): boolean {
  const view = (n: ApiObject): string => JSON.stringify([(n as NodeInfo).status?.addresses, (n as NodeInfo).status?.conditions?.find((c) => c.type === 'Ready')?.status]);
  return view(a) !== view(b);
}

/**
 * ServiceLB, as k3s has it for bare metal: a `LoadBalancer` Service (of no other
 * loadBalancerClass) gets the addresses of the Ready nodes as `status.loadBalancer.ingress`, and
 * kube-proxy on every node serves its ports on them. Two Services cannot share a port on the same
 * addresses: the younger one stays pending, with an event that says which Service holds the port.
 * A Service that stops being a LoadBalancer loses its ingress.
 */
export class ServiceLBController extends Controller {
  readonly name = 'service-lb';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const services = this.ctx.informers.for(refs.services);
    // Any change may free or take a port another LoadBalancer Service waits for.
    services.addEventHandler({ onAdd: (s) => (this.enqueue(s), this.enqueueAll()), onUpdate: (_o, s) => (this.enqueue(s), this.enqueueAll()), onDelete: () => this.enqueueAll() });
    this.ctx.informers.for(refs.nodes).addEventHandler({ onAdd: () => this.enqueueAll(), onUpdate: (a, b) => nodeAddressesChanged(a, b) && this.enqueueAll(), onDelete: () => this.enqueueAll() });
  }

  private enqueueAll(): void {
    for (const s of this.ctx.informers.for(refs.services).list()) if ((s as LbService).spec?.type === 'LoadBalancer') this.enqueue(s);
  }

  /** The older LoadBalancer Service that holds one of `svc`'s ports, if any. */
  private portHolder(svc: LbService): LbService | undefined {
    const mine = new Set((svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`));
    const age = (s: LbService): string => `${s.metadata?.creationTimestamp ?? ''}/${s.metadata?.namespace}/${s.metadata?.name}`;
    for (const other of this.ctx.informers.for(refs.services).list() as LbService[]) {
      if (other === svc || other.spec?.type !== 'LoadBalancer' || other.spec.loadBalancerClass || age(other) >= age(svc)) continue;
      if ((other.spec.ports ?? []).some((p) => mine.has(`${p.protocol ?? 'TCP'}/${p.port}`))) return other;
    }
    return undefined;
  }

  async reconcile(key: string): Promise<void> {
    const svc = this.ctx.informers.for(refs.services).getByKey(key) as LbService | undefined;
    if (!svc || svc.metadata?.deletionTimestamp) return;
    const ours = svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
    let ingress: Array<{ ip: string; ipMode: string }> = [];
    if (ours) {
      const holder = this.portHolder(svc);
      if (holder) {
        if (svc.status?.loadBalancer?.ingress?.length) await this.writeIngress(svc, []);
        this.ctx.recorder('service-lb-controller').event(svc as ApiObject, 'Warning', 'PortInUse', `a port of this Service is served by LoadBalancer Service ${holder.metadata?.namespace}/${holder.metadata?.name}; it stays pending until that port is free`);
        return;
      }
      ingress = readyNodeAddresses(this.ctx.informers.for(refs.nodes)).map((ip) => ({ ip, ipMode: 'VIP' }));
    } else if (svc.spec?.loadBalancerClass) {
      return; // another load balancer's
    }
    const current = (svc.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip ?? '', ipMode: i.ipMode ?? 'VIP' }));
    if (JSON.stringify(current) === JSON.stringify(ingress)) return;
    await this.writeIngress(svc, ingress);
    if (ours && ingress.length) this.ctx.recorder('service-lb-controller').event(svc as ApiObject, 'Normal', 'EnsuredLoadBalancer', `Serving on ${ingress.map((i) => i.ip).join(', ')}`);
  }

  private async writeIngress(svc: LbService, ingress: Array<{ ip: string; ipMode: string }>): Promise<void> {
    const status = { ...(svc.status ?? {}), loadBalancer: ingress.length ? { ingress } : {} };
    await this.ctx.client.update(refs.services, svc.metadata?.namespace ?? '', { ...(svc as ApiObject), status }, { subresource: 'status' });
  }
}
