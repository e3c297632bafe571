/**
 * A container configured from a PodSpec by container-config/container-env runs under containerd
 * as the spec says: its environment and expanded args, its user, a read-only root filesystem, and
 * the memory limit and CPU quota in the pod's cgroup under /kubepods.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../support/eventually.js';
import { skipWithoutContainers, startTestRuntime, type TestRuntime } from '../support/containerd.js';
import { containerEnv } from '../../src/kubelet/container-env.js';
import { containerConfig, podSandboxConfig } from '../../src/kubelet/container-config.js';

const skip = skipWithoutContainers();
let rt: TestRuntime | undefined;
const uid = `cc-${process.pid}`;

before(async () => {
  if (skip) return;
  rt = await startTestRuntime('k8ts-ccfg-', { bridge: 'k8tstest2', podCIDR: '10.244.79.0/24', image: { ref: 'k8ts.local/ccfg:1', applets: ['sh', 'sleep', 'echo', 'cat', 'id', 'touch'] } });
});
after(async () => {
  await rt?.stop();
  // The pod's cgroups outlive the runtime's containers; the kubelet removes them, here the test does.
  for (const ctl of ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'hugetlb', 'net_cls', 'perf_event', '']) {
    const dir = join('/sys/fs/cgroup', ctl, 'kubepods', 'burstable', `pod${uid}`);
    try {
      rmdirSync(dir);
    } catch {
      // absent
    }
  }
});

test('a container built from a PodSpec runs with its env, args, user, read-only root and limits', { skip }, async () => {
  const { cri, work } = rt!;
  const pod: Pod = {
    metadata: { name: 'cfg-pod', namespace: 'default', uid },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'k8ts.local/ccfg:1',
          command: ['sh', '-c'],
          args: ['echo "greeting=$GREETING pod=$POD_NAME mem=$MEM_MI"; echo "arg=$(GREETING)"; echo "uid=$(id -u)"; touch /probe 2>/dev/null && echo rootfs=rw || echo rootfs=ro; sleep 30'],
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
          securityContext: { runAsUser: 1234, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        },
      ],
    },
  };
  const container = pod.spec!.containers[0]!;
  const env = await containerEnv({ pod, podIPs: [], hostIP: '127.0.0.1', nodeName: 'n', nodeAllocatable: { cpu: '2', memory: '4Gi' } }, container, {
    configMap: async () => undefined,
    secret: async () => undefined,
    services: async () => [],
  });
  const logDir = join(work, 'pods', `default_cfg-pod_${uid}`);
  mkdirSync(logDir, { recursive: true });
  const sandboxConfig = podSandboxConfig(pod, { attempt: 0, logDirectory: logDir });
  const { podSandboxId } = await cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
  try {
    const config = containerConfig(pod, container, { attempt: 0, env, mounts: [], image: 'k8ts.local/ccfg:1', nodeAllocatable: { cpu: '2', memory: '4Gi' } });
    const { containerId } = await cri.runtime<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    await cri.runtime('StartContainer', { containerId });
    const log = await eventually('the container prints', () => {
      const file = join(logDir, 'main', '0.log');
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return text.includes('rootfs=') && text;
    });
    assert.match(log, / stdout F greeting=hello pod=cfg-pod mem=64$/m);
    assert.match(log, / stdout F arg=hello$/m);
    assert.match(log, / stdout F uid=1234$/m);
    assert.match(log, / stdout F rootfs=ro$/m);

    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const cg = (ctl: string, file: string): string => readFileSync(join('/sys/fs/cgroup', v2 ? '' : ctl, 'kubepods', 'burstable', `pod${uid}`, containerId, file), 'utf8').trim();
    if (v2) {
      assert.equal(cg('', 'memory.max'), String(64 * 1024 * 1024));
      assert.equal(cg('', 'cpu.max'), '50000 100000');
    } else {
      assert.equal(cg('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(cg('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(cg('cpu', 'cpu.shares'), '102');
    }
    await cri.runtime('StopContainer', { containerId, timeout: 1 });
    await cri.runtime('RemoveContainer', { containerId });
  } finally {
    await cri.runtime('StopPodSandbox', { podSandboxId });
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  }
});
