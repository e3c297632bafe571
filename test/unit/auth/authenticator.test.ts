import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientCertificateAuthenticator,
  SERVER_TOKEN_USER,
  TokenAuthenticator,
  UnionAuthenticator,
  requestAuthenticator,
  type Authenticator,
} from '../../../src/apiserver/auth/authenticator.js';
import { StatusError } from '../../../src/machinery/status-error.js';
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServingCertificate,
  loadOrCreateCertificates,
  type ClusterCertificates,
  type IssuedCertificate,
} from '../../../src/pki/certificate-authority.js';

const TOKEN = 'k8ts-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'k8ts-authn-'));
let certs: ClusterCertificates;
let anonymousServer: Server;
let strictServer: Server;
/** The Authorization header each request still had after authentication. */
const leftHeaders: (string | undefined)[] = [];

function serve(authn: Authenticator): Promise<Server> {
  const server = createServer(
    { cert: certs.serving.certPem, key: certs.serving.keyPem, ca: certs.clientCa.certPem, requestCert: true, rejectUnauthorized: false },
    (req: IncomingMessage, res) => {
      res.setHeader('content-type', 'application/json');
      try {
        const user = authn.authenticate(req);
        leftHeaders.push(req.headers.authorization);
        res.end(JSON.stringify(user));
      } catch (err) {
        if (!(err instanceof StatusError)) throw err;
        res.statusCode = err.code;
        res.end(JSON.stringify(err.toStatus()));
      }
    },
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  certs = await loadOrCreateCertificates(join(dir, 'data'), { hostnames: [], ips: [] });
  const authenticators = [new ClientCertificateAuthenticator(certs.clientCa.certPem), new TokenAuthenticator({ [TOKEN]: SERVER_TOKEN_USER })];
  anonymousServer = await serve(requestAuthenticator(authenticators, { anonymous: true }));
  strictServer = await serve(requestAuthenticator(authenticators, { anonymous: false }));
});

after(async () => {
  for (const s of [anonymousServer, strictServer]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: unknown;
}

/** One request on a fresh connection, trusting only the server CA, as kubectl would. */
function get(server: Server, opts: { client?: IssuedCertificate; token?: string; host?: string } = {}): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        servername: opts.host,
        ca: certs.serverCa.certPem,
        agent: false,
        ...(opts.client ? { cert: opts.client.certPem, key: opts.client.keyPem } : {}),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

test('the admin certificate authenticates as system:admin in system:masters', async () => {
  const reply = await get(anonymousServer, { client: certs.admin });
  assert.equal(reply.status, 200);
  const fingerprint = new X509Certificate(certs.admin.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  assert.deepEqual(reply.body, {
    name: 'system:admin',
    groups: ['system:masters', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] },
  });
});

test('the serving certificate is valid for the in-cluster DNS names', async () => {
  const reply = await get(anonymousServer, { client: certs.admin, host: 'kubernetes.default.svc' });
  assert.equal(reply.status, 200);
  await assert.rejects(get(anonymousServer, { host: 'not-named.example' }), /altnames|Hostname/);
});

test('a client certificate with several organizations gives several groups', async () => {
  const client = await issueClientCertificate(certs.clientCa, { commonName: 'alice', organizations: ['dev', 'ops'] });
  const reply = await get(anonymousServer, { client });
  assert.deepEqual((reply.body as { groups: string[] }).groups, ['dev', 'ops', 'system:authenticated']);
});

test('no credentials: anonymous when allowed, 401 when not', async () => {
  const anon = await get(anonymousServer);
  assert.equal(anon.status, 200);
  assert.deepEqual(anon.body, { name: 'system:anonymous', groups: ['system:unauthenticated'] });
  const strict = await get(strictServer);
  assert.equal(strict.status, 401);
  assert.deepEqual(strict.body, UNAUTHORIZED);
});

test('certificates the client CA did not issue are refused with 401, never anonymous', async () => {
  const foreignCa = await createCertificateAuthority('someone-else');
  const cases: [string, IssuedCertificate][] = [
    ['foreign CA', await issueClientCertificate(foreignCa, { commonName: 'system:admin', organizations: ['system:masters'] })],
    // The cluster's own server CA is not a client CA: the two are kept apart.
    ['server CA', await issueClientCertificate(certs.serverCa, { commonName: 'system:admin', organizations: ['system:masters'] })],
    ['expired', await issueClientCertificate(certs.clientCa, { commonName: 'old', days: 1, now: new Date(Date.now() - 10 * 86_400_000) })],
    ['serverAuth only', await issueServingCertificate(certs.clientCa, { commonName: 'sneaky', dnsNames: ['x'], ips: [] })],
  ];
  for (const [what, client] of cases) {
    const reply = await get(anonymousServer, { client });
    assert.equal(reply.status, 401, what);
    assert.deepEqual(reply.body, UNAUTHORIZED, what);
  }
});

test('the server token authenticates as a system:masters user and is stripped from the request', async () => {
  const reply = await get(strictServer, { token: TOKEN });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, { name: 'system:k8ts:server', groups: ['system:masters', 'system:authenticated'] });
  assert.equal(leftHeaders.at(-1), undefined);
});

test('an unknown bearer token is a 401 even with anonymous allowed', async () => {
  const reply = await get(anonymousServer, { token: 'wrong' });
  assert.equal(reply.status, 401);
  assert.deepEqual(reply.body, UNAUTHORIZED);
});

test('a valid token wins over a refused certificate, as in the Kubernetes union', async () => {
  const foreignCa = await createCertificateAuthority('someone-else');
  const client = await issueClientCertificate(foreignCa, { commonName: 'mallory' });
  const reply = await get(anonymousServer, { client, token: TOKEN });
  assert.equal(reply.status, 200);
  assert.equal((reply.body as { name: string }).name, 'system:k8ts:server');
});

function fakeRequest(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization }, socket: {} } as unknown as IncomingMessage;
}

test('TokenAuthenticator reads only well-formed bearer headers', () => {
  const authn = new TokenAuthenticator(new Map([['t1', { name: 'u1', groups: ['g'] }]]));
  assert.equal(authn.authenticate(fakeRequest()), undefined);
  assert.equal(authn.authenticate(fakeRequest('Basic dTpw')), undefined);
  assert.equal(authn.authenticate(fakeRequest('Bearer')), undefined);
  assert.deepEqual(authn.authenticate(fakeRequest('bearer   t1')), { name: 'u1', groups: ['g', 'system:authenticated'] });
  assert.throws(() => authn.authenticate(fakeRequest('Bearer t2')), (e: unknown) => e instanceof StatusError && e.code === 401);
});

test('UnionAuthenticator: first user wins; failOnError stops at the first rejection', () => {
  const reject: Authenticator = {
    authenticate() {
      throw new StatusError(401, 'Unauthorized', 'Unauthorized');
    },
  };
  const none: Authenticator = { authenticate: () => undefined };
  const bob: Authenticator = { authenticate: () => ({ name: 'bob', groups: [] }) };
  const req = fakeRequest();
  assert.equal(new UnionAuthenticator([none, reject, bob]).authenticate(req)?.name, 'bob');
  assert.equal(new UnionAuthenticator([none]).authenticate(req), undefined);
  assert.throws(() => new UnionAuthenticator([reject, none]).authenticate(req), StatusError);
  assert.throws(() => new UnionAuthenticator([reject, bob], { failOnError: true }).authenticate(req), StatusError);
});
