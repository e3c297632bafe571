import { ApiError, type ApiObject, type Client, type ListQuery, type ResourceRef, type WatchEventOf } from './interface.js';

/** Reacts to changes of the informer's objects; handlers only enqueue keys, never do work. */
export interface EventHandler {
  onAdd?(obj: ApiObject): void;
  onUpdate?(oldObj: ApiObject, newObj: ApiObject): void;
  onDelete?(obj: ApiObject): void;
}

/** Maps an object to the values it is indexed under (e.g. a pod → its node name). */
export type IndexFunc = (obj: ApiObject) => string[];

/** Indexes every component may share (one function per name, so informers can be shared). */
export const indexes = {
  /** Pods (or any objects) by the uid of their controlling owner. */
  controllerUid: (o: ApiObject): string[] => {
    const ref = ((o.metadata?.['ownerReferences'] as Array<{ uid: string; controller?: boolean }> | undefined) ?? []).find((r) => r.controller);
    return ref ? [ref.uid] : [];
  },
  /** Objects with no controlling owner, by namespace: what a controller may adopt. */
  orphans: (o: ApiObject): string[] => {
    const owned = ((o.metadata?.['ownerReferences'] as Array<{ controller?: boolean }> | undefined) ?? []).some((r) => r.controller);
    return owned ? [] : [o.metadata?.namespace ?? ''];
  },
  /** EndpointSlices by the Service they belong to (`namespace/service`). */
  serviceName: (o: ApiObject): string[] => {
    const svc = o.metadata?.labels?.['kubernetes.io/service-name'];
    return svc ? [`${o.metadata?.namespace ?? ''}/${svc}`] : [];
  },
  /** Pods by spec.nodeName. */
  nodeName: (o: ApiObject): string[] => [String((o['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '')],
} satisfies Record<string, IndexFunc>;

/** `namespace/name`, or `name` for cluster-scoped objects: the key controllers queue. */
export function keyOf(obj: ApiObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '');
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every so often, handlers get onUpdate(obj, obj) for every object (level-triggered safety net); 0 = never. */
  resyncMs?: number;
  /** Told when the watch breaks and the informer relists. */
  onError?: (err: unknown) => void;
}

/**
 * A list-then-watch cache of one resource, shared by every controller that needs it (client-go's
 * SharedIndexInformer): handlers for changes, a lister, and indexes. On a broken or expired
 * watch it relists and reports the differences as events, so no change is ever missed.
 */
export class SharedInformer {
  private readonly items = new Map<string, ApiObject>();
  private readonly handlers: EventHandler[] = [];
  private readonly indexers = new Map<string, IndexFunc>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private stopWatch: (() => void) | undefined;
  /** Bumped for every new watch; events and closes of older watches are ignored. */
  private epoch = 0;
  private stopped = false;
  private started = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private lastRV = '';

  constructor(
    private readonly client: Client,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {
    this.addIndexer('namespace', (o) => [o.metadata?.namespace ?? '']);
  }

  /** Adds a handler; if the cache is already filled, the handler first gets an add per object. */
  addEventHandler(h: EventHandler): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.items.values()) h.onAdd?.(o);
  }

  /** Adds a named index; adding the same name again is allowed only with the same function. */
  addIndexer(name: string, fn: IndexFunc): void {
    const existing = this.indexers.get(name);
    if (existing === fn) return;
    if (existing) throw new Error(`index ${name} of ${this.ref.resource} is already defined differently`);
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
  }

  get(namespace: string, name: string): ApiObject | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): ApiObject | undefined {
    return this.items.get(key);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): ApiObject[] {
    if (namespace === undefined || namespace === '') return [...this.items.values()];
    return this.byIndex('namespace', namespace);
  }

  byIndex(indexName: string, value: string): ApiObject[] {
    const keys = this.indices.get(indexName)?.get(value);
    if (!keys) return [];
    const out: ApiObject[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Lists and starts watching, once; resolves after the first list is in the cache. */
  async start(): Promise<void> {
    if (this.started) return this.waitForSync();
    this.started = true;
    await this.restart(true);
    await this.waitForSync();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.items.values()) for (const h of this.handlers) h.onUpdate?.(o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    this.epoch++;
    this.stopWatch?.();
    this.stopWatch = undefined;
    clearInterval(this.resyncTimer);
  }

  private query(): ListQuery {
    const q: ListQuery = {};
    if (this.opts.labelSelector) q.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) q.fieldSelector = this.opts.fieldSelector;
    return q;
  }

  /**
   * Drops the current watch and starts a new one (after a relist when asked). Each start gets
   * an epoch; callbacks of an older watch are ignored, so a broken watch never yields two.
   */
  private restart(relist: boolean): Promise<void> {
    const epoch = ++this.epoch;
    this.stopWatch?.();
    this.stopWatch = undefined;
    return this.listAndWatch(epoch, relist);
  }

  private async listAndWatch(epoch: number, relist: boolean): Promise<void> {
    const current = (): boolean => !this.stopped && epoch === this.epoch;
    for (let attempt = 0; current(); attempt++) {
      try {
        if (relist) {
          const list = await this.client.list(this.ref, this.opts.namespace ?? '', this.query());
          if (!current()) return;
          this.replace(list.items);
          this.lastRV = list.metadata.resourceVersion;
        }
        const w = await this.client.watch(
          this.ref,
          this.opts.namespace ?? '',
          { ...this.query(), resourceVersion: this.lastRV },
          (e) => {
            if (epoch === this.epoch && !this.stopped) this.onEvent(e);
          },
          (err) => {
            if (!current()) return;
            if (err) this.opts.onError?.(err);
            // Resume from the last seen revision; an expired one (410) means relist.
            void this.restart(isGone(err));
          },
        );
        if (!current()) {
          w.stop();
          return;
        }
        this.stopWatch = w.stop;
        return;
      } catch (e) {
        this.opts.onError?.(e);
        // The watch could not resume (410 Expired, or anything else): list afresh next time.
        relist = true;
        await new Promise((r) => setTimeout(r, isGone(e) ? 0 : Math.min(30_000, 200 * 2 ** Math.min(attempt, 8))));
      }
    }
  }

  private onEvent(e: WatchEventOf): void {
    if (e.type === 'ERROR') {
      // 410 Expired (or any server-side failure) arrives as an ERROR event: relist.
      this.opts.onError?.(new ApiError(Number(e.object['code'] ?? 500), String(e.object['reason'] ?? 'InternalError'), String(e.object['message'] ?? 'watch failed')));
      void this.restart(true);
      return;
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.lastRV = rv;
    if (e.type === 'BOOKMARK') return;
    const key = keyOf(e.object);
    const old = this.items.get(key);
    if (e.type === 'DELETED') {
      if (!old) return;
      this.remove(key, old);
      for (const h of this.handlers) h.onDelete?.(e.object);
      return;
    }
    this.put(key, e.object, old);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, e.object);
      else h.onAdd?.(e.object);
    }
  }

  /** Replaces the cache with a fresh list, telling handlers what changed meanwhile. */
  private replace(items: ApiObject[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.items.get(key);
      this.put(key, obj, old);
      if (!old) for (const h of this.handlers) h.onAdd?.(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) for (const h of this.handlers) h.onUpdate?.(old, obj);
    }
    for (const [key, old] of [...this.items]) {
      if (seen.has(key)) continue;
      this.remove(key, old);
      for (const h of this.handlers) h.onDelete?.(old);
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private put(key: string, obj: ApiObject, old: ApiObject | undefined): void {
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) for (const v of fn(obj)) addTo(this.indices.get(name)!, v, key);
  }

  private remove(key: string, old: ApiObject): void {
    this.unindex(key, old);
    this.items.delete(key);
  }

  private unindex(key: string, obj: ApiObject): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const set = index.get(v);
        set?.delete(key);
        if (set && set.size === 0) index.delete(v);
      }
    }
  }
}

function isGone(e: unknown): boolean {
  return e instanceof ApiError && e.code === 410;
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

function refKey(ref: ResourceRef): string {
  return `${ref.group}/${ref.version}/${ref.resource}`;
}

/**
 * One informer per resource for a whole process (controllers, scheduler, kubelet share them),
 * as client-go's SharedInformerFactory.
 */
export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer>();

  constructor(
    private readonly client: Client,
    private readonly defaults: Omit<InformerOptions, 'labelSelector' | 'fieldSelector'> = {},
  ) {}

  for(ref: ResourceRef): SharedInformer {
    const k = refKey(ref);
    let inf = this.informers.get(k);
    if (!inf) this.informers.set(k, (inf = new SharedInformer(this.client, ref, this.defaults)));
    return inf;
  }

  /** Starts every informer asked for so far; resolves when all have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}

/** The resources components watch, as refs. */
export const refs = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  events: { group: '', version: 'v1', resource: 'events' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
  serviceaccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  persistentvolumes: { group: '', version: 'v1', resource: 'persistentvolumes' },
  persistentvolumeclaims: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
  replicationcontrollers: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  resourcequotas: { group: '', version: 'v1', resource: 'resourcequotas' },
  limitranges: { group: '', version: 'v1', resource: 'limitranges' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  controllerrevisions: { group: 'apps', version: 'v1', resource: 'controllerrevisions' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  horizontalpodautoscalers: { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
  ingressclasses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' },
  storageclasses: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' },
  poddisruptionbudgets: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' },
  priorityclasses: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' },
} satisfies Record<string, ResourceRef>;
