import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceAllocators, serviceStrategy } from '../../../../src/apiserver/registry/resources/core/services.js';
import type { AdmissionHook } from '../../../../src/apiserver/registry/generic-store.js';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import { badRequest } from '../../../../src/machinery/status-error.js';
import { ctx, dryRun, rejection, seededRandom, spec, storeFor, write } from './harness.js';

type Rec = Record<string, unknown>;

function setup(existing: KubeObject[] = [], admission: AdmissionHook[] = []) {
  const allocators = new ServiceAllocators({ serviceCIDR: '10.43.0.0/16', nodePortRange: [30000, 32767], existingServices: async () => existing, random: seededRandom() });
  return { allocators, store: storeFor('services', serviceStrategy(allocators), admission) };
}

function svc(name: string, s: Rec): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: s };
}

const port80 = { ports: [{ port: 80 }] };

test('services: a ClusterIP service gets defaults and a dynamic IP from the service CIDR', async () => {
  const { store } = setup();
  const created = await store.create('default', svc('web', { selector: { app: 'web' }, ...port80 }), ctx(), write);
  const s = spec(created);
  assert.equal(s.type, 'ClusterIP');
  assert.equal(s.sessionAffinity, 'None');
  assert.equal(s.internalTrafficPolicy, 'Cluster');
  assert.equal(s.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(s.ipFamilies, ['IPv4']);
  assert.deepEqual(s.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.equal(s.externalTrafficPolicy, undefined);
  const ip = s.clusterIP as string;
  assert.match(ip, /^10\.43\.\d+\.\d+$/);
  assert.deepEqual(s.clusterIPs, [ip]);
  // The static band (10.43.0.0–10.43.0.255: `kubernetes`, cluster DNS) is left for explicit requests.
  assert.notEqual(ip.split('.')[2], '0');
  assert.deepEqual(created.status, { loadBalancer: {} });
});

test('services: a requested ClusterIP must be free and in range', async () => {
  const { store } = setup();
  const first = await store.create('default', svc('kubernetes', { clusterIP: '10.43.0.1', ...port80 }), ctx(), write);
  assert.deepEqual(spec(first).clusterIPs, ['10.43.0.1']);
  await store.create('default', svc('a', { clusterIP: '10.43.0.5', ...port80 }), ctx(), write);
  assert.equal(
    await rejection(store.create('default', svc('b', { clusterIP: '10.43.0.5', ...port80 }), ctx(), write)),
    'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated',
  );
  assert.equal(
    await rejection(store.create('default', svc('c', { clusterIP: '10.99.0.5', ...port80 }), ctx(), write)),
    'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"10.99.0.5"}: failed to allocate IP 10.99.0.5: the provided IP (10.99.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
  );
});

test('services: IPs and ports are released on delete, on failed writes and after dry runs', async () => {
  const refuse: AdmissionHook = {
    async admit(op, _r, obj) {
      if (op === 'CREATE' && obj.metadata?.name === 'refused') throw badRequest('refused by admission');
    },
  };
  const { store, allocators } = setup([], [refuse]);
  await store.create('default', svc('dry', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] }), ctx(), dryRun);
  assert.equal(allocators.ips.has('10.43.0.20'), false);
  assert.equal(allocators.ports.has(30080), false);
  await assert.rejects(store.create('default', svc('refused', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] }), ctx(), write));
  assert.equal(allocators.ips.has('10.43.0.20'), false);
  assert.equal(allocators.ports.has(30080), false);
  const real = await store.create('default', svc('real', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] }), ctx(), write);
  assert.equal(spec(real).externalTrafficPolicy, 'Cluster');
  assert.equal(allocators.ips.has('10.43.0.20'), true);
  assert.equal(
    await rejection(store.create('default', svc('clash', { type: 'NodePort', ports: [{ port: 81, nodePort: 30080 }] }), ctx(), write)),
    'Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
  );
  // The clash allocated a ClusterIP before failing on the port; it must be back.
  assert.equal(allocators.ips.used(), 1);
  await store.delete('default', 'real', ctx(), { dryRun: false });
  assert.equal(allocators.ips.has('10.43.0.20'), false);
  assert.equal(allocators.ports.has(30080), false);
  const again = await store.create('default', svc('again', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30080 }] }), ctx(), write);
  assert.equal((spec(again).ports as Rec[])[0]!.nodePort, 30080);
});

test('services: NodePort and LoadBalancer services get node ports from the range', async () => {
  const { store } = setup();
  const np = await store.create('default', svc('np', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }), ctx(), write);
  const ports = (spec(np).ports as Rec[]).map((p) => p.nodePort as number);
  for (const p of ports) assert.ok(p >= 30000 && p <= 32767, `${p} in range`);
  assert.notEqual(ports[0], ports[1]);
  const lb = await store.create('default', svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ...port80 }), ctx(), write);
  assert.equal(spec(lb).allocateLoadBalancerNodePorts, true);
  assert.ok(typeof (spec(lb).ports as Rec[])[0]!.nodePort === 'number');
  assert.ok(typeof spec(lb).healthCheckNodePort === 'number');
  assert.equal(
    await rejection(store.create('default', svc('out', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }), ctx(), write)),
    'Service "out" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
});

test('services: headless and ExternalName services get no IP', async () => {
  const { store, allocators } = setup();
  const headless = await store.create('default', svc('db', { clusterIP: 'None', selector: { app: 'db' } }), ctx(), write);
  assert.deepEqual(spec(headless).clusterIPs, ['None']);
  const ext = await store.create('default', svc('ext', { type: 'ExternalName', externalName: 'example.com' }), ctx(), write);
  assert.equal(spec(ext).clusterIP, undefined);
  assert.equal(spec(ext).ipFamilies, undefined);
  assert.equal(spec(ext).internalTrafficPolicy, undefined);
  assert.equal(allocators.ips.used(), 0);
});

test('services: validation messages', async () => {
  const { store } = setup();
  assert.equal(await rejection(store.create('default', svc('p', { ports: [] }), ctx(), write)), 'Service "p" is invalid: spec.ports: Required value');
  assert.equal(
    await rejection(store.create('default', svc('p', { ports: [{ port: 80 }, { port: 81 }] }), ctx(), write)),
    'Service "p" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]',
  );
  assert.equal(
    await rejection(store.create('default', svc('p', { ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), ctx(), write)),
    'Service "p" is invalid: spec.ports[1].name: Duplicate value: "a"',
  );
  assert.equal(
    await rejection(store.create('default', svc('p', { ports: [{ port: 80, nodePort: 30001 }] }), ctx(), write)),
    "Service \"p\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  );
  assert.equal(
    await rejection(store.create('default', svc('p', { type: 'Fancy', ...port80 }), ctx(), write)),
    'Service "p" is invalid: spec.type: Unsupported value: "Fancy": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  );
});

test('services: updates keep the allocated IP and node ports, refuse to change the IP, and free what is dropped', async () => {
  const { store, allocators } = setup();
  const created = await store.create('default', svc('u', { type: 'NodePort', ports: [{ name: 'http', port: 80 }] }), ctx(), write);
  const ip = spec(created).clusterIP as string;
  const nodePort = (spec(created).ports as Rec[])[0]!.nodePort as number;
  // A replace that omits the allocated values (as `kubectl replace` of a hand-written file does).
  const replaced = await store.update('default', 'u', svc('u', { type: 'NodePort', ports: [{ name: 'http', port: 8080 }] }), ctx(), write);
  assert.equal(spec(replaced).clusterIP, ip);
  assert.equal((spec(replaced).ports as Rec[])[0]!.nodePort, nodePort);
  const moved = structuredClone(replaced);
  spec(moved).clusterIP = '10.43.0.77';
  spec(moved).clusterIPs = ['10.43.0.77'];
  assert.equal(await rejection(store.update('default', 'u', moved, ctx(), write)), 'Service "u" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.43.0.77"}: may not change once set');
  const toClusterIP = structuredClone(replaced);
  spec(toClusterIP).type = 'ClusterIP';
  const after = await store.update('default', 'u', toClusterIP, ctx(), write);
  assert.equal((spec(after).ports as Rec[])[0]!.nodePort, undefined);
  assert.equal(spec(after).externalTrafficPolicy, undefined);
  assert.equal(allocators.ports.has(nodePort), false);
  assert.equal(allocators.ips.has(ip), true);
  // Back to NodePort on a dry run: a port is chosen, then given back.
  const dry = structuredClone(after);
  spec(dry).type = 'NodePort';
  const dryResult = await store.update('default', 'u', dry, ctx(), dryRun);
  const dryPort = (spec(dryResult).ports as Rec[])[0]!.nodePort as number;
  assert.ok(dryPort >= 30000);
  assert.equal(allocators.ports.has(dryPort), false);
});

test('services: allocators are seeded from stored services', async () => {
  const existing = [svc('old', { type: 'NodePort', clusterIP: '10.43.5.5', clusterIPs: ['10.43.5.5'], ports: [{ port: 80, nodePort: 31000 }] })];
  const { store } = setup(existing);
  assert.match(await rejection(store.create('default', svc('x', { clusterIP: '10.43.5.5', ...port80 }), ctx(), write)), /provided IP is already allocated/);
  assert.match(await rejection(store.create('default', svc('y', { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] }), ctx(), write)), /provided port is already allocated/);
});

test('services: concurrent creates never share an IP', async () => {
  const { store } = setup();
  const created = await Promise.all(Array.from({ length: 60 }, (_, i) => store.create('default', svc(`s${i}`, port80), ctx(), write)));
  const ips = new Set(created.map((s) => spec(s).clusterIP));
  assert.equal(ips.size, 60);
});
