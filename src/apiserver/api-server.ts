import { createServer as createHttpsServer, type Server } from 'node:https';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Backend } from '../store/backend.js';
import { StatusError, internalError } from '../machinery/status-error.js';
import { builtinResources, reviewResources, type ResourceDescriptor } from '../api/resource-table.js';
import type { Logger } from '../machinery/logger.js';
import { ResourceRegistry, type ServedResource } from './resource-registry.js';
import { GenericStore, type AdmissionHook, type FieldOwnership, type VersionConverter } from './registry/generic-store.js';
import type { Strategy } from './registry/strategy.js';
import { Discovery, wantsAggregated } from './discovery.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { ResourceHandler, type Applier, type SubresourceHandler, type TableRenderer } from './handlers/resource-handler.js';
import type { Patcher } from './handlers/patch.js';
import { sendJSON, sendStatusError } from './handlers/codec.js';
import { ScaleHandler } from './handlers/subresources/scale.js';
import { BindingHandler } from './handlers/subresources/binding.js';
import { EvictionHandler } from './handlers/subresources/eviction.js';
import { PodLogHandler, type LogSource } from './handlers/subresources/pod-log.js';
import { ServiceAccountTokenHandler } from './handlers/subresources/service-account-token.js';
import { NamespaceFinalizeHandler } from './handlers/subresources/namespace-finalize.js';
import { PodStreamHandler, type PodStreamTarget } from './handlers/subresources/pod-stream.js';
import { holdUpgrade } from '../streaming/upgrade.js';
import { ReviewHandler } from './handlers/reviews.js';
import { readBody } from './handlers/codec.js';
import type { Authenticator, UserInfo } from './auth/authenticator.js';
import { unauthorized } from './auth/authenticator.js';
import { forbidden, type Authorizer } from './auth/authorizer.js';
import type { ServiceAccountTokens } from './auth/service-account-tokens.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { SchemaIndex } from './schema-index.js';
import { InProcessClient, type InProcessAnswerer } from './in-process-client.js';
import { ApiMetrics } from './metrics.js';
import { versionInfo } from './version.js';
import type { OpenAPIService } from './openapi-service.js';

/** Answers every request for a computed resource. */
export type AnsweredHandler = (req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo) => Promise<void>;

export interface ApiServerConfig {
  backend: Backend;
  tls: { cert: string; key: string; clientCA: string };
  bindAddress: string;
  port: number;
  /** The address clients should use (discovery's serverAddressByClientCIDRs, the `kubernetes` Endpoints). */
  advertiseAddress: string;
  /** The server CA (PEM) served without authentication at `/cacerts` for joining agents. */
  cacerts?: string;
  /** The client CA (PEM), served to authenticated callers at `/v1-k8ts/client-ca.crt`: joining kubelets trust the API server's client certificate with it. */
  clientCACert?: string;
  authenticator: Authenticator;
  tokens: ServiceAccountTokens;
  authorizer: Authorizer;
  strategies: Map<string, Strategy>;
  converters: Map<string, VersionConverter>;
  schemas: SchemaIndex;
  tables: TableRenderer;
  patcher: Patcher;
  applier: Applier;
  ownership: FieldOwnership;
  openapi: OpenAPIService;
  logger: Logger;
  /** Extra admission plugins after NamespaceLifecycle (quota, limits … come later). */
  admission?: AdmissionHook[];
  now?: () => Date;
}

const openPaths = new Set(['/readyz', '/livez', '/healthz', '/version', '/cacerts']);

/**
 * The HTTPS front of k8ts: authentication, authorization, discovery, OpenAPI, health, metrics,
 * and every resource through its GenericStore.
 */
export class ApiServer {
  readonly registry = new ResourceRegistry();
  readonly discovery = new Discovery(this.registry);
  readonly client: InProcessClient;
  readonly metrics = new ApiMetrics();
  private readonly handler: ResourceHandler;
  private readonly reviews: ReviewHandler;
  /** Handlers of answered (not stored) resources, keyed `group/resource`. */
  private readonly answered = new Map<string, AnsweredHandler>();
  private readonly subresources = new Map<string, SubresourceHandler>();
  private readonly admission: AdmissionHook[];

  /** The admission plugins every write passes (custom resources use them too). */
  get admissionChain(): AdmissionHook[] {
    return this.admission;
  }
  private server: Server | undefined;
  private ready = false;
  private readonly readyChecks = new Map<string, () => boolean>();
  private logSource: LogSource | undefined;
  private streamTarget: PodStreamTarget | undefined;
  private readonly now: () => Date;

  constructor(private readonly config: ApiServerConfig) {
    this.now = config.now ?? (() => new Date());
    this.client = new InProcessClient(this.registry, this.now, config.tokens);
    this.admission = [new NamespaceLifecycle(() => this.storeOf('', 'namespaces')), ...(config.admission ?? [])];
    for (const d of builtinResources) {
      const id = `${d.group}/${d.resource}`;
      const strategy = config.strategies.get(id) ?? {};
      const home = d.sharesStorageWith ?? d;
      const prefix = `/registry/${home.group || 'core'}/${home.resource}/`;
      const store = new GenericStore({ descriptor: d, strategy, prefix, converter: config.converters.get(id) }, config.backend, this.admission, config.ownership);
      this.registry.add({ store, descriptor: d });
    }
    this.reviews = new ReviewHandler(config.authorizer, (token, audiences) => this.tokenUser(token, audiences), this.now);
    this.serveAnswered(reviewResources, async (req, res, info, user) => this.reviews.handle(res, info, user, await readBody(req), req.headers['content-type']));
    this.subresources.set('*/scale', new ScaleHandler(config.patcher, (served) => this.scalePaths(served)));
    this.subresources.set('pods/binding', new BindingHandler(() => this.served('', 'pods')));
    this.subresources.set('bindings/', new BindingHandler(() => this.served('', 'pods')));
    this.subresources.set('pods/eviction', new EvictionHandler(() => this.registry.byGroup('policy', 'poddisruptionbudgets')));
    this.subresources.set('pods/log', new PodLogHandler(() => this.logSource));
    for (const kind of ['exec', 'attach', 'portforward'] as const) {
      this.subresources.set(`pods/${kind}`, new PodStreamHandler(kind, () => this.streamTarget, async (info, ctx) => {
        const attrs = { user: ctx.user, verb: 'create', apiGroup: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name, resourceRequest: true, path: '' };
        const decision = await this.config.authorizer.authorize(attrs);
        if (!decision.allowed) throw forbidden(attrs, decision.reason);
      }));
    }
    this.subresources.set('serviceaccounts/token', new ServiceAccountTokenHandler(config.tokens, this.registry));
    this.subresources.set('namespaces/finalize', new NamespaceFinalizeHandler());
    this.handler = new ResourceHandler({
      registry: this.registry,
      schemas: config.schemas,
      tables: config.tables,
      patcher: config.patcher,
      applier: config.applier,
      subresources: this.subresources,
      now: this.now,
    });
    this.registry.onChange(() => config.openapi.invalidate());
  }

  /**
   * Serves resources that are computed, not stored (reviews, metrics.k8s.io): they appear in
   * discovery and every request for them goes to `handler`.
   */
  serveAnswered(descriptors: ResourceDescriptor[], handler: AnsweredHandler, inProcess?: InProcessAnswerer): void {
    for (const d of descriptors) {
      this.registry.addAnswered(d);
      this.answered.set(`${d.group}/${d.resource}`, handler);
      if (inProcess) this.client.answerWith(d.group, d.resource, inProcess);
    }
  }

  /** Paths of the scale subresource; CRDs declare their own (set by the CRD serving). */
  scalePaths: (served: ServedResource) => { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } | undefined = () => ({
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
  });

  served(group: string, resource: string): ServedResource {
    const s = this.registry.byGroup(group, resource);
    if (!s) throw new Error(`resource ${group}/${resource} is not registered`);
    return s;
  }

  storeOf(group: string, resource: string): GenericStore {
    return this.served(group, resource).store;
  }

  /** Plugs in where `kubectl logs` reads from (the kubelet issue provides it). */
  setLogSource(source: LogSource): void {
    this.logSource = source;
  }

  /** Plugs in where exec, attach and port-forward go (the kubelets). */
  setStreamTarget(target: PodStreamTarget): void {
    this.streamTarget = target;
  }

  /** A named readiness condition reported by /readyz (e.g. the CRD serving's initial sync). */
  addReadyCheck(name: string, check: () => boolean): void {
    this.readyChecks.set(name, check);
  }

  markReady(): void {
    this.ready = true;
  }

  async listen(): Promise<AddressInfo> {
    const { tls, bindAddress, port } = this.config;
    const server = createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.clientCA, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 60_000 }, (req, res) => {
      void this.serve(req, res);
    });
    // exec, attach and port-forward are upgrades: they go through the same authentication and
    // routing, with a response bound to the raw socket for errors; their handler takes the socket.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      const pending = holdUpgrade(req, socket, head, () => res.detachSocket(socket as Socket));
      res.on('finish', () => {
        if (!pending.taken) socket.end();
      });
      void this.serve(req, res).then(() => {
        if (!pending.taken && !res.writableEnded) res.end();
      });
    });
    server.headersTimeout = 60_000;
    server.requestTimeout = 0;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const s of this.registry.all()) s.store.cache.close();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The service account a token was issued to, while that account still exists. */
  private async serviceAccountUser(token: string, audiences: string[]): Promise<UserInfo | undefined> {
    if (token.split('.').length !== 3) return undefined;
    const user = await this.config.tokens.verify(token, audiences.length ? audiences : [this.config.tokens.issuer, 'https://kubernetes.default.svc', 'k8ts', 'api']);
    if (!user) return undefined;
    const sa = await this.registry.byGroup('', 'serviceaccounts')?.store.tryGet(user.namespace, user.serviceAccountName);
    if (!sa || sa.metadata?.uid !== user.serviceAccountUid) return undefined;
    return { name: user.name, uid: user.uid, groups: user.groups };
  }

  /** Who a bearer token belongs to, for TokenReview: a service-account token or a static one. */
  private async tokenUser(token: string, audiences: string[]): Promise<UserInfo | undefined> {
    const sa = await this.serviceAccountUser(token, audiences);
    if (sa) return sa;
    try {
      return this.config.authenticator.authenticate({ headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage);
    } catch {
      return undefined;
    }
  }

  private async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (bearer && bearer.split('.').length === 3) {
      const user = await this.serviceAccountUser(bearer, []);
      if (!user) throw unauthorized('invalid or expired service account token');
      delete req.headers.authorization;
      return user;
    }
    return this.config.authenticator.authenticate(req) ?? Promise.reject(unauthorized('no credentials'));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let info: RequestInfo | undefined;
    try {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (openPaths.has(path) || path.startsWith('/readyz/') || path.startsWith('/livez/') || path.startsWith('/healthz/')) {
        this.serveOpen(path, url, res);
        return;
      }
      info = parseRequestInfo(req.method ?? 'GET', url, (g, v, r) => this.registry.isNamespaced(g, v, r));
      const user = await this.authenticate(req);
      const attrs = {
        user,
        verb: info.verb,
        apiGroup: info.group,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        resourceRequest: info.isResourceRequest,
        path,
      };
      const decision = await this.config.authorizer.authorize(attrs);
      if (!decision.allowed) throw forbidden(attrs, decision.reason);
      if (info.isResourceRequest) {
        if (info.resource === 'bindings' && info.verb === 'create') {
          const served = this.served('', 'pods');
          await this.subresources.get('bindings/')!.handle(req, res, info, served, { namespace: info.namespace, user, dryRun: url.searchParams.has('dryRun'), now: this.now() }, async () => {
            const chunks: Buffer[] = [];
            for await (const c of req) chunks.push(c as Buffer);
            return Buffer.concat(chunks);
          });
          return;
        }
        const answer = this.registry.answeredResource(info.group, info.version, info.resource) && this.answered.get(`${info.group}/${info.resource}`);
        if (answer) {
          await answer(req, res, info, user);
          return;
        }
        await this.handler.handle(req, res, url, info, user);
        return;
      }
      await this.serveNonResource(req, res, url, path, info);
    } catch (e) {
      const err = e instanceof StatusError ? e : internalError((e as Error).message ?? String(e));
      if (!(e instanceof StatusError)) this.config.logger.error('request failed', { method: req.method, url: req.url, error: (e as Error).stack ?? String(e) });
      sendStatusError(res, err);
    } finally {
      this.metrics.observe(req.method ?? 'GET', info, res.statusCode, (performance.now() - started) / 1000);
    }
  }

  private serveOpen(path: string, url: URL, res: ServerResponse): void {
    if (path === '/version') {
      sendJSON(res, 200, versionInfo());
      return;
    }
    if (path === '/cacerts') {
      // As k3s serves it: joining agents fetch the CA here and check it against their token.
      res.writeHead(this.config.cacerts ? 200 : 404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
      res.end(this.config.cacerts ?? 'not served\n');
      return;
    }
    const checks: Array<[string, boolean]> = [['ping', true], ['etcd', true], ['poststarthook/k8ts-bootstrap', this.ready]];
    for (const [name, check] of this.readyChecks) checks.push([name, check()]);
    const isReadyz = path.startsWith('/readyz');
    const relevant = isReadyz || path.startsWith('/healthz') ? checks : checks.filter(([n]) => n === 'ping' || n === 'etcd');
    const single = path.split('/')[2];
    const selected = single ? relevant.filter(([n]) => n === single || n.endsWith(`/${single}`)) : relevant;
    const ok = selected.every(([, pass]) => pass);
    const name = path.split('/')[1] ?? 'healthz';
    let text = ok ? 'ok' : `${name} check failed`;
    if (url.searchParams.has('verbose')) {
      text = selected.map(([n, pass]) => `[${pass ? '+' : '-'}]${n} ${pass ? 'ok' : 'failed: reason withheld'}`).join('\n') + `\n${name} check ${ok ? 'passed' : 'failed'}`;
    }
    res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache, private' });
    res.end(text + (url.searchParams.has('verbose') ? '\n' : ''));
  }

  private async serveNonResource(req: IncomingMessage, res: ServerResponse, url: URL, path: string, info: RequestInfo): Promise<void> {
    const notFoundText = (): void => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (path.startsWith('/api')) throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      notFoundText();
      return;
    }
    const aggregated = wantsAggregated(req.headers.accept);
    const sendDiscovery = (body: unknown): void => {
      const type = aggregated ? `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList` : 'application/json';
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache, private', Vary: 'Accept' });
      res.end(JSON.stringify(body));
    };
    if (path === '/v1-k8ts/client-ca.crt' && this.config.clientCACert) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
      res.end(this.config.clientCACert);
      return;
    }
    if (path === '/api') {
      sendDiscovery(aggregated ? this.discovery.aggregated(true, aggregated) : this.discovery.apiVersions(`${this.config.advertiseAddress}:${this.config.port}`));
      return;
    }
    if (path === '/apis') {
      sendDiscovery(aggregated ? this.discovery.aggregated(false, aggregated) : this.discovery.apiGroupList());
      return;
    }
    if (info.apiPrefix && info.parts.length === 0) {
      const doc = info.version ? this.discovery.apiResourceList(info.group, info.version) : info.apiPrefix === 'apis' ? this.discovery.apiGroup(info.group) : undefined;
      if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
      sendJSON(res, 200, doc);
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': this.metrics.contentType });
      res.end(await this.metrics.render(this.registry));
      return;
    }
    if (path === '/openapi/v2' || path.startsWith('/openapi/v3')) {
      await this.config.openapi.serve(req, res, path, url);
      return;
    }
    notFoundText();
  }

  /** Creates what every cluster has from the start: system namespaces and the `kubernetes` Service. */
  async bootstrap(kubernetesServiceIP: string): Promise<void> {
    await this.createDefaults(kubernetesServiceIP);
    await Promise.all(this.registry.all().map((s) => s.store.startCache()));
  }

  private async createDefaults(kubernetesServiceIP: string): Promise<void> {
    const ns = { group: '', version: 'v1', resource: 'namespaces' };
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const existing = await this.storeOf('', 'namespaces').tryGet('', name);
      if (!existing) await this.client.create(ns, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    const svcs = this.storeOf('', 'services');
    const svc = await svcs.tryGet('default', 'kubernetes');
    if (!svc) {
      await this.client.create({ group: '', version: 'v1', resource: 'services' }, 'default', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { type: 'ClusterIP', clusterIP: kubernetesServiceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.config.port }], sessionAffinity: 'None' },
      });
    }
    const endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: this.config.advertiseAddress }], ports: [{ name: 'https', port: this.config.port, protocol: 'TCP' }] }],
    };
    // Endpoints may not point at loopback; a server bound to loopback is not reachable from pods anyway.
    if (/^127\.|^::1$/.test(this.config.advertiseAddress)) return;
    // kube-proxy routes by the EndpointSlice, kept next to the Endpoints as the apiserver's reconciler does.
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: this.config.advertiseAddress.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [this.config.advertiseAddress], conditions: { ready: true } }],
      ports: [{ name: 'https', port: this.config.port, protocol: 'TCP' }],
    };
    await this.upsert({ group: '', version: 'v1', resource: 'endpoints' }, endpoints);
    await this.upsert({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, slice);
  }

  private async upsert(ref: { group: string; version: string; resource: string }, obj: { metadata: { name: string; namespace: string } }): Promise<void> {
    const current = await this.storeOf(ref.group, ref.resource).tryGet(obj.metadata.namespace, obj.metadata.name);
    if (!current) await this.client.create(ref, obj.metadata.namespace, obj);
    else await this.client.update(ref, obj.metadata.namespace, { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } });
  }
}
