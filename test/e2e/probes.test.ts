/**
 * Probes against a real container: exec probes run through CRI ExecSync in k8ts' own containerd
 * (exit code, output, timeout), and an httpGet probe reaches busybox httpd on the pod's IP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { runProbe, type ProbeTarget } from '../../src/kubelet/probes/run-probe.js';
import { eventually } from '../support/eventually.js';
import { skipWithoutContainers, startTestRuntime, type TestRuntime } from '../support/containerd.js';

const skip = skipWithoutContainers();
let rt: TestRuntime | undefined;

before(async () => {
  if (skip) return;
  rt = await startTestRuntime('k8ts-probes-', { bridge: 'k8tsprobe0', podCIDR: '10.244.78.0/24', image: { ref: 'k8ts.local/probe-app:1', applets: ['sh', 'sleep', 'cat', 'echo', 'httpd', 'mkdir'] } });
});
after(async () => {
  await rt?.stop();
});

test('exec and httpGet probes run against a real container', { skip }, async () => {
  const { cri, work } = rt!;
  const logDir = join(work, 'pods', 'default_web_uid-p');
  mkdirSync(logDir, { recursive: true });
  const sandboxConfig = { metadata: { name: 'web', uid: 'uid-p', namespace: 'default', attempt: 0 }, hostname: 'web', logDirectory: logDir, linux: {} };
  const { podSandboxId } = await cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig });
  const sandbox = await cri.runtime<{ status: { network: { ip: string } } }>('PodSandboxStatus', { podSandboxId });
  const podIP = sandbox.status.network.ip;
  const { containerId } = await cri.runtime<{ containerId: string }>('CreateContainer', {
    podSandboxId,
    sandboxConfig,
    config: {
      metadata: { name: 'main', attempt: 0 },
      image: { image: 'k8ts.local/probe-app:1' },
      args: ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && httpd -p 8080 -h /www && echo ready > /www/ready && sleep 300'],
      logPath: 'main/0.log',
      linux: {},
    },
  });
  await cri.runtime('StartContainer', { containerId });

  const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-p' } };
  const container: Container = { name: 'main', ports: [{ name: 'http', containerPort: 8080 }], env: [{ name: 'MARK', value: '/www/ready' }] };
  const target: ProbeTarget = { podIP, containerId, cri: cri, pod, container };
  try {
    // $(MARK) expands from the container's env, as the kubelet does for exec probes.
    const ready = await eventually('the container is up', async () => {
      const out = await runProbe('readiness', { exec: { command: ['cat', '$(MARK)'] } }, target);
      if (out.result !== 'success') throw new Error(`${out.result}: ${out.output}; log: ${existsSync(join(logDir, 'main', '0.log')) ? readFileSync(join(logDir, 'main', '0.log'), 'utf8') : ''}`);
      return out;
    }, 15_000);
    assert.deepEqual(ready, { result: 'success', output: 'ready\n' });
    assert.deepEqual(await runProbe('liveness', { exec: { command: ['sh', '-c', 'echo broken >&2; exit 3'] } }, target), { result: 'failure', output: 'broken\n' });
    const started = Date.now();
    assert.deepEqual(await runProbe('liveness', { exec: { command: ['sleep', '10'] }, timeoutSeconds: 1 }, target), { result: 'failure', output: 'command "sleep 10" timed out' });
    assert.ok(Date.now() - started < 8000, 'the exec timeout is honoured');

    assert.deepEqual(await runProbe('readiness', { httpGet: { port: 'http', path: '/healthz' } }, target), { result: 'success', output: 'ok\n' });
    assert.deepEqual(await runProbe('readiness', { httpGet: { port: 'http', path: '/missing' } }, target), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
    assert.deepEqual(await runProbe('liveness', { tcpSocket: { port: 8081 } }, target), { result: 'failure', output: `dial tcp ${podIP}:8081: connect: connection refused` });
  } finally {
    await cri.runtime('StopContainer', { containerId, timeout: 1 });
    await cri.runtime('StopPodSandbox', { podSandboxId });
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  }
});
