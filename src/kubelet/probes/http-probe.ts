/**
 * The httpGet probe, as pkg/probe/http does it: GET with `User-Agent: kube-probe/1.32` and
 * `Accept: *\/*` unless the probe sets them, no keep-alive, TLS unverified, redirects followed (at
 * most 10) only while they stay on the same host name — a redirect elsewhere ends the probe with a
 * warning — the body read up to 10 KiB, 200–399 a success, and a timeout for the whole exchange.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { dialError, joinHostPort } from './go-text.js';
import { MAX_PROBE_OUTPUT, PROBE_USER_AGENT, type ProbeOutcome } from './probe-outcome.js';

/** One HTTP probe: where to send the GET and with which headers (in order, repeats allowed). */
export interface HttpProbeRequest {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Path with optional query, as the probe's `path` gives it. */
  path: string;
  headers: Array<[name: string, value: string]>;
  timeoutMs: number;
}

interface Target {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  hostHeader: string;
}

interface Response {
  status: number;
  location: string | undefined;
  body: Buffer;
}

/** A failed exchange: `message` is Go's error text after the `Get "URL": ` prefix. */
class ExchangeError extends Error {}

const redirectCodes = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 10;

function urlText(t: Target): string {
  return `${t.scheme}://${joinHostPort(t.host, t.port)}${t.path}`;
}

function normalizePath(path: string): string {
  if (path === '') return '/';
  return path.startsWith('/') ? path : `/${path}`;
}

/** Header names as Go canonicalizes them (`user-agent` → `User-Agent`). */
function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function buildHeaders(list: Array<[string, string]>): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const [name, value] of list) {
    const key = canonicalHeader(name);
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [PROBE_USER_AGENT]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if ((headers.get('Accept')?.[0] ?? '') === '') headers.delete('Accept');
  return headers;
}

function requestError(e: unknown, t: Target, socket: Socket | undefined, connected: boolean): string {
  const err = (typeof e === 'object' && e !== null ? e : {}) as { code?: string; message?: string };
  const code = err.code ?? '';
  if (err.message === 'socket hang up') return 'EOF';
  if (code === 'ECONNRESET' && connected && socket) {
    return `read tcp ${joinHostPort(socket.localAddress ?? '', socket.localPort ?? 0)}->${joinHostPort(t.host, t.port)}: read: connection reset by peer`;
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO') {
    if (/wrong version number|packet length too long|http request/i.test(err.message ?? '')) return 'http: server gave HTTP response to HTTPS client';
    return `remote error: tls: ${err.message ?? code}`;
  }
  if (code.startsWith('HPE_')) return `net/http: HTTP/1.x transport connection broken: malformed HTTP response`;
  if (!connected) return dialError(e, t.host, t.port);
  return err.message ?? String(e);
}

/** One GET, no redirects; rejects with an ExchangeError carrying Go's words. */
function exchange(t: Target, headers: Map<string, string[]>, deadline: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing: Record<string, string | string[]> = { Host: t.hostHeader };
    for (const [k, v] of headers) if (k !== 'Host') outgoing[k] = v.length === 1 ? v[0]! : v;
    outgoing['Connection'] = 'close';
    let connected = false;
    let gotHeaders = false;
    let socket: Socket | undefined;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const opts: https.RequestOptions = {
      host: t.host,
      port: t.port,
      path: t.path,
      method: 'GET',
      headers: outgoing,
      agent: false,
      setHost: false,
    };
    if (t.scheme === 'https') {
      opts.rejectUnauthorized = false;
      if (!isIP(t.host)) opts.servername = t.host;
    }
    let req: http.ClientRequest;
    try {
      req = (t.scheme === 'https' ? https : http).request(opts);
    } catch (e) {
      finish(() => reject(new ExchangeError((e as Error).message)));
      return;
    }
    const timer = setTimeout(() => {
      const why = !connected
        ? `${dialError({ code: 'ETIMEDOUT' }, t.host, t.port)} (Client.Timeout exceeded while awaiting headers)`
        : gotHeaders
          ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
          : 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
      finish(() => reject(new ExchangeError(why)));
      req.destroy();
    }, Math.max(0, deadline - Date.now()));
    req.on('socket', (s: Socket) => {
      socket = s;
      s.once('connect', () => (connected = true));
    });
    req.on('error', (e) => finish(() => reject(new ExchangeError(requestError(e, t, socket, connected)))));
    req.on('response', (res) => {
      gotHeaders = true;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        finish(() => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT) }));
        req.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Truncation is not an error: the first 10 KiB are all the kubelet reads.
        if (size >= MAX_PROBE_OUTPUT) done();
      });
      res.on('end', done);
      res.on('error', (e) => finish(() => reject(new ExchangeError(requestError(e, t, socket, true)))));
      res.on('aborted', () => finish(() => reject(new ExchangeError('unexpected EOF'))));
    });
    req.end();
  });
}

/** Runs one HTTP probe. Network failures are probe failures, worded as Go's client words them. */
export async function httpProbe(r: HttpProbeRequest): Promise<ProbeOutcome> {
  const headers = buildHeaders(r.headers);
  const deadline = Date.now() + r.timeoutMs;
  const explicitHost = headers.get('Host')?.[0];
  let target: Target = {
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: normalizePath(r.path),
    hostHeader: explicitHost || joinHostPort(r.host, r.port),
  };
  const firstHostname = r.host.toLowerCase();
  for (let requests = 1; ; requests++) {
    let res: Response;
    try {
      res = await exchange(target, headers, deadline);
    } catch (e) {
      return { result: 'failure', output: `Get "${urlText(target)}": ${e instanceof Error ? e.message : String(e)}` };
    }
    if (redirectCodes.has(res.status) && res.location !== undefined) {
      let next: URL | undefined;
      try {
        next = new URL(res.location, `${urlText(target)}`);
      } catch {
        next = undefined;
      }
      if (next && (next.protocol === 'http:' || next.protocol === 'https:')) {
        const hostname = next.hostname.replace(/^\[|\]$/g, '');
        if (hostname.toLowerCase() === firstHostname) {
          const scheme = next.protocol === 'https:' ? 'https' : 'http';
          const port = next.port ? Number(next.port) : scheme === 'https' ? 443 : 80;
          const relative = !/^[a-z][a-z0-9+.-]*:/i.test(res.location);
          const following: Target = {
            scheme,
            host: hostname,
            port,
            path: `${next.pathname}${next.search}`,
            // A custom Host header survives only redirects to a relative location, as in Go.
            hostHeader: relative && explicitHost ? explicitHost : joinHostPort(hostname, port),
          };
          if (requests >= maxRedirects) return { result: 'failure', output: `Get "${urlText(following)}": stopped after 10 redirects` };
          target = following;
          continue;
        }
      }
    }
    const body = res.body.toString('utf8');
    if (res.status >= 200 && res.status < 400) {
      if (res.status >= 300) return { result: 'success', warning: true, output: `Probe terminated redirects, Response body: ${body}` };
      return { result: 'success', output: body };
    }
    // Kubernetes keeps the body out of the failure message (kubernetes/kubernetes#99425).
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
  }
}
