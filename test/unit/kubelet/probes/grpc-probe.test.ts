import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer, type AddressInfo } from 'node:net';
import { grpcProbe } from '../../../../src/kubelet/probes/grpc-probe.js';

// grpc.health.v1 by hand: the request's field 1 is the service name, the response's field 1 the status.
// (a request decodes to an object: grpc-js takes a falsy message for a missing one)
const decodeService = (b: Buffer): { service: string } => ({ service: b.length === 0 ? '' : b.subarray(2, 2 + (b[1] ?? 0)).toString('utf8') });
const encodeStatus = (s: number): Buffer => Buffer.from([0x08, s]);
const healthService: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { service: string }) => Buffer.from(r.service),
    requestDeserialize: decodeService,
    responseSerialize: encodeStatus,
    responseDeserialize: (b: Buffer) => b[1] ?? 0,
  },
};
const statuses: Record<string, number> = { '': 1, db: 2 };
const userAgents: string[] = [];

let server: grpc.Server;
let bare: grpc.Server;
let port = 0;
let barePort = 0;

function bind(s: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
}

before(async () => {
  server = new grpc.Server();
  server.addService(healthService, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) => {
      userAgents.push(String(call.metadata.get('user-agent')[0] ?? ''));
      const s = statuses[call.request.service];
      if (s === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, s);
    },
  });
  port = await bind(server);
  bare = new grpc.Server();
  barePort = await bind(bare);
});
after(() => {
  server.forceShutdown();
  bare.forceShutdown();
});

test('SERVING is healthy, and the probe introduces itself as kube-probe/1.32', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', port, '', 2000), { result: 'success', output: 'service healthy' });
  assert.match(userAgents[0] ?? '', /^kube-probe\/1\.32/);
});

test('NOT_SERVING and an unknown service fail with the health checker\'s words', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', port, 'db', 2000), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
  assert.deepEqual(await grpcProbe('127.0.0.1', port, 'cache', 2000), { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
});

test('a server without the health service fails as unimplemented', async () => {
  const out = await grpcProbe('127.0.0.1', barePort, '', 2000);
  assert.equal(out.result, 'failure');
  assert.match(out.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
});

test('nothing listening fails after the timeout', async () => {
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const closed = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));
  const started = Date.now();
  const out = await grpcProbe('127.0.0.1', closed, '', 1000);
  assert.ok(Date.now() - started < 3000);
  assert.deepEqual(out, { result: 'failure', output: `timeout: failed to connect service "127.0.0.1:${closed}" within 1s: context deadline exceeded` });
});
