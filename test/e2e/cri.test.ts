/**
 * The runtime plumbing under the kubelet: k8ts starts its own containerd, builds and imports the
 * pod sandbox image and an image archive, writes the node's CNI config, and runs a pod through
 * the CRI — its own network namespace with an IP from the node's range, a container whose output
 * lands in the pod's log directory, and nothing left behind after removal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PAUSE_IMAGE } from '../../src/kubelet/containerd/containerd-process.js';
import { eventually } from '../support/eventually.js';
import { skipWithoutContainers, startTestRuntime, type TestRuntime } from '../support/containerd.js';

const skip = skipWithoutContainers();
let rt: TestRuntime | undefined;
const podCIDR = '10.244.77.0/24';

before(async () => {
  if (skip) return;
  rt = await startTestRuntime('k8ts-cri-', { bridge: 'k8tstest0', podCIDR, image: { ref: 'k8ts.local/test-app:1', applets: ['sh', 'sleep', 'echo', 'hostname'] } });
});
after(async () => {
  await rt?.stop();
});

test('a pod runs through the CRI of the containerd k8ts starts', { skip }, async () => {
  const { cri, work } = rt!;
  // The pause image and an image archive were imported (as `k8ts images import` will load them).
  const images = (await cri.image<{ images: Array<{ repoTags: string[] }> }>('ListImages')).images.flatMap((i) => i.repoTags);
  assert.ok(images.includes('k8ts.local/test-app:1') && images.includes(PAUSE_IMAGE), images.join(' '));

  const logDir = join(work, 'pods', 'default_web_uid-1');
  mkdirSync(logDir, { recursive: true });
  const sandboxConfig = { metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 }, hostname: 'web', logDirectory: logDir, linux: {} };
  const { podSandboxId } = await cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
  const status = await cri.runtime<{ status: { state: string; network: { ip: string } } }>('PodSandboxStatus', { podSandboxId });
  assert.equal(status.status.state, 'SANDBOX_READY');
  assert.match(status.status.network.ip, /^10\.244\.77\.\d+$/);

  const { containerId } = await cri.runtime<{ containerId: string }>('CreateContainer', {
    podSandboxId,
    sandboxConfig,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image: 'k8ts.local/test-app:1' }, args: ['sh', '-c', 'echo hello from $(hostname); sleep 30'], logPath: 'main/0.log', linux: {} },
  });
  await cri.runtime('StartContainer', { containerId });
  const log = await eventually('the container prints', () => {
    const text = existsSync(join(logDir, 'main', '0.log')) ? readFileSync(join(logDir, 'main', '0.log'), 'utf8') : '';
    return text.includes('hello') && text;
  });
  // CRI log format: RFC 3339 time, stream, tag (F = full line), then the line.
  assert.match(log, /^\S+ stdout F hello from web$/m);

  await cri.runtime('StopContainer', { containerId, timeout: 1 });
  const exited = await cri.runtime<{ status: { state: string; exitCode: number } }>('ContainerStatus', { containerId });
  assert.equal(exited.status.state, 'CONTAINER_EXITED');
  await cri.runtime('StopPodSandbox', { podSandboxId });
  await cri.runtime('RemovePodSandbox', { podSandboxId });
  const left = await cri.runtime<{ items: unknown[] }>('ListPodSandbox', {});
  assert.equal(left.items.length, 0);
  // The sandbox's network namespace is gone with it.
  assert.ok(!readdirSync('/var/run/netns').some((n) => n.includes(podSandboxId.slice(0, 12))));
});
