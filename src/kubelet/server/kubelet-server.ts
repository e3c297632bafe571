/**
 * The kubelet's HTTPS server (port 10250): what the API server proxies `kubectl logs`, exec,
 * attach and port-forward to. Callers authenticate with a client certificate of the cluster's
 * client CA (the API server's `kube-apiserver-kubelet-client`, as Kubernetes' `--client-ca-file`),
 * or with the cluster's join secret as a bearer token. Streaming requests are upgrades that
 * the kubelet hands on to the runtime's streaming server (the URL CRI Exec/Attach/PortForward
 * return), as Kubernetes' kubelet does; the bytes then flow through untouched.
 */
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { selfSignedCertificate } from '../../pki/self-signed.js';
import type { Logger } from '../../machinery/logger.js';
import { streamLog, type LogOptions } from './container-logs.js';
import { refuse, requestUpgrade, splice, upgradeHeaders } from '../../streaming/upgrade.js';

/** What a streaming request asks for (the query of `/exec` and `/attach`). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The runtime's streaming server, through the CRI: each call answers the URL to upgrade at. */
export interface StreamingRuntime {
  exec(namespace: string, pod: string, container: string, command: string[], opts: StreamOptions): Promise<string>;
  attach(namespace: string, pod: string, container: string, opts: StreamOptions): Promise<string>;
  /** `ports` are those a WebSocket client names up front; SPDY clients name them per stream. */
  portForward(namespace: string, pod: string, ports: number[]): Promise<string>;
}

/** A refusal with the HTTP status the caller gets (`container not found ("x")` is a 404). */
export class StreamingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `stdin=1`, `stdin=true`, or the kubelet's older names (`input`, `output`, `error`). */
function flag(q: URLSearchParams, name: string, old: string): boolean {
  const v = q.get(name) ?? q.get(old);
  return v === '1' || v === 'true';
}

/** A container's log file, for `GET /containerLogs/{namespace}/{pod}/{container}`. */
export interface ContainerLogTarget {
  logPath: string;
  running: () => Promise<boolean>;
}

export interface KubeletServerOptions {
  address: string;
  port: number;
  /** The bearer token callers may present. */
  token: string;
  /** The cluster's client CA (PEM): a client certificate it signed authenticates the caller. */
  clientCA?: string;
  /** Finds the (current, or with `previous` the last terminated) container's log; undefined when there is none. */
  findLog(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerLogTarget | undefined>;
  /** `GET /stats/summary` (the Summary API); without it the path answers 404. */
  statsSummary?: () => Promise<unknown>;
  /** exec, attach and port-forward; without it those paths answer 404. */
  streaming?: StreamingRuntime;
  log: Logger;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class KubeletServer {
  private server: Server | undefined;

  constructor(private readonly o: KubeletServerOptions) {}

  async start(): Promise<number> {
    const cert = await selfSignedCertificate({ commonName: 'kubelet', dnsNames: ['localhost'], ips: [this.o.address, '127.0.0.1'] });
    const clientAuth = this.o.clientCA ? { ca: this.o.clientCA, requestCert: true, rejectUnauthorized: false } : {};
    const server = createServer({ cert: cert.certPem, key: cert.keyPem, ...clientAuth }, (req, res) => {
      void this.serve(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.text(res, 500, `Internal Error: ${(e as Error).message}`);
        else res.destroy();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      void this.upgrade(req, socket, head).catch((e: unknown) => {
        const status = e instanceof StreamingError ? e.status : 500;
        if (!socket.destroyed) refuse(socket, status, (e as Error).message);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.address, () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : this.o.port;
  }

  private text(res: ServerResponse, code: number, body: string): void {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  }

  private authorized(req: IncomingMessage): boolean {
    // Only certificates that chain to the client CA count as verified.
    if (this.o.clientCA && (req.socket as TLSSocket).authorized) return true;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return !!m && timingSafeEqual(digest(m[1]!), digest(this.o.token));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') return this.text(res, 200, 'ok');
    if (!this.authorized(req)) return this.text(res, 401, 'Unauthorized');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (url.pathname === '/stats/summary' && req.method === 'GET' && this.o.statsSummary) {
      const body = JSON.stringify(await this.o.statsSummary());
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    if (parts[0] === 'containerLogs' && parts.length === 4 && req.method === 'GET') {
      const [, namespace, pod, container] = parts as [string, string, string, string];
      const q = url.searchParams;
      const target = await this.o.findLog(namespace, pod, container, q.get('previous') === 'true');
      if (!target) {
        const which = q.get('previous') === 'true' ? 'previous terminated container' : 'container';
        return this.text(res, 400, `${which} "${container}" in pod "${pod}" not found`);
      }
      const opts: LogOptions = { follow: q.get('follow') === 'true', timestamps: q.get('timestamps') === 'true' };
      if (q.has('tailLines')) opts.tailLines = Number(q.get('tailLines'));
      if (q.has('limitBytes')) opts.limitBytes = Number(q.get('limitBytes'));
      if (q.has('sinceSeconds')) opts.since = Date.now() - Number(q.get('sinceSeconds')) * 1000;
      if (q.has('sinceTime')) opts.since = Date.parse(q.get('sinceTime') ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      await streamLog(target.logPath, opts, res, target.running);
      res.end();
      return;
    }
    this.text(res, 404, '404 page not found');
  }

  /** `/exec/{ns}/{pod}/{container}`, `/attach/…`, `/portForward/{ns}/{pod}`: on to the runtime. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!this.authorized(req)) throw new StreamingError(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    const rt = this.o.streaming;
    if (!rt) throw new StreamingError(404, '404 page not found');
    const opts: StreamOptions = { stdin: flag(q, 'stdin', 'input'), stdout: flag(q, 'stdout', 'output'), stderr: flag(q, 'stderr', 'error'), tty: flag(q, 'tty', 'tty') };
    let target: string;
    if (parts[0] === 'exec' && parts.length === 4) {
      const command = q.getAll('command');
      if (!command.length) throw new StreamingError(400, 'you must specify at least 1 command');
      target = await rt.exec(parts[1]!, parts[2]!, parts[3]!, command, opts);
    } else if (parts[0] === 'attach' && parts.length === 4) {
      target = await rt.attach(parts[1]!, parts[2]!, parts[3]!, opts);
    } else if (parts[0] === 'portForward' && parts.length === 3) {
      const ports = q.getAll('port').flatMap((p) => p.split(',')).map(Number);
      if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new StreamingError(400, `invalid port in ${JSON.stringify(q.getAll('port').join(','))}`);
      target = await rt.portForward(parts[1]!, parts[2]!, ports);
    } else {
      throw new StreamingError(404, '404 page not found');
    }
    const upstream = await requestUpgrade({ url: new URL(target), method: req.method ?? 'GET', headers: upgradeHeaders(req.headersDistinct) });
    if (!upstream.upgraded) {
      const type = typeof upstream.headers['content-type'] === 'string' ? upstream.headers['content-type'] : undefined;
      refuse(socket, upstream.status, upstream.body.toString(), type);
      return;
    }
    splice(socket, head, upstream);
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
