import { StatusError, notFound } from '../../machinery/status-error.js';
import type { AdmissionHook, GenericStore, RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';

/** Namespaces that exist from the start and may never be deleted. */
export const immortalNamespaces = ['default', 'kube-system', 'kube-public'];

/**
 * Kubernetes' NamespaceLifecycle admission: no new objects in a namespace that does not exist or
 * is terminating, and the system namespaces cannot be deleted.
 */
export class NamespaceLifecycle implements AdmissionHook {
  constructor(private readonly namespaces: () => GenericStore) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, _old: KubeObject | undefined, ctx: RequestContext): Promise<void> {
    const d = resource.descriptor;
    if (d.group === '' && d.resource === 'namespaces') {
      if (op === 'DELETE' && immortalNamespaces.includes(obj.metadata?.name ?? '')) {
        throw new StatusError(403, 'Forbidden', `namespaces "${obj.metadata?.name ?? ''}" is forbidden: this namespace may not be deleted`, { name: obj.metadata?.name, kind: 'namespaces' });
      }
      return;
    }
    if (op !== 'CREATE' || !d.namespaced) return;
    const nsName = obj.metadata?.namespace ?? ctx.namespace;
    const ns = await this.namespaces().cachedGet('', nsName);
    if (!ns) throw notFound('', 'namespaces', nsName);
    // Events may still be written while a namespace terminates, as in Kubernetes.
    if (ns.metadata?.deletionTimestamp && !(d.resource === 'events')) {
      throw new StatusError(403, 'Forbidden', `${d.group ? `${d.resource}.${d.group}` : d.resource} "${obj.metadata?.name ?? ''}" is forbidden: unable to create new content in namespace ${nsName} because it is being terminated`, {
        name: obj.metadata?.name,
        group: d.group || undefined,
        kind: d.resource,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${nsName} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }
}
