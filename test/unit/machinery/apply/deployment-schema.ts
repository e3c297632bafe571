import type { OpenAPISchema, SchemaDefinitions } from '../../../../src/machinery/openapi-schema.js';

/**
 * A hand-built, cut-down OpenAPI v3 schema of apps/v1 Deployment, with the list and map markers
 * Kubernetes publishes: containers keyed by the legacy patch-merge-key only, ports by
 * containerPort+protocol (protocol defaulted), finalizers a set, labels granular, selector atomic.
 */
const ref = (name: string): OpenAPISchema => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const str: OpenAPISchema = { type: 'string' };
const int: OpenAPISchema = { type: 'integer', format: 'int32' };
const stringMap: OpenAPISchema = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const intOrString: OpenAPISchema = { 'x-kubernetes-int-or-string': true };

export const defs: SchemaDefinitions = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: { type: 'integer', format: 'int64' },
      creationTimestamp: str,
      deletionTimestamp: str,
      labels: stringMap,
      annotations: stringMap,
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: {
        type: 'array',
        items: ref('io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference'),
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': {
    type: 'object',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: { apiVersion: str, kind: str, name: str, uid: str, controller: { type: 'boolean' } },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    type: 'object',
    properties: { matchLabels: stringMap, matchExpressions: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' } },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: { ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), default: {} },
      spec: { ...ref('io.k8s.api.apps.v1.DeploymentSpec'), default: {} },
      status: { ...ref('io.k8s.api.apps.v1.DeploymentStatus'), default: {} },
    },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    required: ['selector', 'template'],
    properties: {
      replicas: int,
      minReadySeconds: int,
      paused: { type: 'boolean' },
      progressDeadlineSeconds: int,
      revisionHistoryLimit: int,
      selector: ref('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'),
      strategy: ref('io.k8s.api.apps.v1.DeploymentStrategy'),
      template: ref('io.k8s.api.core.v1.PodTemplateSpec'),
    },
  },
  'io.k8s.api.apps.v1.DeploymentStrategy': {
    type: 'object',
    properties: {
      type: str,
      rollingUpdate: { type: 'object', properties: { maxSurge: intOrString, maxUnavailable: intOrString } },
    },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    type: 'object',
    properties: {
      replicas: int,
      readyReplicas: int,
      observedGeneration: { type: 'integer', format: 'int64' },
      conditions: {
        type: 'array',
        items: { type: 'object', properties: { type: str, status: str, reason: str, message: str } },
        'x-kubernetes-list-map-keys': ['type'],
        'x-kubernetes-list-type': 'map',
      },
    },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: {
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.core.v1.PodSpec'),
    },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    properties: {
      // Built-in types mark this list only with the strategic-merge-patch key, as here.
      containers: { type: 'array', items: ref('io.k8s.api.core.v1.Container'), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      dnsPolicy: str,
      restartPolicy: str,
      schedulerName: str,
      securityContext: { type: 'object', properties: { runAsUser: { type: 'integer' }, runAsNonRoot: { type: 'boolean' } } },
      terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
      nodeSelector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
    },
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    required: ['name'],
    properties: {
      name: str,
      image: str,
      imagePullPolicy: str,
      command: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      args: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        type: 'array',
        items: ref('io.k8s.api.core.v1.ContainerPort'),
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'containerPort',
        'x-kubernetes-patch-strategy': 'merge',
      },
      env: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: str, value: str } },
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resources: { type: 'object', properties: { limits: stringMap, requests: stringMap } },
      terminationMessagePath: str,
      terminationMessagePolicy: str,
    },
  },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object',
    required: ['containerPort'],
    properties: { containerPort: int, hostPort: int, name: str, protocol: { type: 'string', default: 'TCP' } },
  },
};

export const deploymentSchema: OpenAPISchema = { $ref: '#/components/schemas/io.k8s.api.apps.v1.Deployment' };

/** What `kubectl create deployment web --image=nginx` stores once defaults are applied. */
export function createdDeployment(name = 'web', image = 'nginx'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      progressDeadlineSeconds: 600,
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: name } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { image, imagePullPolicy: 'Always', name: image, resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
          ],
          dnsPolicy: 'ClusterFirst',
          restartPolicy: 'Always',
          schedulerName: 'default-scheduler',
          securityContext: {},
          terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: {},
  };
}

/**
 * The empty Deployment the API server compares a create against: Go's zero value, whose non-pointer
 * structs (spec, strategy, template, …) exist while pointer ones (rollingUpdate, securityContext) do not.
 */
export function zeroDeployment(): Record<string, unknown> {
  return {
    metadata: { creationTimestamp: null },
    spec: { selector: null, template: { metadata: { creationTimestamp: null }, spec: { containers: null } }, strategy: {} },
    status: {},
  };
}
