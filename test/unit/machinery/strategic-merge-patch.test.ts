import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenAPISchema, SchemaDefinitions } from '../../../src/machinery/openapi-schema.js';
import { StatusError } from '../../../src/machinery/status-error.js';
import { applyStrategicMergePatch } from '../../../src/machinery/strategic-merge-patch.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1.js';

// A hand-built slice of the Kubernetes OpenAPI definitions with the same patch extensions.
const ref = (name: string): OpenAPISchema => ({ $ref: `#/definitions/${name}` });
const str: OpenAPISchema = { type: 'string' };
const stringMap: OpenAPISchema = { type: 'object', additionalProperties: str };
const mergeList = (item: string, key: string, strategy = 'merge'): OpenAPISchema => ({
  type: 'array',
  items: ref(item),
  'x-kubernetes-patch-merge-key': key,
  'x-kubernetes-patch-strategy': strategy,
});

const defs: SchemaDefinitions = {
  ObjectMeta: {
    type: 'object',
    properties: {
      name: str,
      labels: stringMap,
      annotations: stringMap,
      finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge' },
    },
  },
  Pod: { type: 'object', properties: { apiVersion: str, kind: str, metadata: { allOf: [ref('ObjectMeta')] }, spec: { allOf: [ref('PodSpec')] } } },
  PodSpec: {
    type: 'object',
    properties: {
      containers: mergeList('Container', 'name'),
      initContainers: mergeList('Container', 'name'),
      volumes: mergeList('Volume', 'name', 'merge,retainKeys'),
      tolerations: { type: 'array', items: ref('Toleration') },
      nodeSelector: stringMap,
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: str,
      image: str,
      imagePullPolicy: str,
      args: { type: 'array', items: str },
      env: mergeList('EnvVar', 'name'),
      ports: mergeList('ContainerPort', 'containerPort'),
      volumeMounts: mergeList('VolumeMount', 'mountPath'),
    },
  },
  EnvVar: { type: 'object', properties: { name: str, value: str, valueFrom: { type: 'object' } } },
  ContainerPort: { type: 'object', properties: { containerPort: { type: 'integer' }, name: str, protocol: str } },
  VolumeMount: { type: 'object', properties: { name: str, mountPath: str } },
  Volume: { type: 'object', properties: { name: str, emptyDir: { type: 'object' }, configMap: { type: 'object' } } },
  Toleration: { type: 'object', properties: { key: str, operator: str, effect: str } },
  Deployment: { type: 'object', properties: { metadata: ref('ObjectMeta'), spec: ref('DeploymentSpec') } },
  DeploymentSpec: {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      template: ref('PodTemplateSpec'),
      strategy: { allOf: [ref('DeploymentStrategy')], 'x-kubernetes-patch-strategy': 'retainKeys' },
    },
  },
  PodTemplateSpec: { type: 'object', properties: { metadata: ref('ObjectMeta'), spec: ref('PodSpec') } },
  DeploymentStrategy: { type: 'object', properties: { type: str, rollingUpdate: { type: 'object' } } },
};
const podSchema = ref('Pod');
const deploySchema = ref('Deployment');

function webDeployment(): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              imagePullPolicy: 'IfNotPresent',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
            },
            { name: 'log', image: 'busybox', args: ['tail', '-f'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'a', operator: 'Exists' }],
        },
      },
    },
  };
}

const smp = (orig: unknown, patch: unknown): Deployment => applyStrategicMergePatch(orig, patch, deploySchema, defs) as Deployment;
const smpPod = (orig: unknown, patch: unknown): Pod => applyStrategicMergePatch(orig, patch, podSchema, defs) as Pod;
const podSpec = (d: Deployment): PodSpec => d.spec!.template.spec!;
const names = (cs: Container[] | undefined): string[] => (cs ?? []).map((c) => c.name);

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

test('kubectl apply changing an image: three-way patch keeps server fields and other containers', () => {
  const original = webDeployment();
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1"}\n' } },
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }], containers: [{ image: 'nginx:1.26', name: 'web' }] } } },
  };
  const out = smp(original, patch);
  const [web, log] = podSpec(out).containers as [Container, Container];
  assert.equal(web.image, 'nginx:1.26');
  assert.equal(web.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(web.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '2' },
  ]);
  assert.deepEqual(log, { name: 'log', image: 'busybox', args: ['tail', '-f'] });
  assert.equal(out.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(out.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'], '{"apiVersion":"apps/v1"}\n');
  assert.ok(!('$setElementOrder/containers' in podSpec(out)));
  // Inputs are not modified.
  assert.equal(podSpec(original).containers[0]!.image, 'nginx:1.25');
  assert.ok('$setElementOrder/containers' in patch.spec.template.spec);
});

test('kubectl apply removing an env var: $patch delete with $setElementOrder/env', () => {
  const patch = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
          containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], name: 'web' }],
        },
      },
    },
  };
  const web = podSpec(smp(webDeployment(), patch)).containers[0]!;
  assert.deepEqual(web.env, [{ name: 'A', value: '1' }]);
  assert.equal(web.image, 'nginx:1.25');
});

test('changing one env var value merges on name', () => {
  const patch = { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: 'two' }] }] } } } };
  const web = podSpec(smp(webDeployment(), patch)).containers.find((c) => c.name === 'web')!;
  assert.deepEqual(web.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: 'two' },
  ]);
});

test('reordering containers with $setElementOrder only', () => {
  const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'log' }, { name: 'web' }] } } } };
  const out = smp(webDeployment(), patch);
  assert.deepEqual(names(podSpec(out).containers), ['log', 'web']);
  assert.equal(podSpec(out).containers[1]!.image, 'nginx:1.25');
});

test('adding a port merges on containerPort and follows $setElementOrder/ports', () => {
  const patch = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
          containers: [{ name: 'web', '$setElementOrder/ports': [{ containerPort: 443 }, { containerPort: 80 }], ports: [{ containerPort: 443, protocol: 'TCP' }] }],
        },
      },
    },
  };
  const web = podSpec(smp(webDeployment(), patch)).containers[0]!;
  assert.deepEqual(web.ports, [
    { containerPort: 443, protocol: 'TCP' },
    { containerPort: 80, protocol: 'TCP' },
  ]);
});

test('server-only list items keep their place between applied ones', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }, { name: 's', image: 'injected' }, { name: 'b' }] } };
  const patch = { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }], containers: [{ name: 'c', image: 'new' }] } };
  const out = smpPod(pod, patch);
  assert.deepEqual(names(out.spec!.containers), ['a', 's', 'b', 'c']);
});

test('kubectl patch without order directives: new items come first, as in Kubernetes', () => {
  const patch = { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy' }] } } } };
  const out = smp(webDeployment(), patch);
  assert.deepEqual(names(podSpec(out).containers), ['sidecar', 'web', 'log']);
});

test('primitive merge list (finalizers): set union, deletions and order', () => {
  const pod = { metadata: { name: 'p', finalizers: ['a', 'b'] } };
  assert.deepEqual(smpPod(pod, { metadata: { finalizers: ['c', 'a'] } }).metadata!.finalizers, ['c', 'a', 'b']);
  const applied = smpPod(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'], '$setElementOrder/finalizers': ['a', 'c'], finalizers: ['c'] } });
  assert.deepEqual(applied.metadata!.finalizers, ['a', 'c']);
  assert.deepEqual(smpPod(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'b'] } }).metadata!.finalizers, []);
  // Deleting from a list the object does not have changes nothing.
  assert.deepEqual(smpPod({ metadata: { name: 'p' } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }).metadata, { name: 'p' });
  // The whole list can still be removed with null.
  assert.ok(!('finalizers' in smpPod(pod, { metadata: { finalizers: null } }).metadata!));
});

test('$retainKeys switches the Deployment strategy and drops rollingUpdate', () => {
  const out = smp(webDeployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  assert.deepEqual(out.spec!.strategy, { type: 'Recreate' });
  // Without the directive the map merges.
  const merged = smp(webDeployment(), { spec: { strategy: { type: 'Recreate' } } });
  assert.deepEqual(merged.spec!.strategy, { type: 'Recreate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
});

test('$retainKeys inside a volume switches its source', () => {
  const patch = {
    spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'data' }], volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }] } } },
  };
  assert.deepEqual(podSpec(smp(webDeployment(), patch)).volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);
});

test('$patch: replace on a list and on a map, $patch: delete on a map', () => {
  const replaced = smp(webDeployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } });
  assert.deepEqual(podSpec(replaced).containers, [{ name: 'only', image: 'x' }]);

  const base = webDeployment();
  podSpec(base).nodeSelector = { disk: 'ssd', zone: 'a' };
  const sel = smp(base, { spec: { template: { spec: { nodeSelector: { $patch: 'replace', zone: 'b' } } } } });
  assert.deepEqual(podSpec(sel).nodeSelector, { zone: 'b' });

  const del = smp(webDeployment(), { metadata: { labels: { $patch: 'delete' } } });
  assert.deepEqual(del.metadata!.labels, {});
});

test('lists without a merge strategy are replaced', () => {
  const out = smp(webDeployment(), {
    spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'log', args: ['sleep', '1'] }] } } },
  });
  assert.deepEqual(podSpec(out).tolerations, [{ key: 'b', operator: 'Exists' }]);
  assert.deepEqual(podSpec(out).containers.find((c) => c.name === 'log')!.args, ['sleep', '1']);
});

test('null deletes; new values drop nulls and directives', () => {
  const out = smp(webDeployment(), {
    metadata: { labels: { app: null, env: 'prod' } },
    spec: { replicas: null, template: { spec: { nodeSelector: { disk: 'ssd', gone: null }, initContainers: [{ name: 'init', image: 'x', env: [{ $patch: 'delete', name: 'Z' }] }] } } },
  });
  assert.deepEqual(out.metadata!.labels, { env: 'prod' });
  assert.ok(!('replicas' in out.spec!));
  assert.deepEqual(podSpec(out).nodeSelector, { disk: 'ssd' });
  assert.deepEqual(podSpec(out).initContainers, [{ name: 'init', image: 'x', env: [] }]);
});

test('fields without a schema fall back to merge-patch behaviour', () => {
  const orig = { spec: { custom: { a: 1, b: { c: 2 } }, items: [{ name: 'x', v: 1 }] } };
  const out = applyStrategicMergePatch(orig, { spec: { custom: { b: { d: 3 }, a: null }, items: [{ name: 'x', w: 2 }] } }, undefined, defs);
  assert.deepEqual(out, { spec: { custom: { b: { c: 2, d: 3 } }, items: [{ name: 'x', w: 2 }] } });
  const unknownInKnown = smp(webDeployment(), { spec: { extra: { list: [1] } } });
  assert.deepEqual((unknownInKnown.spec as unknown as Record<string, unknown>).extra, { list: [1] });
});

test('malformed patches get the status Kubernetes answers with', () => {
  assert.equal(statusOf(() => smp(webDeployment(), [])).code, 400);
  const retain = statusOf(() => smp(webDeployment(), { spec: { strategy: { $retainKeys: 'type', type: 'Recreate' } } }));
  assert.equal(retain.code, 400);
  assert.equal(retain.message, 'invalid patch format of retainKeys');
  assert.equal(statusOf(() => smp(webDeployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } })).message, 'invalid patch format of retainKeys');
  assert.equal(statusOf(() => smp(webDeployment(), { metadata: { '$deleteFromPrimitiveListfinalizers': ['a'] } })).message, 'invalid patch format of primitive list');
  const order = statusOf(() =>
    smp(webDeployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'log' }], containers: [{ name: 'web', image: 'x' }] } } } }),
  );
  assert.equal(order.code, 500);
  assert.match(order.message, /doesn't match \$setElementOrder list/);
  const badType = statusOf(() => smp(webDeployment(), { metadata: { labels: { $patch: 'merge' } } }));
  assert.equal(badType.code, 500);
  assert.match(badType.message, /^unknown patch type: merge in map: map\[\$patch:merge\]$/);
  const noKey = statusOf(() => smp(webDeployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }));
  assert.equal(noKey.message, 'map: map[image:x] does not contain declared merge key: name');
  const mixed = statusOf(() => smp(webDeployment(), { spec: { template: { spec: { containers: [['x']] } } } }));
  assert.equal(mixed.code, 500);
  assert.match(mixed.message, /^list element types are not identical/);
  const lists = statusOf(() => smpPod({ metadata: { finalizers: [] } }, { metadata: { finalizers: [['x']] } }));
  assert.equal(lists.code, 422);
  assert.equal(lists.reason, 'Invalid');
});
