import { refs } from '../client/informer.js';
import type { ApiObject } from '../client/interface.js';
import { isOurs, ourClassIsDefault } from '../ingress/ingress-routes.js';
import { Controller, type ControllerContext } from './controller.js';
import { nodeAddressesChanged, readyNodeAddresses } from './service-lb.js';

/**
 * Reports where the ingress controller answers: every node runs it, so an Ingress of the `k8ts`
 * class (or of no class, ours being the default) gets the Ready nodes' addresses as
 * `status.loadBalancer.ingress`, which `kubectl get ingress` shows as ADDRESS.
 */
export class IngressStatusController extends Controller {
  readonly name = 'ingress-status';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const ingresses = this.ctx.informers.for(refs.ingresses);
    const all = (): void => ingresses.list().forEach((i) => this.enqueue(i));
    ingresses.addEventHandler({ onAdd: (i) => this.enqueue(i), onUpdate: (_o, i) => this.enqueue(i) });
    this.ctx.informers.for(refs.ingressclasses).addEventHandler({ onAdd: all, onUpdate: all, onDelete: all });
    this.ctx.informers.for(refs.nodes).addEventHandler({ onAdd: all, onUpdate: (a, b) => nodeAddressesChanged(a, b) && all(), onDelete: all });
  }

  async reconcile(key: string): Promise<void> {
    const ing = this.ctx.informers.for(refs.ingresses).getByKey(key);
    if (!ing || ing.metadata?.deletionTimestamp) return;
    if (!isOurs(ing, ourClassIsDefault(this.ctx.informers.for(refs.ingressclasses).list()))) return;
    const want = readyNodeAddresses(this.ctx.informers.for(refs.nodes)).map((ip) => ({ ip }));
    const status = (ing['status'] ?? {}) as { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
    if (JSON.stringify((status.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip }))) === JSON.stringify(want)) return;
    await this.ctx.client.update(refs.ingresses, ing.metadata?.namespace ?? '', { ...(ing as ApiObject), status: { ...status, loadBalancer: want.length ? { ingress: want } : {} } }, { subresource: 'status' });
  }
}
