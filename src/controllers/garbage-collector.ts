import { keyOf, type SharedInformer } from '../client/informer.js';
import { isNotFound, type ApiObject, type ResourceRef } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

interface Node {
  ref: ResourceRef;
  namespace: string;
  name: string;
  owners: OwnerReference[];
}

type Resource = ResourceRef & { namespaced: boolean; kind?: string };

function ownersOf(obj: ApiObject): OwnerReference[] {
  return ((obj.metadata?.['ownerReferences'] as OwnerReference[] | undefined) ?? []).filter((o) => o.uid);
}

function refId(ref: ResourceRef): string {
  return `${ref.group}/${ref.version}/${ref.resource}`;
}

/**
 * The garbage collector: a graph of every object's ownerReferences, kept by informers of every
 * listable resource. Dependents whose owners are all gone are deleted (background); an owner
 * being deleted in the foreground waits for its dependents; the `orphan` finalizer strips the
 * owner from its dependents instead. Keys are `<group/version/resource>|<namespace/name>`.
 */
export class GarbageCollector extends Controller {
  readonly name = 'garbage-collector';
  private readonly graph = new Map<string, Node>();
  /** owner uid → keys of its dependents */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly resources = new Map<string, Resource>();
  private readonly byKind = new Map<string, Resource>();

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    void this.discover();
  }

  /** Informers for every resource that can be listed, watched and deleted. */
  private async discover(): Promise<void> {
    const all = await this.ctx.client.serverResources();
    for (const r of all) {
      if (!r.verbs.includes('list') || !r.verbs.includes('watch') || !r.verbs.includes('delete')) continue;
      if (r.group === 'events.k8s.io' || (r.group === '' && r.resource === 'events')) continue;
      this.resources.set(refId(r), r);
      if (r.kind) this.byKind.set(`${r.group}/${r.kind}`, r);
      const informer = this.ctx.informers.for({ group: r.group, version: r.version, resource: r.resource });
      informer.addEventHandler({
        onAdd: (o) => this.observe(r, o),
        onUpdate: (_old, o) => this.observe(r, o),
        onDelete: (o) => this.forget(r, o),
      });
      void informer.start();
    }
  }

  private itemKey(ref: ResourceRef, obj: ApiObject): string {
    return `${refId(ref)}|${keyOf(obj)}`;
  }

  private observe(ref: Resource, obj: ApiObject): void {
    const key = this.itemKey(ref, obj);
    const uid = obj.metadata?.uid ?? '';
    const previous = this.graph.get(uid);
    for (const o of previous?.owners ?? []) this.dependents.get(o.uid)?.delete(key);
    const owners = ownersOf(obj);
    this.graph.set(uid, { ref, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '', owners });
    for (const o of owners) {
      let set = this.dependents.get(o.uid);
      if (!set) this.dependents.set(o.uid, (set = new Set()));
      set.add(key);
    }
    if (owners.length) this.queue.add(key);
    const finalizers = obj.metadata?.finalizers ?? [];
    if (obj.metadata?.deletionTimestamp && (finalizers.includes('foregroundDeletion') || finalizers.includes('orphan'))) this.queue.add(key);
  }

  private forget(ref: Resource, obj: ApiObject): void {
    const uid = obj.metadata?.uid ?? '';
    const node = this.graph.get(uid);
    for (const o of node?.owners ?? []) this.dependents.get(o.uid)?.delete(this.itemKey(ref, obj));
    this.graph.delete(uid);
    // Its dependents may now be orphans; owners waiting in the foreground may now be free.
    for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
    for (const o of node?.owners ?? []) {
      const owner = this.graph.get(o.uid);
      if (owner) this.queue.add(`${refId(owner.ref)}|${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}`);
    }
  }

  private informerOf(id: string): SharedInformer | undefined {
    const r = this.resources.get(id);
    return r ? this.ctx.informers.for({ group: r.group, version: r.version, resource: r.resource }) : undefined;
  }

  async reconcile(key: string): Promise<void> {
    const [id = '', objKey = ''] = key.split('|');
    const resource = this.resources.get(id);
    const obj = this.informerOf(id)?.getByKey(objKey);
    if (!resource || !obj) return;
    const finalizers = obj.metadata?.finalizers ?? [];
    if (obj.metadata?.deletionTimestamp && finalizers.includes('orphan')) return this.orphanDependents(resource, obj);
    if (obj.metadata?.deletionTimestamp && finalizers.includes('foregroundDeletion')) return this.deleteInForeground(resource, obj);
    const owners = ownersOf(obj);
    if (!owners.length) return;
    const absent: OwnerReference[] = [];
    let waitingOnForeground = false;
    for (const o of owners) {
      const state = await this.ownerState(o, obj.metadata?.namespace ?? '');
      if (state === 'absent') absent.push(o);
      if (state === 'foreground') waitingOnForeground = true;
    }
    if (absent.length === owners.length) {
      this.ctx.log.debug('deleting object whose owners are gone', { key });
      await this.deleteObject(resource, obj, waitingOnForeground ? 'Foreground' : 'Background');
    } else if (absent.length) {
      // Some owners remain: drop the references to the ones that are gone.
      const keep = owners.filter((o) => !absent.includes(o));
      await this.ctx.client.update(resource, obj.metadata?.namespace ?? '', { ...obj, metadata: { ...obj.metadata, ownerReferences: keep } }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    } else if (waitingOnForeground) {
      // An owner is being deleted in the foreground: dependents go first.
      await this.deleteObject(resource, obj, 'Foreground');
    }
  }

  /** Whether an owner exists (checked live on a cache miss), is gone, or is being deleted in the foreground. */
  private async ownerState(o: OwnerReference, namespace: string): Promise<'present' | 'absent' | 'foreground'> {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
    const resource = this.byKind.get(`${group}/${o.kind}`);
    if (!resource) return 'present'; // unknown kinds are never collected
    const known = this.graph.get(o.uid);
    let owner: ApiObject | undefined;
    if (known) owner = this.informerOf(refId(resource))?.getByKey(known.namespace ? `${known.namespace}/${known.name}` : known.name);
    if (!owner) {
      try {
        owner = await this.ctx.client.get(resource, resource.namespaced ? namespace : '', o.name);
      } catch (e) {
        if (isNotFound(e)) return 'absent';
        throw e;
      }
      if (owner.metadata?.uid !== o.uid) return 'absent';
    }
    if (owner.metadata?.deletionTimestamp && (owner.metadata.finalizers ?? []).includes('foregroundDeletion')) return 'foreground';
    return 'present';
  }

  private async deleteObject(ref: ResourceRef, obj: ApiObject, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    if (obj.metadata?.deletionTimestamp) return;
    try {
      await this.ctx.client.delete(ref, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', { propagationPolicy, preconditions: { uid: obj.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e) && !(e instanceof Error && /Precondition failed/.test(e.message))) throw e;
    }
  }

  private dependentObjects(uid: string): Array<{ resource: Resource; obj: ApiObject }> {
    const out: Array<{ resource: Resource; obj: ApiObject }> = [];
    for (const k of this.dependents.get(uid) ?? []) {
      const [id = '', objKey = ''] = k.split('|');
      const resource = this.resources.get(id);
      const obj = this.informerOf(id)?.getByKey(objKey);
      if (resource && obj) out.push({ resource, obj });
    }
    return out;
  }

  private async removeFinalizer(resource: Resource, obj: ApiObject, finalizer: string): Promise<void> {
    const fresh = await this.ctx.client.get(resource, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    const finalizers = (fresh.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    await this.ctx.client.update(resource, fresh.metadata?.namespace ?? '', { ...fresh, metadata: { ...fresh.metadata, finalizers } });
  }

  private async deleteInForeground(resource: Resource, owner: ApiObject): Promise<void> {
    const deps = this.dependentObjects(owner.metadata?.uid ?? '');
    const blocking = deps.filter(({ obj }) => ownersOf(obj).some((o) => o.uid === owner.metadata?.uid && o.blockOwnerDeletion));
    for (const { resource: r, obj } of deps) await this.deleteObject(r, obj, 'Foreground');
    if (blocking.length) return; // their deletion events bring the owner back here
    await this.removeFinalizer(resource, owner, 'foregroundDeletion').catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  private async orphanDependents(resource: Resource, owner: ApiObject): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    for (const { resource: r, obj } of this.dependentObjects(uid)) {
      const fresh = await this.ctx.client.get(r, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '').catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (!fresh) continue;
      const ownerReferences = ownersOf(fresh).filter((o) => o.uid !== uid);
      const metadata: ApiObject['metadata'] = { ...fresh.metadata, ownerReferences };
      // As in Kubernetes, an object left with no owners has no ownerReferences field at all.
      if (!ownerReferences.length) delete metadata['ownerReferences'];
      await this.ctx.client.update(r, fresh.metadata?.namespace ?? '', { ...fresh, metadata });
    }
    await this.removeFinalizer(resource, owner, 'orphan').catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
}
