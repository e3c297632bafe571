import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldSetFromObject } from '../../../../src/machinery/apply/field-set.js';
import { pathToString, type Path } from '../../../../src/machinery/apply/path-element.js';
import { ApplySchemaError } from '../../../../src/machinery/apply/schema-shape.js';
import { updateManagedFields } from '../../../../src/machinery/apply/field-manager.js';
import { createdDeployment, defs, deploymentSchema, zeroDeployment } from './deployment-schema.js';

// Stored by a real API server for `kubectl create deployment nginx-0930 --image=nginx` (kubectl -v=9 log).
const KUBECTL_CREATE_FIELDS =
  '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}';

// Stored by a real API server for kube-controller-manager's status updates.
const CONTROLLER_STATUS_FIELDS =
  '{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}},"f:status":{"f:availableReplicas":{},"f:conditions":{".":{},"k:{\\"type\\":\\"Available\\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}},"k:{\\"type\\":\\"Progressing\\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}}';

// Ports keyed by two fields, env keyed by name (a real Deployment's managedFields).
const PORTS_AND_ENV_FIELDS =
  '{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"demoservice\\"}":{".":{},"f:env":{".":{},"k:{\\"name\\":\\"ARMO_TEST_NAME\\"}":{".":{},"f:name":{},"f:value":{}},"k:{\\"name\\":\\"SERVER_PORT\\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:ports":{".":{},"k:{\\"containerPort\\":8089,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}}}}}';

const f = (name: string) => ({ field: name });
const strings = (s: FieldSet): string[] => s.paths().map(pathToString);

test('FieldsV1 written by Kubernetes round-trips byte for byte', () => {
  for (const text of [KUBECTL_CREATE_FIELDS, CONTROLLER_STATUS_FIELDS, PORTS_AND_ENV_FIELDS]) {
    const set = FieldSet.fromFieldsV1(JSON.parse(text));
    assert.equal(JSON.stringify(set.toFieldsV1()), text);
    assert.ok(FieldSet.fromFieldsV1(text).equals(set), 'JSON text and parsed object decode alike');
  }
});

test('FieldsV1 decoding: "." marks a parent that is also owned, {} a leaf', () => {
  const set = FieldSet.fromFieldsV1(JSON.parse(KUBECTL_CREATE_FIELDS));
  assert.ok(set.has([f('metadata'), f('labels')]));
  assert.ok(set.has([f('metadata'), f('labels'), f('app')]));
  assert.ok(!set.has([f('spec')]), 'f:spec has no "." so spec itself is not owned');
  assert.ok(set.has([f('spec'), f('selector')]));
  assert.ok(set.has([f('spec'), f('template'), f('spec'), f('containers'), { key: [['name', 'nginx']] }]));
  assert.ok(set.has([f('spec'), f('template'), f('spec'), f('containers'), { key: [['name', 'nginx']] }, f('image')]));
});

test('FieldsV1 encoding sorts keys as Kubernetes does, whatever the insertion order', () => {
  const paths: Path[] = [
    [f('spec'), f('template'), f('spec'), f('containers'), { key: [['name', 'web']] }, f('ports'), { key: [['containerPort', 10], ['protocol', 'TCP']] }],
    [f('spec'), f('replicas')],
    [f('spec'), f('template'), f('spec'), f('containers'), { key: [['name', 'web']] }, f('ports'), { key: [['containerPort', 9], ['protocol', 'TCP']] }],
    [f('metadata'), f('labels'), f('zeta')],
    [f('metadata'), f('labels'), f('Alpha')],
    [f('metadata'), f('labels')],
    [f('metadata'), f('finalizers'), { value: 'b' }],
    [f('metadata'), f('finalizers'), { value: 'a' }],
  ];
  const set = FieldSet.fromPaths(paths);
  assert.equal(
    JSON.stringify(set.toFieldsV1()),
    '{"f:metadata":{"f:finalizers":{"v:\\"a\\"":{},"v:\\"b\\"":{}},"f:labels":{".":{},"f:Alpha":{},"f:zeta":{}}},' +
      '"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{"f:ports":{' +
      '"k:{\\"containerPort\\":9,\\"protocol\\":\\"TCP\\"}":{},"k:{\\"containerPort\\":10,\\"protocol\\":\\"TCP\\"}":{}}}}}}}}',
  );
});

test('set operations: union, difference, intersection, recursive difference', () => {
  const a = FieldSet.fromPaths([[f('spec'), f('replicas')], [f('spec'), f('paused')], [f('metadata'), f('labels'), f('app')]]);
  const b = FieldSet.fromPaths([[f('spec'), f('replicas')], [f('status'), f('replicas')]]);
  assert.deepEqual(strings(a.union(b)), ['.metadata.labels.app', '.spec.paused', '.spec.replicas', '.status.replicas']);
  assert.deepEqual(strings(a.difference(b)), ['.metadata.labels.app', '.spec.paused']);
  assert.deepEqual(strings(a.intersection(b)), ['.spec.replicas']);
  assert.deepEqual(strings(a.recursiveDifference(FieldSet.fromPaths([[f('spec')]]))), ['.metadata.labels.app']);
  assert.deepEqual(strings(a.difference(FieldSet.fromPaths([[f('spec')]]))), ['.metadata.labels.app', '.spec.paused', '.spec.replicas'], 'plain difference leaves children');
  assert.ok(a.difference(a).isEmpty());
});

test('fieldSetFromObject honours list types and map types', () => {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['example.com/a'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        spec: {
          containers: [{ name: 'web', image: 'nginx', command: ['sh', '-c'], ports: [{ containerPort: 80 }] }],
          nodeSelector: { disk: 'ssd' },
        },
      },
    },
  };
  const set = fieldSetFromObject(obj, deploymentSchema, defs);
  assert.deepEqual(strings(set), [
    '.apiVersion',
    '.kind',
    '.metadata.name',
    '.metadata.finalizers[="example.com/a"]',
    '.metadata.labels.app',
    '.spec.replicas',
    '.spec.selector',
    '.spec.template.spec.nodeSelector',
    '.spec.template.spec.containers[name="web"]',
    '.spec.template.spec.containers[name="web"].command',
    '.spec.template.spec.containers[name="web"].image',
    '.spec.template.spec.containers[name="web"].name',
    '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
    '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort',
  ]);
});

test('fieldSetFromObject without a schema: maps granular, lists atomic', () => {
  const set = fieldSetFromObject({ spec: { size: 3, tags: ['a', 'b'], nested: { deep: true } } }, undefined, {});
  assert.deepEqual(strings(set), ['.spec', '.spec.nested', '.spec.size', '.spec.tags', '.spec.nested.deep']);
});

test('fieldSetFromObject rejects a map-list item without its key, and duplicates when asked', () => {
  const missing = { spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } };
  assert.throws(() => fieldSetFromObject(missing, deploymentSchema, defs), (e: unknown) => e instanceof ApplySchemaError && /omits key field "name"/.test(e.message));
  const dup = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } } };
  assert.throws(() => fieldSetFromObject(dup, deploymentSchema, defs, { rejectDuplicates: true }), /duplicate entries for key \[name="a"\]/);
  const lenient = fieldSetFromObject(dup, deploymentSchema, defs);
  assert.ok(lenient.has([f('spec'), f('template'), f('spec'), f('containers'), { key: [['name', 'a']] }]));
});

test('a kubectl-created Deployment gets the managedFields a real API server stores', () => {
  const created = createdDeployment('nginx-0930', 'nginx');
  const out = updateManagedFields(
    { live: zeroDeployment(), updated: created, manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: '2024-09-30T20:19:33Z' },
    deploymentSchema,
    defs,
  );
  const entries = (out['metadata'] as Record<string, unknown>)['managedFields'] as Array<Record<string, unknown>>;
  assert.equal(entries.length, 1);
  assert.equal(
    JSON.stringify(entries[0]),
    `{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2024-09-30T20:19:33Z","fieldsType":"FieldsV1","fieldsV1":${KUBECTL_CREATE_FIELDS}}`,
  );
});
