/**
 * The container lifecycle on real containers, checked through kubectl as a user would: hooks,
 * probes that restart or gate readiness, OOMKilled, host networking and host ports, and a kubelet
 * restart that leaves running containers alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
let c: TestCluster | undefined;
const hostDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-hooks-host-'));

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => poll(what, probe, ms);

interface EventList {
  items: Array<{ reason: string; message: string; involvedObject: { name: string; fieldPath?: string } }>;
}

async function events(pod: string): Promise<EventList['items']> {
  const list = JSON.parse(await c!.k(['get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'json'])) as EventList;
  return list.items;
}

const busybox = 'image: busybox:1.36\n    imagePullPolicy: IfNotPresent';

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-lifecycle-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep', 'echo', 'cat', 'touch', 'httpd', 'mkdir', 'head', 'tail', 'ls', 'false', 'hostname', 'id', 'stat']);
  c = await startCluster({ dataDir, containerd: { nodeName: 'k8ts-lifecycle-node' } });
});
after(async () => {
  if (c) {
    await c.k(['delete', 'pods', '--all', '--grace-period=1', '--wait=true']).catch(() => undefined);
    await c.destroy();
  }
  rmSync(hostDir, { recursive: true, force: true });
});

test('postStart runs after the container starts; preStop runs before it is stopped', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    ${busybox}
    command: [sh, -c, 'while true; do cat /tmp/started 2>/dev/null; sleep 1; done']
    lifecycle:
      postStart: {exec: {command: [sh, -c, 'echo written-by-postStart > /tmp/started']}}
      preStop: {exec: {command: [sh, -c, 'echo written-by-preStop > /host/prestop']}}
    volumeMounts: [{name: host, mountPath: /host}, {name: tmp, mountPath: /tmp}]
  volumes: [{name: host, hostPath: {path: ${JSON.stringify(hostDir)}}}, {name: tmp, emptyDir: {}}]
`,
  });
  await c!.k(['wait', '--for=condition=Ready', 'pod/hooks', '--timeout=60s']);
  await eventually('the container to see the postStart file', async () => (await c!.k(['logs', 'hooks'])).includes('written-by-postStart'));
  // Kubelet events name the container they are about.
  const started = (await events('hooks')).find((e) => e.reason === 'Started');
  assert.equal(started?.involvedObject.fieldPath, 'spec.containers{main}');
  await c!.k(['delete', 'pod', 'hooks', '--wait=true', '--timeout=30s']);
  assert.equal(readFileSync(join(hostDir, 'prestop'), 'utf8'), 'written-by-preStop\n');
});

test('a failing postStart hook kills the container, with a FailedPostStartHook event', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    ${busybox}
    command: [sleep, '3600']
    lifecycle: {postStart: {exec: {command: [sh, -c, 'echo no way; exit 7']}}}
`,
  });
  const failed = await eventually('FailedPostStartHook', async () => (await events('badhook')).find((e) => e.reason === 'FailedPostStartHook'));
  assert.match(failed.message, /^Exec lifecycle hook \(\[sh -c echo no way; exit 7\]\) for Container "main" in Pod "badhook_default\([0-9a-f-]+\)" failed - error: command 'sh -c echo no way; exit 7' exited with 7: , message: "no way\\n"$/);
  await eventually('a restart', async () => Number(await c!.k(['get', 'pod', 'badhook', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])) >= 1);
});

test('a failing liveness probe restarts its container; readiness gates Ready', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: live
    ${busybox}
    command: [sh, -c, 'touch /tmp/healthy; sleep 4; rm -f /tmp/healthy; sleep 3600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
    volumeMounts: [{name: tmp, mountPath: /tmp}]
  - name: gated
    ${busybox}
    command: [sleep, '3600']
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1}
    volumeMounts: [{name: gated-tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}, {name: gated-tmp, emptyDir: {}}]
`,
  });
  await eventually('the live container to restart', async () => Number(await c!.k(['get', 'pod', 'probed', '-o', 'jsonpath={.status.containerStatuses[?(@.name=="live")].restartCount}'])) >= 1);
  const unhealthy = (await events('probed')).find((e) => e.reason === 'Unhealthy' && /Liveness/.test(e.message));
  assert.equal(unhealthy?.involvedObject.fieldPath, 'spec.containers{live}');
  assert.ok((await events('probed')).some((e) => e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message)));
  // Not Ready until the readiness probe passes.
  assert.equal(await c!.k(['get', 'pod', 'probed', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'False');
  assert.equal(await c!.k(['get', 'pod', 'probed', '-o', 'jsonpath={.status.containerStatuses[?(@.name=="gated")].ready}']), 'false');
  await c!.k(['exec', 'probed', '-c', 'gated', '--', 'touch', '/tmp/ready']);
  await eventually('gated to become ready', async () => (await c!.k(['get', 'pod', 'probed', '-o', 'jsonpath={.status.containerStatuses[?(@.name=="gated")].ready}'])) === 'true');
  await c!.k(['delete', 'pod', 'probed', '--wait=false']);
});

test('a container over its memory limit is OOMKilled', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    ${busybox}
    command: [sh, -c, 'head -c 200m /dev/zero | tail']
    resources: {limits: {memory: 20Mi}}
`,
  });
  const reason = await eventually('the container to end', async () => (await c!.k(['get', 'pod', 'hog', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}'])) || false);
  assert.equal(reason, 'OOMKilled');
  assert.match(await c!.k(['get', 'pod', 'hog', '--no-headers']), /^hog\s+0\/1\s+OOMKilled\s+0/);
});

test('hostNetwork pods take the node\'s address; a hostPort reaches the pod', { skip }, async () => {
  const port = await freePort();
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  terminationGracePeriodSeconds: 1
  hostNetwork: true
  containers:
  - name: main
    ${busybox}
    command: [sleep, '3600']
---
apiVersion: v1
kind: Pod
metadata: {name: hostport}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    ${busybox}
    command: [sh, -c, 'mkdir -p /www && echo via-host-port > /www/index.html && httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, hostPort: ${port}}]
`,
  });
  await c!.k(['wait', '--for=condition=Ready', 'pod/hostnet', 'pod/hostport', '--timeout=60s']);
  const nodeIP = await c!.k(['get', 'pod', 'hostnet', '-o', 'jsonpath={.status.hostIP}']);
  assert.equal(await c!.k(['get', 'pod', 'hostnet', '-o', 'jsonpath={.status.podIP}']), nodeIP);
  const body = await eventually('the host port to answer', async () => {
    const res = await fetch(`http://${nodeIP}:${port}/index.html`).catch(() => undefined);
    return res?.ok ? res.text() : false;
  }, 20_000);
  assert.equal(body, 'via-host-port\n');
});

test('a restarted kubelet finds its running containers and leaves them running', { skip }, async () => {
  await c!.k(['run', 'steady', '--image=busybox:1.36', '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/steady', '--timeout=60s']);
  const before = await c!.k(['get', 'pod', 'steady', '-o', 'jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.podIP}']);
  await c!.restart();
  await eventually('the node to be Ready again', async () => /\sReady\s/.test(await c!.k(['get', 'node', 'k8ts-lifecycle-node', '--no-headers'])));
  await c!.k(['wait', '--for=condition=Ready', 'pod/steady', '--timeout=60s']);
  // Give the kubelet a couple of sync rounds to do anything it wrongly would.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await c!.k(['get', 'pod', 'steady', '-o', 'jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.podIP}']), before);
  assert.ok(existsSync(c!.dataDir));
});

test('fsGroup owns the pod\'s volumes and is one of the container\'s groups', { skip }, async () => {
  await c!.k(['create', 'configmap', 'grouped', '--from-literal=key=value']);
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: grouped}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1000, fsGroup: 2000}
  containers:
  - name: main
    ${busybox}
    command: [sleep, '3600']
    volumeMounts: [{name: data, mountPath: /data}, {name: cfg, mountPath: /cfg}]
  volumes: [{name: data, emptyDir: {}}, {name: cfg, configMap: {name: grouped}}]
`,
  });
  await c!.k(['wait', '--for=condition=Ready', 'pod/grouped', '--timeout=60s']);
  const out = await c!.k(['exec', 'grouped', '--', 'sh', '-c', 'id -G; stat -c %g /data; stat -L -c "%g %a" /cfg/key; touch /data/mine && stat -c %g /data/mine']);
  const [groups, dataGroup, cfg, created] = out.trim().split('\n');
  assert.ok(groups!.split(' ').includes('2000'), `groups: ${groups ?? ''}`);
  assert.equal(dataGroup, '2000');
  assert.equal(cfg, '2000 644');
  // The setgid directory hands its group to new files.
  assert.equal(created, '2000');
  await c!.k(['delete', 'pod', 'grouped', '--wait=false']);
});

test('pods being deleted are stopped side by side, and a shorter grace period cuts a termination short', { skip }, async () => {
  // sleep as PID 1 ignores SIGTERM: each pod takes its whole grace period (20 s).
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: stubborn
spec:
  replicas: 12
  selector:
    matchLabels:
      app: stubborn
  template:
    metadata:
      labels:
        app: stubborn
    spec:
      terminationGracePeriodSeconds: 20
      containers:
      - name: main
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
`,
  });
  await c!.k(['rollout', 'status', 'deployment/stubborn', '--timeout=120s']);
  const t0 = performance.now();
  await c!.k(['delete', 'deployment', 'stubborn']);
  await eventually('the 12 pods gone', async () => !(await c!.k(['get', 'pods', '-l', 'app=stubborn', '-o', 'name'])).trim(), 120_000);
  const took = (performance.now() - t0) / 1000;
  // One grace period for all of them (a few queue workers one pod at a time would need 3 or more).
  assert.ok(took < 45, `12 pods with a 20 s grace period took ${took.toFixed(1)} s to go`);

  await c!.k(['run', 'lone', '--image=busybox:1.36', '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
  await c!.k(['wait', '--for=condition=Ready', 'pod/lone', '--timeout=60s']);
  await c!.k(['delete', 'pod', 'lone', '--wait=false']); // 30 s grace
  await new Promise((r) => setTimeout(r, 2000));
  const t1 = performance.now();
  await c!.k(['delete', 'pod', 'lone', '--grace-period=1', '--wait=true', '--timeout=60s']);
  const cut = (performance.now() - t1) / 1000;
  assert.ok(cut < 15, `a 1 s grace period given to a pod terminating with 30 s took ${cut.toFixed(1)} s`);
});
