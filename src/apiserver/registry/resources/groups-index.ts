/**
 * The strategies and version converters of the built-in resources outside the core group,
 * keyed `group/resource` as the API server looks them up (e.g. `apps/deployments`).
 */
import type { VersionConverter } from '../generic-store.js';
import type { Strategy } from '../strategy.js';
import { controllerRevisionStrategy } from './apps/controllerrevisions.js';
import { daemonSetStrategy } from './apps/daemonsets.js';
import { deploymentStrategy } from './apps/deployments.js';
import { replicaSetStrategy } from './apps/replicasets.js';
import { statefulSetStrategy } from './apps/statefulsets.js';
import { customResourceDefinitionStrategy } from './apiextensions/customresourcedefinitions.js';
import { hpaConverter } from './autoscaling/hpa-conversion.js';
import { horizontalPodAutoscalerStrategy } from './autoscaling/horizontalpodautoscalers.js';
import { cronJobStrategy } from './batch/cronjobs.js';
import { jobStrategy } from './batch/jobs.js';
import { leaseStrategy } from './coordination/leases.js';
import { endpointSliceStrategy } from './discovery/endpointslices.js';
import { eventsV1Converter } from './events/event-conversion.js';
import { eventStrategy } from './events/events.js';
import { ingressClassStrategy } from './networking/ingressclasses.js';
import { ingressStrategy } from './networking/ingresses.js';
import { networkPolicyStrategy } from './networking/networkpolicies.js';
import { podDisruptionBudgetStrategy } from './policy/poddisruptionbudgets.js';
import { clusterRoleBindingStrategy } from './rbac/clusterrolebindings.js';
import { clusterRoleStrategy } from './rbac/clusterroles.js';
import { roleBindingStrategy } from './rbac/rolebindings.js';
import { roleStrategy } from './rbac/roles.js';
import { priorityClassStrategy } from './scheduling/priorityclasses.js';
import { storageClassStrategy } from './storage/storageclasses.js';

/** One fresh strategy per non-core built-in resource. */
export function groupStrategies(): Record<string, Strategy> {
  return {
    'apps/controllerrevisions': controllerRevisionStrategy(),
    'apps/daemonsets': daemonSetStrategy(),
    'apps/deployments': deploymentStrategy(),
    'apps/replicasets': replicaSetStrategy(),
    'apps/statefulsets': statefulSetStrategy(),
    'batch/cronjobs': cronJobStrategy(),
    'batch/jobs': jobStrategy(),
    'autoscaling/horizontalpodautoscalers': horizontalPodAutoscalerStrategy(),
    'networking.k8s.io/ingressclasses': ingressClassStrategy(),
    'networking.k8s.io/ingresses': ingressStrategy(),
    'networking.k8s.io/networkpolicies': networkPolicyStrategy(),
    'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingStrategy(),
    'rbac.authorization.k8s.io/clusterroles': clusterRoleStrategy(),
    'rbac.authorization.k8s.io/rolebindings': roleBindingStrategy(),
    'rbac.authorization.k8s.io/roles': roleStrategy(),
    'coordination.k8s.io/leases': leaseStrategy(),
    'discovery.k8s.io/endpointslices': endpointSliceStrategy(),
    'storage.k8s.io/storageclasses': storageClassStrategy(),
    'policy/poddisruptionbudgets': podDisruptionBudgetStrategy(),
    'scheduling.k8s.io/priorityclasses': priorityClassStrategy(),
    'events.k8s.io/events': eventStrategy(),
    'apiextensions.k8s.io/customresourcedefinitions': customResourceDefinitionStrategy(),
  };
}

/** Converters of resources served in more than one shape (`group/resource` → converter). */
export function groupConverters(): Record<string, VersionConverter> {
  return {
    'autoscaling/horizontalpodautoscalers': hpaConverter,
    'events.k8s.io/events': eventsV1Converter,
  };
}
