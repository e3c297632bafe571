import { Agent, request, type RequestOptions } from 'node:https';
import { request as plainRequest, Agent as PlainAgent, type IncomingMessage, type ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError, type ApiObject, type Client, type DeleteQuery, type ListQuery, type ObjectList, type ResourceRef, type WatchEventOf, type WriteQuery } from './interface.js';

/** Where and how to reach the API server. PEM strings or buffers. */
export interface HttpClientOptions {
  /** e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** CA that signed the server's certificate; absent: the system CAs. */
  ca?: string | Buffer;
  /** Client certificate and key (mutual TLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token (service account or `--token`). */
  token?: string;
  insecureSkipTLSVerify?: boolean;
  userAgent?: string;
  /** Per-request timeout of non-watch calls; default 60 s. */
  timeoutMs?: number;
}

export type ServerResource = ResourceRef & { namespaced: boolean; verbs: string[]; kind?: string };

interface Kubeconfig {
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: { cluster?: string; user?: string; namespace?: string } }>;
  users?: Array<{ name: string; user: Record<string, unknown> | null }>;
}

/** Reads the connection settings of a kubeconfig's context (current-context unless named). */
export function optionsFromKubeconfig(text: string, opts: { context?: string; baseDir?: string } = {}): HttpClientOptions {
  const kc = (parseYaml(text) ?? {}) as Kubeconfig;
  const ctxName = opts.context ?? kc['current-context'];
  const ctx = kc.contexts?.find((c) => c.name === ctxName)?.context ?? (ctxName === undefined ? kc.contexts?.[0]?.context : undefined);
  if (!ctx) throw new Error(`kubeconfig: context ${ctxName ?? '(none)'} not found`);
  const cluster = kc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig: cluster ${ctx.cluster ?? '(none)'} not found`);
  const user = kc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const str = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  // `*-data` is base64 inline; the plain key names a file, relative to the kubeconfig.
  const material = (o: Record<string, unknown>, k: string): Buffer | undefined => {
    const data = str(o, `${k}-data`);
    if (data) return Buffer.from(data, 'base64');
    const file = str(o, k);
    if (!file) return undefined;
    return readFileSync(isAbsolute(file) || !opts.baseDir ? file : join(opts.baseDir, file));
  };
  const server = str(cluster, 'server');
  if (!server) throw new Error('kubeconfig: the cluster has no server');
  const out: HttpClientOptions = { server };
  const ca = material(cluster, 'certificate-authority');
  if (ca) out.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) out.insecureSkipTLSVerify = true;
  const cert = material(user, 'client-certificate');
  if (cert) out.cert = cert;
  const key = material(user, 'client-key');
  if (key) out.key = key;
  const token = str(user, 'token') ?? (str(user, 'tokenFile') ? readFileSync(str(user, 'tokenFile')!, 'utf8').trim() : undefined);
  if (token) out.token = token;
  return out;
}

function encodeName(s: string): string {
  return encodeURIComponent(s);
}

/** Builds the REST path of a resource (`/api/v1/namespaces/ns/pods/name/status`). */
function resourcePath(ref: ResourceRef, namespace: string, name?: string, subresource?: string): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (namespace) p += `/namespaces/${encodeName(namespace)}`;
  p += `/${ref.resource}`;
  if (name !== undefined) p += `/${encodeName(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function writeParams(query: WriteQuery): Record<string, string | undefined> {
  return { dryRun: query.dryRun ? 'All' : undefined, fieldManager: query.fieldManager };
}

/** Turns a non-2xx response into an ApiError from its Status body (or the bare HTTP status). */
function errorFrom(status: number, body: string, method: string, path: string): ApiError {
  try {
    const s = JSON.parse(body) as { kind?: string; code?: number; reason?: string; message?: string };
    if (s && typeof s === 'object' && (s.kind === 'Status' || s.message !== undefined)) {
      return new ApiError(typeof s.code === 'number' && s.code > 0 ? s.code : status, s.reason ?? reasonOf(status), s.message ?? `${method} ${path}: ${status}`);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, reasonOf(status), body.trim() || `${method} ${path}: HTTP ${status}`);
}

function reasonOf(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    406: 'NotAcceptable',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}

function isRetryableSocketError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * The Client over HTTPS, as client-go's REST client: JSON bodies on a keep-alive agent, Status
 * bodies become ApiErrors, watches stream newline-delimited JSON events. Cluster-scoped resources
 * are recognised from discovery (fetched once per group-version), so a namespace passed for them
 * is ignored as the in-process client does.
 *
 * `create` with `query.subresource` (e.g. `binding`, `eviction`) POSTs to
 * `…/RESOURCE/NAME/SUBRESOURCE`, NAME being `obj.metadata.name`.
 */
export class HttpClient implements Client {
  private readonly url: URL;
  private readonly agent: Agent | PlainAgent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  /** `group/version` → resource → namespaced, from discovery. */
  private readonly scopes = new Map<string, Promise<Map<string, boolean>>>();

  constructor(readonly options: HttpClientOptions) {
    this.url = new URL(options.server);
    const tls = this.url.protocol === 'https:';
    this.agent = tls
      ? new Agent({
          keepAlive: true,
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          rejectUnauthorized: !options.insecureSkipTLSVerify,
        })
      : new PlainAgent({ keepAlive: true });
    this.headers = { accept: 'application/json', 'user-agent': options.userAgent ?? 'k8ts-client' };
    if (options.token) this.headers['authorization'] = `Bearer ${options.token}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** A client for a kubeconfig file (its current context unless `context` is given). */
  static fromKubeconfig(path: string, context?: string): HttpClient {
    return new HttpClient(optionsFromKubeconfig(readFileSync(path, 'utf8'), { context, baseDir: dirname(path) }));
  }

  /** Closes idle keep-alive sockets; open watches should be stopped first. */
  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, body?: unknown): Promise<{ res: IncomingMessage; req: ClientRequest }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...this.headers };
    if (data !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(data);
    }
    const opts: RequestOptions = {
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
      method,
      path: this.url.pathname.replace(/\/$/, '') + path,
      agent: this.agent,
      headers,
    };
    return new Promise((resolve, reject) => {
      const req = (this.url.protocol === 'https:' ? request : plainRequest)(opts, (res) => resolve({ res, req }));
      req.on('error', reject);
      req.end(data);
    });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.callOnce(method, path, body);
      } catch (e) {
        // A keep-alive socket the server closed meanwhile: safe to retry reads once.
        if (attempt === 0 && method === 'GET' && isRetryableSocketError(e)) continue;
        throw e;
      }
    }
  }

  private async callOnce(method: string, path: string, body?: unknown): Promise<unknown> {
    const { res, req } = await this.send(method, path, body);
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
        req.on('error', reject);
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw errorFrom(status, text, method, path);
      return text ? (JSON.parse(text) as unknown) : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether `ref` is namespaced, by discovery; undefined when discovery does not say. */
  private async namespaced(ref: ResourceRef): Promise<boolean | undefined> {
    const gv = ref.group ? `${ref.group}/${ref.version}` : ref.version;
    let p = this.scopes.get(gv);
    if (!p) {
      p = this.discover(ref.group, ref.version).then(
        (list) => new Map(list.map((r) => [r.resource, r.namespaced])),
        () => {
          this.scopes.delete(gv); // try again next time
          return new Map<string, boolean>();
        },
      );
      this.scopes.set(gv, p);
    }
    return (await p).get(ref.resource);
  }

  private async path(ref: ResourceRef, namespace: string, name?: string, subresource?: string): Promise<string> {
    const ns = namespace && (await this.namespaced(ref)) === false ? '' : namespace;
    return resourcePath(ref, ns, name, subresource);
  }

  private async discover(group: string, version: string): Promise<ServerResource[]> {
    const list = (await this.call('GET', group ? `/apis/${group}/${version}` : `/api/${version}`)) as {
      resources?: Array<{ name: string; namespaced: boolean; kind?: string; verbs?: string[] }>;
    };
    return (list.resources ?? [])
      .filter((r) => !r.name.includes('/'))
      .map((r) => {
        const out: ServerResource = { group, version, resource: r.name, namespaced: r.namespaced, verbs: r.verbs ?? [] };
        if (r.kind) out.kind = r.kind;
        return out;
      });
  }

  async get(ref: ResourceRef, namespace: string, name: string): Promise<ApiObject> {
    return (await this.call('GET', await this.path(ref, namespace, name))) as ApiObject;
  }

  async list(ref: ResourceRef, namespace: string, query: ListQuery = {}): Promise<ObjectList> {
    const qs = queryString({ labelSelector: query.labelSelector, fieldSelector: query.fieldSelector, limit: query.limit, continue: query.continue, resourceVersion: query.resourceVersion });
    const list = (await this.call('GET', (await this.path(ref, namespace)) + qs)) as { items?: ApiObject[] | null; metadata?: { resourceVersion?: string; continue?: string } };
    const metadata: ObjectList['metadata'] = { resourceVersion: list.metadata?.resourceVersion ?? '' };
    if (list.metadata?.continue) metadata.continue = list.metadata.continue;
    return { items: list.items ?? [], metadata };
  }

  async create(ref: ResourceRef, namespace: string, obj: ApiObject, query: WriteQuery = {}): Promise<ApiObject> {
    const path = query.subresource ? await this.path(ref, namespace, obj.metadata?.name ?? '', query.subresource) : await this.path(ref, namespace);
    return (await this.call('POST', path + queryString(writeParams(query)), obj)) as ApiObject;
  }

  async update(ref: ResourceRef, namespace: string, obj: ApiObject, query: WriteQuery = {}): Promise<ApiObject> {
    const path = await this.path(ref, namespace, obj.metadata?.name ?? '', query.subresource);
    return (await this.call('PUT', path + queryString(writeParams(query)), obj)) as ApiObject;
  }

  /**
   * DELETE. Resolves with the object when the server sends it (graceful deletion, finalizers);
   * undefined when it answers with a Status, as Kubernetes does for immediate deletes.
   */
  async delete(ref: ResourceRef, namespace: string, name: string, query: DeleteQuery = {}): Promise<ApiObject | undefined> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (query.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = query.gracePeriodSeconds;
    if (query.propagationPolicy) body['propagationPolicy'] = query.propagationPolicy;
    if (query.preconditions) body['preconditions'] = query.preconditions;
    const out = (await this.call('DELETE', await this.path(ref, namespace, name), body)) as ApiObject | undefined;
    return out && out.kind !== 'Status' ? out : undefined;
  }

  /**
   * Opens a watch and resolves once the server accepted it. Events are delivered in order;
   * an `ERROR` event carries the server's Status (e.g. 410 Expired). `onClose` is called once
   * when the stream ends or breaks — never after `stop()`.
   */
  async watch(ref: ResourceRef, namespace: string, query: ListQuery, onEvent: (e: WatchEventOf) => void, onClose?: (err?: Error) => void): Promise<{ stop(): void }> {
    const qs = queryString({
      watch: 'true',
      allowWatchBookmarks: 'true',
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
      resourceVersion: query.resourceVersion,
    });
    const path = (await this.path(ref, namespace)) + qs;
    const { res, req } = await this.send('GET', path);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const text = await new Promise<string>((resolve) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (s += d));
        res.on('end', () => resolve(s));
        res.on('error', () => resolve(s));
      });
      throw errorFrom(status, text, 'GET', path);
    }
    let stopped = false;
    let closed = false;
    const close = (err?: Error): void => {
      if (closed) return;
      closed = true;
      if (!stopped) onClose?.(err);
    };
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line || stopped) continue;
        let e: WatchEventOf;
        try {
          e = JSON.parse(line) as WatchEventOf;
        } catch {
          req.destroy();
          close(new Error(`watch ${path}: undecodable event`));
          return;
        }
        onEvent(e);
      }
    });
    res.on('end', () => close());
    res.on('aborted', () => close(new Error(`watch ${path}: aborted`)));
    res.on('error', (err) => close(err));
    res.on('close', () => close());
    req.on('error', (err) => close(err));
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        req.destroy();
      },
    };
  }

  /** Every resource the server serves, in each group's preferred version (subresources left out). */
  async serverResources(): Promise<ServerResource[]> {
    const core = await this.discover('', 'v1');
    const groups = (await this.call('GET', '/apis')) as { groups?: Array<{ name: string; preferredVersion?: { version: string }; versions?: Array<{ version: string }> }> };
    const lists = await Promise.all(
      (groups.groups ?? []).map((g) => {
        const version = g.preferredVersion?.version ?? g.versions?.[0]?.version;
        return version ? this.discover(g.name, version).catch(() => []) : Promise.resolve([]);
      }),
    );
    return [...core, ...lists.flat()];
  }
}
