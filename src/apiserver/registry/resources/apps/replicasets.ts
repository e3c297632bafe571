/**
 * apps/v1 ReplicaSet: replicas default 1; selector required, non-empty, matching the template
 * and immutable; templates restart Always; status only through `/status` (generation follows
 * the spec); `status.replicas` is a selectable field.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { immutableSelector, invalid, isObj, nonNegative, objAt, setDefault } from '../group-checks.js';
import { specOf, validateTemplateForReplicaSet, validateWorkloadSelector } from './workload-checks.js';

export function defaultReplicaSet(obj: KubeObject): void {
  const spec = specOf(obj);
  setDefault(spec, 'replicas', 1);
  defaultPodTemplateSpec(spec.template);
}

/** `ValidateReplicaSetSpec` (its empty-selector message says "deployment", as Kubernetes' does). */
export function validateReplicaSet(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  const { errs: selErrs, selector } = validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment');
  errs.push(...selErrs);
  if (selector) errs.push(...validateTemplateForReplicaSet(spec.template, selector, 'spec.template', 'ReplicaSet'));
  return errs;
}

export function validateReplicaSetStatus(obj: KubeObject): FieldError[] {
  const s = objAt(obj, 'status') ?? {};
  const errs = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'].flatMap((f) => nonNegative(s[f], `status.${f}`));
  const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  if (n('fullyLabeledReplicas') > n('replicas')) errs.push(invalid('status.fullyLabeledReplicas', n('fullyLabeledReplicas'), 'cannot be greater than status.replicas'));
  if (n('readyReplicas') > n('replicas')) errs.push(invalid('status.readyReplicas', n('readyReplicas'), 'cannot be greater than status.replicas'));
  if (n('availableReplicas') > n('replicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than status.replicas'));
  if (n('availableReplicas') > n('readyReplicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than readyReplicas'));
  return errs;
}

export function replicaSetStrategy(): Strategy {
  return specStatusStrategy({
    default: defaultReplicaSet,
    validate: (obj) => validateReplicaSet(obj),
    validateUpdate: (obj, old) => [...validateReplicaSet(obj), ...immutableSelector(objAt(obj, 'spec')?.selector, objAt(old, 'spec')?.selector, 'spec.selector')],
    selectableFields: (obj) => ({ 'status.replicas': String(objAt(obj, 'status')?.replicas ?? 0) }),
    status: { validateUpdate: (obj) => validateReplicaSetStatus(obj) },
  });
}
