import { refs } from '../client/informer.js';
import { isConflict, type ApiObject } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';

/** Every active namespace has a `default` ServiceAccount; one deleted comes back. */
export class ServiceAccountController extends Controller {
  readonly name = 'serviceaccount';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.ctx.informers.for(refs.namespaces).addEventHandler({ onAdd: (ns) => this.enqueue(ns), onUpdate: (_o, ns) => this.enqueue(ns) });
    this.ctx.informers.for(refs.serviceaccounts).addEventHandler({
      onDelete: (sa) => {
        if (sa.metadata?.name === 'default' && sa.metadata.namespace) this.queue.add(sa.metadata.namespace);
      },
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.ctx.informers.for(refs.namespaces).getByKey(namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return;
    if (this.ctx.informers.for(refs.serviceaccounts).get(namespace, 'default')) return;
    const sa: ApiObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } };
    await this.ctx.client.create(refs.serviceaccounts, namespace, sa).catch((e: unknown) => {
      if (!(isConflict(e) || (e instanceof Error && /already exists|being terminated|not found/.test(e.message)))) throw e;
    });
  }
}

// Kept here so existing imports keep working; the publisher lives in its own file.
