/**
 * The strategies of the core/v1 resources, by plural name, for the API server to pair with the
 * descriptors of `api/resource-table.ts`.
 *
 * Wiring: build `ServiceAllocators` once (seeded lazily from `existingServices` on the first
 * Service write; the server may `await allocators.init()` at start to fail early), pass them in
 * `deps.allocators` or let `coreStrategies` create them from `serviceCIDR` / `nodePortRange`.
 * Admission-time pod mutations (`defaultTolerations`, `admitPodServiceAccount`,
 * `admitPodPriority`) and the namespace deletion/finalize helpers are exported for the server.
 */
import type { KubeObject, Strategy } from '../../strategy.js';
import { configMapStrategy } from './configmaps.js';
import { endpointsStrategy } from './endpoints.js';
import { eventStrategy } from './events.js';
import { limitRangeStrategy } from './limitranges.js';
import { namespaceStrategy } from './namespaces.js';
import { nodeStrategy } from './nodes.js';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims.js';
import { persistentVolumeStrategy } from './persistentvolumes.js';
import { podStrategy } from './pods.js';
import { podTemplateStrategy } from './podtemplates.js';
import { replicationControllerStrategy } from './replicationcontrollers.js';
import { resourceQuotaStrategy } from './resourcequotas.js';
import { secretStrategy } from './secrets.js';
import { serviceAccountStrategy } from './serviceaccounts.js';
import { ServiceAllocators, serviceStrategy } from './services.js';

export interface CoreStrategyDeps {
  /** `--service-cidr`; default 10.43.0.0/16. */
  serviceCIDR?: string;
  /** Inclusive NodePort range; default [30000, 32767]. */
  nodePortRange?: readonly [number, number];
  /** Every stored Service, read once to seed the allocators (ignored when `allocators` is given). */
  existingServices?: () => Promise<KubeObject[]>;
  /** Allocators built by the caller (to share them, or to await `init()` at start). */
  allocators?: ServiceAllocators;
}

export const defaultServiceCIDR = '10.43.0.0/16';
export const defaultNodePortRange: readonly [number, number] = [30000, 32767];

/** The strategies by resource plural (`pods`, `services`, …). Bindings and other subresources are the server's. */
export function coreStrategies(deps: CoreStrategyDeps = {}): Record<string, Strategy> {
  const allocators =
    deps.allocators ??
    new ServiceAllocators({
      serviceCIDR: deps.serviceCIDR ?? defaultServiceCIDR,
      nodePortRange: deps.nodePortRange ?? defaultNodePortRange,
      existingServices: deps.existingServices ?? (async () => []),
    });
  return {
    pods: podStrategy,
    services: serviceStrategy(allocators),
    namespaces: namespaceStrategy,
    configmaps: configMapStrategy,
    secrets: secretStrategy,
    serviceaccounts: serviceAccountStrategy,
    endpoints: endpointsStrategy,
    nodes: nodeStrategy,
    events: eventStrategy,
    persistentvolumes: persistentVolumeStrategy,
    persistentvolumeclaims: persistentVolumeClaimStrategy,
    replicationcontrollers: replicationControllerStrategy,
    limitranges: limitRangeStrategy,
    resourcequotas: resourceQuotaStrategy,
    podtemplates: podTemplateStrategy,
  };
}

export { ServiceAllocators, serviceStrategy, defaultService, validateService } from './services.js';
export { defaultPod, validatePod, validatePodUpdate, podGracePeriod, podSelectableFields } from './pods.js';
export { defaultPodSpec, defaultPodTemplateSpec, defaultImagePullPolicy } from './pod-spec-defaults.js';
export { validatePodSpec, validatePodTemplateSpec } from './pod-spec-validation.js';
export { podQOSClass, type QOSClass } from '../../../../machinery/pod-qos.js';
export { defaultTolerations, admitPodServiceAccount, admitPodPriority } from './pod-admission.js';
export {
  prepareNamespaceFinalize,
  validateNamespaceFinalize,
  markNamespaceTerminating,
  namespaceHeldBySpecFinalizers,
} from './namespaces.js';
export { validatePersistentVolumeClaimSpec } from './persistentvolumeclaims.js';
