/**
 * Real containers: `k8ts server --runtime containerd` runs its own containerd and kubelet; pods
 * run as containers with their own network namespace and IP from the node's range, restart by
 * their policy with CrashLoopBackOff, and leave nothing behind when deleted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';
import { CriClient } from '../../src/kubelet/cri/cri-client.js';
import { request as httpsRequest } from 'node:https';
import { createCertificateAuthority, issueServingCertificate } from '../../src/pki/certificate-authority.js';

const skip = skipWithoutContainers();
const node = 'k8ts-e2e-node';
let c: TestCluster | undefined;

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => poll(what, probe, ms);

/** A busybox image archive dropped where the kubelet imports archives at start (air-gapped). */
async function busyboxArchive(dataDir: string): Promise<void> {
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep', 'echo', 'cat', 'hostname', 'ls', 'wget', 'httpd', 'ip']);
}

/** The pod's sandboxes in the node's containerd, stopped or not. */
async function sandboxCount(uid: string): Promise<number> {
  const cri = new CriClient(`unix://${join(c!.dataDir, 'agent', 'containerd', 'containerd.sock')}`);
  try {
    return (await cri.runtime<{ items: unknown[] }>('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } })).items.length;
  } finally {
    cri.close();
  }
}

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-kubelet-'));
  await busyboxArchive(dataDir);
  c = await startCluster({ dataDir, containerd: { nodeName: node } });
});
after(async () => {
  if (!c) return;
  await c.k(['delete', 'pods', '--all', '--grace-period=1', '--wait=true']).catch(() => undefined);
  await c.destroy();
});

test('the node registers with capacity read from the machine and becomes Ready', { skip }, async () => {
  await eventually('node Ready', async () => new RegExp(`^${node}\\s+Ready`, 'm').test(await c!.k(['get', 'nodes'])));
  const cpu = await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.capacity.cpu}']);
  assert.ok(Number(cpu) >= 1);
  assert.match(await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']), /^containerd:\/\//);
});

test('a busybox pod runs as a container with its own IP from the node range', { skip }, async () => {
  await c!.k(['run', 'hello', '--image=busybox:1.36', '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo hello; sleep 3600']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/hello', '--timeout=60s']);
  const pod = JSON.parse(await c!.k(['get', 'pod', 'hello', '-o', 'json'])) as { status: { podIP: string; phase: string; containerStatuses: Array<{ ready: boolean; state: { running?: unknown }; containerID: string; imageID: string }> } };
  const cidr = await c!.k(['get', 'node', node, '-o', 'jsonpath={.spec.podCIDR}']);
  assert.equal(pod.status.phase, 'Running');
  assert.equal(pod.status.podIP.split('.').slice(0, 3).join('.'), cidr.split('.').slice(0, 3).join('.'));
  assert.match(pod.status.containerStatuses[0]!.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
  assert.ok(pod.status.containerStatuses[0]!.state.running);
  // kubectl logs goes API server → kubelet → the container's CRI log file.
  assert.equal(await c!.k(['logs', 'hello']), 'hello\n');
  assert.match(await c!.k(['logs', 'hello', '--timestamps']), /^\d{4}-\d\d-\d\dT\S+Z hello\n$/);
});

test('a crashing container goes to CrashLoopBackOff with growing restarts', { skip }, async () => {
  await c!.k(['run', 'crash', '--image=busybox:1.36', '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo dying; exit 3']);
  const out = await eventually('CrashLoopBackOff', async () => {
    const o = await c!.k(['get', 'pod', 'crash', '--no-headers']);
    return /CrashLoopBackOff/.test(o) && o;
  });
  assert.match(out, /^crash\s+0\/1\s+CrashLoopBackOff\s+[1-9]/m);
  const last = await c!.k(['get', 'pod', 'crash', '-o', 'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}']);
  assert.equal(last, '3');
  assert.equal(await c!.k(['logs', 'crash', '--previous']), 'dying\n');
});

test('an init container prepares an emptyDir; a ConfigMap arrives as env and as a volume that follows edits', { skip }, async () => {
  await c!.k(['create', 'configmap', 'app-config', '--from-literal=mode=blue']);
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: prepared}
spec:
  initContainers:
  - {name: prepare, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo prepared-by-init > /work/ready'], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - name: main
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'cat /work/ready; echo "mode=$MODE"; while true; do cat /config/mode; echo; sleep 1; done']
    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: app-config, key: mode}}}]
    volumeMounts: [{name: work, mountPath: /work}, {name: config, mountPath: /config}]
  volumes:
  - {name: work, emptyDir: {}}
  - {name: config, configMap: {name: app-config}}
`,
  });
  await c!.k(['wait', '--for=condition=Ready', 'pod/prepared', '--timeout=60s']);
  const first = await eventually('the main container\'s output', async () => {
    const out = await c!.k(['logs', 'prepared', '-c', 'main']);
    return /blue\n/.test(out.split('\n').slice(2).join('\n') + '\n') && out;
  });
  assert.match(first, /^prepared-by-init\nmode=blue\n/);
  assert.equal(await c!.k(['get', 'pod', 'prepared', '-o', 'jsonpath={.status.initContainerStatuses[0].state.terminated.reason}']), 'Completed');
  // Edit the ConfigMap: the mounted file changes in the running container (the env does not).
  await c!.k(['patch', 'configmap', 'app-config', '-p', '{"data":{"mode":"green"}}']);
  await eventually('the mounted file to change', async () => /green\n/.test(await c!.k(['logs', 'prepared', '-c', 'main', '--tail=2'])), 90_000);
});

test('a pod whose ConfigMap volume is missing waits with FailedMount and no sandbox, and starts once the ConfigMap exists', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: needs-config}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sh, -c, 'cat /config/greeting; echo; sleep 3600'], volumeMounts: [{name: config, mountPath: /config}]}
  volumes:
  - {name: config, configMap: {name: late-config}}
` });
  await eventually('a FailedMount event', async () => /FailedMount.*late-config/.test(await c!.k(['get', 'events', '--field-selector=involvedObject.name=needs-config'])));
  const uid = await c!.k(['get', 'pod', 'needs-config', '-o', 'jsonpath={.metadata.uid}']);
  // As the kubelet: no sandbox (so no IP) before the pod's volumes are ready.
  assert.equal(await sandboxCount(uid), 0, 'no sandbox while the volume is missing');
  assert.equal(await c!.k(['get', 'pod', 'needs-config', '-o', 'jsonpath={.status.podIP}']), '');
  assert.match(await c!.k(['get', 'pod', 'needs-config']), /ContainerCreating/);
  await c!.k(['create', 'configmap', 'late-config', '--from-literal=greeting=hello-late']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/needs-config', '--timeout=60s']);
  await eventually('the mounted ConfigMap in the log', async () => /hello-late/.test(await c!.k(['logs', 'needs-config'])));
  await c!.k(['delete', 'pod', 'needs-config', '--wait=true']);
});

test('a sandbox that cannot be made is retried every few seconds with the runtime\'s reason, not in a tight loop', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata: {name: bad-sysctl}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {sysctls: [{name: kernel.k8tsnothing, value: "1"}]}
  containers: [{name: main, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
` });
  const failures = async (): Promise<{ count?: number; message?: string } | undefined> =>
    (JSON.parse(await c!.k(['get', 'events', '--field-selector=involvedObject.name=bad-sysctl,reason=FailedCreatePodSandBox', '-o', 'json'])) as { items: Array<{ count?: number; message?: string }> }).items[0];
  const first = await eventually('a FailedCreatePodSandBox event', failures);
  assert.match(first.message ?? '', /k8tsnothing/);
  await new Promise((r) => setTimeout(r, 12_000));
  // Retried every 5 s: about 3 more tries in 12 s (every second, it would be 12).
  const count = (await failures())?.count ?? 0;
  assert.ok(count >= 2 && count <= 4, `FailedCreatePodSandBox ${count} times in ~12 s`);
  await c!.k(['delete', 'pod', 'bad-sysctl', '--wait=true']);
});

test('deleting a pod stops its containers within the grace period and leaves no sandbox, mount or IP behind', { skip }, async () => {
  const id = (await c!.k(['get', 'pod', 'hello', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).replace('containerd://', '');
  const uid = await c!.k(['get', 'pod', 'hello', '-o', 'jsonpath={.metadata.uid}']);
  const ip = await c!.k(['get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP}']);
  // host-local IPAM keeps one file per address it handed out.
  const lease = join(c!.dataDir, 'agent', 'cni', 'ipam', 'k8ts', ip);
  assert.ok(existsSync(lease), 'the pod IP is allocated while the pod runs');
  assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(uid), 'the pod has mounts (its service-account token) while it runs');
  await c!.k(['delete', 'pod', 'hello', '--grace-period=2', '--wait=true', '--timeout=30s']);
  const ctr = (args: string[]): string => execFileSync('ctr', ['--address', join(c!.dataDir, 'agent', 'containerd', 'containerd.sock'), '-n', 'k8s.io', ...args], { encoding: 'utf8' });
  assert.ok(!ctr(['containers', 'ls', '-q']).includes(id), 'container removed');
  assert.equal(await sandboxCount(uid), 0, 'sandbox removed');
  assert.ok(!existsSync(lease), 'the pod IP is released');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(uid), 'no mount of the pod is left');
});

test('the kubelet\'s server takes a client certificate of the cluster\'s client CA, and nothing less', { skip }, async () => {
  const port = Number(await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']));
  const ip = await c!.k(['get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
  const kc = readFileSync(c!.kubeconfig, 'utf8');
  const field = (name: string): string => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(kc)![1]!, 'base64').toString();
  const ask = (opts: { cert?: string; key?: string }): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: ip, port, path: '/containerLogs/default/nope/nope', rejectUnauthorized: false, ...opts }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  // The admin's certificate is signed by the client CA: authenticated (the pod just does not exist).
  assert.equal(await ask({ cert: field('client-certificate-data'), key: field('client-key-data') }), 400);
  assert.equal(await ask({}), 401);
  const stranger = await issueServingCertificate(await createCertificateAuthority('someone-else'), { commonName: 'system:admin', dnsNames: ['x'], ips: [] });
  assert.equal(await ask({ cert: stranger.certPem, key: stranger.keyPem }), 401);
});
