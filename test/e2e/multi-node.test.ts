/**
 * A pod network across nodes: a server with its node on one machine of a network lab, an agent
 * with its node on another, each with its own containerd. Pods on one node reach pods on the
 * other by their own addresses (no NAT between pods), and Services and DNS work across them —
 * with host-gw routes (the machines share a link) and with the VXLAN overlay.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get as httpGet } from 'node:http';
import { deleteWorkloads, startAgent, startCluster, type TestAgent, type TestCluster } from '../support/cluster.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';
import { eventually as poll } from '../support/eventually.js';
import { createNetworkLab, type NetworkLab } from '../support/network-lab.js';

const skip = skipWithoutContainers();
const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> => poll(what, probe, ms);
const applets = ['sh', 'mkdir', 'httpd', 'wget', 'cat', 'echo', 'sleep', 'printf', 'chmod', 'hostname', 'timeout'];
/** httpd whose /cgi-bin/addr answers with the client's address as the server saw it. */
const addrServer = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/addr && chmod +x /www/cgi-bin/addr && hostname > /www/index.html && exec httpd -f -p 8080 -h /www`;

interface TwoNodes {
  lab: NetworkLab;
  c: TestCluster;
  agent: TestAgent;
  destroy(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanups) await f();
});

async function startTwoNodes(backend: string): Promise<TwoNodes> {
  const lab = createNetworkLab(2);
  const serverDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-multi-'));
  const agentDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-multi-agent-'));
  for (const dir of [serverDir, agentDir]) {
    mkdirSync(join(dir, 'agent', 'images'), { recursive: true });
    await busyboxImageArchive('docker.io/library/busybox:1.36', join(dir, 'agent', 'images', 'busybox.tar'), applets);
  }
  let c: TestCluster | undefined;
  let agent: TestAgent | undefined;
  const destroy = async (): Promise<void> => {
    // Workloads go while both kubelets still run, so every container stops.
    if (c) await deleteWorkloads(c);
    await agent?.stop();
    await c?.destroy();
    rmSync(agentDir, { recursive: true, force: true });
    lab.destroy();
  };
  cleanups.push(destroy);
  c = await startCluster({ dataDir: serverDir, containerd: { nodeName: 'node-a' }, machine: lab.machines[0], extraArgs: ['--flannel-backend', backend] });
  agent = await startAgent(c, ['--runtime', 'containerd', '--data-dir', agentDir, '--node-name', 'node-b', '--flannel-backend', backend], lab.machines[1]);
  await c.k(['wait', '--for=condition=Ready', 'node/node-a', 'node/node-b', '--timeout=60s']);
  return { lab, c, agent, destroy };
}

function pods(): string {
  const pod = (name: string, node: string, app: string, cmd: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${app}
spec:
  nodeSelector:
    kubernetes.io/hostname: ${node}
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", ${JSON.stringify(cmd)}]
`;
  return [pod('client-a', 'node-a', 'client', 'sleep 3600'), pod('web-b', 'node-b', 'web', addrServer), pod('client-b', 'node-b', 'client', 'sleep 3600')].join('---\n');
}

async function checkAcrossNodes(c: TestCluster): Promise<void> {
  await c.k(['apply', '-f', '-'], { input: pods() });
  await c.k(['expose', 'pod', 'web-b', '--port=8080']);
  await c.k(['wait', '--for=condition=Ready', 'pod/client-a', 'pod/web-b', 'pod/client-b', '--timeout=90s']);
  const ipOf = async (pod: string): Promise<string> => (await c.k(['get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim();
  const [clientA, webB] = [await ipOf('client-a'), await ipOf('web-b')];
  const podCIDRs = (await c.k(['get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}'])).trim().split(' ');
  assert.equal(new Set(podCIDRs).size, 2, `each node has its own pod range: ${podCIDRs.join(' ')}`);
  const wget = async (pod: string, url: string): Promise<string | false> => {
    const r = await c.kubectl(['exec', pod, '--', 'timeout', '5', 'wget', '-qO-', url]);
    return r.code === 0 && r.stdout.trim();
  };

  // Pod to pod across nodes, and the server sees the client's own pod address.
  const seenAs = await eventually(`client-a (${clientA}) reaching web-b (${webB}) on the other node`, () => wget('client-a', `http://${webB}:8080/cgi-bin/addr`));
  // (busybox httpd listens on a dual-stack socket: IPv4 clients show as ::ffff:a.b.c.d.)
  assert.equal(seenAs.replace(/^\[::ffff:(.*)\]$/, '$1'), clientA);
  // A Service whose only endpoint is on the other node, found by its name through node-a's DNS.
  assert.equal(await eventually('the Service by name from node-a', () => wget('client-a', 'http://web-b:8080/')), 'web-b');
  // And from a pod on node-b, through node-b's own DNS server.
  assert.equal(await eventually('the Service by name from node-b', () => wget('client-b', 'http://web-b.default.svc.cluster.local:8080/')), 'web-b');
}

/**
 * A NodePort's answer (the body) from the host, or false when it does not answer within 3 s.
 * (busybox httpd passes the CGI's bare-LF header lines on, which fetch refuses.)
 */
function nodePortAnswer(url: string): Promise<string | false> {
  return new Promise((resolve) => {
    const req = httpGet(url, { insecureHTTPParser: true, timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim()));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/**
 * externalTrafficPolicy: Local — the NodePort answers only on the node that has an endpoint, and
 * the pod sees the client's own address (no SNAT); with Cluster, both nodes answer and the pod
 * sees a node's address instead.
 */
async function checkExternalTrafficPolicy(n: TwoNodes): Promise<void> {
  const { c, lab } = n;
  await c.k(['expose', 'pod', 'web-b', '--name=web-np', '--type=NodePort', '--port=8080']);
  const nodePort = (await c.k(['get', 'svc', 'web-np', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
  const [onA, onB] = lab.machines.map((m) => `http://${m.ip}:${nodePort}/cgi-bin/addr`) as [string, string];
  const unwrap = (addr: string): string => addr.replace(/^\[::ffff:(.*)\]$/, '$1');
  // Cluster (the default): node-a forwards to node-b's pod, masquerading the client.
  const viaA = unwrap(await eventually('the NodePort on node-a (no local endpoint, policy Cluster)', () => nodePortAnswer(onA)));
  assert.notEqual(viaA, lab.hostIP, 'under Cluster the pod sees a node, not the client');
  await c.k(['patch', 'svc', 'web-np', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}']);
  await eventually('node-a to stop answering (no local endpoint, policy Local)', async () => (await nodePortAnswer(onA)) === false);
  // Each node's kube-proxy applies the change on its own; node-b's may come a moment later.
  await eventually('node-b answering with the client\'s own address as the pod saw it (policy Local: no SNAT)', async () => {
    const seen = await nodePortAnswer(onB);
    return seen !== false && unwrap(seen) === lab.hostIP;
  });
}

test('host-gw: pods on two nodes reach each other by their own addresses; Services (externalTrafficPolicy Local too) and DNS work across them', { skip }, async () => {
  const n = await startTwoNodes('auto');
  await checkAcrossNodes(n.c);
  await checkExternalTrafficPolicy(n);
  // Nodes on one link are routed to directly: node-b's pod range goes via node-b's address.
  const routes = n.lab.run(n.lab.machines[0]!, 'ip', ['route']);
  const cidrB = (await n.c.k(['get', 'node', 'node-b', '-o', 'jsonpath={.spec.podCIDR}'])).trim();
  assert.match(routes, new RegExp(`^${cidrB.replace(/[./]/g, '\\$&')} via ${n.lab.machines[1]!.ip.replace(/\./g, '\\.')} dev eth0`, 'm'));
});

test('vxlan: the same across the overlay', { skip }, async () => {
  const n = await startTwoNodes('vxlan');
  await checkAcrossNodes(n.c);
  const routes = n.lab.run(n.lab.machines[0]!, 'ip', ['route']);
  assert.match(routes, /via \S+ dev k8ts\.vxlan onlink/);
  // Each node published its VTEP for the others.
  assert.match(await n.c.k(['get', 'node', 'node-b', '-o', 'jsonpath={.metadata.annotations.k8ts\\.io/vtep-mac}']), /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
});
