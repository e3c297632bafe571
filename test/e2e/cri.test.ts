/**
 * The runtime plumbing under the kubelet: k8ts starts its own containerd, builds and imports the
 * pod sandbox image and an image archive, writes the node's CNI config, and runs a pod through
 * the CRI — its own network namespace with an IP from the node's range, a container whose output
 * lands in the pod's log directory, and nothing left behind after removal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startContainerd, PAUSE_IMAGE, type RunningContainerd } from '../../src/kubelet/containerd/containerd-process.js';
import { CriClient } from '../../src/kubelet/cri/cri-client.js';
import { buildPauseImage } from '../../src/kubelet/images/pause-image.js';
import { buildOciArchive, importArchive } from '../../src/kubelet/images/oci-archive.js';
import { writeCniConfig } from '../../src/kubelet/cni-config.js';
import { createLogger } from '../../src/machinery/logger.js';
import { eventually } from '../support/eventually.js';
import { skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
const work = mkdtempSync(join(tmpdir(), 'k8ts-cri-'));
let ctd: RunningContainerd | undefined;
let cri: CriClient | undefined;
const podCIDR = '10.244.77.0/24';
// Its own bridge, so a k8ts running on this machine is not disturbed.
const bridge = 'k8tstest0';

before(async () => {
  if (skip) return;
  ctd = await startContainerd(join(work, 'agent'), createLogger('error'));
  cri = new CriClient(ctd.endpoint);
});
after(async () => {
  cri?.close();
  await ctd?.stop();
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // never created
  }
  // Leave no mounts behind before removing the state.
  try {
    execFileSync('sh', ['-c', `grep -o ' ${work}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
  } catch {
    // nothing mounted
  }
  rmSync(work, { recursive: true, force: true });
});

test('a pod runs through the CRI of the containerd k8ts starts', { skip }, async () => {
  const socket = ctd!.paths.socket;
  await buildPauseImage(PAUSE_IMAGE, join(work, 'pause.tar'));
  assert.deepEqual(await importArchive(socket, join(work, 'pause.tar')), [PAUSE_IMAGE]);
  // An application image from a directory, as `k8ts images import` will load archives.
  const rootfs = join(work, 'app-rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  execFileSync('cp', [['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p))!, join(rootfs, 'bin', 'busybox')]);
  await buildOciArchive(rootfs, 'k8ts.local/test-app:1', { entrypoint: ['/bin/busybox'] }, join(work, 'app.tar'));
  assert.deepEqual(await importArchive(socket, join(work, 'app.tar')), ['k8ts.local/test-app:1']);
  const images = (await cri!.image<{ images: Array<{ repoTags: string[] }> }>('ListImages')).images.flatMap((i) => i.repoTags);
  assert.ok(images.includes('k8ts.local/test-app:1'), images.join(' '));

  writeCniConfig(ctd!.paths.cniConfDir, podCIDR, join(work, 'agent', 'ipam'), bridge);
  await eventually('NetworkReady', async () => {
    const st = await cri!.runtime<{ status: { conditions: Array<{ type: string; status: boolean }> } }>('Status');
    return st.status.conditions.find((c) => c.type === 'NetworkReady')?.status === true;
  }, 15_000);

  const logDir = join(work, 'pods', 'default_web_uid-1');
  mkdirSync(logDir, { recursive: true });
  const sandboxConfig = { metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 }, hostname: 'web', logDirectory: logDir, linux: {} };
  const { podSandboxId } = await cri!.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
  const status = await cri!.runtime<{ status: { state: string; network: { ip: string } } }>('PodSandboxStatus', { podSandboxId });
  assert.equal(status.status.state, 'SANDBOX_READY');
  assert.match(status.status.network.ip, /^10\.244\.77\.\d+$/);

  const { containerId } = await cri!.runtime<{ containerId: string }>('CreateContainer', {
    podSandboxId,
    sandboxConfig,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image: 'k8ts.local/test-app:1' }, args: ['sh', '-c', 'echo hello from $(hostname); sleep 30'], logPath: 'main/0.log', linux: {} },
  });
  await cri!.runtime('StartContainer', { containerId });
  const log = await eventually('the container prints', () => {
    const text = existsSync(join(logDir, 'main', '0.log')) ? readFileSync(join(logDir, 'main', '0.log'), 'utf8') : '';
    return text.includes('hello') && text;
  });
  // CRI log format: RFC 3339 time, stream, tag (F = full line), then the line.
  assert.match(log, /^\S+ stdout F hello from web$/m);

  await cri!.runtime('StopContainer', { containerId, timeout: 1 });
  const exited = await cri!.runtime<{ status: { state: string; exitCode: number } }>('ContainerStatus', { containerId });
  assert.equal(exited.status.state, 'CONTAINER_EXITED');
  await cri!.runtime('StopPodSandbox', { podSandboxId });
  await cri!.runtime('RemovePodSandbox', { podSandboxId });
  const left = await cri!.runtime<{ items: unknown[] }>('ListPodSandbox', {});
  assert.equal(left.items.length, 0);
  // The sandbox's network namespace is gone with it.
  assert.ok(!readdirSync('/var/run/netns').some((n) => n.includes(podSandboxId.slice(0, 12))));
});
