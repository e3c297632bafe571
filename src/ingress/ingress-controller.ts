/**
 * The ingress controller of a node: an HTTP and an HTTPS reverse proxy on the node's addresses
 * that route by the Ingresses of class `k8ts` (the default IngressClass) to the ready endpoints of
 * their backend Services, round robin. TLS certificates come from the Secrets the Ingresses name,
 * chosen by the server name the client asks for (SNI). Ingress, Service, endpoint and Secret
 * changes swap tables in memory: the listening sockets and open connections are never touched,
 * so nothing is dropped on a change.
 */
import { Agent as HttpAgent, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { indexes, type SharedInformer } from '../client/informer.js';
import type { Logger } from '../machinery/logger.js';
import { selfSignedCertificate } from '../pki/self-signed.js';
import { clientHelloServerName } from './client-hello.js';
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

/** Hop-by-hop headers (RFC 9110 §7.6.1): about one connection, so a proxy does not pass them on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
/** Headers the proxy sets itself: a client cannot choose them. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']);

/** The hop-by-hop headers of a message: the standard ones and those its Connection header names. */
function hopByHop(connection: string | undefined): Set<string> {
  if (!connection) return HOP_BY_HOP;
  const named = connection.toLowerCase().split(',').map((n) => n.trim()).filter((n) => n && n !== 'close' && n !== 'keep-alive' && !HOP_BY_HOP.has(n));
  return named.length ? new Set([...HOP_BY_HOP, ...named]) : HOP_BY_HOP;
}

/** A raw header list ([name, value, …]) without the headers `skip` names (lowercase). */
function headersWithout(raw: string[], skip: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!skip(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * The request's headers for the backend: without hop-by-hop ones (Transfer-Encoding stays, so a
 * chunked body is sent chunked), plus X-Forwarded-For (the client appended to the chain),
 * X-Forwarded-Host, X-Forwarded-Proto and X-Real-IP.
 */
function forwardedHeaders(req: IncomingMessage, proto: string): string[] {
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const drop = hopByHop(req.headers.connection);
  const out = headersWithout(req.rawHeaders, (name) => (drop.has(name) && name !== 'transfer-encoding') || FORWARDING.has(name));
  const chain = req.headers['x-forwarded-for'];
  out.push('X-Forwarded-For', chain ? `${chain}, ${client}` : client);
  if (req.headers.host !== undefined) out.push('X-Forwarded-Host', req.headers.host);
  out.push('X-Forwarded-Proto', proto, 'X-Real-IP', client);
  return out;
}

/** How long a client may take to send its ClientHello. */
const HELLO_TIMEOUT_MS = 10_000;

export class IngressController {
  private routes: IngressRoutes | undefined;
  /**
   * An HTTPS server per TLS Secret (by `ns/name`, rebuilt when the Secret changes) and one with
   * the default certificate. None listens: the HTTPS port's TCP server reads the ClientHello's
   * server name and hands the connection to the one whose certificate it needs.
   */
  private readonly tlsServers = new Map<string, { rv: string; server: HttpsServer }>();
  private defaultTls: HttpsServer | undefined;
  /** Connections on the HTTPS port (their servers do not listen, so cannot close them). */
  private readonly tlsConnections = new Set<Socket>();
  private http: Server | undefined;
  private tlsFront: TcpServer | undefined;
  private next = 0;
  /** Connections to backends that keep them are reused (busybox httpd closes each one). */
  private readonly agent = new HttpAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000 });

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
    this.defaultTls = this.httpsServer(cert.certPem, cert.keyPem);
    const http = createHttpServer((req, res) => this.handle(req, res, 'http'));
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    const front = createTcpServer((socket) => this.handOver(socket));
    const listen = (s: TcpServer, port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, this.o.address ?? '0.0.0.0', () => resolve((s.address() as { port: number }).port));
      });
    const ports = { http: await listen(http, this.o.httpPort), https: await listen(front, this.o.httpsPort) };
    this.http = http;
    this.tlsFront = front;
    this.o.log.info('ingress controller serving', ports);
    return ports;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const closed = (s: TcpServer | undefined): Promise<void> => new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
    const done = Promise.all([closed(this.http), closed(this.tlsFront)]);
    this.http?.closeAllConnections();
    for (const socket of this.tlsConnections) socket.destroy();
    await done;
  }

  private httpsServer(cert: string | Buffer, key: string | Buffer): HttpsServer {
    const server = createHttpsServer({ cert, key }, (req, res) => this.handle(req, res, 'https'));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    return server;
  }

  /**
   * A connection on the HTTPS port: its first TLS record is read for the server name, then put
   * back, and the connection is given to the HTTPS server with that name's certificate.
   */
  private handOver(socket: Socket): void {
    this.tlsConnections.add(socket);
    socket.once('close', () => this.tlsConnections.delete(socket));
    socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
    const dropped = (): void => void socket.destroy();
    socket.on('error', dropped);
    let hello: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      hello = hello.length ? Buffer.concat([hello, chunk]) : chunk;
      const name = clientHelloServerName(hello);
      if (name === undefined) return; // the record is not complete yet
      socket.off('data', onData);
      socket.off('end', dropped);
      socket.pause();
      socket.unshift(hello);
      socket.setTimeout(0);
      this.tlsServerFor(name).emit('connection', socket);
    };
    socket.on('data', onData);
    socket.on('end', dropped);
  }

  private table(): IngressRoutes {
    if (!this.routes) {
      const defaultClass = ourClassIsDefault(this.o.ingressClasses.list());
      this.routes = new IngressRoutes(this.o.ingresses.list().filter((i) => isOurs(i, defaultClass)));
    }
    return this.routes;
  }

  /** The HTTPS server with the certificate for a server name (none: a host-less `tls` entry's), else the default one. */
  private tlsServerFor(serverName: string | null): HttpsServer {
    const fallback = this.defaultTls!;
    const secretKey = this.table().secretFor(serverName ?? undefined);
    if (!secretKey) return fallback;
    const secret = this.o.secrets.getByKey(secretKey);
    const data = (secret?.['data'] ?? {}) as Record<string, string>;
    if (!secret || !data['tls.crt'] || !data['tls.key']) {
      this.tlsServers.delete(secretKey);
      return fallback;
    }
    const rv = String(secret.metadata?.resourceVersion ?? '');
    const cached = this.tlsServers.get(secretKey);
    if (cached?.rv === rv) return cached.server;
    try {
      // Connections already on the old server keep it; it goes when they do.
      const server = this.httpsServer(Buffer.from(data['tls.crt'], 'base64'), Buffer.from(data['tls.key'], 'base64'));
      this.tlsServers.set(secretKey, { rv, server });
      return server;
    } catch (e) {
      this.o.log.warn('TLS Secret does not hold a usable certificate and key; serving the default certificate', { secret: secretKey, err: (e as Error).message });
      return fallback;
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

  private handle(req: IncomingMessage, res: ServerResponse, proto: string): void {
    const t = this.target(req);
    if ('status' in t) {
      res.writeHead(t.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${t.status === 404 ? 'Not Found' : 'Service Unavailable'}: ${t.why}\n`);
      return;
    }
    // Header lists stay in the raw [name, value, …] form both ways: Node then neither lowercases
    // nor validates them into objects again, which was a sixth of the proxy's CPU per request.
    const upstream = httpRequest({ agent: this.agent, host: t.ip, port: t.port, method: req.method, path: req.url, headers: forwardedHeaders(req, proto), setHost: false }, (up) => {
      const drop = hopByHop(up.headers.connection);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, headersWithout(up.rawHeaders, (name) => drop.has(name)));
      up.pipe(res, { end: false });
      up.on('end', () => {
        res.end();
        // A client that asked for its connection to be closed gets the FIN right behind the answer.
        // Node's server sends it a moment later, by which time the client may have closed first —
        // and the side that closes first keeps the port in TIME_WAIT for a minute: a client making
        // new connections runs out of ports (in bench/service, after ~28,000 requests).
        if (!res.shouldKeepAlive) res.socket?.end();
      });
      // A backend that breaks off mid-answer: the client's connection is broken off too, so the
      // truncated answer cannot pass for a whole one.
      up.on('error', () => res.destroy());
    });
    upstream.setTimeout(60_000, () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Bad Gateway: ${t.ip}:${t.port}: ${e.message}\n`);
      else res.destroy();
    });
    if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0') req.pipe(upstream);
    else upstream.end();
  }

  /** WebSocket and other upgrades: the request goes on as is and the sockets are joined. */
  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const t = this.target(req);
    if ('status' in t) {
      socket.end(`HTTP/1.1 ${t.status} ${t.status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const upstream = connect(t.port, t.ip, () => {
      const headers = [...forwardedHeaders(req, 'encrypted' in socket ? 'https' : 'http'), 'Connection', 'Upgrade', 'Upgrade', req.headers.upgrade ?? ''];
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }
}
