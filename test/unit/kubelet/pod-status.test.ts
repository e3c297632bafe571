import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPodStatus, podPhase, type ContainerView, type PodView } from '../../../src/kubelet/pod-status.js';

const term = (exitCode: number) => ({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: 1000, finishedAt: 2000, containerID: 'containerd://x' });
function c(name: string, state: ContainerView['state'], more: Partial<ContainerView> = {}): ContainerView {
  return { name, image: 'busybox', imageID: '', init: false, sidecar: false, state, ready: state === 'running', started: state === 'running', restartCount: 0, ...more };
}
function view(containers: ContainerView[], more: Partial<PodView> = {}): PodView {
  return { sandboxReady: true, podIPs: ['10.42.0.5'], hostIP: '192.168.1.2', acceptedAt: 1000, stoppedForDeletion: false, containers, ...more };
}

test('the phase follows the kubelet\'s getPhase', () => {
  assert.equal(podPhase(view([c('a', 'waiting', { waitingReason: 'ContainerCreating' })]), 'Always'), 'Pending');
  assert.equal(podPhase(view([c('a', 'running'), c('b', 'waiting')]), 'Always'), 'Pending', 'one container not started yet');
  assert.equal(podPhase(view([c('a', 'running')]), 'Always'), 'Running');
  // Exited and restarting (waiting with a last state) still counts as Running.
  assert.equal(podPhase(view([c('a', 'waiting', { waitingReason: 'CrashLoopBackOff', last: term(1), restartCount: 3 })]), 'Always'), 'Running');
  assert.equal(podPhase(view([c('a', 'terminated', { terminated: term(0) })]), 'Never'), 'Succeeded');
  assert.equal(podPhase(view([c('a', 'terminated', { terminated: term(0) }), c('b', 'terminated', { terminated: term(2) })]), 'Never'), 'Failed');
  assert.equal(podPhase(view([c('a', 'terminated', { terminated: term(2) })]), 'OnFailure'), 'Running');
  // An init container that failed with restartPolicy Never fails the pod; while it runs, the pod is Pending.
  assert.equal(podPhase(view([c('init', 'terminated', { init: true, terminated: term(1) }), c('a', 'waiting', { waitingReason: 'PodInitializing' })]), 'Never'), 'Failed');
  assert.equal(podPhase(view([c('init', 'running', { init: true }), c('a', 'waiting', { waitingReason: 'PodInitializing' })]), 'Always'), 'Pending');
  // Stopped because the pod is deleted: final, whatever the restart policy.
  assert.equal(podPhase(view([c('a', 'terminated', { terminated: term(143) })], { stoppedForDeletion: true }), 'Always'), 'Failed');
});

test('conditions keep their transition time while unchanged, and a terminal phase sticks', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }], restartPolicy: 'Always' }, status: {} };
  const first = buildPodStatus(pod, view([c('a', 'running')]), Date.parse('2026-01-01T00:00:00Z'));
  const ready = (s: Record<string, unknown>) => (s['conditions'] as Array<{ type: string; status: string; lastTransitionTime: string }>).find((x) => x.type === 'Ready')!;
  assert.equal(ready(first).status, 'True');
  const again = buildPodStatus({ ...pod, status: first }, view([c('a', 'running')]), Date.parse('2026-01-01T00:05:00Z'));
  assert.equal(ready(again).lastTransitionTime, '2026-01-01T00:00:00Z');
  const cs = (first['containerStatuses'] as Array<Record<string, unknown>>)[0]!;
  assert.equal(cs['image'], 'docker.io/library/busybox:latest');
  assert.deepEqual(cs['lastState'], {});
  const done = buildPodStatus({ ...pod, status: { ...first, phase: 'Succeeded' } }, view([c('a', 'running')]), Date.parse('2026-01-01T00:06:00Z'));
  assert.equal(done['phase'], 'Succeeded');
});
