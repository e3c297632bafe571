/**
 * Which Kubernetes API package each `@kubernetes/client-node` model class belongs to.
 *
 * client-node drops the package from its class names (`V1DeploymentSpec`, not
 * `io.k8s.api.apps.v1.DeploymentSpec`), except where two packages share a name
 * (`CoreV1Event`, `EventsV1Event`). Facts taken from the Go types of k8s.io/api,
 * apimachinery, apiextensions-apiserver and kube-aggregator: the stable (GA) packages only.
 * Unprefixed `V1…` classes not listed here are core/v1.
 */
export const TYPE_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  'io.k8s.api.admissionregistration.v1': [
    'V1ApplyConfiguration', 'V1AuditAnnotation', 'V1ExpressionWarning', 'V1JSONPatch', 'V1MatchCondition',
    'V1MatchResources', 'V1MutatingAdmissionPolicy', 'V1MutatingAdmissionPolicyBinding',
    'V1MutatingAdmissionPolicyBindingList', 'V1MutatingAdmissionPolicyBindingSpec',
    'V1MutatingAdmissionPolicyList', 'V1MutatingAdmissionPolicySpec', 'V1MutatingWebhook',
    'V1MutatingWebhookConfiguration', 'V1MutatingWebhookConfigurationList', 'V1Mutation',
    'V1NamedRuleWithOperations', 'V1ParamKind', 'V1ParamRef', 'V1RuleWithOperations', 'V1TypeChecking',
    'V1ValidatingAdmissionPolicy', 'V1ValidatingAdmissionPolicyBinding',
    'V1ValidatingAdmissionPolicyBindingList', 'V1ValidatingAdmissionPolicyBindingSpec',
    'V1ValidatingAdmissionPolicyList', 'V1ValidatingAdmissionPolicySpec',
    'V1ValidatingAdmissionPolicyStatus', 'V1ValidatingWebhook', 'V1ValidatingWebhookConfiguration',
    'V1ValidatingWebhookConfigurationList', 'V1Validation', 'V1Variable',
  ],
  'io.k8s.api.apps.v1': [
    'V1ControllerRevision', 'V1ControllerRevisionList', 'V1DaemonSet', 'V1DaemonSetCondition',
    'V1DaemonSetList', 'V1DaemonSetSpec', 'V1DaemonSetStatus', 'V1DaemonSetUpdateStrategy', 'V1Deployment',
    'V1DeploymentCondition', 'V1DeploymentList', 'V1DeploymentSpec', 'V1DeploymentStatus',
    'V1DeploymentStrategy', 'V1ReplicaSet', 'V1ReplicaSetCondition', 'V1ReplicaSetList', 'V1ReplicaSetSpec',
    'V1ReplicaSetStatus', 'V1RollingUpdateDaemonSet', 'V1RollingUpdateDeployment',
    'V1RollingUpdateStatefulSetStrategy', 'V1StatefulSet', 'V1StatefulSetCondition', 'V1StatefulSetList',
    'V1StatefulSetOrdinals', 'V1StatefulSetPersistentVolumeClaimRetentionPolicy', 'V1StatefulSetSpec',
    'V1StatefulSetStatus', 'V1StatefulSetUpdateStrategy',
  ],
  'io.k8s.api.authentication.v1': [
    'V1BoundObjectReference', 'V1SelfSubjectReview', 'V1SelfSubjectReviewStatus', 'V1TokenRequestSpec',
    'V1TokenRequestStatus', 'V1TokenReview', 'V1TokenReviewSpec', 'V1TokenReviewStatus', 'V1UserInfo',
  ],
  'io.k8s.api.authorization.v1': [
    'V1FieldSelectorAttributes', 'V1LabelSelectorAttributes', 'V1LocalSubjectAccessReview',
    'V1NonResourceAttributes', 'V1NonResourceRule', 'V1ResourceAttributes', 'V1ResourceRule',
    'V1SelfSubjectAccessReview', 'V1SelfSubjectAccessReviewSpec', 'V1SelfSubjectRulesReview',
    'V1SelfSubjectRulesReviewSpec', 'V1SubjectAccessReview', 'V1SubjectAccessReviewSpec',
    'V1SubjectAccessReviewStatus', 'V1SubjectRulesReviewStatus',
  ],
  'io.k8s.api.autoscaling.v1': [
    'V1CrossVersionObjectReference', 'V1HorizontalPodAutoscaler', 'V1HorizontalPodAutoscalerList',
    'V1HorizontalPodAutoscalerSpec', 'V1HorizontalPodAutoscalerStatus', 'V1Scale', 'V1ScaleSpec',
    'V1ScaleStatus',
  ],
  'io.k8s.api.autoscaling.v2': [
    'V2ContainerResourceMetricSource', 'V2ContainerResourceMetricStatus', 'V2CrossVersionObjectReference',
    'V2ExternalMetricSource', 'V2ExternalMetricStatus', 'V2HPAScalingPolicy', 'V2HPAScalingRules',
    'V2HorizontalPodAutoscaler', 'V2HorizontalPodAutoscalerBehavior', 'V2HorizontalPodAutoscalerCondition',
    'V2HorizontalPodAutoscalerList', 'V2HorizontalPodAutoscalerSpec', 'V2HorizontalPodAutoscalerStatus',
    'V2MetricIdentifier', 'V2MetricSpec', 'V2MetricStatus', 'V2MetricTarget', 'V2MetricValueStatus',
    'V2ObjectMetricSource', 'V2ObjectMetricStatus', 'V2PodsMetricSource', 'V2PodsMetricStatus',
    'V2ResourceMetricSource', 'V2ResourceMetricStatus',
  ],
  'io.k8s.api.batch.v1': [
    'V1CronJob', 'V1CronJobList', 'V1CronJobSpec', 'V1CronJobStatus', 'V1Job', 'V1JobCondition', 'V1JobList',
    'V1JobSpec', 'V1JobStatus', 'V1JobTemplateSpec', 'V1PodFailurePolicy',
    'V1PodFailurePolicyOnExitCodesRequirement', 'V1PodFailurePolicyOnPodConditionsPattern',
    'V1PodFailurePolicyRule', 'V1SuccessPolicy', 'V1SuccessPolicyRule', 'V1UncountedTerminatedPods',
  ],
  'io.k8s.api.certificates.v1': [
    'V1CertificateSigningRequest', 'V1CertificateSigningRequestCondition', 'V1CertificateSigningRequestList',
    'V1CertificateSigningRequestSpec', 'V1CertificateSigningRequestStatus',
  ],
  'io.k8s.api.coordination.v1': [
    'V1Lease', 'V1LeaseList', 'V1LeaseSpec',
  ],
  'io.k8s.api.discovery.v1': [
    'V1Endpoint', 'V1EndpointConditions', 'V1EndpointHints', 'V1EndpointSlice', 'V1EndpointSliceList',
    'V1ForNode', 'V1ForZone',
  ],
  'io.k8s.api.flowcontrol.v1': [
    'V1ExemptPriorityLevelConfiguration', 'V1FlowDistinguisherMethod', 'V1FlowSchema',
    'V1FlowSchemaCondition', 'V1FlowSchemaList', 'V1FlowSchemaSpec', 'V1FlowSchemaStatus', 'V1GroupSubject',
    'V1LimitResponse', 'V1LimitedPriorityLevelConfiguration', 'V1NonResourcePolicyRule',
    'V1PolicyRulesWithSubjects', 'V1PriorityLevelConfiguration', 'V1PriorityLevelConfigurationCondition',
    'V1PriorityLevelConfigurationList', 'V1PriorityLevelConfigurationReference',
    'V1PriorityLevelConfigurationSpec', 'V1PriorityLevelConfigurationStatus', 'V1QueuingConfiguration',
    'V1ResourcePolicyRule', 'V1ServiceAccountSubject', 'V1UserSubject',
  ],
  'io.k8s.api.networking.v1': [
    'V1HTTPIngressPath', 'V1HTTPIngressRuleValue', 'V1IPAddress', 'V1IPAddressList', 'V1IPAddressSpec',
    'V1IPBlock', 'V1Ingress', 'V1IngressBackend', 'V1IngressClass', 'V1IngressClassList',
    'V1IngressClassParametersReference', 'V1IngressClassSpec', 'V1IngressList',
    'V1IngressLoadBalancerIngress', 'V1IngressLoadBalancerStatus', 'V1IngressPortStatus', 'V1IngressRule',
    'V1IngressServiceBackend', 'V1IngressSpec', 'V1IngressStatus', 'V1IngressTLS', 'V1NetworkPolicy',
    'V1NetworkPolicyEgressRule', 'V1NetworkPolicyIngressRule', 'V1NetworkPolicyList', 'V1NetworkPolicyPeer',
    'V1NetworkPolicyPort', 'V1NetworkPolicySpec', 'V1ParentReference', 'V1ServiceBackendPort',
    'V1ServiceCIDR', 'V1ServiceCIDRList', 'V1ServiceCIDRSpec', 'V1ServiceCIDRStatus',
  ],
  'io.k8s.api.node.v1': [
    'V1Overhead', 'V1RuntimeClass', 'V1RuntimeClassList', 'V1Scheduling',
  ],
  'io.k8s.api.policy.v1': [
    'V1Eviction', 'V1PodDisruptionBudget', 'V1PodDisruptionBudgetList', 'V1PodDisruptionBudgetSpec',
    'V1PodDisruptionBudgetStatus',
  ],
  'io.k8s.api.rbac.v1': [
    'V1AggregationRule', 'V1ClusterRole', 'V1ClusterRoleBinding', 'V1ClusterRoleBindingList',
    'V1ClusterRoleList', 'V1PolicyRule', 'V1Role', 'V1RoleBinding', 'V1RoleBindingList', 'V1RoleList',
    'V1RoleRef',
  ],
  'io.k8s.api.resource.v1': [
    'V1AllocatedDeviceStatus', 'V1NodeAllocatableResourceMapping', 'V1AllocationResult', 'V1CELDeviceSelector', 'V1CapacityRequestPolicy',
    'V1CapacityRequestPolicyRange', 'V1CapacityRequirements', 'V1Counter', 'V1CounterSet', 'V1Device',
    'V1DeviceAllocationConfiguration', 'V1DeviceAllocationResult', 'V1DeviceAttribute', 'V1DeviceCapacity',
    'V1DeviceClaim', 'V1DeviceClaimConfiguration', 'V1DeviceClass', 'V1DeviceClassConfiguration',
    'V1DeviceClassList', 'V1DeviceClassSpec', 'V1DeviceConstraint', 'V1DeviceCounterConsumption',
    'V1DeviceRequest', 'V1DeviceRequestAllocationResult', 'V1DeviceSelector', 'V1DeviceSubRequest',
    'V1DeviceTaint', 'V1DeviceToleration', 'V1ExactDeviceRequest', 'V1NetworkDeviceData',
    'V1OpaqueDeviceConfiguration', 'V1ResourceClaimConsumerReference', 'V1ResourceClaimList',
    'V1ResourceClaimSpec', 'V1ResourceClaimStatus', 'V1ResourceClaimTemplate', 'V1ResourceClaimTemplateList',
    'V1ResourceClaimTemplateSpec', 'V1ResourcePool', 'V1ResourceSlice', 'V1ResourceSliceList',
    'V1ResourceSliceSpec',
  ],
  'io.k8s.api.scheduling.v1': [
    'V1PriorityClass', 'V1PriorityClassList',
  ],
  'io.k8s.api.storage.v1': [
    'V1CSIDriver', 'V1CSIDriverList', 'V1CSIDriverSpec', 'V1CSINode', 'V1CSINodeDriver', 'V1CSINodeList',
    'V1CSINodeSpec', 'V1CSIStorageCapacity', 'V1CSIStorageCapacityList', 'V1StorageClass',
    'V1StorageClassList', 'V1VolumeAttachment', 'V1VolumeAttachmentList', 'V1VolumeAttachmentSource',
    'V1VolumeAttachmentSpec', 'V1VolumeAttachmentStatus', 'V1VolumeAttributesClass',
    'V1VolumeAttributesClassList', 'V1VolumeError', 'V1VolumeNodeResources',
  ],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1': [
    'V1CustomResourceColumnDefinition', 'V1CustomResourceConversion', 'V1CustomResourceDefinition',
    'V1CustomResourceDefinitionCondition', 'V1CustomResourceDefinitionList',
    'V1CustomResourceDefinitionNames', 'V1CustomResourceDefinitionSpec', 'V1CustomResourceDefinitionStatus',
    'V1CustomResourceDefinitionVersion', 'V1CustomResourceSubresourceScale', 'V1CustomResourceSubresources',
    'V1CustomResourceValidation', 'V1ExternalDocumentation', 'V1JSONSchemaProps', 'V1SelectableField',
    'V1ValidationRule', 'V1WebhookConversion',
  ],
  'io.k8s.apimachinery.pkg.apis.meta.v1': [
    'V1APIGroup', 'V1APIGroupList', 'V1Preconditions', 'V1APIResource', 'V1APIResourceList', 'V1APIVersions', 'V1Condition',
    'V1DeleteOptions', 'V1FieldSelectorRequirement', 'V1GroupResource', 'V1GroupVersionForDiscovery',
    'V1LabelSelector', 'V1LabelSelectorRequirement', 'V1ListMeta', 'V1ManagedFieldsEntry', 'V1ObjectMeta',
    'V1OwnerReference', 'V1ServerAddressByClientCIDR', 'V1ShardInfo', 'V1Status', 'V1StatusCause',
    'V1StatusDetails', 'V1WatchEvent',
  ],
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1': [
    'V1APIService', 'V1APIServiceCondition', 'V1APIServiceList', 'V1APIServiceSpec', 'V1APIServiceStatus',
  ],
};

/** Class-name prefixes that client-node uses when two packages share a type name. */
const PREFIXED_PACKAGES: Readonly<Record<string, string>> = {
  AdmissionregistrationV1: 'io.k8s.api.admissionregistration.v1',
  ApiextensionsV1: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
  ApiregistrationV1: 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1',
  AuthenticationV1: 'io.k8s.api.authentication.v1',
  CoreV1: 'io.k8s.api.core.v1',
  DiscoveryV1: 'io.k8s.api.discovery.v1',
  EventsV1: 'io.k8s.api.events.v1',
  FlowcontrolV1: 'io.k8s.api.flowcontrol.v1',
  RbacV1: 'io.k8s.api.rbac.v1',
  ResourceV1: 'io.k8s.api.resource.v1',
  StorageV1: 'io.k8s.api.storage.v1',
};

/** Classes left out: stale models of removed fields, or names claimed by more than one package. */
const SKIPPED_CLASSES: ReadonlySet<string> = new Set([
  'V1ClaimSource', 'V1WorkloadReference', 'V1ResourceClaim',
]);

const CLASS_PACKAGE: ReadonlyMap<string, string> = new Map(
  Object.entries(TYPE_PACKAGES).flatMap(([pkg, classes]) => classes.map((c): [string, string] => [c, pkg])),
);

/**
 * The OpenAPI definition name of a client-node model class (`V1Pod` → `io.k8s.api.core.v1.Pod`),
 * or undefined for classes outside the stable API (alpha/beta versions, stale models).
 */
export function definitionNameOfClass(className: string): string | undefined {
  if (SKIPPED_CLASSES.has(className)) return undefined;
  if (className === 'VersionInfo') return 'io.k8s.apimachinery.pkg.version.Info';
  const prefixed = /^([A-Z][a-z]+V\d+)([A-Z]\w*)$/.exec(className);
  if (prefixed) {
    const pkg = PREFIXED_PACKAGES[prefixed[1]!];
    return pkg ? `${pkg}.${prefixed[2]!}` : undefined;
  }
  const plain = /^V\d+([A-Z]\w*)$/.exec(className);
  if (!plain) return undefined; // V1beta1…, V1alpha1…: not stable
  const pkg = CLASS_PACKAGE.get(className) ?? (className.startsWith('V1') ? 'io.k8s.api.core.v1' : undefined);
  return pkg ? `${pkg}.${plain[1]!}` : undefined;
}

/** The API group of a definition package (`io.k8s.api.apps.v1` → `apps`, core → ``). */
export function groupOfPackage(pkg: string): string | undefined {
  const m = /^io\.k8s\.api\.([a-z]+)\.(v\w+)$/.exec(pkg);
  if (m) return API_GROUPS[m[1]!];
  if (pkg === 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1') return 'apiextensions.k8s.io';
  if (pkg === 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1') return 'apiregistration.k8s.io';
  return undefined;
}

/** Go package directory under k8s.io/api → API group name. */
const API_GROUPS: Readonly<Record<string, string>> = {
  core: '', apps: 'apps', batch: 'batch', autoscaling: 'autoscaling', policy: 'policy',
  admissionregistration: 'admissionregistration.k8s.io', authentication: 'authentication.k8s.io',
  authorization: 'authorization.k8s.io', certificates: 'certificates.k8s.io', coordination: 'coordination.k8s.io',
  discovery: 'discovery.k8s.io', events: 'events.k8s.io', flowcontrol: 'flowcontrol.apiserver.k8s.io',
  networking: 'networking.k8s.io', node: 'node.k8s.io', rbac: 'rbac.authorization.k8s.io',
  resource: 'resource.k8s.io', scheduling: 'scheduling.k8s.io', storage: 'storage.k8s.io',
  storagemigration: 'storagemigration.k8s.io', apiserverinternal: 'internal.apiserver.k8s.io',
};

/** The definition package (`io.k8s.api.apps.v1`) of a group/version, for the built-in groups. */
export function packageOfGroupVersion(group: string, version: string): string | undefined {
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  if (group === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}`;
  for (const [dir, g] of Object.entries(API_GROUPS)) if (g === group) return `io.k8s.api.${dir}.${version}`;
  return undefined;
}
