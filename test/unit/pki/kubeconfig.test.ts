import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { loadOrCreateCertificates, type ClusterCertificates } from '../../../src/pki/certificate-authority.js';
import { writeKubeconfig } from '../../../src/cmd/kubeconfig.js';
import { ClientCertificateAuthenticator } from '../../../src/apiserver/auth/authenticator.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let certsPromise: Promise<ClusterCertificates> | undefined;
const certs = (): Promise<ClusterCertificates> => (certsPromise ??= loadOrCreateCertificates(join(dir, 'data'), { hostnames: [], ips: [] }));

async function write(path: string, server = 'https://127.0.0.1:6443', mode?: number): Promise<ClusterCertificates> {
  const c = await certs();
  await writeKubeconfig(path, {
    server,
    caPem: c.serverCa.certPem,
    clientCertPem: c.admin.certPem,
    clientKeyPem: c.admin.keyPem,
    clusterName: 'default',
    ...(mode === undefined ? {} : { mode }),
  });
  return c;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('writes a k3s-shaped kubeconfig with embedded data, mode 0600, parents created', async () => {
  const path = join(dir, 'etc', 'k8ts', 'k8ts.yaml');
  const c = await write(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const doc: unknown = parse(readFileSync(path, 'utf8'));
  assert.deepEqual(doc, {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(c.serverCa.certPem), server: 'https://127.0.0.1:6443' }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    kind: 'Config',
    preferences: {},
    users: [{ name: 'default', user: { 'client-certificate-data': b64(c.admin.certPem), 'client-key-data': b64(c.admin.keyPem) } }],
  });
});

test('rewriting enforces the mode on an existing file and follows a symlink', async () => {
  const real = join(dir, 'real.yaml');
  const link = join(dir, 'link.yaml');
  writeFileSync(real, 'old', { mode: 0o644 });
  symlinkSync(real, link);
  await write(link);
  assert.ok(statSync(link).isFile());
  assert.equal(statSync(real).mode & 0o777, 0o600);
  assert.match(readFileSync(real, 'utf8'), /current-context: default/);
  await write(join(dir, 'shared.yaml'), undefined, 0o644);
  assert.equal(statSync(join(dir, 'shared.yaml')).mode & 0o777, 0o644);
});

test('kubectl reads it: config view --raw and get-contexts', async () => {
  const path = join(dir, 'kubectl.yaml');
  const c = await write(path);
  const view = await run('kubectl', ['--kubeconfig', path, 'config', 'view', '--raw', '-o', 'json']);
  const cfg = JSON.parse(view.stdout) as {
    'current-context': string;
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  assert.equal(cfg['current-context'], 'default');
  assert.equal(cfg.clusters[0]?.cluster.server, 'https://127.0.0.1:6443');
  assert.equal(Buffer.from(cfg.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), c.serverCa.certPem);
  assert.equal(Buffer.from(cfg.users[0]?.user['client-key-data'] ?? '', 'base64').toString(), c.admin.keyPem);

  const contexts = await run('kubectl', ['--kubeconfig', path, 'config', 'get-contexts']);
  const lines = contexts.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /CURRENT\s+NAME\s+CLUSTER\s+AUTHINFO\s+NAMESPACE/);
  assert.match(lines[1] ?? '', /^\*\s+default\s+default\s+default\s*$/);
});

test('kubectl trusts the serving certificate and presents the admin certificate', async () => {
  const c = await certs();
  const authn = new ClientCertificateAuthenticator(c.clientCa.certPem);
  const server: Server = createServer(
    { cert: c.serving.certPem, key: c.serving.keyPem, ca: c.clientCa.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(authn.authenticate(req) ?? null));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    for (const host of ['127.0.0.1', 'localhost']) {
      const path = join(dir, `live-${host}.yaml`);
      await write(path, `https://${host}:${port}`);
      const out = await run('kubectl', ['--kubeconfig', path, 'get', '--raw', '/whoami']);
      const user = JSON.parse(out.stdout) as { name: string; groups: string[] };
      assert.equal(user.name, 'system:admin');
      assert.deepEqual(user.groups, ['system:masters', 'system:authenticated']);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
