import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest, methodNotAllowed, notFound } from '../../machinery/status-error.js';
import type { OpenAPISchema, SchemaDefinitions } from '../../machinery/openapi-schema.js';
import { pruneUnknownFields } from '../../machinery/prune.js';
import { negotiateResource, type ResponseShape } from '../negotiation.js';
import type { RequestInfo } from '../request-info.js';
import type { ResourceRegistry, ServedResource } from '../resource-registry.js';
import type { GenericStore, ListResult } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';
import { asKubeObject, decodeBody, isObject, readBody, sendJSON } from './codec.js';
import { serveWatch } from './watch-handler.js';
import { applyPatch, type Patcher } from './patch.js';
import { parseListOptions, parseDeleteOptions, dryRunOf } from './query-options.js';

/** Finds the schema of a kind at a version, for pruning, patching and apply. */
export interface SchemaLookup {
  lookup(group: string, version: string, kind: string): { schema: OpenAPISchema; defs: SchemaDefinitions } | undefined;
}

/** Renders objects as a meta.k8s.io Table (server-side printing). */
export interface TableRenderer {
  render(served: ServedResource, objects: KubeObject[], list: { resourceVersion?: string; continueToken?: string; remainingItemCount?: number }, includeObject: string, version: string): unknown;
}

/** Server-side apply, as the field manager does it. */
export interface Applier {
  apply(live: KubeObject | undefined, applied: KubeObject, opts: { manager: string; force: boolean; apiVersion: string; group: string; version: string; kind: string; now: Date }): KubeObject;
}

/** Subresources with their own handlers (scale, binding, eviction, log, token …). */
export interface SubresourceHandler {
  handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void>;
}

export interface ResourceHandlerDeps {
  registry: ResourceRegistry;
  schemas: SchemaLookup;
  tables: TableRenderer;
  patcher: Patcher;
  applier: Applier;
  /** Keyed by `resource/subresource` (e.g. `pods/binding`) or `*\/scale`. */
  subresources: Map<string, SubresourceHandler>;
  now: () => Date;
}

export interface Caller {
  name: string;
  groups: string[];
}

function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/**
 * Whether objects of this resource pass through its converter when read in `apiVersion`:
 * always for custom resources (reading applies the version's schema defaults), otherwise only
 * when the version is not the storage version.
 */
export function needsConversion(served: ServedResource, apiVersion: string): boolean {
  const converter = served.store.resource.converter;
  return !!converter && (!!served.crdName || apiVersion !== converter.storageApiVersion);
}

/**
 * Serves the REST verbs of every registered resource: get, list, watch, create, update, patch,
 * delete and deletecollection, plus the status subresource; other subresources are delegated.
 */
export class ResourceHandler {
  constructor(private readonly deps: ResourceHandlerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, info: RequestInfo, caller: Caller): Promise<void> {
    const served = this.deps.registry.lookup(info.group, info.version, info.resource);
    if (!served) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    }
    const { descriptor } = served;
    const namespace = descriptor.namespaced ? info.namespace : '';
    const ctx: RequestContext = { namespace, user: caller, dryRun: dryRunOf(url), now: this.deps.now() };
    const shape = negotiateResource(req.headers.accept);
    if (!shape) throw new StatusError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
    let bodyCache: Buffer | undefined;
    const body = async (): Promise<Buffer> => (bodyCache ??= await readBody(req));

    if (info.subresource && info.subresource !== 'status') {
      const handler = this.deps.subresources.get(`${info.resource}/${info.subresource}`) ?? this.deps.subresources.get(`*/${info.subresource}`);
      if (!handler || !(descriptor.subresources ?? []).includes(info.subresource)) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
      return handler.handle(req, res, info, served, ctx, body);
    }
    if (info.subresource === 'status' && !(descriptor.subresources ?? []).includes('status')) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    }
    if (descriptor.verbs && !descriptor.verbs.includes(info.verb)) {
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    switch (info.verb) {
      case 'get':
        return this.get(res, served, namespace, info, shape);
      case 'list':
        return this.list(res, url, served, namespace, info, shape);
      case 'watch':
        return serveWatch(req, res, url, served, namespace, info, shape, this.deps.tables);
      case 'create':
        return this.create(req, res, url, served, info, ctx, await body());
      case 'update':
        return this.update(req, res, url, served, info, ctx, await body());
      case 'patch':
        return this.patch(req, res, url, served, info, ctx, await body());
      case 'delete':
        return this.delete(req, res, url, served, info, ctx, await body());
      case 'deletecollection':
        return this.deleteCollection(req, res, url, served, info, ctx, await body());
      default:
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  /** Converts a stored object to the requested version and sets apiVersion/kind. */
  present(served: ServedResource, obj: KubeObject, version: string): KubeObject {
    const { descriptor } = served;
    const store = served.store;
    let out = obj;
    const converter = store.resource.converter;
    if (converter && needsConversion(served, apiVersionOf(descriptor.group, version))) out = converter.fromStorage(obj, version);
    // apiVersion and kind first, as Kubernetes serializes them.
    const { apiVersion: _a, kind: _k, ...rest } = out;
    return { apiVersion: apiVersionOf(descriptor.group, version), kind: descriptor.kind, ...rest };
  }

  private respondObject(res: ServerResponse, served: ServedResource, obj: KubeObject, version: string, shape: ResponseShape, code = 200): void {
    const presented = this.present(served, obj, version);
    if (shape.kind === 'table') {
      sendJSON(res, code, this.deps.tables.render(served, [presented], { resourceVersion: presented.metadata?.resourceVersion }, 'Metadata', shape.version));
    } else if (shape.kind === 'metadata') {
      sendJSON(res, code, { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${shape.version}`, metadata: presented.metadata });
    } else {
      sendJSON(res, code, presented, shape.format);
    }
  }

  private async get(res: ServerResponse, served: ServedResource, namespace: string, info: RequestInfo, shape: ResponseShape): Promise<void> {
    const obj = await served.store.get(namespace, info.name);
    this.respondObject(res, served, obj, info.version, shape);
  }

  private async list(res: ServerResponse, url: URL, served: ServedResource, namespace: string, info: RequestInfo, shape: ResponseShape): Promise<void> {
    const opts = parseListOptions(url, served, namespace);
    if (shape.kind === 'object' && shape.format === 'json' && !needsConversion(served, apiVersionOf(served.descriptor.group, info.version))) {
      const raw = await served.store.listRaw(opts);
      if (raw) {
        const listMeta: Record<string, unknown> = { resourceVersion: raw.resourceVersion };
        if (raw.continueToken) listMeta['continue'] = raw.continueToken;
        if (raw.remainingItemCount !== undefined) listMeta['remainingItemCount'] = raw.remainingItemCount;
        const head = JSON.stringify({ kind: `${served.descriptor.kind}List`, apiVersion: apiVersionOf(served.descriptor.group, info.version), metadata: listMeta });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
        res.end(`${head.slice(0, -1)},"items":[${raw.items.join(',')}]}`);
        return;
      }
    }
    const result: ListResult = await served.store.list(opts);
    const items = result.items.map((o) => this.present(served, o, info.version));
    const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continueToken) listMeta['continue'] = result.continueToken;
    if (result.remainingItemCount !== undefined) listMeta['remainingItemCount'] = result.remainingItemCount;
    if (shape.kind === 'table') {
      const includeObject = url.searchParams.get('includeObject') ?? 'Metadata';
      sendJSON(res, 200, this.deps.tables.render(served, items, result, includeObject, shape.version));
      return;
    }
    if (shape.kind === 'metadata') {
      sendJSON(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${shape.version}`,
        metadata: listMeta,
        items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${shape.version}`, metadata: o.metadata })),
      });
      return;
    }
    sendJSON(res, 200, { kind: `${served.descriptor.kind}List`, apiVersion: apiVersionOf(served.descriptor.group, info.version), metadata: listMeta, items }, shape.format);
  }

  /**
   * Turns a request body into a storable object: checks apiVersion/kind, drops unknown fields
   * (refusing them under fieldValidation=Strict), and converts to the storage version.
   */
  decodeObject(res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, raw: unknown): KubeObject {
    const obj = asKubeObject(raw);
    const { descriptor } = served;
    const expected = apiVersionOf(descriptor.group, info.version);
    if (obj.kind !== undefined && obj.kind !== descriptor.kind) {
      throw badRequest(`${obj.kind} in version "${info.version}" cannot be handled as a ${descriptor.kind}: the kind in the data (${obj.kind}) does not match the kind of the resource (${descriptor.kind})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (obj.metadata !== undefined && !isObject(obj.metadata)) throw badRequest(`${descriptor.kind} in version "${info.version}" cannot be handled as a ${descriptor.kind}: json: cannot unmarshal ${Array.isArray(obj.metadata) ? 'array' : typeof obj.metadata} into Go struct field .metadata of type v1.ObjectMeta`);
    const schema = this.deps.schemas.lookup(descriptor.group, info.version, descriptor.kind);
    if (schema) {
      const problems = pruneUnknownFields(obj, schema.schema, schema.defs, { opaqueEmptyObjects: !served.crdName });
      // Custom resources report wrong types as 422 field errors from their schema validation.
      if (problems.typeErrors.length && !served.crdName) {
        throw badRequest(`${descriptor.kind} in version "${info.version}" cannot be handled as a ${descriptor.kind}: ${problems.typeErrors[0]}`);
      }
      const validation = url.searchParams.get('fieldValidation') ?? 'Warn';
      if (problems.unknownFields.length) {
        const words = problems.unknownFields.map((f) => `unknown field "${f.replace(/^\./, '')}"`);
        if (validation === 'Strict') throw badRequest(`strict decoding error: ${words.join(', ')}`);
        if (validation === 'Warn') res.setHeader('Warning', words.map((w) => `299 - ${JSON.stringify(w)}`));
      }
    }
    obj.apiVersion = expected;
    obj.kind = descriptor.kind;
    const converter = served.store.resource.converter;
    if (converter && expected !== converter.storageApiVersion) return converter.toStorage(obj, info.version);
    return obj;
  }

  private fieldManager(url: URL, req: IncomingMessage): string {
    const m = url.searchParams.get('fieldManager');
    if (m !== null) {
      if (m.length > 128) throw badRequest(`fieldManager: Too long: may not be longer than 128`);
      return m;
    }
    const agent = req.headers['user-agent'] ?? 'unknown';
    return agent.split('/')[0] ?? agent;
  }

  private async create(req: IncomingMessage, res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, ctx: RequestContext, body: Buffer): Promise<void> {
    if (info.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
    const obj = this.decodeObject(res, url, served, info, decodeBody(body, req.headers['content-type']));
    const created = await served.store.create(ctx.namespace, obj, ctx, { dryRun: ctx.dryRun, fieldManager: this.fieldManager(url, req) });
    this.respondObject(res, served, created, info.version, { kind: 'object', format: 'json' }, 201);
  }

  private async update(req: IncomingMessage, res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, ctx: RequestContext, body: Buffer): Promise<void> {
    const obj = this.decodeObject(res, url, served, info, decodeBody(body, req.headers['content-type']));
    const existed = info.subresource ? true : !!(await served.store.tryGet(ctx.namespace, info.name));
    const updated = await served.store.update(ctx.namespace, info.name, obj, ctx, { dryRun: ctx.dryRun, fieldManager: this.fieldManager(url, req), subresource: info.subresource || undefined });
    this.respondObject(res, served, updated, info.version, { kind: 'object', format: 'json' }, existed ? 200 : 201);
  }

  private async patch(req: IncomingMessage, res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, ctx: RequestContext, body: Buffer): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const manager = this.fieldManager(url, req);
    const store: GenericStore = served.store;
    const { descriptor } = served;
    const isApply = contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+cbor';
    if (isApply && url.searchParams.get('fieldManager') === null) {
      throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
    }
    // Retry on conflict as Kubernetes does for patches that carry no resourceVersion of their own.
    for (let attempt = 0; ; attempt++) {
      const current = await store.tryGet(ctx.namespace, info.name);
      if (!current && !isApply) throw notFound(descriptor.group, descriptor.resource, info.name);
      const currentPresented = current ? this.present(served, current, info.version) : undefined;
      let patched: KubeObject;
      if (isApply) {
        const applied = this.decodeObject(res, url, served, info, decodeBody(body, 'application/yaml'));
        const appliedName = applied.metadata?.name;
        if (appliedName !== undefined && appliedName !== info.name) throw badRequest(`the name of the object (${appliedName}) does not match the name on the URL (${info.name})`);
        patched = this.deps.applier.apply(currentPresented, this.present(served, applied, info.version), {
          manager,
          force: url.searchParams.get('force') === 'true',
          apiVersion: apiVersionOf(descriptor.group, info.version),
          group: descriptor.group,
          version: info.version,
          kind: descriptor.kind,
          now: ctx.now,
        });
        patched.metadata ??= {};
        patched.metadata.name = info.name;
        if (!current) {
          if (descriptor.namespaced) patched.metadata.namespace = ctx.namespace;
          const obj = this.decodeObject(res, url, served, info, patched);
          const created = await store.create(ctx.namespace, obj, ctx, { dryRun: ctx.dryRun, fieldManager: manager, applyDone: true });
          this.respondObject(res, served, created, info.version, { kind: 'object', format: 'json' }, 201);
          return;
        }
      } else {
        patched = applyPatch(this.deps.patcher, contentType, currentPresented!, decodeBody(body, 'application/json', 'patch'), this.deps.schemas.lookup(descriptor.group, info.version, descriptor.kind));
      }
      const obj = this.decodeObject(res, url, served, info, patched);
      // The patch applies to what we read: the write is conditional on it. A patch that names a
      // resourceVersion of its own gets its Conflict; others are retried on a fresh read.
      const readRV = current?.metadata?.resourceVersion;
      obj.metadata ??= {};
      const patchedRV = obj.metadata.resourceVersion && obj.metadata.resourceVersion !== readRV ? obj.metadata.resourceVersion : undefined;
      if (!patchedRV) obj.metadata.resourceVersion = readRV;
      try {
        const updated = await store.update(ctx.namespace, info.name, obj, ctx, { dryRun: ctx.dryRun, fieldManager: manager, subresource: info.subresource || undefined, applyDone: isApply });
        this.respondObject(res, served, updated, info.version, { kind: 'object', format: 'json' });
        return;
      } catch (e) {
        if (e instanceof StatusError && e.reason === 'Conflict' && !patchedRV && attempt < 5) continue;
        throw e;
      }
    }
  }

  private async delete(req: IncomingMessage, res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, ctx: RequestContext, body: Buffer): Promise<void> {
    const opts = parseDeleteOptions(url, body, req.headers['content-type'], ctx.dryRun);
    const { object, deleted } = await served.store.delete(ctx.namespace, info.name, ctx, opts);
    if (!deleted) {
      this.respondObject(res, served, object, info.version, { kind: 'object', format: 'json' }, 200);
      return;
    }
    sendJSON(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: info.name, group: served.descriptor.group || undefined, kind: served.descriptor.resource, uid: object.metadata?.uid },
    });
  }

  private async deleteCollection(req: IncomingMessage, res: ServerResponse, url: URL, served: ServedResource, info: RequestInfo, ctx: RequestContext, body: Buffer): Promise<void> {
    const opts = parseDeleteOptions(url, body, req.headers['content-type'], ctx.dryRun);
    const listOpts = parseListOptions(url, served, ctx.namespace);
    const listed = await served.store.list({ ...listOpts, limit: 0, continueToken: undefined });
    const items: KubeObject[] = [];
    for (const obj of listed.items) {
      try {
        const r = await served.store.delete(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', ctx, opts);
        items.push(this.present(served, r.object, info.version));
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
    sendJSON(res, 200, { kind: `${served.descriptor.kind}List`, apiVersion: apiVersionOf(served.descriptor.group, info.version), metadata: { resourceVersion: listed.resourceVersion }, items });
  }
}
