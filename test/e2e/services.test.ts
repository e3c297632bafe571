/**
 * Services that carry traffic, with real containers and kube-proxy's iptables rules: a k8ts
 * server runs on a machine of a network lab (its own network namespace), so its rules are its
 * own; the test reaches it over the lab network as a client on the same link would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteWorkloads, startCluster, type TestCluster } from '../support/cluster.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';
import { eventually as poll } from '../support/eventually.js';
import { createNetworkLab, podNetns, type NetworkLab } from '../support/network-lab.js';
import { createCertificateAuthority, issueServingCertificate } from '../../src/pki/certificate-authority.js';

const skip = skipWithoutContainers();
let lab: NetworkLab | undefined;
let c: TestCluster | undefined;

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> => poll(what, probe, ms);
const applets = ['sh', 'mkdir', 'hostname', 'httpd', 'wget', 'cat', 'echo', 'sleep', 'nslookup', 'timeout'];
const web = (port: number): string => `mkdir -p /www && hostname > /www/index.html && exec httpd -f -p ${port} -h /www`;

before(async () => {
  if (skip) return;
  lab = createNetworkLab(1);
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-services-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), applets);
  c = await startCluster({ dataDir, containerd: { nodeName: 'svc-node' }, machine: lab.machines[0] });
  await c.k(['wait', '--for=condition=Ready', 'node/svc-node', '--timeout=60s']);
  await c.k(['create', 'deployment', 'backend', '--image=busybox:1.36', '--replicas=3', '--port=8080', '--', 'sh', '-c', web(8080)]);
  await c.k(['expose', 'deployment', 'backend', '--port=8080']);
  await c.k(['run', 'client', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
  await c.k(['rollout', 'status', 'deployment/backend', '--timeout=90s']);
  await c.k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=90s']);
});
after(async () => {
  await c?.destroy();
  lab?.destroy();
});

const backendPods = async (): Promise<string[]> => (await c!.k(['get', 'pods', '-l', 'app=backend', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).filter(Boolean);
const clusterIP = async (svc: string): Promise<string> => (await c!.k(['get', 'svc', svc, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
/** `wget` from a pod: its answer, or the error and how long it took. */
async function fetchFrom(pod: string, url: string): Promise<{ ok: boolean; out: string; ms: number }> {
  const t0 = performance.now();
  // Not wget's own -T: busybox-static's wget crashes with it.
  const r = await c!.kubectl(['exec', pod, '--', 'timeout', '5', 'wget', '-qO-', url]);
  return { ok: r.code === 0, out: r.code === 0 ? r.stdout.trim() : r.stderr.trim(), ms: performance.now() - t0 };
}

test('a ClusterIP spreads connections over the ready backend pods', { skip }, async () => {
  const ip = await clusterIP('backend');
  const pods = await backendPods();
  const seen = new Set<string>();
  for (let i = 0; i < 15; i++) {
    const r = await fetchFrom('client', `http://${ip}:8080/`);
    assert.ok(r.ok, r.out);
    assert.ok(pods.includes(r.out), `${r.out} is not one of ${pods.join(', ')}`);
    seen.add(r.out);
  }
  assert.ok(seen.size >= 2, `15 requests all went to ${[...seen].join(', ')}`);
  // The node itself reaches ClusterIPs too.
  const fromNode = lab!.run(lab!.machines[0]!, process.execPath, ['-e', `fetch('http://${ip}:8080/', { signal: AbortSignal.timeout(5000) }).then(async (r) => process.stdout.write(await r.text()))`]);
  assert.ok(pods.includes(fromNode.trim()), fromNode);
});

test('with no ready endpoints a ClusterIP refuses at once; scaled up, it answers again within seconds', { skip }, async () => {
  const ip = await clusterIP('backend');
  await c!.k(['scale', 'deployment/backend', '--replicas=0']);
  const refused = await eventually('the connection refused', async () => {
    const r = await fetchFrom('client', `http://${ip}:8080/`);
    return !r.ok && r;
  });
  assert.match(refused.out, /Connection refused/);
  // Refused, not timed out: well under the 5 s timeout, kubectl exec included.
  assert.ok(refused.ms < 4000, `took ${Math.round(refused.ms)} ms`);
  await c!.k(['scale', 'deployment/backend', '--replicas=2']);
  const t0 = performance.now();
  await c!.k(['rollout', 'status', 'deployment/backend', '--timeout=90s']);
  await eventually('the Service answering again', async () => (await fetchFrom('client', `http://${ip}:8080/`)).ok);
  assert.ok(performance.now() - t0 < 60_000);
});

test('kubectl expose --type=NodePort is reachable on the node\'s address from another machine', { skip }, async () => {
  await c!.k(['expose', 'deployment', 'backend', '--name=backend-np', '--type=NodePort', '--port=8080']);
  const nodePort = Number(await c!.k(['get', 'svc', 'backend-np', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
  assert.ok(nodePort >= 30000 && nodePort <= 32767, String(nodePort));
  const pods = await backendPods();
  const body = await eventually('the NodePort answering', async () => {
    const r = await fetch(`http://${lab!.machines[0]!.ip}:${nodePort}/`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    return r?.ok && (await r.text()).trim();
  });
  assert.ok(pods.includes(body), `${body} is not one of ${pods.join(', ')}`);
});

test('a LoadBalancer Service gets the node\'s address as its external IP and answers there', { skip }, async () => {
  await c!.k(['expose', 'deployment', 'backend', '--name=backend-lb', '--type=LoadBalancer', '--port=8081', '--target-port=8080']);
  const nodeIP = lab!.machines[0]!.ip;
  await eventually('the external IP', async () => (await c!.k(['get', 'svc', 'backend-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).trim() === nodeIP);
  assert.match(await c!.k(['get', 'svc', 'backend-lb']), new RegExp(`^backend-lb\\s+LoadBalancer\\s+\\S+\\s+${nodeIP.replace(/\./g, '\\.')}\\s+8081:3\\d{4}/TCP`, 'm'));
  const pods = await backendPods();
  const body = await eventually('the load balancer answering', async () => {
    const r = await fetch(`http://${nodeIP}:8081/`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    return r?.ok && (await r.text()).trim();
  });
  assert.ok(pods.includes(body), `${body} is not one of ${pods.join(', ')}`);
});

test('a pod reaches itself through its own Service (hairpin), and ClientIP affinity keeps a client on one pod', { skip }, async () => {
  await c!.k(['run', 'solo', '--image=busybox:1.36', '--labels=app=solo', '--port=8080', '--', 'sh', '-c', web(8080)]);
  await c!.k(['expose', 'pod', 'solo', '--port=8080']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/solo', '--timeout=90s']);
  const soloIP = await clusterIP('solo');
  const self = await eventually('solo through its Service', async () => {
    const r = await fetchFrom('solo', `http://${soloIP}:8080/`);
    return r.ok && r.out;
  });
  assert.equal(self, 'solo');

  await c!.k(['scale', 'deployment/backend', '--replicas=3']);
  await c!.k(['rollout', 'status', 'deployment/backend', '--timeout=90s']);
  await c!.k(['patch', 'svc', 'backend', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
  const ip = await clusterIP('backend');
  await eventually('3 endpoints', async () => (await c!.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=backend', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]}'])).trim().split(/\s+/).length === 3);
  await new Promise((r) => setTimeout(r, 1000));
  const answers = new Set<string>();
  for (let i = 0; i < 8; i++) answers.add((await fetchFrom('client', `http://${ip}:8080/`)).out);
  assert.equal(answers.size, 1, [...answers].join(', '));
  await c!.k(['patch', 'svc', 'backend', '-p', '{"spec":{"sessionAffinity":"None"}}']);
});

test('an Ingress routes two hosts to two Services over HTTP and HTTPS, reports its address, and changes without dropping connections', { skip }, async () => {
  const nodeIP = lab!.machines[0]!.ip;
  const ca = await createCertificateAuthority('e2e ingress CA');
  const cert = await issueServingCertificate(ca, { commonName: 'a.example.com', dnsNames: ['a.example.com'], ips: [] });
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-ingress-'));
  writeFileSync(join(dir, 'tls.crt'), cert.certPem);
  writeFileSync(join(dir, 'tls.key'), cert.keyPem);
  await c!.k(['create', 'secret', 'tls', 'a-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
  rmSync(dir, { recursive: true, force: true });
  await c!.k(['create', 'ingress', 'two-hosts', '--rule=a.example.com/*=backend:8080,tls=a-tls', '--rule=b.example.com/*=solo:8080']);
  assert.match(await c!.k(['get', 'ingressclass']), /^k8ts\s+k8ts\.io\/ingress-controller/m);
  const address = await eventually('the Ingress address', async () => (await c!.k(['get', 'ingress', 'two-hosts', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).trim() === nodeIP);
  assert.ok(address);

  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const get = (o: { host: string; path?: string; tls?: boolean }): Promise<{ status: number; body: string; reused: boolean }> =>
    new Promise((resolve, reject) => {
      const opts = { host: nodeIP, port: o.tls ? 443 : 80, path: o.path ?? '/', headers: { host: o.host }, servername: o.host, ca: ca.certPem, timeout: 5000 };
      const req = o.tls ? httpsGet(opts) : httpGet({ ...opts, agent });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim(), reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  const pods = await backendPods();
  const a = await eventually('a.example.com answering', async () => {
    const r = await get({ host: 'a.example.com' }).catch(() => undefined);
    return r?.status === 200 && r;
  });
  assert.ok(pods.includes(a.body), a.body);
  assert.deepEqual(await get({ host: 'b.example.com' }), { status: 200, body: 'solo', reused: true });
  assert.equal((await get({ host: 'c.example.com' })).status, 404);
  // HTTPS with the Secret's certificate, verified against its CA for the host name.
  const tlsAnswer = await get({ host: 'a.example.com', tls: true });
  assert.equal(tlsAnswer.status, 200);
  assert.ok(pods.includes(tlsAnswer.body));

  // A change: b.example.com now goes to the backend too; the kept-alive connection carries on.
  await c!.k(['patch', 'ingress', 'two-hosts', '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/1/http/paths/0/backend/service/name","value":"backend"}]']);
  const after = await eventually('b.example.com rerouted', async () => {
    const r = await get({ host: 'b.example.com' });
    return r.body !== 'solo' && r;
  });
  assert.ok(pods.includes(after.body));
  assert.equal(after.reused, true, 'the connection opened before the change was still used');
  agent.destroy();
  await c!.k(['delete', 'ingress', 'two-hosts']);
});

test('cluster DNS: pods reach Services by name, and StatefulSet pods by their own names', { skip }, async () => {
  const pods = await backendPods();
  const seen = new Set<string>();
  for (const url of ['http://backend:8080/', 'http://backend.default.svc.cluster.local:8080/', 'http://backend.default:8080/']) {
    for (let i = 0; i < 4; i++) {
      const r = await fetchFrom('client', url);
      assert.ok(r.ok, `${url}: ${r.out}`);
      assert.ok(pods.includes(r.out), `${url} answered ${r.out}`);
      seen.add(r.out);
    }
  }
  assert.ok(seen.size >= 2, `12 requests all went to ${[...seen].join(', ')}`);

  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Service
metadata:
  name: kafka
spec:
  clusterIP: None
  selector:
    app: kafka
  ports:
  - name: web
    port: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: kafka
spec:
  serviceName: kafka
  replicas: 2
  selector:
    matchLabels:
      app: kafka
  template:
    metadata:
      labels:
        app: kafka
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: ["sh", "-c", ${JSON.stringify(web(8080))}]
`,
  });
  await c!.k(['rollout', 'status', 'statefulset/kafka', '--timeout=90s']);
  const ip0 = (await c!.k(['get', 'pod', 'kafka-0', '-o', 'jsonpath={.status.podIP}'])).trim();
  const lookup = await eventually('kafka-0.kafka resolving', async () => {
    const r = await c!.kubectl(['exec', 'client', '--', 'nslookup', 'kafka-0.kafka.default.svc.cluster.local']);
    return r.stdout.includes(ip0) && r.stdout;
  });
  assert.match(lookup, /Name:\s+kafka-0\.kafka\.default\.svc\.cluster\.local/);
  const r = await fetchFrom('client', 'http://kafka-1.kafka:8080/');
  assert.equal(r.out, 'kafka-1');
});

test('a NetworkPolicy that denies ingress makes connections fail; allowing a label lets that pod in; removed, all work again', { skip }, async () => {
  const ip = await clusterIP('backend');
  const policy = (name: string, ingress?: unknown[]): string =>
    JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name }, spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ...(ingress ? { ingress } : {}) } });
  const probe = async (pod: string): Promise<boolean> => (await c!.kubectl(['exec', pod, '--', 'timeout', '3', 'wget', '-qO-', `http://${ip}:8080/`])).code === 0;
  assert.ok(await probe('client'));
  await c!.k(['apply', '-f', '-'], { input: policy('deny-all') });
  await eventually('client shut out', async () => !(await probe('client')));
  await c!.k(['apply', '-f', '-'], { input: policy('allow-client', [{ from: [{ podSelector: { matchLabels: { run: 'client' } } }], ports: [{ port: 8080 }] }]) });
  await eventually('client let in', () => probe('client'));
  assert.equal(await probe('solo'), false, 'solo is still shut out');
  await c!.k(['delete', 'networkpolicy', '--all']);
  await eventually('solo let in', () => probe('solo'));
});

test('UDP clients that keep their sockets follow the Service when its backend pod goes, through the ClusterIP and the node port (stale conntrack entries are cleared)', { skip }, async () => {
  // busybox has no UDP server: Node.js answers from inside each pod's network namespace, which is
  // what the Service's traffic reaches. Each client sends from one socket, as a DNS resolver or a
  // metrics agent does: its datagrams share one conntrack entry, refreshed by every exchange, so
  // without clearing they would go to the deleted pod's address for good.
  const machine = lab!.machines[0]!;
  const inPod = async (pod: string, script: string): Promise<ChildProcess> => {
    const ip = (await c!.k(['get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
    return spawn('nsenter', [`--net=/run/netns/${podNetns(machine, ip)}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  };
  // udp-a serves alone first, so both clients are held to it; udp-b joins before udp-a goes.
  await c!.k(['run', 'udp-a', '--image=busybox:1.36', '--labels=app=udp', '--restart=Never', '--', 'sleep', '3600']);
  await c!.k(['run', 'udp-b', '--image=busybox:1.36', '--labels=app=udp-spare', '--restart=Never', '--', 'sleep', '3600']);
  await c!.k(['create', 'service', 'nodeport', 'udp', '--tcp=5300:5300']);
  await c!.k(['patch', 'service', 'udp', '--type=json', '-p', '[{"op":"replace","path":"/spec/ports/0/protocol","value":"UDP"}]']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/udp-a', 'pod/udp-b', '--timeout=90s']);
  const servers = new Map<string, ChildProcess>();
  for (const pod of ['udp-a', 'udp-b']) servers.set(pod, await inPod(pod, `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(${JSON.stringify(pod)}, r.port, r.address)); s.bind(5300)`));
  const ip = await clusterIP('udp');
  const nodePort = Number(await c!.k(['get', 'svc', 'udp', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
  // Who answered each client last, and how many answers it has had.
  const heard = { pod: { last: '', count: 0 }, host: { last: '', count: 0 } };
  const fromPod = await inPod('client', `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => console.log(m.toString())); s.bind(40053, () => setInterval(() => s.send('hi', 5300, ${JSON.stringify(ip)}), 100))`);
  fromPod.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) heard.pod = { last: line, count: heard.pod.count + 1 };
  });
  const fromHost = createSocket('udp4');
  fromHost.on('message', (m) => (heard.host = { last: m.toString(), count: heard.host.count + 1 }));
  await new Promise<void>((resolve) => fromHost.bind(40054, lab!.hostIP, resolve));
  const tick = setInterval(() => fromHost.send('hi', nodePort, machine.ip), 100);
  try {
    await eventually('both clients answered by udp-a', async () => heard.pod.last === 'udp-a' && heard.host.last === 'udp-a', 30_000);
    await c!.k(['label', 'pod', 'udp-b', 'app=udp', '--overwrite']);
    servers.get('udp-a')!.kill();
    await c!.k(['delete', 'pod', 'udp-a', '--grace-period=1']);
    const before = { pod: heard.pod.count, host: heard.host.count };
    await eventually('answers from udp-b on both clients\' sockets', async () => heard.pod.last === 'udp-b' && heard.pod.count > before.pod && heard.host.last === 'udp-b' && heard.host.count > before.host, 20_000);
  } finally {
    clearInterval(tick);
    fromHost.close();
    fromPod.kill();
    for (const s of servers.values()) s.kill();
    await c!.k(['delete', 'pod,service', '-l', 'app in (udp, udp-spare)', '--grace-period=1', '--ignore-not-found']);
  }
});

test('a deleted Service leaves no rules behind, and a stopped k8ts leaves none at all', { skip }, async () => {
  const save = (): string => lab!.run(lab!.machines[0]!, 'iptables-save', []);
  assert.match(save(), /default\/backend-np/);
  await c!.k(['delete', 'svc', 'backend-np']);
  await eventually('the rules of backend-np gone', async () => !save().includes('default/backend-np'), 10_000);
  await deleteWorkloads(c!);
  await c!.stop();
  assert.doesNotMatch(save(), /KUBE-(SERVICES|SVC|SEP|NODEPORTS|POSTROUTING)/);
});
