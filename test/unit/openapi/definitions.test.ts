import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenAPISchema, SchemaDefinitions } from '../../../src/machinery/openapi-schema.js';
import { resolveSchema } from '../../../src/machinery/openapi-schema.js';
import { generateDefinitions } from '../../../src/apiserver/openapi/generate-definitions.js';
import { definitionNameOfClass } from '../../../src/apiserver/openapi/type-packages.js';

const { definitions: defs, unresolved } = generateDefinitions();
const def = (name: string): OpenAPISchema => {
  const d = defs[name];
  assert.ok(d, `definition ${name} exists`);
  return d;
};
const prop = (name: string, field: string): OpenAPISchema => {
  const p = def(name).properties?.[field];
  assert.ok(p, `${name}.${field} exists`);
  return p;
};

test('every client-node class the stable models reference maps to a definition', () => {
  assert.deepEqual(unresolved, []);
});

test('client-node class names map to Kubernetes definition names', () => {
  assert.equal(definitionNameOfClass('V1Pod'), 'io.k8s.api.core.v1.Pod');
  assert.equal(definitionNameOfClass('V1Deployment'), 'io.k8s.api.apps.v1.Deployment');
  assert.equal(definitionNameOfClass('V2HorizontalPodAutoscaler'), 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler');
  assert.equal(definitionNameOfClass('V1ObjectMeta'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.equal(definitionNameOfClass('V1Preconditions'), 'io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions');
  assert.equal(definitionNameOfClass('EventsV1Event'), 'io.k8s.api.events.v1.Event');
  assert.equal(definitionNameOfClass('CoreV1Event'), 'io.k8s.api.core.v1.Event');
  assert.equal(definitionNameOfClass('RbacV1Subject'), 'io.k8s.api.rbac.v1.Subject');
  assert.equal(definitionNameOfClass('V1CustomResourceDefinition'), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
  assert.equal(definitionNameOfClass('V1APIService'), 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService');
  assert.equal(definitionNameOfClass('V1beta1DeviceClass'), undefined);
});

test('every $ref points at a definition', () => {
  const dangling: string[] = [];
  const walk = (s: OpenAPISchema, at: string): void => {
    if (s.$ref && !defs[s.$ref.replace('#/definitions/', '')]) dangling.push(`${at} -> ${s.$ref}`);
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}.${k}`);
    if (s.items) walk(s.items, `${at}[]`);
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${at}{}`);
  };
  for (const [n, s] of Object.entries(defs)) walk(s, n);
  assert.deepEqual(dangling, []);
});

test('Pod: kind, group-version-kind, required containers, descriptions', () => {
  const pod = def('io.k8s.api.core.v1.Pod');
  assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
  assert.match(pod.description ?? '', /collection of containers/);
  assert.equal(prop('io.k8s.api.core.v1.Pod', 'spec').$ref, '#/definitions/io.k8s.api.core.v1.PodSpec');
  const spec = def('io.k8s.api.core.v1.PodSpec');
  assert.deepEqual(spec.required, ['containers']);
  assert.match(prop('io.k8s.api.core.v1.PodSpec', 'containers').description ?? '', /List of containers belonging to the pod/);
  assert.deepEqual(def('io.k8s.api.core.v1.Container').required, ['name']);
  assert.deepEqual(prop('io.k8s.api.core.v1.PodSpec', 'terminationGracePeriodSeconds'), {
    type: 'integer',
    format: 'int64',
    description: prop('io.k8s.api.core.v1.PodSpec', 'terminationGracePeriodSeconds').description,
  });
});

test('strategic merge and apply extensions from our table', () => {
  const containers = prop('io.k8s.api.core.v1.PodSpec', 'containers');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  const ports = prop('io.k8s.api.core.v1.Container', 'ports');
  assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.deepEqual(prop('io.k8s.api.core.v1.ServiceSpec', 'ports')['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  assert.equal(prop('io.k8s.api.core.v1.Container', 'env')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop('io.k8s.api.core.v1.Container', 'volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentStatus', 'conditions')['x-kubernetes-patch-merge-key'], 'type');
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers')['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(prop('io.k8s.api.core.v1.NodeSelector', 'nodeSelectorTerms')['x-kubernetes-list-type'], 'atomic');
  assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')['x-kubernetes-map-type'], 'atomic');
  assert.equal(prop('io.k8s.api.rbac.v1.ClusterRole', 'rules')['x-kubernetes-list-type'], 'atomic');
  // Fields without markers stay plain.
  assert.equal(prop('io.k8s.api.core.v1.Container', 'image')['x-kubernetes-list-type'], undefined);
});

test('special types: Quantity, IntOrString, Time, RawExtension, FieldsV1', () => {
  const limits = prop('io.k8s.api.core.v1.ResourceRequirements', 'limits');
  assert.equal(limits.type, 'object');
  assert.deepEqual(limits.additionalProperties, { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  assert.equal(prop('io.k8s.api.core.v1.EmptyDirVolumeSource', 'sizeLimit').$ref, '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity');
  assert.equal(prop('io.k8s.api.core.v1.ServicePort', 'targetPort').$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(def('io.k8s.apimachinery.pkg.util.intstr.IntOrString').format, 'int-or-string');
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'creationTimestamp').$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  assert.deepEqual(
    { type: def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').type, format: def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').format },
    { type: 'string', format: 'date-time' },
  );
  assert.equal(prop('io.k8s.api.apps.v1.ControllerRevision', 'data').$ref, '#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension');
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry', 'fieldsV1').$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1');
  assert.equal(prop('io.k8s.api.coordination.v1.LeaseSpec', 'renewTime').$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime');
  assert.equal(prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties && (prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties as OpenAPISchema).format, 'byte');
});

test('group-version-kinds of lists, subresource kinds and meta kinds', () => {
  const gvk = (n: string): unknown => def(n)['x-kubernetes-group-version-kind'];
  assert.deepEqual(gvk('io.k8s.api.apps.v1.DeploymentList'), [{ group: 'apps', version: 'v1', kind: 'DeploymentList' }]);
  assert.deepEqual(gvk('io.k8s.api.autoscaling.v1.Scale'), [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
  assert.deepEqual(gvk('io.k8s.api.networking.v1.Ingress'), [{ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }]);
  assert.deepEqual(gvk('io.k8s.api.rbac.v1.ClusterRoleBinding'), [{ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding' }]);
  assert.deepEqual(gvk('io.k8s.apimachinery.pkg.apis.meta.v1.Status'), [{ group: '', version: 'v1', kind: 'Status' }]);
  const del = gvk('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions') as Array<{ group: string }>;
  assert.ok(del.some((g) => g.group === '') && del.some((g) => g.group === 'apps') && del.some((g) => g.group === 'batch'));
  assert.equal(gvk('io.k8s.api.core.v1.PodSpec'), undefined);
  assert.equal(gvk('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), undefined);
});

test('resolveSchema walks from Deployment to its pod template containers', () => {
  const d: SchemaDefinitions = defs;
  const spec = resolveSchema(prop('io.k8s.api.apps.v1.Deployment', 'spec'), d);
  const template = resolveSchema(spec?.properties?.['template'], d);
  const podSpec = resolveSchema(template?.properties?.['spec'], d);
  assert.equal(podSpec?.properties?.['containers']?.['x-kubernetes-patch-merge-key'], 'name');
});
