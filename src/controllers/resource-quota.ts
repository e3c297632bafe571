import { refs, splitKey, type SharedInformer } from '../client/informer.js';
import { isNotFound, type ApiObject, type ResourceRef } from '../client/interface.js';
import { canonicalQuantity } from '../machinery/quantity.js';
import { deepEqual } from '../machinery/json-value.js';
import { keysFor, resourceOfQuotaKey, totalUsage, type GroupResource } from '../machinery/quota-usage.js';
import { Controller, type ControllerContext } from './controller.js';

/** Resources watched through informers: a change of one re-counts the quotas of its namespace at once. */
const watched: ResourceRef[] = [refs.pods, refs.services, refs.secrets, refs.configmaps, refs.persistentvolumeclaims, refs.replicationcontrollers, refs.resourcequotas];

/**
 * Keeps ResourceQuota status current: `status.hard` mirrors `spec.hard` and `status.used` is
 * recounted from the objects of the namespace. Resources without an informer (`count/…` of other
 * kinds) are listed on each sync; every quota is also resynced periodically (option
 * `resourceQuotaSyncPeriodSeconds`, default 30).
 */
export class ResourceQuotaController extends Controller {
  readonly name = 'resource-quota';
  private readonly quotas = this.ctx.informers.for(refs.resourcequotas);
  private readonly informers = new Map<string, SharedInformer>(watched.map((r) => [`${r.group}/${r.resource}`, this.ctx.informers.for(r)]));
  private readonly resyncMs = Number(this.ctx.options['resourceQuotaSyncPeriodSeconds'] ?? 30) * 1000;
  private resources: Promise<Array<ResourceRef & { namespaced: boolean }>> | undefined;

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.quotas.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (old, cur) => !deepEqual(old['spec'], cur['spec']) && this.enqueue(cur) });
    for (const inf of this.informers.values()) {
      if (inf === this.quotas) continue;
      const touch = (o: ApiObject): void => {
        for (const q of this.quotas.list(o.metadata?.namespace ?? '')) this.enqueue(q);
      };
      inf.addEventHandler({ onAdd: touch, onUpdate: (old, cur) => !deepEqual(old['spec'], cur['spec']) || !deepEqual(old['status'], cur['status']) ? touch(cur) : undefined, onDelete: touch });
    }
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const quota = this.quotas.get(namespace, name);
    if (!quota) return;
    this.queue.addAfter(key, this.resyncMs);
    const hard = ((quota['spec'] ?? {}) as { hard?: Record<string, string> }).hard ?? {};
    const now = this.ctx.clock.now();
    const byResource = new Map<string, GroupResource>();
    for (const k of Object.keys(hard)) {
      const gr = resourceOfQuotaKey(k);
      if (gr) byResource.set(`${gr.group}/${gr.resource}`, gr);
    }
    const used: Record<string, string> = {};
    for (const [id, gr] of byResource) {
      const objects = await this.objectsOf(id, gr, namespace);
      if (!objects) continue;
      const keys = keysFor(hard, gr);
      for (const [k, v] of totalUsage(quota, gr, objects, keys, now)) used[k] = v.toString();
    }
    const status = { hard: Object.fromEntries(Object.entries(hard).map(([k, v]) => [k, canonicalQuantity(v)])), used };
    if (deepEqual(status, quota['status'])) return;
    try {
      await this.ctx.client.update(refs.resourcequotas, namespace, { ...quota, status }, { subresource: 'status' });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** The live objects of a resource in a namespace, or undefined when the server does not serve it. */
  private async objectsOf(id: string, gr: GroupResource, namespace: string): Promise<ApiObject[] | undefined> {
    const inf = this.informers.get(id);
    if (inf) return inf.list(namespace);
    this.resources ??= this.ctx.client.serverResources().catch((e: unknown) => {
      this.resources = undefined;
      throw e;
    });
    const ref = (await this.resources).find((r) => r.group === gr.group && r.resource === gr.resource && r.namespaced);
    if (!ref) return undefined;
    return (await this.ctx.client.list({ group: ref.group, version: ref.version, resource: ref.resource }, namespace)).items;
  }
}
