/**
 * The ingress controller of a node: an HTTP and an HTTPS reverse proxy on the node's addresses
 * that route by the Ingresses of class `k8ts` (the default IngressClass) to the ready endpoints of
 * their backend Services, round robin. TLS certificates come from the Secrets the Ingresses name,
 * chosen by SNI. Ingress, Service, endpoint and Secret changes swap tables in memory: the
 * listening sockets and open connections are never touched, so nothing is dropped on a change.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { indexes, type SharedInformer } from '../client/informer.js';
import type { Logger } from '../machinery/logger.js';
import { selfSignedCertificate } from '../pki/self-signed.js';
import { IngressRoutes, isOurs, ourClassIsDefault, type Backend } from './ingress-routes.js';

export interface IngressControllerOptions {
  ingresses: SharedInformer;
  ingressClasses: SharedInformer;
  services: SharedInformer;
  endpointSlices: SharedInformer;
  secrets: SharedInformer;
  address?: string;
  httpPort: number;
  httpsPort: number;
  log: Logger;
}

interface SliceView {
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

const hopByHop = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

export class IngressController {
  private routes: IngressRoutes | undefined;
  private readonly contexts = new Map<string, { rv: string; ctx: SecureContext }>();
  private defaultContext: SecureContext | undefined;
  private readonly servers: Server[] = [];
  private next = 0;

  constructor(private readonly o: IngressControllerOptions) {
    const stale = { onAdd: () => (this.routes = undefined), onUpdate: () => (this.routes = undefined), onDelete: () => (this.routes = undefined) };
    o.ingresses.addEventHandler(stale);
    o.ingressClasses.addEventHandler(stale);
    o.endpointSlices.addIndexer('serviceName', indexes.serviceName);
  }

  /** Listens on both ports; resolves to the ports (useful with 0). */
  async start(): Promise<{ http: number; https: number }> {
    await Promise.all([this.o.ingresses, this.o.ingressClasses, this.o.services, this.o.endpointSlices, this.o.secrets].map((i) => i.start()));
    const cert = await selfSignedCertificate({ commonName: 'k8ts-ingress-default', dnsNames: ['k8ts-ingress-default'], ips: [] });
    this.defaultContext = createSecureContext({ cert: cert.certPem, key: cert.keyPem });
    const http = createHttpServer((req, res) => this.handle(req, res, 'http'));
    const https = createHttpsServer({ cert: cert.certPem, key: cert.keyPem, SNICallback: (name, cb) => cb(null, this.contextFor(name)) }, (req, res) => this.handle(req, res, 'https'));
    for (const s of [http, https]) s.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    const listen = (s: Server, port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, this.o.address ?? '0.0.0.0', () => resolve((s.address() as { port: number }).port));
      });
    const ports = { http: await listen(http, this.o.httpPort), https: await listen(https, this.o.httpsPort) };
    this.servers.push(http, https);
    this.o.log.info('ingress controller serving', ports);
    return ports;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      ),
    );
  }

  private table(): IngressRoutes {
    if (!this.routes) {
      const defaultClass = ourClassIsDefault(this.o.ingressClasses.list());
      this.routes = new IngressRoutes(this.o.ingresses.list().filter((i) => isOurs(i, defaultClass)));
    }
    return this.routes;
  }

  private contextFor(serverName: string): SecureContext | undefined {
    const secretKey = this.table().secretFor(serverName);
    if (!secretKey) return this.defaultContext;
    const secret = this.o.secrets.getByKey(secretKey);
    const data = (secret?.['data'] ?? {}) as Record<string, string>;
    if (!secret || !data['tls.crt'] || !data['tls.key']) return this.defaultContext;
    const rv = String(secret.metadata?.resourceVersion ?? '');
    const cached = this.contexts.get(secretKey);
    if (cached?.rv === rv) return cached.ctx;
    try {
      const ctx = createSecureContext({ cert: Buffer.from(data['tls.crt'], 'base64'), key: Buffer.from(data['tls.key'], 'base64') });
      this.contexts.set(secretKey, { rv, ctx });
      return ctx;
    } catch (e) {
      this.o.log.warn('TLS Secret does not hold a usable certificate and key; serving the default certificate', { secret: secretKey, err: (e as Error).message });
      return this.defaultContext;
    }
  }

  /** A ready endpoint of the backend, round robin; or why there is none. */
  private endpoint(b: Backend): { ip: string; port: number } | { status: number; why: string } {
    const svc = this.o.services.get(b.namespace, b.service);
    if (!svc) return { status: 503, why: `service ${b.namespace}/${b.service} does not exist` };
    const ports = ((svc['spec'] as { ports?: Array<{ name?: string; port: number }> } | undefined)?.ports ?? []);
    const sp = ports.find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
    if (!sp) return { status: 503, why: `service ${b.namespace}/${b.service} has no port ${b.port}` };
    const candidates: Array<{ ip: string; port: number }> = [];
    for (const s of this.o.endpointSlices.byIndex('serviceName', `${b.namespace}/${b.service}`) as SliceView[]) {
      const port = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === 'TCP')?.port;
      if (!port) continue;
      for (const e of s.endpoints ?? []) if (e.conditions?.ready !== false) for (const ip of e.addresses) candidates.push({ ip, port });
    }
    if (!candidates.length) return { status: 503, why: `service ${b.namespace}/${b.service} has no ready endpoints` };
    return candidates[this.next++ % candidates.length]!;
  }

  private target(req: IncomingMessage): { ip: string; port: number } | { status: number; why: string } {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const backend = this.table().match(req.headers.host ?? '', path);
    if (!backend) return { status: 404, why: 'no Ingress rule matches this host and path' };
    return this.endpoint(backend);
  }

  private forwardedHeaders(req: IncomingMessage, proto: string): Record<string, string | string[] | undefined> {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${client}` : client;
    headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-proto'] = proto;
    headers['x-real-ip'] = client;
    return headers;
  }

  private handle(req: IncomingMessage, res: ServerResponse, proto: string): void {
    const t = this.target(req);
    if ('status' in t) {
      res.writeHead(t.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${t.status === 404 ? 'Not Found' : 'Service Unavailable'}: ${t.why}\n`);
      return;
    }
    const headers = this.forwardedHeaders(req, proto);
    for (const h of hopByHop) if (h !== 'transfer-encoding') delete headers[h];
    const upstream = httpRequest({ host: t.ip, port: t.port, method: req.method, path: req.url, headers }, (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !hopByHop.includes(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
    });
    upstream.setTimeout(60_000, () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Bad Gateway: ${t.ip}:${t.port}: ${e.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  }

  /** WebSocket and other upgrades: the request goes on as is and the sockets are joined. */
  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const t = this.target(req);
    if ('status' in t) {
      socket.end(`HTTP/1.1 ${t.status} ${t.status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const upstream = connect(t.port, t.ip, () => {
      const headers = this.forwardedHeaders(req, 'encrypted' in socket ? 'https' : 'http');
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }
}
