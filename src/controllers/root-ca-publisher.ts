import { refs } from '../client/informer.js';
import { Controller, type ControllerContext } from './controller.js';

export const rootCAConfigMapName = 'kube-root-ca.crt';

/** Publishes the cluster CA as the ConfigMap `kube-root-ca.crt` (key `ca.crt`) in every namespace. */
export class RootCAPublisher extends Controller {
  readonly name = 'root-ca-publisher';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  private get caPem(): string {
    return String(this.ctx.options['caPem'] ?? '');
  }

  setup(): void {
    this.ctx.informers.for(refs.namespaces).addEventHandler({ onAdd: (ns) => this.enqueue(ns), onUpdate: (_o, ns) => this.enqueue(ns) });
    this.ctx.informers.for(refs.configmaps).addEventHandler({
      onUpdate: (_o, cm) => {
        if (cm.metadata?.name === 'kube-root-ca.crt' && cm.metadata.namespace) this.queue.add(cm.metadata.namespace);
      },
      onDelete: (cm) => {
        if (cm.metadata?.name === 'kube-root-ca.crt' && cm.metadata.namespace) this.queue.add(cm.metadata.namespace);
      },
    });
  }

  async reconcile(namespace: string): Promise<void> {
    if (!this.caPem) return;
    const ns = this.ctx.informers.for(refs.namespaces).getByKey(namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return;
    const current = this.ctx.informers.for(refs.configmaps).get(namespace, 'kube-root-ca.crt');
    const data = { 'ca.crt': this.caPem };
    const annotations = { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' };
    try {
      if (!current) {
        await this.ctx.client.create(refs.configmaps, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace, annotations }, data });
      } else if ((current['data'] as Record<string, string> | undefined)?.['ca.crt'] !== this.caPem) {
        await this.ctx.client.update(refs.configmaps, namespace, { ...current, data });
      }
    } catch (e) {
      if (!(e instanceof Error && /already exists|being terminated/.test(e.message))) throw e;
    }
  }
}
