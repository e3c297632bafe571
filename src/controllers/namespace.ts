import { isNotFound, type ApiObject, type Client, type ResourceRef } from '../client/interface.js';

const namespacesRef: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };

export interface NamespaceControllerOptions {
  /** How often a terminating namespace that still has content is looked at again. */
  resyncMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * Empties namespaces being deleted: deletes every namespaced object in them, waits until all are
 * gone (pods may take their grace period), then removes the `kubernetes` finalizer so the
 * namespace itself goes — Kubernetes' namespace lifecycle controller.
 */
export class NamespaceController {
  private stopWatch: (() => void) | undefined;
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly opts: NamespaceControllerOptions = {},
  ) {}

  async start(): Promise<void> {
    const list = await this.client.list(namespacesRef, '');
    for (const ns of list.items) this.consider(ns);
    const w = await this.client.watch(namespacesRef, '', { resourceVersion: list.metadata.resourceVersion }, (e) => {
      if (e.type === 'ADDED' || e.type === 'MODIFIED') this.consider(e.object);
    }, () => {
      if (!this.stopped) void this.start();
    });
    this.stopWatch = w.stop;
    this.timer = setInterval(() => {
      for (const name of this.pending) void this.sync(name);
    }, this.opts.resyncMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    clearInterval(this.timer);
  }

  private consider(ns: ApiObject): void {
    const name = ns.metadata?.name;
    if (name && ns.metadata?.deletionTimestamp) {
      this.pending.add(name);
      void this.sync(name);
    }
  }

  /** One pass over a terminating namespace; never two at once for the same namespace. */
  private async sync(name: string): Promise<void> {
    if (this.running.has(name) || this.stopped) return;
    this.running.add(name);
    try {
      let ns: ApiObject;
      try {
        ns = await this.client.get(namespacesRef, '', name);
      } catch (e) {
        if (isNotFound(e)) this.pending.delete(name);
        return;
      }
      if (!ns.metadata?.deletionTimestamp) {
        this.pending.delete(name);
        return;
      }
      const remaining = await this.deleteContent(name);
      const finalizers = ((ns['spec'] ?? {}) as { finalizers?: string[] }).finalizers ?? [];
      if (remaining === 0 && finalizers.includes('kubernetes')) {
        await this.client.update(namespacesRef, '', { ...ns, spec: { ...(ns['spec'] as object), finalizers: finalizers.filter((f) => f !== 'kubernetes') } }, { subresource: 'finalize' });
        this.pending.delete(name);
        this.opts.log?.('namespace emptied and finalized', { namespace: name });
      }
    } catch (e) {
      this.opts.log?.('namespace cleanup failed; will retry', { namespace: name, error: (e as Error).message });
    } finally {
      this.running.delete(name);
    }
  }

  /** Deletes what is left in the namespace; returns how many objects still exist. */
  private async deleteContent(namespace: string): Promise<number> {
    let remaining = 0;
    const resources = (await this.client.serverResources()).filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    for (const ref of resources) {
      const list = await this.client.list(ref, namespace);
      for (const obj of list.items) {
        if (obj.metadata?.deletionTimestamp) {
          remaining++;
          continue;
        }
        try {
          // An object that is only marked for deletion (finalizers, grace period) is still there.
          const after = await this.client.delete(ref, namespace, obj.metadata?.name ?? '', { propagationPolicy: 'Background' });
          if (after?.metadata?.deletionTimestamp) remaining++;
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    return remaining;
  }
}
