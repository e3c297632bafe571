/**
 * Static pods: a manifest dropped in DATA_DIR/agent/pod-manifests runs as a pod the kubelet owns,
 * shown in the API as a mirror pod that comes back when deleted; editing the file replaces the
 * pod and removing it stops the pod.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
let c: TestCluster | undefined;
let manifests = '';
const node = 'k8ts-static-node';

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => poll(what, probe, ms);

const manifest = (message: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: watcher
  labels: {app: watcher}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo ${message}; exec sleep 3600']
`;

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-static-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep', 'echo']);
  manifests = join(dataDir, 'agent', 'pod-manifests');
  mkdirSync(manifests, { recursive: true });
  writeFileSync(join(manifests, 'watcher.yaml'), manifest('first'));
  c = await startCluster({ dataDir, containerd: { nodeName: node } });
});
after(async () => {
  if (!c) return;
  rmSync(join(manifests, 'watcher.yaml'), { force: true });
  await eventually('the static pod to go', async () => !(await c!.k(['get', 'pods', '--no-headers'])).includes(`watcher-${node}`)).catch(() => undefined);
  await c.destroy();
});

test('a manifest in the folder runs as a static pod with a mirror pod in the API', { skip }, async () => {
  const name = `watcher-${node}`;
  await eventually('the mirror pod to be Running', async () => (await c!.k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']).catch(() => '')) === 'Running');
  const mirror = JSON.parse(await c!.k(['get', 'pod', name, '-o', 'json'])) as { metadata: { annotations: Record<string, string>; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> }; spec: { nodeName: string; volumes?: unknown[] } };
  assert.equal(mirror.metadata.annotations['kubernetes.io/config.source'], 'file');
  assert.match(mirror.metadata.annotations['kubernetes.io/config.mirror'] ?? '', /^[0-9a-f]{32}$/);
  assert.equal(mirror.metadata.annotations['kubernetes.io/config.mirror'], mirror.metadata.annotations['kubernetes.io/config.hash']);
  assert.deepEqual(mirror.metadata.ownerReferences.map((o) => [o.kind, o.name, o.controller]), [['Node', node, true]]);
  assert.equal(mirror.spec.nodeName, node);
  assert.equal(mirror.spec.volumes, undefined, 'a mirror pod gets no service-account token');
  assert.equal(await c!.k(['logs', name]), 'first\n');
  const containerID = await c!.k(['get', 'pod', name, '-o', 'jsonpath={.status.containerStatuses[0].containerID}']);

  // Deleting the mirror pod does not stop the static pod: the mirror comes back, same container.
  await c!.k(['delete', 'pod', name, '--wait=false']);
  await eventually('the mirror pod to come back', async () => {
    const again = await c!.k(['get', 'pod', name, '-o', 'jsonpath={.metadata.deletionTimestamp}|{.status.containerStatuses[0].containerID}']).catch(() => '');
    return again === `|${containerID}`;
  });

  // Editing the manifest replaces the pod.
  writeFileSync(join(manifests, 'watcher.yaml'), manifest('second'));
  await eventually('the edited pod to run', async () => (await c!.k(['logs', name]).catch(() => '')) === 'second\n');

  // Removing the manifest stops the pod and removes its mirror.
  rmSync(join(manifests, 'watcher.yaml'));
  await eventually('the mirror pod to go', async () => !(await c!.k(['get', 'pods', '--no-headers'])).includes(name));
});
