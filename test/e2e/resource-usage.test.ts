/**
 * Real usage: the kubelet's Summary feeds metrics.k8s.io, so `kubectl top` shows what containers
 * actually use and the HPA scales on it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
let c: TestCluster | undefined;
const node = 'k8ts-usage-node';

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> => poll(what, probe, ms);

interface SummaryDoc {
  node: { nodeName: string; cpu: { usageCoreNanoSeconds: number }; memory: { availableBytes: number; workingSetBytes: number }; fs: { capacityBytes: number; availableBytes: number }; runtime: { imageFs: { capacityBytes: number } } };
  pods: Array<{ podRef: { name: string; namespace: string; uid: string }; containers: Array<{ name: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number }; logs?: { usedBytes: number } }> }>;
}

/** `GET /stats/summary` straight from the node's kubelet, as the API server's scraper asks it (bearer join secret). */
async function kubeletSummary(): Promise<SummaryDoc> {
  const secret = readFileSync(join(c!.dataDir, 'server', 'token'), 'utf8').trim().replace(/^K10[0-9a-f]{64}::[^:]+:/, '');
  const host = await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
  const port = Number(await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']));
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/stats/summary', rejectUnauthorized: false, headers: { authorization: `Bearer ${secret}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as SummaryDoc) : reject(new Error(`${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `250m` → 250, `1` → 1000. */
function millicores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-usage-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep']);
  c = await startCluster({ dataDir, containerd: { nodeName: node }, extraArgs: ['--horizontal-pod-autoscaler-sync-period', '2', '--horizontal-pod-autoscaler-downscale-stabilization', '5'] });
});
after(async () => {
  if (!c) return;
  await c.k(['delete', 'deployments,pods', '--all', '--grace-period=1', '--wait=true']).catch(() => undefined);
  await c.destroy();
});

test('kubectl top shows what containers really use', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: loop, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sh, -c, 'while :; do :; done'], resources: {limits: {cpu: 300m}}}
---
apiVersion: v1
kind: Pod
metadata: {name: idle}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: nap, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
`,
  });
  const usage = await eventually('both pods in kubectl top', async () => {
    const r = await c!.kubectl(['top', 'pod', '--no-headers']);
    const rows = new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/) as [string, string, string]).map(([n, cpu, mem]) => [n, { cpu: millicores(cpu), mem }]));
    const busy = rows.get('busy');
    // The busy loop is held at its 300m limit; wait until a full window shows it.
    return busy && rows.has('idle') && busy.cpu >= 150 && rows;
  });
  assert.ok(usage.get('busy')!.cpu <= 400, `the CPU limit holds the loop near 300m (got ${usage.get('busy')!.cpu}m)`);
  assert.ok(usage.get('idle')!.cpu < 50, `sleep uses next to nothing (got ${usage.get('idle')!.cpu}m)`);
  const top = await c!.k(['top', 'node', node, '--no-headers']);
  const [, cpu, , mem] = top.trim().split(/\s+/);
  assert.ok(millicores(cpu!) >= 150, `the node's CPU includes the loop (${top})`);
  assert.match(mem!, /^[1-9]\d*(Mi|Gi)$/);
  const containers = JSON.parse(await c!.k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])) as { containers: Array<{ name: string; usage: { cpu: string; memory: string } }>; window: string };
  assert.equal(containers.containers[0]?.name, 'loop');
  assert.notEqual(containers.containers[0]?.usage.memory, '0', 'the working set of a running shell is not nothing');
  assert.match(containers.window, /^\d+(\.\d+)?s$/);

  const summary = await kubeletSummary();
  assert.equal(summary.node.nodeName, node);
  assert.ok(summary.node.cpu.usageCoreNanoSeconds > 0 && summary.node.memory.workingSetBytes > 0 && summary.node.fs.capacityBytes > 0 && summary.node.runtime.imageFs.capacityBytes > 0);
  const busy = summary.pods.find((p) => p.podRef.name === 'busy');
  assert.equal(busy?.podRef.namespace, 'default');
  assert.equal(busy?.containers[0]?.name, 'loop');
  assert.ok(busy!.containers[0]!.cpu.usageCoreNanoSeconds > 1e9, 'the loop has burnt more than a CPU-second by now');
  assert.ok(busy!.containers[0]!.memory.workingSetBytes > 0);
  assert.equal(typeof busy?.containers[0]?.logs?.usedBytes, 'number');

  // Node conditions follow the default hard eviction thresholds, with the kubelet's reasons.
  const conditions = JSON.parse(await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.conditions}'])) as Array<{ type: string; status: string; reason: string }>;
  const memory = conditions.find((x) => x.type === 'MemoryPressure');
  const disk = conditions.find((x) => x.type === 'DiskPressure');
  const lowMemory = summary.node.memory.availableBytes < 100 * 1024 * 1024;
  assert.deepEqual([memory?.status, memory?.reason], lowMemory ? ['True', 'KubeletHasInsufficientMemory'] : ['False', 'KubeletHasSufficientMemory']);
  const lowDisk = summary.node.fs.availableBytes / summary.node.fs.capacityBytes < 0.1;
  if (!lowDisk) assert.deepEqual([disk?.status, disk?.reason], ['False', 'KubeletHasNoDiskPressure']);
  assert.deepEqual(conditions.find((x) => x.type === 'PIDPressure')?.reason, 'KubeletHasSufficientPID');
  await c!.k(['delete', 'pod', 'busy', 'idle', '--wait=false']);
});

test('the HPA scales a Deployment on its real CPU use', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: burner}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: burn, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sh, -c, 'while :; do :; done'], resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}}
`,
  });
  await c!.k(['autoscale', 'deployment', 'burner', '--cpu-percent=50', '--min=1', '--max=3']);
  // 200m used of 100m requested is 200% against a 50% target: the HPA goes to its maximum.
  await eventually('the HPA to scale up', async () => Number(await c!.k(['get', 'deployment', 'burner', '-o', 'jsonpath={.spec.replicas}'])) > 1, 120_000);
  const hpa = await c!.k(['get', 'hpa', 'burner', '--no-headers']);
  assert.match(hpa, /cpu: \d+%\/50%/);
});
