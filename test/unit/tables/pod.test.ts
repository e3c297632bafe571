import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podPrinter } from '../../../src/apiserver/tables/pod.js';
import { toTable } from '../../../src/apiserver/tables/table.js';

const now = new Date('2024-05-01T12:00:00Z');

function pod(overrides: { spec?: Pod['spec']; status?: Pod['status']; metadata?: Pod['metadata'] }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7d4b9c', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z', ...overrides.metadata },
    spec: overrides.spec ?? { containers: [{ name: 'web', image: 'nginx' }], nodeName: 'node-1' },
    status: overrides.status ?? {},
  };
}

const row = (p: Pod) => podPrinter.row(p, now);

test('pod columns are NAME READY STATUS RESTARTS AGE, wide IP NODE NOMINATED NODE READINESS GATES', () => {
  assert.deepEqual(
    podPrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ],
  );
});

test('a running ready pod', () => {
  const p = pod({
    status: {
      phase: 'Running',
      podIP: '10.42.0.7',
      podIPs: [{ ip: '10.42.0.7' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2024-05-01T11:00:05Z' } } }],
    },
  });
  assert.deepEqual(row(p), ['web-7d4b9c', '1/1', 'Running', '0', '60m', '10.42.0.7', 'node-1', '<none>', '<none>']);
});

test('a pod in CrashLoopBackOff with 3 restarts shows when it last restarted', () => {
  const p = pod({
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'web',
          image: 'nginx',
          imageID: '',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2024-05-01T11:54:50Z', finishedAt: '2024-05-01T11:55:00Z' } },
        },
      ],
    },
  });
  const cells = row(p);
  assert.equal(cells[1], '0/1');
  assert.equal(cells[2], 'CrashLoopBackOff');
  assert.equal(cells[3], '3 (5m ago)');
  assert.equal(cells[5], '<none>');
});

test('a pending pod whose image is being pulled', () => {
  const p = pod({
    status: {
      phase: 'Pending',
      containerStatuses: [{ name: 'web', image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
    },
  });
  assert.deepEqual(row(p).slice(1, 4), ['0/1', 'ContainerCreating', '0']);
});

test('an unscheduled pod is Pending with no node', () => {
  const p = pod({ spec: { containers: [{ name: 'a' }, { name: 'b' }] }, status: { phase: 'Pending' } });
  assert.deepEqual(row(p), ['web-7d4b9c', '0/2', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>']);
});

test('init containers: progress, then a failing init container', () => {
  const spec = { containers: [{ name: 'app' }], initContainers: [{ name: 'migrate' }, { name: 'seed' }] };
  const progressing = pod({
    spec,
    status: {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'migrate', image: '', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: '2024-05-01T11:59:00Z' } } },
        { name: 'seed', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
      ],
      containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    },
  });
  assert.deepEqual(row(progressing).slice(1, 4), ['0/1', 'Init:0/2', '0']);

  const crashing = pod({
    spec,
    status: {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'migrate', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        {
          name: 'seed',
          image: '',
          imageID: '',
          ready: false,
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, finishedAt: '2024-05-01T11:58:00Z' } },
        },
      ],
    },
  });
  assert.deepEqual(row(crashing).slice(1, 4), ['0/1', 'Init:CrashLoopBackOff', '2 (2m ago)']);

  const failed = pod({
    spec,
    status: {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'migrate', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }],
    },
  });
  assert.equal(row(failed)[2], 'Init:ExitCode:3');
});

test('a restartable init container (sidecar) counts toward READY', () => {
  const p = pod({
    spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      initContainerStatuses: [{ name: 'proxy', image: '', imageID: '', ready: true, started: true, restartCount: 1, state: { running: {} } }],
      containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
    },
  });
  assert.deepEqual(row(p).slice(1, 4), ['2/2', 'Running', '1']);
});

test('a finished pod is Completed and carries a Completed row condition', () => {
  const p = pod({
    status: {
      phase: 'Succeeded',
      containerStatuses: [{ name: 'web', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    },
  });
  assert.deepEqual(row(p).slice(1, 4), ['0/1', 'Completed', '0']);
  const t = toTable(podPrinter, [p], {}, 'None', now);
  assert.deepEqual(t.rows[0]!.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
});

test('a container terminated without a reason shows its exit code or signal', () => {
  const exit = pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'web', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] } });
  assert.equal(row(exit)[2], 'ExitCode:137');
  const signal = pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'web', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, signal: 9 } } }] } });
  assert.equal(row(signal)[2], 'Signal:9');
});

test('a pod being deleted is Terminating, or Unknown when its node is lost', () => {
  const running = {
    phase: 'Running',
    containerStatuses: [{ name: 'web', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
  };
  assert.equal(row(pod({ metadata: { deletionTimestamp: '2024-05-01T11:59:30Z' }, status: running }))[2], 'Terminating');
  assert.equal(row(pod({ metadata: { deletionTimestamp: '2024-05-01T11:59:30Z' }, status: { ...running, reason: 'NodeLost' } }))[2], 'Unknown');
  // A pod that already finished keeps its terminal status while being deleted.
  assert.equal(row(pod({ metadata: { deletionTimestamp: '2024-05-01T11:59:30Z' }, status: { phase: 'Succeeded' } }))[2], 'Succeeded');
});

test('status reason, scheduling gates and readiness gates', () => {
  assert.equal(row(pod({ status: { phase: 'Failed', reason: 'Evicted' } }))[2], 'Evicted');
  assert.equal(row(pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } }))[2], 'SchedulingGated');
  const gated = pod({
    spec: { containers: [{ name: 'web' }], readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
    status: { phase: 'Running', nominatedNodeName: 'node-2', conditions: [{ type: 'example.com/lb', status: 'True' }] },
  });
  const cells = row(gated);
  assert.equal(cells[6], '<none>');
  assert.equal(cells[7], 'node-2');
  assert.equal(cells[8], '1/2');
});

test('a completed container next to a running one reads Running or NotReady', () => {
  const status = (ready: boolean): Pod['status'] => ({
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [
      { name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      { name: 'b', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
    ],
  });
  const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
  assert.deepEqual(row(pod({ spec, status: status(true) })).slice(1, 3), ['1/2', 'Running']);
  assert.deepEqual(row(pod({ spec, status: status(false) })).slice(1, 3), ['1/2', 'NotReady']);
});
