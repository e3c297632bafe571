/**
 * apps/v1 Deployment: defaults (`SetDefaults_Deployment`, plus pod template defaults),
 * validation (`ValidateDeploymentSpec`) and the strategy: status only through `/status`,
 * selector immutable, generation bumped by spec or annotation changes (annotations are copied
 * to the ReplicaSets, so the controller must see them as a new generation).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import {
  child,
  forbidden,
  immutableSelector,
  intOrPercentValue,
  intOrStringText,
  invalid,
  invalidGo,
  isObj,
  nonNegative,
  notMoreThan100Percent,
  notSupported,
  objAt,
  required,
  setDefault,
  validatePositiveIntOrPercent,
} from '../group-checks.js';
import { specOf, validateTemplateForReplicaSet, validateWorkloadSelector } from './workload-checks.js';

/** `SetDefaults_Deployment` (apps/v1). */
export function defaultDeployment(obj: KubeObject): void {
  const spec = specOf(obj);
  setDefault(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplateSpec(spec.template);
}

function validateRollingUpdate(ru: unknown, path: string): FieldError[] {
  const r = isObj(ru) ? ru : {};
  const errs = [
    ...validatePositiveIntOrPercent(r.maxUnavailable, `${path}.maxUnavailable`),
    ...validatePositiveIntOrPercent(r.maxSurge, `${path}.maxSurge`),
  ];
  if (intOrPercentValue(r.maxUnavailable) === 0 && intOrPercentValue(r.maxSurge) === 0) {
    // IntOrString prints unquoted (its String()), hence the Go rendering.
    errs.push(invalidGo(`${path}.maxUnavailable`, intOrStringText(r.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
  }
  errs.push(...notMoreThan100Percent(r.maxUnavailable, `${path}.maxUnavailable`));
  return errs;
}

function validateStrategy(strategy: unknown, path: string): FieldError[] {
  const s = isObj(strategy) ? strategy : {};
  const type = s.type;
  if (type === 'Recreate') {
    return s.rollingUpdate !== undefined && s.rollingUpdate !== null ? [forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
  }
  if (type === 'RollingUpdate') {
    if (!isObj(s.rollingUpdate)) return [required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
    return validateRollingUpdate(s.rollingUpdate, `${path}.rollingUpdate`);
  }
  return [notSupported(`${path}.type`, type ?? '', ['Recreate', 'RollingUpdate'])];
}

/** `ValidateDeploymentSpec` at `spec`. */
export function validateDeployment(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  const { errs: selErrs, selector } = validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment');
  errs.push(...selErrs);
  if (selector) errs.push(...validateTemplateForReplicaSet(spec.template, selector, 'spec.template', 'ReplicaSet'));
  errs.push(...validateStrategy(spec.strategy, 'spec.strategy'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const pds = spec.progressDeadlineSeconds;
  if (typeof pds === 'number') {
    errs.push(...nonNegative(pds, 'spec.progressDeadlineSeconds'));
    const mrs = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
    if (pds <= mrs) errs.push(invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

/** `ValidateDeploymentStatus` (the counters a controller writes). */
export function validateDeploymentStatus(obj: KubeObject): FieldError[] {
  const s = objAt(obj, 'status') ?? {};
  const errs = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'].flatMap((f) => nonNegative(s[f], `status.${f}`));
  const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  if (n('updatedReplicas') > n('replicas')) errs.push(invalid('status.updatedReplicas', n('updatedReplicas'), 'cannot be greater than status.replicas'));
  if (n('readyReplicas') > n('replicas')) errs.push(invalid('status.readyReplicas', n('readyReplicas'), 'cannot be greater than status.replicas'));
  if (n('availableReplicas') > n('replicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than status.replicas'));
  if (n('availableReplicas') > n('readyReplicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than readyReplicas'));
  return errs;
}

export function deploymentStrategy(): Strategy {
  return {
    default: defaultDeployment,
    prepareForCreate(obj) {
      delete obj.status;
      if (obj.metadata) obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      obj.status = old.status;
      const changed = !deepEqual(obj.spec, old.spec) || !deepEqual(obj.metadata?.annotations ?? {}, old.metadata?.annotations ?? {});
      if (obj.metadata) obj.metadata.generation = (old.metadata?.generation ?? 1) + (changed ? 1 : 0);
    },
    validate: (obj) => validateDeployment(obj),
    validateUpdate: (obj, old) => [...validateDeployment(obj), ...immutableSelector(objAt(obj, 'spec')?.selector, objAt(old, 'spec')?.selector, 'spec.selector')],
    status: { validateUpdate: (obj) => validateDeploymentStatus(obj) },
  };
}
