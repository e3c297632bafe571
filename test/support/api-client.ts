/** A minimal HTTPS client that authenticates with the admin certificate of a test cluster's kubeconfig. */
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface RawClient {
  agent: Agent;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): void;
}

export function rawClient(kubeconfig: string, port: number, maxSockets = 64): RawClient {
  const kc = parseYaml(readFileSync(kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { 'certificate-authority-data': string } }>;
    users: Array<{ user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  };
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
  const agent = new Agent({
    keepAlive: true,
    maxSockets,
    ca: b64(kc.clusters[0]!.cluster['certificate-authority-data']),
    cert: b64(kc.users[0]!.user['client-certificate-data']),
    key: b64(kc.users[0]!.user['client-key-data']),
  });
  return {
    agent,
    close: () => agent.destroy(),
    call(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const h: Record<string, string | number> = { ...headers };
        if (data) {
          h['content-type'] ??= 'application/json';
          h['content-length'] = Buffer.byteLength(data);
        }
        const req = request({ host: '127.0.0.1', port, method, path, agent, headers: h }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(data);
      });
    },
  };
}
