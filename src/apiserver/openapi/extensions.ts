import type { OpenAPISchema } from '../../machinery/openapi-schema.js';

/**
 * The Kubernetes OpenAPI extensions that `@kubernetes/client-node` does not carry: how strategic
 * merge patch (`x-kubernetes-patch-strategy` / `-merge-key`) and server-side apply
 * (`x-kubernetes-list-type` / `-list-map-keys` / `-map-type`) treat each field.
 *
 * Facts taken from the Go struct tags and `+listType` / `+mapType` / `+structType` markers of
 * k8s.io/api, apimachinery, apiextensions-apiserver and kube-aggregator (stable packages), limited
 * to fields client-node knows. Fields not listed have none of these extensions.
 */
export interface FieldExtensions {
  /** `merge`, `retainKeys`, `merge,retainKeys` or `replace`. */
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: readonly string[];
  mapType?: 'atomic' | 'granular';
}

/** Definition name → JSON field name → its extensions. */
export const FIELD_EXTENSIONS: Readonly<Record<string, Readonly<Record<string, FieldExtensions>>>> = {
  'io.k8s.api.admissionregistration.v1.MatchResources': {
    excludeResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.MutatingAdmissionPolicySpec': {
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    mutations: { listType: 'atomic' },
    variables: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': {
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations': {
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    operations: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.RuleWithOperations': {
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    operations: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.TypeChecking': {
    expressionWarnings: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec': {
    validationActions: { listType: 'set' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec': {
    auditAnnotations: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    validations: { listType: 'atomic' },
    variables: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': {
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.apps.v1.DaemonSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    strategy: { patchStrategy: 'retainKeys' },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.ReplicaSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.StatefulSetSpec': {
    volumeClaimTemplates: { listType: 'atomic' },
  },
  'io.k8s.api.apps.v1.StatefulSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.authentication.v1.TokenRequestSpec': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.TokenReviewSpec': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.TokenReviewStatus': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.UserInfo': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.FieldSelectorAttributes': {
    requirements: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.LabelSelectorAttributes': {
    requirements: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.NonResourceRule': {
    nonResourceURLs: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.ResourceRule': {
    apiGroups: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.SubjectAccessReviewSpec': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.SubjectRulesReviewStatus': {
    nonResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HPAScalingRules': {
    policies: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': {
    metrics: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    currentMetrics: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.CronJobStatus': {
    active: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.JobStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': {
    values: { listType: 'set' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyRule': {
    onPodConditions: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.SuccessPolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.UncountedTerminatedPods': {
    failed: { listType: 'set' },
    succeeded: { listType: 'set' },
  },
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': {
    groups: { listType: 'atomic' },
    usages: { listType: 'atomic' },
  },
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.Capabilities': {
    add: { listType: 'atomic' },
    drop: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ComponentStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.ConfigMapProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Container': {
    args: { listType: 'atomic' },
    command: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    envFrom: { listType: 'atomic' },
    ports: { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeDevices: { patchStrategy: 'merge', patchMergeKey: 'devicePath', listType: 'map', listMapKeys: ['devicePath'] },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
  },
  'io.k8s.api.core.v1.ContainerImage': {
    names: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes': {
    values: { listType: 'set' },
  },
  'io.k8s.api.core.v1.ContainerStatus': {
    allocatedResourcesStatus: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
  },
  'io.k8s.api.core.v1.DownwardAPIProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.DownwardAPIVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EndpointSubset': {
    addresses: { listType: 'atomic' },
    notReadyAddresses: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Endpoints': {
    subsets: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EphemeralContainer': {
    args: { listType: 'atomic' },
    command: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    envFrom: { listType: 'atomic' },
    ports: { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeDevices: { patchStrategy: 'merge', patchMergeKey: 'devicePath', listType: 'map', listMapKeys: ['devicePath'] },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
  },
  'io.k8s.api.core.v1.ExecAction': {
    command: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.FCVolumeSource': {
    targetWWNs: { listType: 'atomic' },
    wwids: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.HTTPGetAction': {
    httpHeaders: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.HostAlias': {
    hostnames: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIPersistentVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LimitRangeSpec': {
    limits: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LinuxContainerUser': {
    supplementalGroups: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceSpec': {
    finalizers: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.NodeAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus': {
    containers: { listType: 'set' },
  },
  'io.k8s.api.core.v1.NodeSelector': {
    nodeSelectorTerms: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorTerm': {
    matchExpressions: { listType: 'atomic' },
    matchFields: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSpec': {
    podCIDRs: { patchStrategy: 'merge', listType: 'set' },
    taints: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeStatus': {
    addresses: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    declaredFeatures: { listType: 'atomic' },
    images: { listType: 'atomic' },
    runtimeHandlers: { listType: 'atomic' },
    volumesAttached: { listType: 'atomic' },
    volumesInUse: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': {
    accessModes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': {
    accessModes: { listType: 'atomic' },
    allocatedResourceStatuses: { mapType: 'granular' },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.PersistentVolumeSpec': {
    accessModes: { listType: 'atomic' },
    claimRef: { mapType: 'granular' },
    mountOptions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinityTerm': {
    matchLabelKeys: { listType: 'atomic' },
    mismatchLabelKeys: { listType: 'atomic' },
    namespaces: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAntiAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodDNSConfig': {
    nameservers: { listType: 'atomic' },
    options: { listType: 'atomic' },
    searches: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodExtendedResourceClaimStatus': {
    requestMappings: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSecurityContext': {
    supplementalGroups: { listType: 'atomic' },
    sysctls: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSpec': {
    containers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    ephemeralContainers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    hostAliases: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    imagePullSecrets: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    nodeSelector: { mapType: 'atomic' },
    readinessGates: { listType: 'atomic' },
    resourceClaims: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    schedulingGates: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    tolerations: { listType: 'atomic' },
    topologySpreadConstraints: { patchStrategy: 'merge', patchMergeKey: 'topologyKey', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
    volumes: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.PodStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    containerStatuses: { listType: 'atomic' },
    ephemeralContainerStatuses: { listType: 'atomic' },
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: { listType: 'atomic' },
    nodeAllocatableResourceClaimStatuses: { patchStrategy: 'merge', patchMergeKey: 'resourceClaimName', listType: 'map', listMapKeys: ['resourceClaimName'] },
    podIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    resourceClaimStatuses: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ProjectedVolumeSource': {
    sources: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.RBDPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.RBDVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ReplicationControllerSpec': {
    selector: { mapType: 'atomic' },
  },
  'io.k8s.api.core.v1.ReplicationControllerStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.ResourceQuotaSpec': {
    scopes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    claims: { listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ResourceStatus': {
    resources: { listType: 'map', listMapKeys: ['resourceID'] },
  },
  'io.k8s.api.core.v1.ScopeSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ScopedResourceSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceAccount': {
    imagePullSecrets: { listType: 'atomic' },
    secrets: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    clusterIPs: { listType: 'atomic' },
    externalIPs: { listType: 'atomic' },
    ipFamilies: { listType: 'atomic' },
    loadBalancerSourceRanges: { listType: 'atomic' },
    ports: { patchStrategy: 'merge', patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] },
    selector: { mapType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.TopologySelectorLabelRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySelectorTerm': {
    matchLabelExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySpreadConstraint': {
    matchLabelKeys: { listType: 'atomic' },
  },
  'io.k8s.api.discovery.v1.Endpoint': {
    addresses: { listType: 'set' },
  },
  'io.k8s.api.discovery.v1.EndpointHints': {
    forNodes: { listType: 'atomic' },
    forZones: { listType: 'atomic' },
  },
  'io.k8s.api.discovery.v1.EndpointSlice': {
    endpoints: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.FlowSchemaSpec': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.FlowSchemaStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule': {
    nonResourceURLs: { listType: 'set' },
    verbs: { listType: 'set' },
  },
  'io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects': {
    nonResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule': {
    apiGroups: { listType: 'set' },
    namespaces: { listType: 'set' },
    resources: { listType: 'set' },
    verbs: { listType: 'set' },
  },
  'io.k8s.api.networking.v1.HTTPIngressRuleValue': {
    paths: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IPBlock': {
    except: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressSpec': {
    rules: { listType: 'atomic' },
    tls: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressTLS': {
    hosts: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': {
    ports: { listType: 'atomic' },
    to: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': {
    from: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicySpec': {
    egress: { listType: 'atomic' },
    ingress: { listType: 'atomic' },
    policyTypes: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRSpec': {
    cidrs: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.node.v1.Scheduling': {
    nodeSelector: { mapType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': {
    selector: { patchStrategy: 'replace' },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.rbac.v1.AggregationRule': {
    clusterRoleSelectors: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRole': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': {
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.PolicyRule': {
    apiGroups: { listType: 'atomic' },
    nonResourceURLs: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.Role': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.RoleBinding': {
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.AllocatedDeviceStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.resource.v1.CapacityRequestPolicy': {
    validValues: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.Device': {
    bindingConditions: { listType: 'atomic' },
    bindingFailureConditions: { listType: 'atomic' },
    consumesCounters: { listType: 'atomic' },
    taints: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAllocationConfiguration': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAllocationResult': {
    config: { listType: 'atomic' },
    results: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAttribute': {
    bools: { listType: 'atomic' },
    ints: { listType: 'atomic' },
    strings: { listType: 'atomic' },
    versions: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceClaim': {
    config: { listType: 'atomic' },
    constraints: { listType: 'atomic' },
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceClaimConfiguration': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceClassSpec': {
    config: { listType: 'atomic' },
    selectors: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceConstraint': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceRequest': {
    firstAvailable: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceRequestAllocationResult': {
    bindingConditions: { listType: 'atomic' },
    bindingFailureConditions: { listType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceSubRequest': {
    selectors: { listType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.ExactDeviceRequest': {
    selectors: { listType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.NetworkDeviceData': {
    ips: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.ResourceClaimStatus': {
    devices: { listType: 'map', listMapKeys: ['driver', 'device', 'pool', 'shareID'] },
    reservedFor: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
  },
  'io.k8s.api.resource.v1.ResourceSliceSpec': {
    devices: { listType: 'atomic' },
    sharedCounters: { listType: 'atomic' },
  },
  'io.k8s.api.storage.v1.CSIDriverSpec': {
    tokenRequests: { listType: 'atomic' },
    volumeLifecycleModes: { listType: 'set' },
  },
  'io.k8s.api.storage.v1.CSINodeDriver': {
    topologyKeys: { listType: 'atomic' },
  },
  'io.k8s.api.storage.v1.CSINodeSpec': {
    drivers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.storage.v1.StorageClass': {
    allowedTopologies: { listType: 'atomic' },
    mountOptions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames': {
    categories: { listType: 'atomic' },
    shortNames: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec': {
    versions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
    storedVersions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion': {
    additionalPrinterColumns: { listType: 'atomic' },
    selectableFields: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': {
    allOf: { listType: 'atomic' },
    anyOf: { listType: 'atomic' },
    enum: { listType: 'atomic' },
    oneOf: { listType: 'atomic' },
    required: { listType: 'atomic' },
    'x-kubernetes-list-map-keys': { listType: 'atomic' },
    'x-kubernetes-validations': { patchStrategy: 'merge', patchMergeKey: 'rule', listType: 'map', listMapKeys: ['rule'] },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion': {
    conversionReviewVersions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup': {
    serverAddressByClientCIDRs: { listType: 'atomic' },
    versions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResource': {
    categories: { listType: 'atomic' },
    shortNames: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList': {
    resources: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions': {
    serverAddressByClientCIDRs: { listType: 'atomic' },
    versions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': {
    dryRun: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    managedFields: { listType: 'atomic' },
    ownerReferences: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails': {
    causes: { listType: 'atomic' },
  },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec': {
    caBundle: { listType: 'atomic' },
  },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
};

/** Structs marked `+structType=atomic`: published with `x-kubernetes-map-type: atomic`. */
export const ATOMIC_STRUCTS: ReadonlySet<string> = new Set([
  'io.k8s.api.admissionregistration.v1.MatchResources',
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations',
  'io.k8s.api.admissionregistration.v1.ParamKind',
  'io.k8s.api.admissionregistration.v1.ParamRef',
  'io.k8s.api.admissionregistration.v1.Variable',
  'io.k8s.api.autoscaling.v1.CrossVersionObjectReference',
  'io.k8s.api.core.v1.ConfigMapKeySelector',
  'io.k8s.api.core.v1.EndpointAddress',
  'io.k8s.api.core.v1.EndpointPort',
  'io.k8s.api.core.v1.FileKeySelector',
  'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.NodeSelector',
  'io.k8s.api.core.v1.NodeSelectorTerm',
  'io.k8s.api.core.v1.ObjectFieldSelector',
  'io.k8s.api.core.v1.ObjectReference',
  'io.k8s.api.core.v1.ResourceFieldSelector',
  'io.k8s.api.core.v1.ScopeSelector',
  'io.k8s.api.core.v1.SecretKeySelector',
  'io.k8s.api.core.v1.SecretReference',
  'io.k8s.api.core.v1.TopologySelectorTerm',
  'io.k8s.api.core.v1.TypedLocalObjectReference',
  'io.k8s.api.discovery.v1.EndpointPort',
  'io.k8s.api.networking.v1.ServiceBackendPort',
  'io.k8s.api.rbac.v1.RoleRef',
  'io.k8s.api.rbac.v1.Subject',
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
]);

/**
 * Field defaults Kubernetes publishes in its OpenAPI (`+default=` markers). Server-side apply
 * needs them: a list-map key that an applied config omits (a port's `protocol`) takes its default.
 */
export const FIELD_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.EndpointPort': { protocol: 'TCP' },
};

/** Applies the table entries of `definitionName` to its schema, in place. */
export function applyExtensions(definitionName: string, schema: OpenAPISchema): void {
  if (ATOMIC_STRUCTS.has(definitionName)) schema['x-kubernetes-map-type'] = 'atomic';
  for (const [field, value] of Object.entries(FIELD_DEFAULTS[definitionName] ?? {})) {
    const prop = schema.properties?.[field];
    if (prop) prop.default = value;
  }
  const fields = FIELD_EXTENSIONS[definitionName];
  if (!fields || !schema.properties) return;
  for (const [field, ext] of Object.entries(fields)) {
    const prop = schema.properties[field];
    if (!prop) continue;
    if (ext.patchMergeKey !== undefined) prop['x-kubernetes-patch-merge-key'] = ext.patchMergeKey;
    if (ext.patchStrategy !== undefined) prop['x-kubernetes-patch-strategy'] = ext.patchStrategy;
    if (ext.listType !== undefined) prop['x-kubernetes-list-type'] = ext.listType;
    if (ext.listMapKeys !== undefined) prop['x-kubernetes-list-map-keys'] = [...ext.listMapKeys];
    if (ext.mapType !== undefined) prop['x-kubernetes-map-type'] = ext.mapType;
  }
}
