/**
 * The kubelet's HTTPS server (port 10250): what the API server proxies `kubectl logs` (and later
 * exec, attach and port-forward) to. Callers authenticate with the cluster's join secret as a
 * bearer token — the API server and the node's agent both hold it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createCertificateAuthority, issueServingCertificate } from '../../pki/certificate-authority.js';
import type { Logger } from '../../machinery/logger.js';
import { streamLog, type LogOptions } from './container-logs.js';

/** A container's log file, for `GET /containerLogs/{namespace}/{pod}/{container}`. */
export interface ContainerLogTarget {
  logPath: string;
  running: () => Promise<boolean>;
}

export interface KubeletServerOptions {
  address: string;
  port: number;
  /** The bearer token callers must present. */
  token: string;
  /** Finds the (current, or with `previous` the last terminated) container's log; undefined when there is none. */
  findLog(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerLogTarget | undefined>;
  log: Logger;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class KubeletServer {
  private server: Server | undefined;

  constructor(private readonly o: KubeletServerOptions) {}

  async start(): Promise<number> {
    const ca = await createCertificateAuthority('k8ts-kubelet-ca');
    const cert = await issueServingCertificate(ca, { commonName: 'kubelet', dnsNames: ['localhost'], ips: [this.o.address, '127.0.0.1'] });
    const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      void this.serve(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.text(res, 500, `Internal Error: ${(e as Error).message}`);
        else res.destroy();
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
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return !!m && timingSafeEqual(digest(m[1]!), digest(this.o.token));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') return this.text(res, 200, 'ok');
    if (!this.authorized(req)) return this.text(res, 401, 'Unauthorized');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
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

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
