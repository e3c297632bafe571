/**
 * scheduling.k8s.io PriorityClass: `system-` names are reserved for the built-in classes (with
 * their exact values), user values are at most one billion; value and preemptionPolicy are fixed
 * once created. (Only one globalDefault is an admission rule, not checked here.)
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { forbidden, immutable, notSupported, setDefault, strAt, type Obj } from '../group-checks.js';

export const highestUserDefinablePriority = 1_000_000_000;
export const systemPriorityClassPrefix = 'system-';
/** The built-in classes and their values. */
export const systemPriorityClasses: Record<string, number> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};
const preemptionPolicies = ['Never', 'PreemptLowerPriority'];

export function defaultPriorityClass(obj: KubeObject): void {
  setDefault(obj as Obj, 'preemptionPolicy', 'PreemptLowerPriority');
}

/** `IsKnownSystemPriorityClass`: undefined when it is, else Kubernetes' reason. */
function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = systemPriorityClasses[name];
  if (known === undefined) return `${name} is not a known system priority class`;
  if (value !== known) return `value of ${name} PriorityClass must be ${known}`;
  if (globalDefault === true) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata?.name ?? '';
  const value = obj.value;
  if (name.startsWith(systemPriorityClassPrefix)) {
    const problem = systemClassProblem(name, value, obj.globalDefault);
    if (problem) errs.push(forbidden('metadata.name', `priority class names with '${systemPriorityClassPrefix}' prefix are reserved for system use only. error: ${problem}`));
  } else if (typeof value === 'number' && value > highestUserDefinablePriority) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
  }
  const policy = strAt(obj, 'preemptionPolicy');
  if (policy !== undefined && !preemptionPolicies.includes(policy)) errs.push(notSupported('preemptionPolicy', policy, preemptionPolicies));
  return errs;
}

export function priorityClassStrategy(): Strategy {
  return {
    default: defaultPriorityClass,
    validate: (obj) => validatePriorityClass(obj),
    validateUpdate(obj, old) {
      const errs = validatePriorityClass(obj);
      if (obj.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
      errs.push(...immutable(obj.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
      return errs;
    },
  };
}
