import { StatusError } from '../../machinery/status-error.js';
import { admitPodPriority, admitPodServiceAccount, defaultTolerations } from '../registry/resources/core/index.js';
import type { AdmissionHook, GenericStore, RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';

/**
 * The admission plugins Kubernetes runs on every new pod: ServiceAccount (name and token
 * volume), DefaultTolerationSeconds, and Priority (from the pod's PriorityClass or the global default).
 */
export class PodAdmission implements AdmissionHook {
  constructor(
    private readonly priorityClasses: () => GenericStore | undefined,
    private readonly tolerationSeconds = 300,
  ) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext, subresource: string): Promise<void> {
    const d = resource.descriptor;
    if (op !== 'CREATE' || d.group !== '' || d.resource !== 'pods' || subresource) return;
    admitPodServiceAccount(obj);
    defaultTolerations(obj, this.tolerationSeconds);
    const spec = (obj.spec ?? {}) as { priorityClassName?: string; priority?: number };
    const store = this.priorityClasses();
    let value = 0;
    let policy = 'PreemptLowerPriority';
    if (spec.priorityClassName && store) {
      const pc = await store.cachedGet('', spec.priorityClassName);
      if (!pc) {
        throw new StatusError(403, 'Forbidden', `pods "${obj.metadata?.name ?? ''}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`, { name: obj.metadata?.name, kind: 'pods' });
      }
      value = Number(pc['value'] ?? 0);
      policy = String(pc['preemptionPolicy'] ?? policy);
    } else if (store) {
      const globalDefault = (await store.cachedList((pc) => pc['globalDefault'] === true))[0];
      if (globalDefault) {
        spec.priorityClassName = globalDefault.metadata?.name;
        value = Number(globalDefault['value'] ?? 0);
        policy = String(globalDefault['preemptionPolicy'] ?? policy);
      }
    }
    if (spec.priority !== undefined && spec.priority !== value && spec.priorityClassName) {
      throw new StatusError(403, 'Forbidden', `pods "${obj.metadata?.name ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`, { name: obj.metadata?.name, kind: 'pods' });
    }
    admitPodPriority(obj, value, policy);
  }
}
