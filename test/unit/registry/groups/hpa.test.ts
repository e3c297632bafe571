import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import { hpaConverter, metricSpecsAnnotation } from '../../../../src/apiserver/registry/resources/autoscaling/hpa-conversion.js';
import { ctx, dig, rejection, storeFor, write } from './harness.js';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

test('v1 targetCPUUtilizationPercentage becomes a v2 CPU Utilization metric and back', () => {
  const v1: KubeObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', annotations: { owner: 'me' } },
    spec: { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
  };
  const v2 = hpaConverter.toStorage(structuredClone(v1), 'v1');
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(dig(v2, 'spec', 'metrics'), [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  const back = hpaConverter.fromStorage(v2, 'v1');
  assert.deepEqual(back.spec, v1.spec);
  assert.deepEqual(back.metadata?.annotations, { owner: 'me' });
});

test('v1 without a CPU target means 80% in v2', () => {
  const v2 = hpaConverter.toStorage({ metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } }, 'v1');
  assert.deepEqual(dig(v2, 'spec', 'metrics'), [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
});

test('v2 metrics v1 cannot express survive v2 → v1 → v2 in annotations', () => {
  const v2: KubeObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] } },
    },
    status: {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '450m' } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', lastTransitionTime: '2024-05-01T10:00:00Z' }],
    },
  };
  const v1 = hpaConverter.fromStorage(structuredClone(v2), 'v1');
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(dig(v1, 'spec', 'targetCPUUtilizationPercentage'), 70);
  assert.equal(dig(v1, 'spec', 'metrics'), undefined);
  assert.deepEqual(JSON.parse(v1.metadata?.annotations?.[metricSpecsAnnotation] ?? ''), [
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } },
    { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } },
  ]);
  assert.deepEqual(v1.status, { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 90 });

  const again = hpaConverter.toStorage(v1, 'v1');
  // The CPU target comes last after a round trip, as in Kubernetes.
  assert.deepEqual(dig(again, 'spec', 'metrics'), [
    (v2.spec as { metrics: unknown[] }).metrics[0],
    (v2.spec as { metrics: unknown[] }).metrics[1],
    (v2.spec as { metrics: unknown[] }).metrics[2],
  ]);
  assert.deepEqual(dig(again, 'spec', 'behavior'), dig(v2, 'spec', 'behavior'));
  assert.deepEqual(again.status, v2.status);
  assert.equal(again.metadata?.annotations, undefined);
});

test('HPA defaults and validation', async () => {
  const store = storeFor('autoscaling', 'horizontalpodautoscalers');
  const created = await store.create('default', { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, maxReplicas: 4, behavior: { scaleUp: { stabilizationWindowSeconds: 30 } } } }, ctx(), write);
  assert.equal(dig(created, 'spec', 'minReplicas'), 1);
  assert.deepEqual(dig(created, 'spec', 'metrics'), [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(dig(created, 'spec', 'behavior', 'scaleUp'), {
    stabilizationWindowSeconds: 30,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  });
  assert.equal(dig(created, 'spec', 'behavior', 'scaleDown', 'stabilizationWindowSeconds'), 300);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'a' }, spec: { scaleTargetRef: ref, minReplicas: 5, maxReplicas: 3 } }, ctx(), write)),
    'HorizontalPodAutoscaler.autoscaling "a" is invalid: spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'b' }, spec: { scaleTargetRef: { kind: 'Deployment' }, minReplicas: 0, maxReplicas: 3 } }, ctx(), write)),
    'HorizontalPodAutoscaler.autoscaling "b" is invalid: [spec.minReplicas: Invalid value: 0: must be greater than or equal to 1, spec.scaleTargetRef.name: Required value]',
  );
});
