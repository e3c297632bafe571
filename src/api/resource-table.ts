/**
 * The built-in resources k8ts serves: group, versions, names and discovery facts.
 * Pure data; the API server pairs each entry with a registry strategy.
 */

export interface ResourceDescriptor {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  /** The version objects are stored in (conversion happens at the edge). */
  storageVersion: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served besides the resource itself, e.g. `status`, `scale`. */
  subresources?: string[];
  /** Defaults to the eight standard verbs. */
  verbs?: string[];
  /** Objects live in another resource's storage (events.k8s.io Events are core Events). */
  sharesStorageWith?: { group: string; resource: string };
}

export const standardVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(group: string, versions: string[], resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceDescriptor> = {}): ResourceDescriptor {
  return { group, versions, storageVersion: versions[0]!, resource, kind, singular: kind.toLowerCase(), namespaced, ...extra };
}

const all = ['all'];

export const builtinResources: ResourceDescriptor[] = [
  // core/v1
  r('', ['v1'], 'bindings', 'Binding', true, { verbs: ['create'] }),
  r('', ['v1'], 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', ['v1'], 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  r('', ['v1'], 'events', 'Event', true, { shortNames: ['ev'] }),
  r('', ['v1'], 'limitranges', 'LimitRange', true, { shortNames: ['limits'] }),
  r('', ['v1'], 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['finalize', 'status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', ['v1'], 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['proxy', 'status'] }),
  r('', ['v1'], 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'] }),
  r('', ['v1'], 'persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], subresources: ['status'] }),
  r('', ['v1'], 'pods', 'Pod', true, { shortNames: ['po'], categories: all, subresources: ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status'] }),
  r('', ['v1'], 'podtemplates', 'PodTemplate', true),
  r('', ['v1'], 'replicationcontrollers', 'ReplicationController', true, { shortNames: ['rc'], categories: all, subresources: ['scale', 'status'] }),
  r('', ['v1'], 'resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'], subresources: ['status'] }),
  r('', ['v1'], 'secrets', 'Secret', true),
  r('', ['v1'], 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  r('', ['v1'], 'services', 'Service', true, { shortNames: ['svc'], categories: all, subresources: ['proxy', 'status'] }),
  // apps/v1
  r('apps', ['v1'], 'controllerrevisions', 'ControllerRevision', true),
  r('apps', ['v1'], 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: all, subresources: ['status'] }),
  r('apps', ['v1'], 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: all, subresources: ['scale', 'status'] }),
  r('apps', ['v1'], 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: all, subresources: ['scale', 'status'] }),
  r('apps', ['v1'], 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: all, subresources: ['scale', 'status'] }),
  // batch/v1
  r('batch', ['v1'], 'cronjobs', 'CronJob', true, { shortNames: ['cj'], categories: all, subresources: ['status'] }),
  r('batch', ['v1'], 'jobs', 'Job', true, { categories: all, subresources: ['status'] }),
  // autoscaling: v2 preferred and stored; v1 converted
  r('autoscaling', ['v2', 'v1'], 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, { shortNames: ['hpa'], categories: all, subresources: ['status'] }),
  // networking.k8s.io/v1
  r('networking.k8s.io', ['v1'], 'ingressclasses', 'IngressClass', false),
  r('networking.k8s.io', ['v1'], 'ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: ['status'] }),
  r('networking.k8s.io', ['v1'], 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  // rbac.authorization.k8s.io/v1
  r('rbac.authorization.k8s.io', ['v1'], 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('rbac.authorization.k8s.io', ['v1'], 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', ['v1'], 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', ['v1'], 'roles', 'Role', true),
  // coordination.k8s.io/v1
  r('coordination.k8s.io', ['v1'], 'leases', 'Lease', true),
  // discovery.k8s.io/v1
  r('discovery.k8s.io', ['v1'], 'endpointslices', 'EndpointSlice', true),
  // storage.k8s.io/v1
  r('storage.k8s.io', ['v1'], 'storageclasses', 'StorageClass', false, { shortNames: ['sc'] }),
  // policy/v1
  r('policy', ['v1'], 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'] }),
  // scheduling.k8s.io/v1
  r('scheduling.k8s.io', ['v1'], 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  // events.k8s.io/v1: stored as core/v1 Events, converted at the edge
  r('events.k8s.io', ['v1'], 'events', 'Event', true, { shortNames: ['ev'], sharesStorageWith: { group: '', resource: 'events' } }),
  // apiextensions.k8s.io/v1
  r('apiextensions.k8s.io', ['v1'], 'customresourcedefinitions', 'CustomResourceDefinition', false, { shortNames: ['crd', 'crds'], subresources: ['status'] }),
];

/**
 * Create-only resources that are answered, never stored: who am I (`kubectl auth whoami`) and
 * may I (`kubectl auth can-i`).
 */
export const reviewResources: ResourceDescriptor[] = [
  r('authentication.k8s.io', ['v1'], 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: ['create'] }),
  r('authentication.k8s.io', ['v1'], 'tokenreviews', 'TokenReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', ['v1'], 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, { verbs: ['create'] }),
  r('authorization.k8s.io', ['v1'], 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', ['v1'], 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', ['v1'], 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: ['create'] }),
];

/** Groups in the order Kubernetes lists them in `/apis`. */
export const groupOrder = [
  'apiregistration.k8s.io', 'apps', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io', 'autoscaling', 'batch',
  'certificates.k8s.io', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io',
  'apiextensions.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'flowcontrol.apiserver.k8s.io',
];
