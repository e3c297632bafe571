/**
 * How the API server reaches kubelets: `GET pods/NAME/log` is forwarded to the kubelet of the
 * pod's node (its InternalIP and `daemonEndpoints.kubeletEndpoint.Port`), authenticated with the
 * cluster's join secret. Like Kubernetes without `--kubelet-certificate-authority`, the kubelet's
 * self-signed serving certificate is not verified.
 */
import { request } from 'node:https';
import type { ServerResponse } from 'node:http';
import { StatusError, badRequest } from '../machinery/status-error.js';
import type { KubeObject } from './registry/strategy.js';
import type { LogSource } from './handlers/subresources/pod-log.js';

/** Query parameters of `kubectl logs` the kubelet understands. */
const logParams = ['follow', 'previous', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes'];

export class KubeletLogProxy implements LogSource {
  constructor(
    private readonly node: (name: string) => Promise<KubeObject | undefined>,
    private readonly token: string,
  ) {}

  async stream(pod: KubeObject, container: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
    const node = await this.node(nodeName);
    const status = (node?.status ?? {}) as { addresses?: Array<{ type: string; address: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } }; nodeInfo?: { containerRuntimeVersion?: string } };
    if (status.nodeInfo?.containerRuntimeVersion?.startsWith('sim://')) {
      // Simulated containers print nothing.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end();
      return;
    }
    const address = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = status.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    if (!address) throw new StatusError(500, 'InternalError', `no InternalIP for node "${nodeName}"`);
    const q = new URLSearchParams();
    for (const k of logParams) if (query.has(k)) q.set(k, query.get(k) ?? '');
    const path = `/containerLogs/${encodeURIComponent(pod.metadata?.namespace ?? '')}/${encodeURIComponent(pod.metadata?.name ?? '')}/${encodeURIComponent(container)}?${q.toString()}`;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: address, port, path, method: 'GET', rejectUnauthorized: false, headers: { authorization: `Bearer ${this.token}` } }, (kres) => {
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
