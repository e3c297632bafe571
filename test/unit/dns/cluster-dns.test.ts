import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';
import type { ApiObject } from '../../../src/client/interface.js';
import { ClusterRecords, reverseName, type Cache } from '../../../src/dns/cluster-records.js';
import { DnsServer } from '../../../src/dns/dns-server.js';

function cache(objs: ApiObject[]): Cache {
  return {
    list: (ns?: string) => objs.filter((o) => ns === undefined || o.metadata?.namespace === ns),
    get: (ns: string, name: string) => objs.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name),
  };
}

const services = cache([
  { metadata: { name: 'backend', namespace: 'k8sdemo' }, spec: { clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } },
  { metadata: { name: 'kafka', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'broker', port: 9092 }] } },
  { metadata: { name: 'search', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'search.example.com' } },
  { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
]);
const slices = cache([
  {
    metadata: { name: 'kafka-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kafka' } },
    addressType: 'IPv4',
    ports: [{ name: 'broker', port: 9092, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.42.0.5'], hostname: 'kafka-0', conditions: { ready: true } },
      { addresses: ['10.42.0.6'], hostname: 'kafka-1', conditions: { ready: true } },
      { addresses: ['10.42.0.7'], hostname: 'kafka-2', conditions: { ready: false } },
    ],
  },
  {
    metadata: { name: 'big-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
    addressType: 'IPv4',
    ports: [{ port: 80, protocol: 'TCP' }],
    endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`], conditions: { ready: true } })),
  },
]);

let server: DnsServer;
let upstream: ReturnType<typeof createSocket>;
const resolver = new Resolver({ timeout: 2000, tries: 1 });

before(async () => {
  // An upstream that answers every name with 192.0.2.1, standing in for the node's resolver.
  upstream = createSocket('udp4');
  upstream.on('message', (msg, r) => {
    const q = packet.decode(msg);
    upstream.send(packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers: [{ name: q.questions![0]!.name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.1' }] }), r.port, r.address);
  });
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', () => resolve()));
  server = new DnsServer({ records: new ClusterRecords(services, (ns, svc) => slices.list(ns).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc)), address: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${upstream.address().port}`] });
  const port = await server.start();
  resolver.setServers([`127.0.0.1:${port}`]);
});
after(async () => {
  await server.stop();
  upstream.close();
});

test('a ClusterIP Service resolves to its ClusterIP; a missing one is NXDOMAIN', async () => {
  assert.deepEqual(await resolver.resolve4('backend.k8sdemo.svc.cluster.local'), ['10.43.0.20']);
  await assert.rejects(resolver.resolve4('nope.k8sdemo.svc.cluster.local'), { code: 'ENOTFOUND' });
});

test('a headless Service resolves to its ready endpoints; StatefulSet pods by hostname', async () => {
  assert.deepEqual((await resolver.resolve4('kafka.default.svc.cluster.local')).sort(), ['10.42.0.5', '10.42.0.6']);
  assert.deepEqual(await resolver.resolve4('kafka-1.kafka.default.svc.cluster.local'), ['10.42.0.6']);
});

test('SRV for named ports, CNAME for ExternalName, PTR for ClusterIPs and headless pods', async () => {
  assert.deepEqual(await resolver.resolveSrv('_http._tcp.backend.k8sdemo.svc.cluster.local'), [{ name: 'backend.k8sdemo.svc.cluster.local', port: 8080, priority: 0, weight: 100 }]);
  const kafka = (await resolver.resolveSrv('_broker._tcp.kafka.default.svc.cluster.local')).map((r) => r.name).sort();
  assert.deepEqual(kafka, ['kafka-0.kafka.default.svc.cluster.local', 'kafka-1.kafka.default.svc.cluster.local']);
  assert.deepEqual(await resolver.resolveCname('search.default.svc.cluster.local'), ['search.example.com']);
  assert.deepEqual(await resolver.reverse('10.43.0.20'), ['backend.k8sdemo.svc.cluster.local']);
  assert.deepEqual(await resolver.reverse('10.42.0.5'), ['kafka-0.kafka.default.svc.cluster.local']);
});

test('other names go to the upstream resolver', async () => {
  assert.deepEqual(await resolver.resolve4('www.example.org'), ['192.0.2.1']);
});

test('reverse names of IPv4 and IPv6 addresses', () => {
  assert.equal(reverseName('10.43.0.20'), '20.0.43.10.in-addr.arpa');
  assert.equal(reverseName('fd00::1'), `1.${'0.'.repeat(27)}0.0.d.f.ip6.arpa`);
});

test('an answer too big for UDP is truncated there, and comes whole over TCP', async () => {
  // 60 A records do not fit in 512 bytes: over UDP the reply is cut, with TC set …
  const port = (server as unknown as { socket: { address(): { port: number } } }).socket.address().port;
  const udp = createSocket('udp4');
  const reply = await new Promise<packet.Packet>((resolve) => {
    udp.once('message', (m) => resolve(packet.decode(m)));
    udp.send(packet.encode({ id: 7, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: 'big.default.svc.cluster.local', type: 'A', class: 'IN' }] }), port, '127.0.0.1');
  });
  udp.close();
  assert.equal((reply.flags ?? 0) & packet.TRUNCATED_RESPONSE, packet.TRUNCATED_RESPONSE);
  assert.equal(reply.answers?.length ?? 0, 0);
  // … and the resolver asks again over TCP, where it comes whole.
  const ips = await resolver.resolve4('big.default.svc.cluster.local');
  assert.equal(ips.length, 60);
  assert.ok(ips.includes('10.42.1.60'));
});
