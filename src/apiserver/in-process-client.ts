import { StatusError } from '../machinery/status-error.js';
import { parseSelector } from '../machinery/labels.js';
import { parseFieldSelector } from '../machinery/fields.js';
import { ApiError, type ApiObject, type Client, type DeleteQuery, type ListQuery, type ObjectList, type ResourceRef, type WatchEventOf, type WriteQuery } from '../client/interface.js';
import type { ResourceRegistry, ServedResource } from './resource-registry.js';
import type { ListOptions } from './registry/generic-store.js';
import type { KubeObject, RequestContext } from './registry/strategy.js';
import { finalizeNamespace } from './handlers/subresources/namespace-finalize.js';
import { bindPod } from './handlers/subresources/binding.js';
import { evictPod } from './handlers/subresources/eviction.js';
import { issueTokenRequest } from './handlers/subresources/service-account-token.js';
import type { ServiceAccountTokens } from './auth/service-account-tokens.js';
import { needsConversion } from './handlers/resource-handler.js';

/**
 * Reads a computed (answered, not stored) resource, given the path and query an HTTP GET would
 * carry; answers a status code and a JSON body (a `Status` when the code is an error).
 */
export type InProcessAnswerer = (method: 'GET', path: string, query: URLSearchParams) => { code: number; body: unknown };

function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/**
 * The client for components inside `k8ts server`: same semantics as HTTP (strategies,
 * validation, admission, conversion), no sockets. Acts as the system user `system:k8ts`.
 */
export class InProcessClient implements Client {
  private readonly user = { name: 'system:k8ts-controller-manager', groups: ['system:masters', 'system:authenticated'] };
  private readonly answerers = new Map<string, InProcessAnswerer>();

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly now: () => Date = () => new Date(),
    /** Signs ServiceAccount tokens (`serviceaccounts/NAME/token`); absent: that subresource is refused. */
    private readonly tokens?: ServiceAccountTokens,
  ) {}

  private served(ref: ResourceRef): ServedResource {
    const s = this.registry.lookup(ref.group, ref.version, ref.resource);
    if (!s) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${ref.resource}.${ref.group || 'core'}/${ref.version})`);
    return s;
  }

  /** Lets get and list reach an answered resource (metrics.k8s.io for the HPA) without HTTP. */
  answerWith(group: string, resource: string, answerer: InProcessAnswerer): void {
    this.answerers.set(`${group}/${resource}`, answerer);
  }

  private answered(ref: ResourceRef, namespace: string, name: string | undefined, q: ListQuery = {}): ApiObject | ObjectList | undefined {
    const answerer = this.answerers.get(`${ref.group}/${ref.resource}`);
    if (!answerer) return undefined;
    const path = `${ref.group ? `/apis/${ref.group}` : '/api'}/${ref.version}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${ref.resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
    const query = new URLSearchParams();
    if (q.labelSelector) query.set('labelSelector', q.labelSelector);
    if (q.fieldSelector) query.set('fieldSelector', q.fieldSelector);
    const { code, body } = answerer('GET', path, query);
    if (code >= 400) {
      const st = (body ?? {}) as { reason?: string; message?: string };
      throw new ApiError(code, st.reason ?? 'Unknown', st.message ?? `${path}: ${code}`);
    }
    return body as ApiObject | ObjectList;
  }

  private ctx(namespace: string, dryRun = false): RequestContext {
    return { namespace, user: this.user, dryRun, now: this.now() };
  }

  private present(s: ServedResource, obj: KubeObject, version: string): ApiObject {
    const conv = s.store.resource.converter;
    const out = conv && needsConversion(s, apiVersionOf(s.descriptor.group, version)) ? conv.fromStorage(obj, version) : obj;
    return { ...out, apiVersion: apiVersionOf(s.descriptor.group, version), kind: s.descriptor.kind };
  }

  private toStorage(s: ServedResource, obj: ApiObject, version: string): KubeObject {
    const copy = structuredClone(obj) as KubeObject;
    copy.apiVersion = apiVersionOf(s.descriptor.group, version);
    copy.kind = s.descriptor.kind;
    const conv = s.store.resource.converter;
    return conv && copy.apiVersion !== conv.storageApiVersion ? conv.toStorage(copy, version) : copy;
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof StatusError) throw new ApiError(e.code, e.reason, e.message);
      throw e;
    }
  }

  private listOptions(s: ServedResource, namespace: string, q: ListQuery = {}): ListOptions {
    const opts: ListOptions = { namespace: s.descriptor.namespaced ? namespace : '' };
    if (q.labelSelector) {
      const sel = parseSelector(q.labelSelector);
      opts.labelSelector = (o) => sel.matches(o.metadata?.labels ?? {});
    }
    if (q.fieldSelector) {
      const sel = parseFieldSelector(q.fieldSelector);
      opts.fieldSelector = (f) => sel.matches(f);
    }
    if (q.limit) opts.limit = q.limit;
    if (q.continue) opts.continueToken = q.continue;
    if (q.resourceVersion !== undefined) opts.resourceVersion = q.resourceVersion;
    return opts;
  }

  get(ref: ResourceRef, namespace: string, name: string): Promise<ApiObject> {
    return this.call(async () => {
      const answer = this.answered(ref, namespace, name);
      if (answer) return answer as ApiObject;
      const s = this.served(ref);
      return this.present(s, await s.store.get(s.descriptor.namespaced ? namespace : '', name), ref.version);
    });
  }

  list(ref: ResourceRef, namespace: string, query?: ListQuery): Promise<ObjectList> {
    return this.call(async () => {
      const answer = this.answered(ref, namespace, undefined, query);
      if (answer) return answer as ObjectList;
      const s = this.served(ref);
      const r = await s.store.list(this.listOptions(s, namespace, query));
      const metadata: ObjectList['metadata'] = { resourceVersion: r.resourceVersion };
      if (r.continueToken) metadata.continue = r.continueToken;
      return { items: r.items.map((o) => this.present(s, o, ref.version)), metadata };
    });
  }

  /**
   * POST. With `query.subresource` (`binding`, `eviction`) the object is that subresource's body
   * for the pod named by `obj.metadata.name`; a `bindings` create binds the pod too.
   */
  create(ref: ResourceRef, namespace: string, obj: ApiObject, query: WriteQuery = {}): Promise<ApiObject> {
    return this.call(async () => {
      if (ref.group === '' && (ref.resource === 'bindings' || (ref.resource === 'pods' && query.subresource))) {
        const pods = this.served({ group: '', version: 'v1', resource: 'pods' }).store;
        const name = obj.metadata?.name ?? '';
        const ctx = this.ctx(namespace, query.dryRun);
        if (ref.resource === 'bindings' || query.subresource === 'binding') await bindPod(pods, namespace, name, obj as KubeObject, ctx);
        else if (query.subresource === 'eviction') await evictPod(pods, this.registry.byGroup('policy', 'poddisruptionbudgets')?.store, namespace, name, obj as KubeObject, ctx);
        else throw new ApiError(404, 'NotFound', `pods/${query.subresource} cannot be created in-process`);
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as ApiObject;
      }
      if (ref.group === '' && ref.resource === 'serviceaccounts' && query.subresource === 'token') {
        if (!this.tokens) throw new ApiError(404, 'NotFound', 'serviceaccounts/token cannot be created in-process');
        return (await issueTokenRequest(this.tokens, this.registry, this.served(ref), this.ctx(namespace, query.dryRun), obj.metadata?.name ?? '', obj as KubeObject)) as ApiObject;
      }
      const s = this.served(ref);
      const ns = s.descriptor.namespaced ? namespace : '';
      const created = await s.store.create(ns, this.toStorage(s, obj, ref.version), this.ctx(ns, query.dryRun), { dryRun: !!query.dryRun, fieldManager: query.fieldManager ?? 'k8ts' });
      return this.present(s, created, ref.version);
    });
  }

  update(ref: ResourceRef, namespace: string, obj: ApiObject, query: WriteQuery = {}): Promise<ApiObject> {
    return this.call(async () => {
      const s = this.served(ref);
      const ns = s.descriptor.namespaced ? namespace : '';
      const name = obj.metadata?.name ?? '';
      const ctx = this.ctx(ns, query.dryRun);
      if (query.subresource === 'finalize' && ref.resource === 'namespaces') {
        const finalizers = ((obj['spec'] ?? {}) as { finalizers?: string[] }).finalizers ?? [];
        return this.present(s, await finalizeNamespace(s.store, name, finalizers, obj.metadata?.resourceVersion, ctx), ref.version);
      }
      const updated = await s.store.update(ns, name, this.toStorage(s, obj, ref.version), ctx, { dryRun: !!query.dryRun, fieldManager: query.fieldManager ?? 'k8ts', subresource: query.subresource });
      return this.present(s, updated, ref.version);
    });
  }

  delete(ref: ResourceRef, namespace: string, name: string, query: DeleteQuery = {}): Promise<ApiObject | undefined> {
    return this.call(async () => {
      const s = this.served(ref);
      const ns = s.descriptor.namespaced ? namespace : '';
      const r = await s.store.delete(ns, name, this.ctx(ns), { dryRun: false, ...query });
      return this.present(s, r.object, ref.version);
    });
  }

  watch(ref: ResourceRef, namespace: string, query: ListQuery, onEvent: (e: WatchEventOf) => void, onClose?: (err?: Error) => void): Promise<{ stop(): void }> {
    return this.call(async () => {
      const s = this.served(ref);
      const handle = await s.store.watch(this.listOptions(s, namespace, query), {
        send: (type, object) => onEvent({ type, object: this.present(s, object, ref.version) }),
        fail: (err) => onClose?.(new ApiError(err.code, err.reason, err.message)),
      });
      return { stop: () => handle.stop() };
    });
  }

  async serverResources(): Promise<Array<ResourceRef & { namespaced: boolean; verbs: string[]; kind?: string }>> {
    return this.registry.all().map((s) => ({
      group: s.descriptor.group,
      version: s.descriptor.versions[0]!,
      resource: s.descriptor.resource,
      namespaced: s.descriptor.namespaced,
      kind: s.descriptor.kind,
      verbs: s.descriptor.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    }));
  }
}
