import { randomUUID } from 'node:crypto';
import type { Backend, KeyValue } from '../../store/backend.js';
import { StoreError } from '../../store/backend.js';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  type FieldError,
} from '../../machinery/status-error.js';
import type { ResourceDescriptor } from '../../api/resource-table.js';
import type { KubeObject, RequestContext, Strategy } from './strategy.js';
import { deepEqual } from '../../machinery/json-value.js';
import { WatchCache, type CacheWatcher, type ObjectFilter } from './watch-cache.js';
import { validateObjectMeta } from './object-meta-validation.js';

/** Converts objects between the storage version and a served version. */
export interface VersionConverter {
  /** The apiVersion objects are stored in; requests in any other apiVersion are converted. */
  storageApiVersion: string;
  toStorage(obj: KubeObject, fromVersion: string): KubeObject;
  fromStorage(obj: KubeObject, toVersion: string): KubeObject;
}

/** Admission, run after the strategy's validation and before anything is stored. */
export interface AdmissionHook {
  admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext, subresource: string): Promise<void>;
}

/** Tracks field ownership in metadata.managedFields (server-side apply). */
export interface FieldOwnership {
  update(live: KubeObject | undefined, updated: KubeObject, manager: string, subresource: string, ctx: RequestContext): KubeObject;
}

export interface RegisteredResource {
  descriptor: ResourceDescriptor;
  strategy: Strategy;
  /** Store key prefix ending in `/`, e.g. `/registry/apps/deployments/`. */
  prefix: string;
  converter?: VersionConverter;
}

export interface ListOptions {
  namespace: string;
  labelSelector?: ObjectFilter;
  fieldSelector?: (fields: Record<string, string>) => boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  dryRun: boolean;
  fieldManager: string;
  subresource?: string;
  /** Server-side apply already set managedFields; do not track this write as an Update. */
  applyDone?: boolean;
}

export interface DeleteOptions {
  dryRun: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

const nameChars = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += nameChars[Math.floor(Math.random() * nameChars.length)];
  return s;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * The one storage path of every resource, as Kubernetes' `registry/generic/registry.Store`:
 * metadata bookkeeping, strategy hooks in a fixed order, optimistic concurrency, graceful and
 * finalizer-held deletion, dry runs, paging and watch through the resource's WatchCache.
 */
export class GenericStore {
  readonly cache: WatchCache;

  constructor(
    readonly resource: RegisteredResource,
    private readonly backend: Backend,
    private readonly admission: AdmissionHook[],
    private readonly ownership: FieldOwnership | undefined,
  ) {
    this.cache = new WatchCache(backend, resource.prefix, (value, rev) => this.decode(value, rev));
  }

  get descriptor(): ResourceDescriptor {
    return this.resource.descriptor;
  }

  get group(): string {
    return this.resource.descriptor.group;
  }

  get plural(): string {
    return this.resource.descriptor.resource;
  }

  key(namespace: string, name: string): string {
    return this.descriptor.namespaced ? `${this.resource.prefix}${namespace}/${name}` : `${this.resource.prefix}${name}`;
  }

  private decode(value: string, modRevision: number): KubeObject {
    const obj = JSON.parse(value) as KubeObject;
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(modRevision);
    return obj;
  }

  private fromKV(kv: KeyValue): KubeObject {
    return this.decode(kv.value, kv.modRevision);
  }

  /** Stored form: apiVersion, kind and metadata lead (so `injectResourceVersion` finds metadata first), no resourceVersion. */
  private encode(obj: KubeObject): string {
    const metadata = { ...obj.metadata };
    delete metadata.resourceVersion;
    delete metadata.selfLink;
    const { apiVersion, kind, metadata: _stale, ...rest } = obj;
    return JSON.stringify({ apiVersion, kind, metadata, ...rest });
  }

  private notFound(name: string): StatusError {
    return notFound(this.group, this.plural, name);
  }

  private translate(err: unknown, name: string): never {
    if (err instanceof StoreError) {
      switch (err.code) {
        case 'KeyExists':
          throw alreadyExists(this.group, this.plural, name);
        case 'NotFound':
          throw this.notFound(name);
        case 'Conflict':
          throw conflict(this.group, this.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
        case 'Compacted':
          throw new StatusError(410, 'Expired', `The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.`);
        case 'FutureRevision':
          throw new StatusError(504, 'Timeout', `Too large resource version`);
        case 'Unavailable':
          throw new StatusError(503, 'ServiceUnavailable', `storage is unavailable: ${err.message}`);
      }
    }
    throw err;
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const kv = await this.backend.get(this.key(namespace, name)).catch((e: unknown) => this.translate(e, name));
    if (!kv) throw this.notFound(name);
    return this.fromKV(kv);
  }

  async tryGet(namespace: string, name: string): Promise<KubeObject | undefined> {
    const kv = await this.backend.get(this.key(namespace, name)).catch((e: unknown) => this.translate(e, name));
    return kv ? this.fromKV(kv) : undefined;
  }

  /**
   * Fills the watch cache now. Done when the resource starts being served, as Kubernetes' cacher
   * does: a cache started later would not know revisions that lists returned before it started,
   * and a watch from such a revision would get 410 Expired.
   */
  startCache(): Promise<void> {
    return this.cache.start();
  }

  /**
   * An object as the watch cache has it, falling back to the store on a miss (the cache may trail
   * a write that just happened): for admission lookups on every request, as Kubernetes' informers serve them.
   */
  async cachedGet(namespace: string, name: string): Promise<KubeObject | undefined> {
    await this.cache.start();
    return this.cache.getByKey(this.key(namespace, name)) ?? (await this.tryGet(namespace, name));
  }

  /** Every object in the watch cache that matches (for admission lookups). */
  async cachedList(filter: ObjectFilter = () => true): Promise<KubeObject[]> {
    await this.cache.start();
    return this.cache.snapshot(filter).items;
  }

  private listPrefix(namespace: string): string {
    return this.descriptor.namespaced && namespace ? `${this.resource.prefix}${namespace}/` : this.resource.prefix;
  }

  /** Field values a field selector can test: metadata.name, metadata.namespace and the strategy's own. */
  fieldsOf(obj: KubeObject): Record<string, string> {
    const fields: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
    if (this.descriptor.namespaced) fields['metadata.namespace'] = obj.metadata?.namespace ?? '';
    return { ...fields, ...this.resource.strategy.selectableFields?.(obj) };
  }

  filterFor(opts: Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector'>): ObjectFilter {
    const { namespace, labelSelector, fieldSelector } = opts;
    const namespaced = this.descriptor.namespaced;
    return (obj) => {
      if (namespaced && namespace && obj.metadata?.namespace !== namespace) return false;
      if (labelSelector && !labelSelector(obj)) return false;
      if (fieldSelector && !fieldSelector(this.fieldsOf(obj))) return false;
      return true;
    };
  }

  async list(opts: ListOptions): Promise<ListResult> {
    const filter = this.filterFor(opts);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    // resourceVersion=0 without paging: any recent state will do, so serve it from the cache.
    if (opts.resourceVersion === '0' && !opts.continueToken && !limit) {
      await this.cache.start();
      const snap = this.cache.snapshot(filter);
      return { items: snap.items, resourceVersion: String(snap.revision) };
    }
    const selective = !!(opts.labelSelector || opts.fieldSelector);
    const scanned = await this.scan(opts, (kv) => {
      const obj = this.fromKV(kv);
      return filter(obj) ? obj : undefined;
    }, selective);
    return scanned;
  }

  /**
   * A list whose items are the stored JSON with resourceVersion spliced in, never parsed: the
   * fast path for plain JSON lists without selectors (a LIST of 10,000 pods is mostly
   * parsing and serializing otherwise). Undefined when the list needs decoding.
   */
  async listRaw(opts: ListOptions): Promise<(Omit<ListResult, 'items'> & { items: string[] }) | undefined> {
    if (opts.labelSelector || opts.fieldSelector || opts.resourceVersion === '0') return undefined;
    return this.scan(opts, (kv) => injectResourceVersion(kv.value, kv.modRevision), false);
  }

  /** Reads keys under the list's prefix, page by page at one revision, until `limit` accepted items are found (as the etcd3 store does). */
  private async scan<T>(opts: ListOptions, accept: (kv: KeyValue) => T | undefined, selective: boolean): Promise<Omit<ListResult, 'items'> & { items: T[] }> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const prefix = this.listPrefix(opts.namespace);
    let revision = 0;
    let startKey: string | undefined;
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken);
      revision = token.rv;
      startKey = prefix + token.start;
    } else if (opts.resourceVersion && opts.resourceVersion !== '0' && opts.resourceVersionMatch === 'Exact') {
      revision = parseResourceVersion(opts.resourceVersion);
    }
    const items: T[] = [];
    let more = false;
    let lastKey = '';
    let remaining: number | undefined;
    for (;;) {
      const batch = limit ? Math.max(limit - items.length, Math.min(limit * 2, 10000)) : 0;
      const page = await this.backend.list(prefix, { revision, limit: batch, startKey }).catch((e: unknown) => this.translate(e, ''));
      revision = page.revision;
      let stoppedEarly = false;
      for (let i = 0; i < page.items.length; i++) {
        const kv = page.items[i]!;
        lastKey = kv.key;
        const item = accept(kv);
        if (item === undefined) continue;
        items.push(item);
        if (limit && items.length >= limit) {
          stoppedEarly = i < page.items.length - 1 || page.more;
          if (stoppedEarly && page.remaining !== undefined && !selective) remaining = page.items.length - 1 - i + page.remaining;
          break;
        }
      }
      if (limit && items.length >= limit) {
        more = stoppedEarly;
        break;
      }
      if (!page.more || !limit) break;
      startKey = lastKey + '\u0000';
    }
    const result: Omit<ListResult, 'items'> & { items: T[] } = { items, resourceVersion: String(revision) };
    if (more) {
      result.continueToken = encodeContinue(revision, lastKey.slice(prefix.length) + '\u0000');
      if (remaining !== undefined) result.remainingItemCount = remaining;
    }
    return result;
  }

  async watch(opts: ListOptions & { sendInitialEvents?: boolean }, sink: CacheWatcher): Promise<{ stop(): void; initialRevision: number }> {
    const filter = this.filterFor(opts);
    const rv = opts.resourceVersion;
    // No resourceVersion (or sendInitialEvents): start with the current state as ADDED events.
    if (!rv || opts.sendInitialEvents) return this.cache.watch(0, filter, sink, true);
    if (rv === '0') return this.cache.watch(0, filter, sink, true);
    return this.cache.watch(parseResourceVersion(rv), filter, sink, false);
  }

  private async runValidation(errors: FieldError[] | Promise<FieldError[]> | undefined, obj: KubeObject): Promise<void> {
    const list = await errors;
    if (list && list.length) throw invalid(this.group, this.descriptor.kind, obj.metadata?.name ?? '', list);
  }

  /** Creates an object. `obj` has been decoded, pruned and converted to the storage version. */
  async create(namespace: string, input: KubeObject, ctx: RequestContext, opts: WriteOptions): Promise<KubeObject> {
    const obj = clone(input);
    const meta = (obj.metadata ??= {});
    if (this.descriptor.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace || meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(ctx.now);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (meta.generation !== undefined) delete meta.generation;
    const strategy = this.resource.strategy;
    strategy.default?.(obj);
    await strategy.prepareForCreate?.(obj, ctx);
    const key = this.key(meta.namespace ?? '', meta.name ?? '');
    try {
      const metaErrors = validateObjectMeta(obj, this.descriptor.namespaced, strategy.nameValidation ?? 'subdomain');
      const errors = [...metaErrors, ...((await strategy.validate?.(obj, ctx)) ?? [])];
      await this.runValidation(errors, obj);
      for (const hook of this.admission) await hook.admit('CREATE', this.resource, obj, undefined, ctx, '');
      const stored = this.ownership && !opts.applyDone ? this.ownership.update(undefined, obj, opts.fieldManager, '', ctx) : obj;
      if (opts.dryRun) {
        if (await this.backend.get(key)) throw alreadyExists(this.group, this.plural, meta.name ?? '');
        await strategy.rollback?.(obj, undefined);
        return stored;
      }
      const kv = await this.backend.create(key, this.encode(stored));
      return this.fromKV(kv);
    } catch (e) {
      await strategy.rollback?.(obj, undefined);
      this.translate(e, meta.name ?? '');
    }
  }

  /**
   * Replaces an object (PUT, and the final step of PATCH). `obj.metadata.resourceVersion`, when
   * set, must match the stored one. With `subresource: 'status'` only status changes are kept.
   */
  async update(namespace: string, name: string, input: KubeObject, ctx: RequestContext, opts: WriteOptions): Promise<KubeObject> {
    const obj = clone(input);
    const meta = (obj.metadata ??= {});
    if (meta.name && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    meta.name = name;
    if (this.descriptor.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace;
    }
    const key = this.key(namespace, name);
    const currentKV = await this.backend.get(key).catch((e: unknown) => this.translate(e, name));
    const strategy = this.resource.strategy;
    if (!currentKV) {
      if (strategy.allowCreateOnUpdate && !opts.subresource) return this.create(namespace, obj, ctx, opts);
      throw this.notFound(name);
    }
    const old = this.fromKV(currentKV);
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata?.resourceVersion) {
      throw conflict(this.group, this.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (meta.uid && meta.uid !== old.metadata?.uid) {
      throw conflict(this.group, this.plural, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata?.uid ?? ''}`);
    }
    // Fields of metadata the system owns.
    const oldMeta = old.metadata ?? {};
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.deletionTimestamp = oldMeta.deletionTimestamp;
    meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
    meta.generation = oldMeta.generation;
    if (meta.generation === undefined) delete meta.generation;
    if (oldMeta.generateName !== undefined && meta.generateName === undefined) meta.generateName = oldMeta.generateName;

    strategy.default?.(obj);
    if (opts.subresource === 'status') {
      // Status moves, and so may labels and annotations (Kubernetes' status strategies reset the
      // spec, not metadata); a status strategy may keep more of the old object.
      const next: KubeObject = { ...clone(old), status: obj.status };
      next.metadata = { ...clone(oldMeta), labels: meta.labels, annotations: meta.annotations };
      if (next.metadata.labels === undefined) delete next.metadata.labels;
      if (next.metadata.annotations === undefined) delete next.metadata.annotations;
      strategy.status?.prepareForUpdate?.(next, old, ctx);
      await this.runValidation(strategy.status?.validateUpdate?.(next, old, ctx), next);
      return this.commit(key, next, old, ctx, opts, 'status');
    }
    await strategy.prepareForUpdate?.(obj, old, ctx);
    try {
      const metaErrors = validateObjectMeta(obj, this.descriptor.namespaced, strategy.nameValidation ?? 'subdomain', old);
    const errors = [...metaErrors, ...((await strategy.validateUpdate?.(obj, old, ctx)) ?? [])];
      await this.runValidation(errors, obj);
      const result = await this.commit(key, obj, old, ctx, opts, opts.subresource ?? '');
      if (opts.dryRun) await strategy.rollback?.(obj, old);
      return result;
    } catch (e) {
      await strategy.rollback?.(obj, old);
      throw e;
    }
  }

  private async commit(key: string, obj: KubeObject, old: KubeObject, ctx: RequestContext, opts: WriteOptions, subresource: string): Promise<KubeObject> {
    for (const hook of this.admission) await hook.admit('UPDATE', this.resource, obj, old, ctx, subresource);
    let next = this.ownership && !opts.applyDone ? this.ownership.update(old, obj, opts.fieldManager, subresource, ctx) : obj;
    const name = obj.metadata?.name ?? '';
    // Removing the last finalizer of an object being deleted completes its deletion.
    const finishing =
      !!next.metadata?.deletionTimestamp &&
      !next.metadata.finalizers?.length &&
      !!old.metadata?.finalizers?.length &&
      !next.metadata.deletionGracePeriodSeconds &&
      !this.resource.strategy.holdsDeletion?.(next);
    const unchanged = deepEqual(withoutRV(next), withoutRV(old));
    if (opts.dryRun) return { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata?.resourceVersion } };
    if (finishing) {
      const kv = await this.backend.delete(key, Number(old.metadata?.resourceVersion)).catch((e: unknown) => this.translate(e, name));
      await this.resource.strategy.afterDelete?.(next);
      return this.fromKV({ ...kv, value: this.encode(next) });
    }
    // A no-op update keeps the resourceVersion, as Kubernetes does.
    if (unchanged) return old;
    try {
      const kv = await this.backend.update(key, this.encode(next), Number(old.metadata?.resourceVersion));
      next = this.fromKV(kv);
    } catch (e) {
      this.translate(e, name);
    }
    return next;
  }

  /**
   * Deletes an object. With finalizers, or a graceful period (pods on a node), it only gets a
   * deletionTimestamp and stays until those are done. Returns the object and whether it is gone.
   */
  async delete(namespace: string, name: string, ctx: RequestContext, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const currentKV = await this.backend.get(key).catch((e: unknown) => this.translate(e, name));
      if (!currentKV) throw this.notFound(name);
      const current = this.fromKV(currentKV);
      const meta = current.metadata ?? {};
      if (opts.preconditions?.uid && opts.preconditions.uid !== meta.uid) {
        throw conflict(this.group, this.plural, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${meta.uid ?? ''}`);
      }
      if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== meta.resourceVersion) {
        throw conflict(this.group, this.plural, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`);
      }
      for (const hook of this.admission) await hook.admit('DELETE', this.resource, current, current, ctx, '');
      const next = clone(current);
      const nmeta = (next.metadata ??= {});
      let finalizers = [...(nmeta.finalizers ?? [])];
      if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (opts.propagationPolicy === 'Background') finalizers = finalizers.filter((f) => f !== 'foregroundDeletion' && f !== 'orphan');
      const grace = this.resource.strategy.gracefulDeleteSeconds?.(current, opts.gracePeriodSeconds);
      const graceful = (grace !== undefined && grace > 0) || !!this.resource.strategy.holdsDeletion?.(current);
      if (!finalizers.length && !graceful) {
        if (opts.dryRun) return { object: current, deleted: true };
        try {
          const kv = await this.backend.delete(key, Number(meta.resourceVersion));
          await this.resource.strategy.afterDelete?.(current);
          return { object: this.fromKV({ ...kv, value: this.encode(current) }), deleted: true };
        } catch (e) {
          if (e instanceof StoreError && e.code === 'Conflict' && attempt < 5) continue;
          this.translate(e, name);
        }
      }
      // Graceful or finalizer-held: mark for deletion (a shorter grace period may shorten it).
      this.resource.strategy.beginDeletion?.(next);
      if (!nmeta.deletionTimestamp) {
        nmeta.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + (grace ?? 0) * 1000));
        nmeta.deletionGracePeriodSeconds = grace ?? 0;
      } else if (grace !== undefined && grace > 0 && nmeta.deletionGracePeriodSeconds !== undefined && grace < nmeta.deletionGracePeriodSeconds) {
        nmeta.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + grace * 1000));
        nmeta.deletionGracePeriodSeconds = grace;
      } else if (!graceful && nmeta.deletionGracePeriodSeconds) {
        // A grace period of 0 on a pod already terminating: it goes now unless finalizers hold it.
        nmeta.deletionGracePeriodSeconds = 0;
      }
      nmeta.finalizers = finalizers.length ? finalizers : undefined;
      if (!nmeta.finalizers) delete nmeta.finalizers;
      if (!finalizers.length && !graceful) {
        if (opts.dryRun) return { object: current, deleted: true };
        const kv = await this.backend.delete(key, Number(meta.resourceVersion)).catch((e: unknown) => this.translate(e, name));
        await this.resource.strategy.afterDelete?.(current);
        return { object: this.fromKV({ ...kv, value: this.encode(current) }), deleted: true };
      }
      if (nmeta.generation !== undefined && !meta.deletionTimestamp) nmeta.generation += 1;
      if (opts.dryRun) return { object: next, deleted: false };
      try {
        const kv = await this.backend.update(key, this.encode(next), Number(meta.resourceVersion));
        return { object: this.fromKV(kv), deleted: false };
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && attempt < 5) continue;
        this.translate(e, name);
      }
    }
  }

  /**
   * Writes `next` as it is, conditional on `next.metadata.resourceVersion` (when set), without the
   * strategy's update rules: for system paths that enforce their own (binding, finalize).
   */
  async updateUnchecked(namespace: string, name: string, next: KubeObject): Promise<KubeObject> {
    const key = this.key(namespace, name);
    const currentKV = await this.backend.get(key).catch((e: unknown) => this.translate(e, name));
    if (!currentKV) throw this.notFound(name);
    const expected = next.metadata?.resourceVersion ? parseResourceVersion(next.metadata.resourceVersion) : currentKV.modRevision;
    const kv = await this.backend.update(key, this.encode(next), expected).catch((e: unknown) => this.translate(e, name));
    return this.fromKV(kv);
  }

  /** Number of stored objects (for metrics and quota). */
  count(namespace = ''): Promise<number> {
    return this.backend.count(this.listPrefix(namespace));
  }
}

function withoutRV(obj: KubeObject): KubeObject {
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  delete meta.managedFields;
  return { ...obj, metadata: meta };
}

/**
 * Adds `"resourceVersion"` to the top-level metadata of stored JSON without parsing it. Stored
 * objects begin with apiVersion, kind and metadata (see `encode`), and a key can only appear
 * unescaped as a key, so the first `"metadata":{` is the object's own.
 */
export function injectResourceVersion(json: string, revision: number): string {
  const at = json.indexOf('"metadata":{');
  if (at < 0) return json;
  const open = at + '"metadata":{'.length;
  const rv = `"resourceVersion":"${revision}"`;
  return json.slice(0, open) + rv + (json[open] === '}' ? '' : ',') + json.slice(open);
}

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseResourceVersion(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) {
    throw new StatusError(400, 'BadRequest', `invalid resource version: ${rv}`, {});
  }
  return n;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(s: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('/..') || t.start.startsWith('/')) throw new Error('bad');
    return { rv: t.rv, start: t.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}
