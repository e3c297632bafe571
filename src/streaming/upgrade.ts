/**
 * HTTP connection upgrades, the way Kubernetes' streaming requests travel: the API server asks
 * the kubelet to upgrade, the kubelet asks the runtime's streaming server; once a hop answers
 * 101 the bytes flow through untouched (UpgradeAwareHandler's job in Kubernetes).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';

export interface UpgradeTarget {
  url: URL;
  method: string;
  /** Header values; arrays go out as repeated lines (X-Stream-Protocol-Version needs that). */
  headers: Record<string, string | string[]>;
  /** For https targets: the kubelet's certificate is self-signed (as without --kubelet-certificate-authority). */
  rejectUnauthorized?: boolean;
  /** A TLS client certificate and key (PEM) to present. */
  cert?: string;
  key?: string;
}

export type UpgradeResult =
  | { upgraded: true; rawHeaders: string[]; headers: IncomingHttpHeaders; socket: Duplex; head: Buffer }
  | { upgraded: false; status: number; headers: IncomingHttpHeaders; body: Buffer };

/** Sends an upgrade request and resolves with the upgraded socket or the refusal. */
export function requestUpgrade(target: UpgradeTarget): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const options = {
      method: target.method,
      host: target.url.hostname.replace(/^\[|\]$/g, ''),
      port: target.url.port || (target.url.protocol === 'https:' ? 443 : 80),
      path: `${target.url.pathname}${target.url.search}`,
      headers: target.headers,
      rejectUnauthorized: target.rejectUnauthorized ?? true,
      cert: target.cert,
      key: target.key,
    };
    const req = target.url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options);
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      resolve({ upgraded: true, rawHeaders: res.rawHeaders, headers: res.headers, socket, head });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ upgraded: false, status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The headers of a client's upgrade request that the next hop needs to answer it. */
export function upgradeHeaders(distinct: NodeJS.Dict<string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of ['connection', 'upgrade', 'x-stream-protocol-version', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']) {
    const v = distinct[name];
    if (v?.length) out[name] = v.length === 1 ? v[0]! : v;
  }
  return out;
}

/**
 * Completes the client's upgrade with the next hop's 101 and splices the two sockets: whatever
 * one side sends reaches the other, until either closes.
 */
export function splice(client: Duplex, clientHead: Buffer, upstream: Extract<UpgradeResult, { upgraded: true }>): void {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (let i = 0; i + 1 < upstream.rawHeaders.length; i += 2) lines.push(`${upstream.rawHeaders[i]}: ${upstream.rawHeaders[i + 1]}`);
  client.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (upstream.head.length) client.write(upstream.head);
  if (clientHead.length) upstream.socket.write(clientHead);
  pipeBoth(client, upstream.socket);
}

/** Pipes two duplex streams into each other; closing or failing one destroys the other. */
export function pipeBoth(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('close', end);
  b.on('close', end);
  a.on('error', end);
  b.on('error', end);
}

/** Writes a plain HTTP response on a socket that was not upgraded, then closes it. */
export function refuse(socket: Duplex, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  const reason = ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' } as Record<number, string>)[status] ?? 'Error';
  const payload = Buffer.from(body);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n${body}`);
}

/** An upgrade request's raw connection, while a handler decides what to do with it. */
export interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  /** True once a handler took the socket over (to answer 101 itself or splice it). */
  taken: boolean;
  /** Takes the socket away from the HTTP response that would otherwise answer on it. */
  take(): void;
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/**
 * Remembers the socket of an upgrade request so that the handler it is routed to can take it;
 * `release` detaches it from whatever else holds it (the ServerResponse errors are written with).
 */
export function holdUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, release: () => void): PendingUpgrade {
  const p: PendingUpgrade = {
    socket,
    head,
    taken: false,
    take() {
      if (p.taken) return;
      p.taken = true;
      release();
    },
  };
  pending.set(req, p);
  return p;
}

/** The raw connection of an upgrade request, or undefined for an ordinary request. */
export function upgradeOf(req: IncomingMessage): PendingUpgrade | undefined {
  return pending.get(req);
}
