/**
 * The ingress controller's proxy, against the real API server in-process and real HTTP backends on
 * loopback: what a backend receives (headers, forwarded-for, bodies) and what a client gets back
 * (status, headers, streamed bodies, errors), over one kept-alive client connection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect, type Socket } from 'node:net';
import { webcrypto, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { refs, SharedInformer } from '../../../src/client/informer.js';
import { IngressController } from '../../../src/ingress/ingress-controller.js';
import { createLogger } from '../../../src/machinery/logger.js';
import { exportPrivateKeyPem } from '../../../src/pki/key-pair.js';
import { selfSignedCertificate } from '../../../src/pki/self-signed.js';
import * as x509 from '../../../src/pki/x509.js';
import { startPlane, eventually, type Plane } from '../client/in-process-plane.js';

let plane: Plane;
let ingress: IngressController;
let port: number;
let httpsPort: number;
let backend: Server;
/** What the backend saw of the last request. */
let seen: { method?: string; url?: string; headers: IncomingHttpHeaders; rawHeaders: string[]; body: string } = { headers: {}, rawHeaders: [], body: '' };
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Backends close every connection, as busybox httpd does; /chunked streams a body without a length. */
function startBackend(): Promise<number> {
  backend = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body };
      res.shouldKeepAlive = false;
      if (req.url === '/truncated') {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('only ten b');
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if (req.url === '/chunked') {
        res.writeHead(201, 'Made', { 'Set-Cookie': ['a=1', 'b=2'], 'X-Backend': 'yes' });
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close', 'Keep-Alive': 'timeout=77' });
      res.end(req.method === 'HEAD' ? undefined : `echo:${body}`);
    });
  });
  backend.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    seen = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body: '' };
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    socket.pipe(socket);
  });
  return new Promise((resolve) => backend.listen(0, '127.0.0.1', () => resolve((backend.address() as { port: number }).port)));
}

interface Answer {
  status: number;
  message: string;
  headers: IncomingHttpHeaders;
  body: string;
  reused: boolean;
}

function send(o: { host: string; path?: string; method?: string; headers?: Record<string, string>; body?: string | string[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: o.path ?? '/', method: o.method ?? 'GET', agent, headers: { host: o.host, ...o.headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', headers: res.headers, body, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    for (const part of Array.isArray(o.body) ? o.body : o.body !== undefined ? [o.body] : []) req.write(part);
    req.end();
  });
}

before(async () => {
  plane = await startPlane();
  const backendPort = await startBackend();
  const c = plane.client;
  await c.create(refs.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 8080, targetPort: backendPort }], selector: { app: 'web' } } });
  await c.create(refs.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gone' }, spec: { ports: [{ port: 8080 }], selector: { app: 'gone' } } });
  await c.create(refs.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { ports: [{ port: 8080 }], selector: { app: 'empty' } } });
  const slice = (service: string, p: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: '', port: p, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  });
  await c.create(refs.endpointslices, 'default', slice('web', backendPort));
  // A port nothing listens on: the backend refuses the connection.
  const refused = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  await c.create(refs.endpointslices, 'default', slice('gone', refused));
  await c.create(refs.ingresses, 'default', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: {
      rules: [
        { host: 'web.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8080 } } } }] } },
        { host: 'gone.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'gone', port: { number: 8080 } } } }] } },
        { host: 'empty.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'empty', port: { number: 8080 } } } }] } },
      ],
    },
  });
  ingress = new IngressController({
    ingresses: new SharedInformer(c, refs.ingresses),
    ingressClasses: new SharedInformer(c, refs.ingressclasses),
    services: new SharedInformer(c, refs.services),
    endpointSlices: new SharedInformer(c, refs.endpointslices),
    secrets: new SharedInformer(c, refs.secrets),
    address: '127.0.0.1',
    httpPort: 0,
    httpsPort: 0,
    log: createLogger('error'),
  });
  ({ http: port, https: httpsPort } = await ingress.start());
  await eventually(async () => (await send({ host: 'web.test' })).status === 200, 'the Ingress routing web.test');
});

after(async () => {
  agent.destroy();
  await ingress.stop();
  await new Promise((resolve) => backend.close(resolve));
  await plane.stop();
});

test('the backend gets the request with forwarded-for headers and without hop-by-hop ones', async () => {
  const r = await send({
    host: 'web.test',
    path: '/a/b?q=1',
    headers: { 'X-Custom': 'kept', 'X-Forwarded-For': '192.0.2.7', 'X-Real-IP': '203.0.113.9', 'X-Forwarded-Proto': 'https', Connection: 'keep-alive, X-Drop-Me', 'X-Drop-Me': 'hop', 'Keep-Alive': 'timeout=9', TE: 'trailers' },
  });
  assert.equal(r.status, 200);
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/a/b?q=1');
  assert.equal(seen.headers.host, 'web.test');
  assert.equal(seen.headers['x-custom'], 'kept');
  assert.equal(seen.headers['x-forwarded-for'], '192.0.2.7, 127.0.0.1', 'the client is appended to the chain');
  assert.equal(seen.headers['x-real-ip'], '127.0.0.1', 'a client cannot choose its X-Real-IP');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'web.test');
  assert.equal(seen.headers['x-drop-me'], undefined, 'a header the Connection header names is hop-by-hop');
  assert.equal(seen.headers['keep-alive'], undefined);
  assert.equal(seen.headers.te, undefined);
  assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-real-ip').length, 1);
});

test('the client gets the backend answer without its hop-by-hop headers, on a connection it keeps', async () => {
  const first = await send({ host: 'web.test' });
  const r = await send({ host: 'web.test' });
  assert.equal(r.body, 'echo:');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.notEqual(r.headers['keep-alive'], 'timeout=77', 'the backend Keep-Alive is not passed on (Node adds its own)');
  assert.notEqual(r.headers.connection, 'close', 'the backend closing its connection does not close the client one');
  assert.ok(first.status === 200 && r.reused, 'the second request went over the first one\'s connection');
});

test('request bodies reach the backend, with a length or chunked', async () => {
  const sized = await send({ host: 'web.test', method: 'POST', headers: { 'Content-Type': 'text/plain', 'Content-Length': '11' }, body: 'hello=world' });
  assert.equal(sized.body, 'echo:hello=world');
  assert.equal(seen.headers['content-length'], '11');
  const chunked = await send({ host: 'web.test', method: 'PUT', body: ['part1-', 'part2-', 'part3'] });
  assert.equal(chunked.body, 'echo:part1-part2-part3');
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.headers['transfer-encoding'], 'chunked');
  const head = await send({ host: 'web.test', method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('status, repeated headers and a streamed body without a length come back as the backend sent them', async () => {
  const r = await send({ host: 'web.test', path: '/chunked' });
  assert.equal(r.status, 201);
  assert.equal(r.message, 'Made');
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r.headers['x-backend'], 'yes');
  assert.equal(r.body, 'one,two');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
});

test('a backend that breaks off mid-answer breaks off the client connection too', { timeout: 10_000 }, async () => {
  const outcome = await new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/truncated', headers: { host: 'web.test' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(`complete: ${body}`));
      res.on('error', () => resolve(`broken after ${body.length} bytes`));
      res.on('aborted', () => resolve(`broken after ${body.length} bytes`));
    });
    req.on('error', (e) => resolve(`broken: ${e.message}`));
    req.end();
  });
  assert.equal(outcome, 'broken after 10 bytes');
});

test('no rule is 404, no ready endpoint 503, a backend that refuses 502 — each saying why', async () => {
  const none = await send({ host: 'nobody.test' });
  assert.equal(none.status, 404);
  assert.match(none.body, /no Ingress rule matches/);
  const empty = await send({ host: 'empty.test' });
  assert.equal(empty.status, 503);
  assert.match(empty.body, /default\/empty has no ready endpoints/);
  const refused = await send({ host: 'gone.test' });
  assert.equal(refused.status, 502);
  assert.match(refused.body, /Bad Gateway: 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  // The client's connection survives all three.
  assert.equal((await send({ host: 'web.test' })).status, 200);
});

test('an HTTP/1.0 request without a Host header reaches a host-less rule or gets 404', async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 404 /);
});

test('an upgrade (as WebSocket uses) reaches the backend with its Upgrade headers, and the two sockets are joined', async () => {
  const echoed = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n'));
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
      if (out.endsWith('\r\n\r\n')) s.write('ping');
      if (out.endsWith('ping')) {
        s.destroy();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
  assert.match(echoed, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.equal(seen.url, '/ws');
  assert.equal(seen.headers.upgrade, 'echo');
  assert.equal(seen.headers.connection, 'Upgrade');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
});

/** A self-signed RSA certificate for a host (the cluster's own certificates are ECDSA). */
async function rsaCertificate(host: string): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${host}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }])],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** One HTTPS request on a new connection, asking for `servername` (none: no SNI; Node would take the Host header's): the certificate it got and the answer. */
function httpsOnce(host: string, servername: string | undefined): Promise<{ fingerprint: string; subject: string; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port: httpsPort, path: '/', headers: { host }, servername: servername ?? '', rejectUnauthorized: false, agent: false }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ fingerprint: cert.fingerprint256, subject: String(cert.subject.CN ?? ''), status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('HTTPS gives each host the certificate of its Secret, RSA or EC, the default one without a name, and a changed Secret to new connections', async () => {
  const c = plane.client;
  const tlsSecret = (name: string, pem: { certPem: string; keyPem: string }) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') },
  });
  const rsa = await rsaCertificate('rsa.test');
  const ec = await selfSignedCertificate({ commonName: 'ec.test', dnsNames: ['ec.test'], ips: [] });
  await c.create(refs.secrets, 'default', tlsSecret('rsa-tls', rsa));
  await c.create(refs.secrets, 'default', tlsSecret('ec-tls', ec));
  const rule = (host: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8080 } } } }] } });
  await c.create(refs.ingresses, 'default', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'secure' },
    spec: { tls: [{ hosts: ['rsa.test'], secretName: 'rsa-tls' }, { hosts: ['ec.test'], secretName: 'ec-tls' }], rules: [rule('rsa.test'), rule('ec.test')] },
  });
  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
  // Before the fix, an RSA Secret's certificate lost to the default (EC) one: Node's SNICallback
  // swaps in only the slot of the default's key type.
  const viaRsa = await eventually(async () => {
    const r = await httpsOnce('rsa.test', 'rsa.test');
    return r.fingerprint === fingerprint(rsa.certPem) && r;
  }, 'rsa.test served with its RSA certificate');
  assert.equal(viaRsa.status, 200);
  assert.equal(viaRsa.body, 'echo:');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  const viaEc = await httpsOnce('ec.test', 'EC.test');
  assert.equal(viaEc.fingerprint, fingerprint(ec.certPem));
  assert.equal(viaEc.status, 200);
  const unnamed = await httpsOnce('rsa.test', undefined);
  assert.equal(unnamed.subject, 'k8ts-ingress-default', 'a client that names no server gets the default certificate');
  assert.equal(unnamed.status, 200, 'and its request is routed by its Host header');
  const other = await httpsOnce('other.test', 'other.test');
  assert.equal(other.subject, 'k8ts-ingress-default');
  assert.equal(other.status, 404);

  const renewed = await rsaCertificate('rsa.test');
  await c.update(refs.secrets, 'default', { ...tlsSecret('rsa-tls', renewed), metadata: { name: 'rsa-tls', resourceVersion: (await c.get(refs.secrets, 'default', 'rsa-tls')).metadata!.resourceVersion } });
  await eventually(async () => (await httpsOnce('rsa.test', 'rsa.test')).fingerprint === fingerprint(renewed.certPem), 'the renewed certificate served');
});
