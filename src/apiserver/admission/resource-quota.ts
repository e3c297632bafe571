import { StatusError } from '../../machinery/status-error.js';
import { Quantity } from '../../machinery/quantity.js';
import { keysFor, podConstraintError, prettyPrint, quotaSelects, totalUsage, usageOf, type GroupResource } from '../../machinery/quota-usage.js';
import type { AdmissionHook, RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';
import type { ResourceRegistry } from '../resource-registry.js';

/** Lists the live objects of a resource in a namespace (from the store, so a write just made counts). */
export type ObjectLookup = (group: string, resource: string, namespace: string) => Promise<KubeObject[]>;

/** An ObjectLookup reading the API server's stores directly. */
export function registryLookup(registry: ResourceRegistry): ObjectLookup {
  return async (group, resource, namespace) => {
    const served = registry.byGroup(group, resource);
    if (!served?.store) return [];
    return (await served.store.list({ namespace })).items;
  };
}

function forbidden(gr: GroupResource, name: string, message: string): StatusError {
  const res = gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
  return new StatusError(403, 'Forbidden', `${res} "${name}" is forbidden: ${message}`, { name, group: gr.group || undefined, kind: gr.resource });
}

/**
 * The ResourceQuota admission plugin: a create that would take a namespace's usage over any of
 * its quotas' `spec.hard` is refused with 403 and Kubernetes' wording. Usage is counted from the
 * live objects, so it is exact even before the quota controller has updated status.used.
 */
export class ResourceQuotaAdmission implements AdmissionHook {
  constructor(
    private readonly lookup: ObjectLookup,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext, subresource: string): Promise<void> {
    if (op !== 'CREATE' || subresource) return;
    const gr: GroupResource = { group: resource.descriptor.group, resource: resource.descriptor.resource };
    const namespace = obj.metadata?.namespace;
    if (!namespace || !resource.descriptor.namespaced) return;
    const quotas = (await this.lookup('', 'resourcequotas', namespace)).filter((q) => !q.metadata?.deletionTimestamp);
    if (!quotas.length) return;
    const name = obj.metadata?.name ?? '';
    const now = this.now();
    quotas.sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
    let live: KubeObject[] | undefined;
    for (const quota of quotas) {
      const hard = ((quota.spec ?? {}) as { hard?: Record<string, string> }).hard ?? {};
      const keys = keysFor(hard, gr);
      if (!keys.length || !quotaSelects(quota, gr, obj)) continue;
      if (gr.group === '' && gr.resource === 'pods') {
        const err = podConstraintError((obj.spec ?? {}) as Parameters<typeof podConstraintError>[0], keys);
        if (err) throw forbidden(gr, name, `failed quota: ${quota.metadata?.name ?? ''}: ${err}`);
      }
      const requested = usageOf(gr, obj, keys, now);
      if (!requested.size) continue;
      live ??= (await this.lookup(gr.group, gr.resource, namespace)).filter((o) => o.metadata?.name !== name);
      const used = totalUsage(quota, gr, live, [...requested.keys()], now);
      const exceeded = [...requested.keys()].filter((k) => used.get(k)!.add(requested.get(k)!).cmp(Quantity.parse(hard[k] ?? '0')) > 0);
      if (!exceeded.length) continue;
      const pick = (m: Map<string, Quantity>): Map<string, Quantity> => new Map(exceeded.map((k) => [k, m.get(k)!]));
      const limited = new Map(exceeded.map((k) => [k, Quantity.parse(hard[k] ?? '0')]));
      throw forbidden(gr, name, `exceeded quota: ${quota.metadata?.name ?? ''}, requested: ${prettyPrint(pick(requested))}, used: ${prettyPrint(pick(used))}, limited: ${prettyPrint(limited)}`);
    }
  }
}
