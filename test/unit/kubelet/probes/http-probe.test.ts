import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { httpProbe } from '../../../../src/kubelet/probes/http-probe.js';
import { runProbe, type ProbeTarget } from '../../../../src/kubelet/probes/run-probe.js';
import type { CriClient } from '../../../../src/kubelet/cri/cri-client.js';

let server: Server;
let port = 0;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const url = req.url ?? '';
    if (url === '/healthz') res.end('ok\n');
    else if (url === '/fail') {
      res.statusCode = 500;
      res.end('secret details');
    } else if (url === '/hop') {
      res.writeHead(302, { location: '/healthz' });
      res.end();
    } else if (url === '/elsewhere') {
      res.writeHead(301, { location: `http://localhost:${port}/healthz` });
      res.end('moved');
    } else if (url.startsWith('/loop')) {
      res.writeHead(302, { location: `/loop${url.length}` });
      res.end();
    } else if (url === '/big') res.end('x'.repeat(50_000));
    else if (url === '/slow') {
      // never answers
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const req = (path: string, extra: Partial<Parameters<typeof httpProbe>[0]> = {}): Parameters<typeof httpProbe>[0] => ({
  scheme: 'http',
  host: '127.0.0.1',
  port,
  path,
  headers: [],
  timeoutMs: 2000,
  ...extra,
});

test('a 200 is a success whose output is the body; the request says kube-probe/1.32 and accepts anything', async () => {
  seen.length = 0;
  const out = await httpProbe(req('/healthz', { headers: [['X-Custom', 'a'], ['host', 'example.test']] }));
  assert.deepEqual(out, { result: 'success', output: 'ok\n' });
  const h = seen[0]!.headers;
  assert.equal(h['user-agent'], 'kube-probe/1.32');
  assert.equal(h['accept'], '*/*');
  assert.equal(h['x-custom'], 'a');
  assert.equal(h['host'], 'example.test');
});

test('the probe may override User-Agent, and the Host header defaults to host:port', async () => {
  seen.length = 0;
  await httpProbe(req('healthz', { headers: [['User-Agent', 'mine']] }));
  assert.equal(seen[0]!.url, '/healthz');
  assert.equal(seen[0]!.headers['user-agent'], 'mine');
  assert.equal(seen[0]!.headers['host'], `127.0.0.1:${port}`);
});

test('a 500 fails with the status code and without the body', async () => {
  assert.deepEqual(await httpProbe(req('/fail')), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
});

test('connection refused reads as Go reports it', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const p = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const out = await httpProbe(req('/healthz', { port: p }));
  assert.deepEqual(out, { result: 'failure', output: `Get "http://127.0.0.1:${p}/healthz": dial tcp 127.0.0.1:${p}: connect: connection refused` });
});

test('redirects on the same host are followed; one to another host ends in a warning', async () => {
  assert.deepEqual(await httpProbe(req('/hop')), { result: 'success', output: 'ok\n' });
  assert.deepEqual(await httpProbe(req('/elsewhere')), { result: 'success', warning: true, output: 'Probe terminated redirects, Response body: moved' });
});

test('a redirect loop stops after 10 redirects', async () => {
  seen.length = 0;
  const out = await httpProbe(req('/loop'));
  assert.equal(out.result, 'failure');
  assert.match(out.output, /^Get "http:\/\/127\.0\.0\.1:\d+\/loop\d+": stopped after 10 redirects$/);
  assert.equal(seen.length, 10);
});

test('a server that does not answer in time fails with the client timeout', async () => {
  const started = Date.now();
  const out = await httpProbe(req('/slow', { timeoutMs: 300 }));
  assert.ok(Date.now() - started < 1500);
  assert.deepEqual(out, { result: 'failure', output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
});

test('the body is cut at 10 KiB', async () => {
  const out = await httpProbe(req('/big'));
  assert.equal(out.result, 'success');
  assert.equal(out.output.length, 10 * 1024);
});

const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
const target = (container: Container): ProbeTarget => ({ podIP: '127.0.0.1', containerId: 'c1', cri: {} as unknown as CriClient, pod, container });

test('runProbe resolves named ports and reports an unknown port name as Kubernetes does', async () => {
  const container: Container = { name: 'app', ports: [{ name: 'http', containerPort: port }] };
  assert.deepEqual(await runProbe('readiness', { httpGet: { port: 'http', path: '/healthz' } }, target(container)), { result: 'success', output: 'ok\n' });
  assert.deepEqual(await runProbe('readiness', { httpGet: { port: String(port), path: '/fail' } }, target(container)), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  assert.deepEqual(await runProbe('liveness', { httpGet: { port: 'metrics', path: '/' } }, target(container)), { result: 'unknown', output: 'strconv.Atoi: parsing "metrics": invalid syntax' });
  assert.deepEqual(await runProbe('liveness', { tcpSocket: { port: 70000 } }, target(container)), { result: 'unknown', output: 'invalid port number: 70000' });
});
