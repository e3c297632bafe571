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

test('host-gw: pods on two nodes reach each other by their own addresses, and Services and DNS work across them', { skip }, async () => {
  const n = await startTwoNodes('auto');
  await checkAcrossNodes(n.c);
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
