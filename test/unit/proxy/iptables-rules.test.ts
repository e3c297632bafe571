/**
 * From Services and EndpointSlices to kube-proxy's iptables rules: which endpoints are used, how
 * one is picked, and what a port without endpoints does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import { servicePorts } from '../../../src/proxy/service-ports.js';
import { extChain, proxyRules, sepChain, svcChain, svlChain } from '../../../src/proxy/iptables-rules.js';

const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): ApiObject => ({ metadata: { namespace: 'demo', name }, spec, status });
const slice = (service: string, ports: Array<{ name?: string; port: number; protocol?: string }>, endpoints: Array<{ ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }>): ApiObject => ({
  metadata: { namespace: 'demo', name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports,
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], nodeName: e.node ?? 'node-a', conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
});
const portsOf = (services: ApiObject[], slices: ApiObject[], node = 'node-a') =>
  servicePorts(services, (ns, name) => slices.filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.['kubernetes.io/service-name'] === name), node);

test('a Service port takes the target port of the slice port with its name, and only ready endpoints', () => {
  const ports = portsOf(
    [svc('web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9090 }] })],
    [slice('web', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6', ready: false, serving: false }])],
  );
  assert.deepEqual(ports.map((p) => [p.id, p.port, p.allEndpoints]), [
    ['demo/web:http', 80, [{ ip: '10.42.0.5', port: 8080 }]],
    ['demo/web:metrics', 9090, [{ ip: '10.42.0.5', port: 9100 }]],
  ]);
});

test('with no ready endpoint, serving endpoints that terminate are used; headless and ExternalName Services get nothing', () => {
  const ports = portsOf(
    [svc('web', { clusterIP: '10.43.0.20', ports: [{ port: 80 }] }), svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] }), svc('ext', { type: 'ExternalName', externalName: 'example.org' })],
    [slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5', ready: false, serving: true, terminating: true }, { ip: '10.42.0.6', ready: false, serving: false, terminating: true }])],
  );
  assert.deepEqual(ports.map((p) => [p.id, p.allEndpoints.map((e) => e.ip)]), [['demo/web', ['10.42.0.5']]]);
});

test('ClusterIP traffic picks each endpoint with equal chance, then DNATs to it; off-pod traffic is masqueraded', () => {
  const ports = portsOf([svc('web', { clusterIP: '10.43.0.20', ports: [{ port: 80 }] })], [slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }, { ip: '10.42.0.7' }])]);
  const rules = proxyRules(ports, { bridge: 'k8ts0' });
  const p = ports[0]!;
  const svcName = svcChain(p);
  assert.ok(rules.nat.get('KUBE-SERVICES')!.some((r) => r.includes('-d 10.43.0.20/32 -p tcp -m tcp --dport 80') && r.endsWith(`-j ${svcName}`)));
  const picks = rules.nat.get(svcName)!;
  assert.match(picks[0]!, /! -i k8ts0 -d 10\.43\.0\.20\/32 .* -j KUBE-MARK-MASQ$/);
  assert.deepEqual(picks.slice(1).map((r) => /--probability (\S+)/.exec(r)?.[1] ?? 'always'), ['0.3333333333', '0.5000000000', 'always']);
  const sep = sepChain(p, { ip: '10.42.0.6', port: 8080 });
  assert.deepEqual(rules.nat.get(sep), [
    `-A ${sep} -s 10.42.0.6/32 -m comment --comment "demo/web" -j KUBE-MARK-MASQ`,
    `-A ${sep} -p tcp -m tcp -m comment --comment "demo/web" -j DNAT --to-destination 10.42.0.6:8080`,
  ]);
  assert.equal(rules.filter.get('KUBE-SERVICES')!.length, 0);
  // The NodePort jump stays last: rules added after it would never see local destinations.
  assert.match(rules.nat.get('KUBE-SERVICES')!.at(-1)!, /--dst-type LOCAL -j KUBE-NODEPORTS$/);
});

test('a port without endpoints rejects connections (ClusterIP and NodePort) instead of letting them hang', () => {
  const ports = portsOf([svc('web', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] })], []);
  const rules = proxyRules(ports, { bridge: 'k8ts0' });
  assert.ok(rules.filter.get('KUBE-SERVICES')!.some((r) => r.includes('-d 10.43.0.20/32') && r.includes('has no endpoints') && r.endsWith('-j REJECT --reject-with icmp-port-unreachable')));
  assert.ok(rules.filter.get('KUBE-EXTERNAL-SERVICES')!.some((r) => r.includes('--dport 30080') && r.includes('REJECT')));
  assert.equal(rules.nat.get(svcChain(ports[0]!)), undefined);
});

test('NodePort and load-balancer addresses go through KUBE-EXT, which masquerades for the Cluster policy', () => {
  const ports = portsOf(
    [svc('web', { type: 'LoadBalancer', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] }, { loadBalancer: { ingress: [{ ip: '192.168.5.10' }] } })],
    [slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }])],
  );
  const rules = proxyRules(ports, { bridge: 'k8ts0' });
  const ext = extChain(ports[0]!);
  assert.ok(rules.nat.get('KUBE-NODEPORTS')!.some((r) => r.includes('--dport 30080') && r.endsWith(`-j ${ext}`)));
  assert.ok(rules.nat.get('KUBE-SERVICES')!.some((r) => r.includes('-d 192.168.5.10/32') && r.includes('--dport 80') && r.endsWith(`-j ${ext}`)));
  assert.deepEqual(rules.nat.get(ext)!.map((r) => r.split(' -j ')[1]), ['KUBE-MARK-MASQ', svcChain(ports[0]!)]);
});

test('externalTrafficPolicy Local sends outside traffic to this node\'s endpoints only, and drops it when there are none', () => {
  const spec = { type: 'NodePort', clusterIP: '10.43.0.20', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] };
  const endpoints = [{ ip: '10.42.0.5', node: 'node-a' }, { ip: '10.42.1.5', node: 'node-b' }];
  const onA = portsOf([svc('web', spec)], [slice('web', [{ port: 8080 }], endpoints)], 'node-a');
  const rulesA = proxyRules(onA, { bridge: 'k8ts0' });
  const svl = svlChain(onA[0]!);
  assert.equal(rulesA.nat.get(extChain(onA[0]!))!.at(-1), `-A ${extChain(onA[0]!)} -j ${svl}`);
  assert.deepEqual(rulesA.nat.get(svl)!.map((r) => r.split(' -j ')[1]), [sepChain(onA[0]!, { ip: '10.42.0.5', port: 8080 })]);
  const onC = portsOf([svc('web', spec)], [slice('web', [{ port: 8080 }], endpoints)], 'node-c');
  const rulesC = proxyRules(onC, { bridge: 'k8ts0' });
  assert.ok(rulesC.filter.get('KUBE-EXTERNAL-SERVICES')!.some((r) => r.includes('--dport 30080') && r.includes('has no local endpoints') && r.endsWith('-j DROP')));
  // ClusterIP traffic still reaches every endpoint.
  assert.ok(rulesC.nat.get('KUBE-SERVICES')!.some((r) => r.includes('-d 10.43.0.20/32') && r.endsWith(`-j ${svcChain(onC[0]!)}`)));
});

test('internalTrafficPolicy Local: ClusterIP traffic goes to this node\'s endpoints, and is dropped on a node without one', () => {
  const spec = { clusterIP: '10.43.0.10', internalTrafficPolicy: 'Local', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] };
  const endpoints = [{ ip: '10.42.0.1', node: 'node-a' }];
  const onA = portsOf([svc('dns', spec)], [slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], endpoints)], 'node-a');
  const rulesA = proxyRules(onA, { bridge: 'k8ts0' });
  assert.ok(rulesA.nat.get('KUBE-SERVICES')!.some((r) => r.includes('-d 10.43.0.10/32 -p udp -m udp --dport 53') && r.endsWith(`-j ${svlChain(onA[0]!)}`)));
  const onB = portsOf([svc('dns', spec)], [slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], endpoints)], 'node-b');
  assert.ok(proxyRules(onB, { bridge: 'k8ts0' }).filter.get('KUBE-SERVICES')!.some((r) => r.includes('has no local endpoints') && r.endsWith('-j DROP')));
});

test('sessionAffinity ClientIP sends a client back to the endpoint it had, for the timeout', () => {
  const ports = portsOf(
    [svc('web', { clusterIP: '10.43.0.20', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] })],
    [slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }])],
  );
  const rules = proxyRules(ports, { bridge: 'k8ts0' });
  const p = ports[0]!;
  const sep = sepChain(p, { ip: '10.42.0.5', port: 8080 });
  assert.ok(rules.nat.get(svcChain(p))!.some((r) => r.includes(`-m recent --name ${sep} --rcheck --seconds 60 --reap -j ${sep}`)));
  assert.ok(rules.nat.get(sep)!.some((r) => r.includes(`-m recent --set --name ${sep}`) && r.includes('DNAT')));
});
