import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../../../src/machinery/clock.js';
import type { CriClient } from '../../../../src/kubelet/cri/cri-client.js';
import { ProbeManager } from '../../../../src/kubelet/probes/probe-manager.js';
import type { ProbeKind, ProbeOutcome, ProbeTarget } from '../../../../src/kubelet/probes/run-probe.js';

const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } };

/** A manager whose probes answer from `answers[kind]` (the next queued outcome, else the last). */
function harness(answers: Partial<Record<ProbeKind, ProbeOutcome[]>>) {
  const clock = new FakeClock();
  const calls: Array<{ kind: ProbeKind; at: number; containerId: string }> = [];
  const changes: string[] = [];
  const events: string[] = [];
  const start = clock.now().getTime();
  const m = new ProbeManager({
    clock,
    onChange: (uid, name, kind, result) => changes.push(`${(clock.now().getTime() - start) / 1000}s ${uid}/${name} ${kind}=${result}`),
    onEvent: (p, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    runProbe: async (kind: ProbeKind, _probe: Probe, target: ProbeTarget) => {
      calls.push({ kind, at: (clock.now().getTime() - start) / 1000, containerId: target.containerId });
      const queue = answers[kind] ?? [{ result: 'success', output: '' }];
      return queue.length > 1 ? queue.shift()! : queue[0]!;
    },
  });
  const add = (container: Container, id = 'c1'): void => m.addContainer(pod, container, id, clock.now(), { podIP: '10.42.0.5', cri: {} as unknown as CriClient });
  return { clock, calls, changes, events, m, add };
}

const fail = (output: string): ProbeOutcome => ({ result: 'failure', output });
const ok: ProbeOutcome = { result: 'success', output: '' };

test('readiness starts false and turns true at the first success; no probe means ready', async () => {
  const h = harness({});
  h.add({ name: 'app', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 5 } });
  h.m.addContainer(pod, { name: 'plain' }, 'c2', h.clock.now(), { podIP: '', cri: {} as unknown as CriClient });
  assert.equal(h.m.result('u1', 'app', 'readiness'), 'failure');
  assert.equal(h.m.result('u1', 'app', 'liveness'), 'success');
  assert.equal(h.m.result('u1', 'plain', 'readiness'), 'success');
  assert.equal(h.m.result('u1', 'other', 'readiness'), undefined);
  await h.clock.step(0);
  assert.equal(h.m.result('u1', 'app', 'readiness'), 'success');
  assert.deepEqual(h.changes, ['0s u1/app readiness=success']);
  await h.clock.step(12);
  assert.deepEqual(h.calls.map((c) => c.at), [0]);
  await h.clock.step(10_000);
  assert.deepEqual(h.calls.map((c) => c.at), [0, 5, 10]);
});

test('liveness fails only after failureThreshold failures in a row, with an event for each, then holds', async () => {
  const h = harness({ liveness: [fail('boom'), ok, fail('boom'), fail('boom'), fail('boom')] });
  h.add({ name: 'app', livenessProbe: { exec: { command: ['check'] }, periodSeconds: 10, failureThreshold: 3 } });
  await h.clock.step(60_000);
  // A success in between resets the run: failures at 0, 20, 30, 40 → the third in a row at 40s.
  assert.deepEqual(h.changes, ['40s u1/app liveness=failure']);
  assert.equal(h.m.result('u1', 'app', 'liveness'), 'failure');
  assert.equal(h.events.length, 4);
  assert.equal(h.events[0], 'Warning Unhealthy Liveness probe failed: boom');
  // On hold: no probing of a container about to be restarted.
  assert.deepEqual(h.calls.map((c) => c.at), [0, 10, 20, 30, 40]);
  // The restarted container gets fresh workers, liveness back at success.
  h.add({ name: 'app', livenessProbe: { exec: { command: ['check'] }, periodSeconds: 10, failureThreshold: 3 } }, 'c1-restarted');
  assert.equal(h.m.result('u1', 'app', 'liveness'), 'success');
  await h.clock.step(0);
  assert.equal(h.calls.at(-1)!.containerId, 'c1-restarted');
});

test('nothing is probed before initialDelaySeconds since the container started', async () => {
  const h = harness({});
  h.add({ name: 'app', readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 15, periodSeconds: 10 } });
  await h.clock.step(30_000);
  assert.deepEqual(h.calls.map((c) => c.at), [20, 30]);
  assert.deepEqual(h.changes, ['20s u1/app readiness=success']);
});

test('successThreshold successes in a row are needed to become ready', async () => {
  const h = harness({ readiness: [ok, fail('no'), ok, ok] });
  h.add({ name: 'app', readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1, successThreshold: 2 } });
  await h.clock.step(5000);
  assert.deepEqual(h.changes, ['3s u1/app readiness=success']);
});

test('the startup probe gates liveness and readiness; readiness runs as soon as the container has started', async () => {
  const h = harness({ startup: [fail('starting'), fail('starting'), ok] });
  h.add({
    name: 'app',
    startupProbe: { exec: { command: ['s'] }, periodSeconds: 10, failureThreshold: 30 },
    livenessProbe: { exec: { command: ['l'] }, periodSeconds: 10 },
    readinessProbe: { exec: { command: ['r'] }, periodSeconds: 7 },
  });
  assert.equal(h.m.result('u1', 'app', 'startup'), 'unknown');
  await h.clock.step(19_000);
  assert.deepEqual(h.calls.map((c) => c.kind), ['startup', 'startup']);
  await h.clock.step(1000);
  assert.equal(h.m.result('u1', 'app', 'startup'), 'success');
  // Readiness at once (20s); liveness on its own tick (20s, just after startup succeeded); startup no more.
  await h.clock.step(10_000);
  assert.deepEqual(h.calls.map((c) => `${c.kind}@${c.at}`), ['startup@0', 'startup@10', 'startup@20', 'readiness@20', 'liveness@20', 'readiness@21', 'readiness@28', 'liveness@30']);
  assert.deepEqual(h.changes, ['20s u1/app startup=success', '20s u1/app readiness=success']);
});

test('a startup probe that runs out of failures reports failure and holds', async () => {
  const h = harness({ startup: [fail('not yet')] });
  h.add({ name: 'app', startupProbe: { exec: { command: ['s'] }, periodSeconds: 1, failureThreshold: 3 }, livenessProbe: { exec: { command: ['l'] } } });
  await h.clock.step(10_000);
  assert.deepEqual(h.changes, ['2s u1/app startup=failure']);
  assert.equal(h.calls.filter((c) => c.kind === 'liveness').length, 0);
  assert.deepEqual(h.events, ['Warning Unhealthy Startup probe failed: not yet', 'Warning Unhealthy Startup probe failed: not yet', 'Warning Unhealthy Startup probe failed: not yet']);
});

test('an errored probe is reported but does not count; a warning counts as success', async () => {
  const h = harness({ readiness: [{ result: 'unknown', output: 'strconv.Atoi: parsing "http": invalid syntax' }, { result: 'success', warning: true, output: 'Probe terminated redirects, Response body: ' }] });
  h.add({ name: 'app', readinessProbe: { httpGet: { port: 'http' }, periodSeconds: 10 } });
  await h.clock.step(0);
  assert.equal(h.m.result('u1', 'app', 'readiness'), 'failure');
  assert.deepEqual(h.events, ['Warning Unhealthy Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "http": invalid syntax']);
  await h.clock.step(10_000);
  assert.equal(h.m.result('u1', 'app', 'readiness'), 'success');
  assert.equal(h.events[1], 'Warning ProbeWarning Readiness probe warning: Probe terminated redirects, Response body: ');
});

test('removing a pod stops its workers and forgets its results', async () => {
  const h = harness({});
  h.add({ name: 'app', readinessProbe: { exec: { command: ['r'] }, periodSeconds: 1 } });
  await h.clock.step(2000);
  h.m.removePod('u1');
  assert.equal(h.m.result('u1', 'app', 'readiness'), undefined);
  const n = h.calls.length;
  await h.clock.step(5000);
  assert.equal(h.calls.length, n);
  assert.equal(h.clock.pendingTimers, 0);
});
