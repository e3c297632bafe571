/**
 * ReplicationControllers: replicas default to 1 and the selector (and the RC's labels) to the
 * template's labels; the selector must match the template, whose pods always restart.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { specStatusStrategy } from '../../strategy.js';
import { forbidden, goStringMap, invalid, invalidGo, isObj, notSupported, numAt, required, type Obj } from '../group-checks.js';
import { validateLabels } from '../../object-meta-validation.js';
import { nonNegativeInt, stringMap } from './core-checks.js';
import { defaultPodTemplateSpec } from './pod-spec-defaults.js';
import { validatePodTemplateSpec } from './pod-spec-validation.js';

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

/** SetDefaults_ReplicationController. */
export function defaultReplicationController(rc: KubeObject): void {
  const spec = specOf(rc);
  const template = isObj(spec.template) ? spec.template : undefined;
  const templateLabels = template && isObj(template.metadata) ? stringMap(template.metadata.labels) : {};
  if (template) {
    if (Object.keys(stringMap(spec.selector)).length === 0 && Object.keys(templateLabels).length > 0) spec.selector = { ...templateLabels };
    const meta = (rc.metadata ??= {});
    if (Object.keys(meta.labels ?? {}).length === 0 && Object.keys(templateLabels).length > 0) meta.labels = { ...templateLabels };
  }
  if (typeof spec.replicas !== 'number') spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

export function validateReplicationController(rc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(rc);
  errs.push(...nonNegativeInt(spec.minReadySeconds, 'spec.minReadySeconds'));
  const selector = stringMap(spec.selector);
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector', ''));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...nonNegativeInt(spec.replicas, 'spec.replicas'));
  const template = spec.template;
  if (!isObj(template)) {
    errs.push(required('spec.template', ''));
    return errs;
  }
  const labels = isObj(template.metadata) ? stringMap(template.metadata.labels) : {};
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push(invalidGo('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  const tspec: Obj = isObj(template.spec) ? template.spec : {};
  if (tspec.restartPolicy !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', tspec.restartPolicy ?? '', ['Always']));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

/** `ValidateReplicationControllerStatus`. */
export function validateReplicationControllerStatus(rc: KubeObject): FieldError[] {
  const status: Obj = isObj(rc.status) ? rc.status : {};
  const errs: FieldError[] = [];
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) {
    errs.push(...nonNegativeInt(status[k], `status.${k}`));
  }
  const replicas = numAt(status, 'replicas') ?? 0;
  for (const k of ['fullyLabeledReplicas', 'readyReplicas'] as const) {
    const v = numAt(status, k);
    if (v !== undefined && v > replicas) errs.push(invalid(`status.${k}`, v, 'cannot be greater than status.replicas'));
  }
  const ready = numAt(status, 'readyReplicas') ?? 0;
  const available = numAt(status, 'availableReplicas');
  if (available !== undefined && available > replicas) errs.push(invalid('status.availableReplicas', available, 'cannot be greater than status.replicas'));
  if (available !== undefined && available > ready) errs.push(invalid('status.availableReplicas', available, 'cannot be greater than readyReplicas'));
  return errs;
}

export const replicationControllerStrategy: Strategy = specStatusStrategy({
  default: defaultReplicationController,
  validate: (obj) => validateReplicationController(obj),
  validateUpdate: (obj) => validateReplicationController(obj),
  selectableFields: (obj) => ({ 'status.replicas': String(isObj(obj.status) ? numAt(obj.status, 'replicas') ?? 0 : 0) }),
  status: {
    validateUpdate: (obj) => validateReplicationControllerStatus(obj),
  },
});
