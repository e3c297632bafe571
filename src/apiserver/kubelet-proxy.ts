/**
 * How the API server reaches kubelets: `GET pods/NAME/log` and the exec, attach and port-forward
 * upgrades go to the kubelet of the pod's node (its InternalIP and
 * `daemonEndpoints.kubeletEndpoint.Port`), authenticated with the cluster's join secret. Like
 * Kubernetes without `--kubelet-certificate-authority`, the kubelet's self-signed serving
 * certificate is not verified.
 */
import { request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';
import { StatusError, badRequest } from '../machinery/status-error.js';
import type { KubeObject } from './registry/strategy.js';
import type { LogSource } from './handlers/subresources/pod-log.js';
import type { PodStreamRequest, PodStreamTarget } from './handlers/subresources/pod-stream.js';
import { requestUpgrade, splice, upgradeHeaders, type UpgradeResult } from '../streaming/upgrade.js';
import { SpdySession } from '../streaming/spdy-session.js';
import { PORT_FORWARD_TUNNEL_PREFIX, REMOTE_COMMAND_V4, V5_CHANNEL_PROTOCOL, bridgeRemoteCommand, openRemoteCommandStreams, tunnel } from '../streaming/websocket-bridges.js';

type NodeLookup = (name: string) => Promise<KubeObject | undefined>;

/**
 * How the API server proves itself to kubelets: a client certificate of the cluster's client CA
 * (`kube-apiserver-kubelet-client`, as Kubernetes' `--kubelet-client-certificate`), and the join
 * secret as a bearer token for kubelets that were not given the CA.
 */
export interface KubeletCredentials {
  token: string;
  cert?: string;
  key?: string;
}

interface KubeletEndpoint {
  address: string;
  port: number;
  /** A simulated node: no kubelet, no containers. */
  simulated: boolean;
}

async function kubeletOf(lookup: NodeLookup, nodeName: string): Promise<KubeletEndpoint> {
  return endpointOf(await lookup(nodeName), nodeName);
}

function endpointOf(node: KubeObject | undefined, nodeName: string): KubeletEndpoint {
  const status = (node?.status ?? {}) as { addresses?: Array<{ type: string; address: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } }; nodeInfo?: { containerRuntimeVersion?: string } };
  const simulated = !!status.nodeInfo?.containerRuntimeVersion?.startsWith('sim://');
  const address = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!address && !simulated) throw new StatusError(500, 'InternalError', `no InternalIP for node "${nodeName}"`);
  return { address: address ?? '', port: status.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250, simulated };
}

/** Query parameters of `kubectl logs` the kubelet understands. */
const logParams = ['follow', 'previous', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes'];

export class KubeletLogProxy implements LogSource {
  constructor(
    private readonly node: NodeLookup,
    private readonly credentials: KubeletCredentials,
  ) {}

  async stream(pod: KubeObject, container: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
    const { address, port, simulated } = await kubeletOf(this.node, nodeName);
    if (simulated) {
      // Simulated containers print nothing.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end();
      return;
    }
    const q = new URLSearchParams();
    for (const k of logParams) if (query.has(k)) q.set(k, query.get(k) ?? '');
    const path = `/containerLogs/${encodeURIComponent(pod.metadata?.namespace ?? '')}/${encodeURIComponent(pod.metadata?.name ?? '')}/${encodeURIComponent(container)}?${q.toString()}`;
    await new Promise<void>((resolve, reject) => {
      const { token, cert, key } = this.credentials;
      const req = request({ host: address, port, path, method: 'GET', rejectUnauthorized: false, cert, key, headers: { authorization: `Bearer ${token}` } }, (kres) => {
        if (kres.statusCode !== 200) {
          let body = '';
          kres.on('data', (d: Buffer) => (body += d.toString()));
          kres.on('end', () => reject(badRequest(body.trim() || `kubelet answered ${kres.statusCode ?? '?'}`)));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        kres.pipe(res);
        kres.on('end', () => resolve());
        kres.on('error', reject);
        // kubectl gone (Ctrl-C on `logs -f`): stop reading from the kubelet.
        res.on('close', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => reject(new StatusError(500, 'InternalError', `Get "https://${address}:${port}/containerLogs/…": ${e.message}`)));
      req.end();
    });
  }
}

/** The kubelet's refusal, as a Status for the client (`unable to upgrade connection: …`). */
function refusal(r: Extract<UpgradeResult, { upgraded: false }>): StatusError {
  const text = r.body.toString().trim() || `kubelet answered ${r.status}`;
  return new StatusError(r.status >= 400 && r.status < 600 ? r.status : 500, r.status === 404 ? 'NotFound' : r.status === 400 ? 'BadRequest' : 'InternalError', text);
}

/**
 * exec, attach and port-forward to the pod's kubelet: SPDY (and WebSocket protocols before v5)
 * are spliced through as bytes; WebSocket v5 exec/attach is translated to SPDY, and tunneled
 * port-forward is unwrapped, as the Kubernetes API server does.
 */
export class KubeletStreamProxy implements PodStreamTarget {
  // Only exec/attach reach ws with their protocol header (tunneled port-forward hides its own).
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered: Set<string>) => (offered.has(V5_CHANNEL_PROTOCOL) ? V5_CHANNEL_PROTOCOL : false) });
  /**
   * `SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token (the `/`), which `ws` refuses; Go's
   * WebSocket libraries take it. Such requests are accepted without ws seeing the header, and
   * the chosen protocol is written into the 101 here.
   */
  private readonly tunnelProtocol = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly node: NodeLookup,
    private readonly credentials: KubeletCredentials,
  ) {
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      const p = this.tunnelProtocol.get(req);
      if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
    });
  }

  async connect(r: PodStreamRequest): Promise<void> {
    const nodeName = (r.pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
    const kubelet = await kubeletOf(this.node, nodeName);
    if (kubelet.simulated) throw badRequest(`pod ${r.pod.metadata?.name ?? ''} runs on the simulated node ${nodeName}: it has no containers to ${r.kind === 'portforward' ? 'forward ports to' : r.kind}`);
    const url = new URL(`https://${kubelet.address.includes(':') ? `[${kubelet.address}]` : kubelet.address}:${kubelet.port}${r.kubeletPath}`);
    const offered = (r.req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const websocket = (r.req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const translateExec = websocket && r.kind !== 'portforward' && offered.includes(V5_CHANNEL_PROTOCOL);
    const tunneled = websocket && r.kind === 'portforward' ? offered.find((p) => p.startsWith(PORT_FORWARD_TUNNEL_PREFIX)) : undefined;
    // Translated and tunneled requests go on as SPDY; anything else is passed on as it came.
    const spdyProtocol = translateExec ? REMOTE_COMMAND_V4 : tunneled?.slice(PORT_FORWARD_TUNNEL_PREFIX.length);
    const headers = spdyProtocol ? { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': spdyProtocol } : upgradeHeaders(r.req.headersDistinct);
    let upstream: UpgradeResult;
    try {
      upstream = await requestUpgrade({
        url,
        method: spdyProtocol ? 'POST' : (r.req.method ?? 'POST'),
        headers: { ...headers, authorization: `Bearer ${this.credentials.token}` },
        rejectUnauthorized: false,
        cert: this.credentials.cert,
        key: this.credentials.key,
      });
    } catch (e) {
      throw new StatusError(500, 'InternalError', `error dialing backend: ${(e as Error).message}`);
    }
    if (!upstream.upgraded) throw refusal(upstream);
    const up = upstream;
    r.upgrade.take();
    if (!translateExec && !tunneled) {
      splice(r.upgrade.socket, r.upgrade.head, up);
      return;
    }
    if (up.head.length) up.socket.unshift(up.head);
    if (tunneled) {
      this.tunnelProtocol.set(r.req, tunneled);
      delete r.req.headers['sec-websocket-protocol'];
      this.wss.handleUpgrade(r.req, r.upgrade.socket, r.upgrade.head, (ws) => tunnel(ws, up.socket));
      return;
    }
    const spdy = new SpdySession(up.socket, 'client');
    let streams;
    try {
      streams = await openRemoteCommandStreams(spdy, r);
    } catch (e) {
      spdy.close();
      throw new StatusError(500, 'InternalError', `error creating streams to the kubelet: ${(e as Error).message}`);
    }
    const s = streams;
    this.wss.handleUpgrade(r.req, r.upgrade.socket, r.upgrade.head, (ws) => bridgeRemoteCommand(ws, spdy, s));
  }
}

/** GETs a JSON document from a node's kubelet (`/stats/summary` for metrics). */
export function kubeletGetJson<T>(node: KubeObject, path: string, credentials: KubeletCredentials, timeoutMs = 10_000): Promise<T> {
  const name = node.metadata?.name ?? '';
  const { address, port, simulated } = endpointOf(node, name);
  if (simulated) return Promise.reject(new Error(`node ${name} is simulated: it has no kubelet`));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, path, method: 'GET', rejectUnauthorized: false, cert: credentials.cert, key: credentials.key, headers: { authorization: `Bearer ${credentials.token}`, accept: 'application/json' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`kubelet of ${name} answered ${res.statusCode ?? '?'} to ${path}: ${body.trim()}`));
          try {
            resolve(JSON.parse(body) as T);
          } catch (e) {
            reject(e as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
