/**
 * autoscaling HorizontalPodAutoscaler, stored as v2: defaults (`minReplicas` 1, an 80% CPU
 * target when no metric is given, behavior rules filled in) and validation as
 * `pkg/apis/autoscaling/validation`. Status is written only through `/status`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { Quantity } from '../../../../machinery/quantity.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import {
  arrAt,
  child,
  forbidden,
  invalid,
  isObj,
  nonNegative,
  notSupported,
  objAt,
  required,
  setDefault,
  strAt,
  validateLabelSelector,
  type Obj,
} from '../group-checks.js';
import { defaultCPUUtilization } from './hpa-conversion.js';

const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const metricTargetTypes = ['AverageValue', 'Utilization', 'Value'];
const maxPeriodSeconds = 1800;
const maxStabilizationWindowSeconds = 3600;

function scaleUpDefaults(rules: Obj | undefined): Obj {
  const r = rules ?? {};
  setDefault(r, 'stabilizationWindowSeconds', 0);
  setDefault(r, 'selectPolicy', 'Max');
  setDefault(r, 'policies', [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ]);
  return r;
}

function scaleDownDefaults(rules: Obj | undefined): Obj {
  const r = rules ?? {};
  setDefault(r, 'stabilizationWindowSeconds', 300);
  setDefault(r, 'selectPolicy', 'Max');
  setDefault(r, 'policies', [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
  return r;
}

/** `SetDefaults_HorizontalPodAutoscaler` (autoscaling/v2). */
export function defaultHorizontalPodAutoscaler(obj: KubeObject): void {
  const spec = child(obj as Obj, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  }
  const behavior = objAt(spec, 'behavior');
  if (behavior) {
    behavior.scaleUp = scaleUpDefaults(objAt(behavior, 'scaleUp'));
    behavior.scaleDown = scaleDownDefaults(objAt(behavior, 'scaleDown'));
  }
}

function pathSegmentErrors(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (v.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

function validateCrossVersionObjectReference(ref: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const kind = strAt(ref, 'kind') ?? '';
  const name = strAt(ref, 'name') ?? '';
  if (!kind) errs.push(required(`${field}.kind`));
  else for (const msg of pathSegmentErrors(kind)) errs.push(invalid(`${field}.kind`, kind, msg));
  if (!name) errs.push(required(`${field}.name`));
  else for (const msg of pathSegmentErrors(name)) errs.push(invalid(`${field}.name`, name, msg));
  return errs;
}

function quantitySign(v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  return Quantity.tryParse(v)?.sign();
}

function validateMetricTarget(target: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = strAt(target, 'type') ?? '';
  if (!type) errs.push(required(`${field}.type`, 'must specify a metric target type'));
  else if (!metricTargetTypes.includes(type)) errs.push(notSupported(`${field}.type`, type, metricTargetTypes));
  const t = isObj(target) ? target : {};
  if (t.value !== undefined && quantitySign(t.value) !== 1) errs.push(invalid(`${field}.value`, t.value, 'must be positive'));
  if (t.averageValue !== undefined && quantitySign(t.averageValue) !== 1) errs.push(invalid(`${field}.averageValue`, t.averageValue, 'must be positive'));
  if (typeof t.averageUtilization === 'number' && t.averageUtilization < 1) errs.push(invalid(`${field}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = strAt(id, 'name') ?? '';
  if (!name) errs.push(required(`${field}.name`, 'must specify a metric name'));
  else for (const msg of pathSegmentErrors(name)) errs.push(invalid(`${field}.name`, name, msg));
  errs.push(...validateLabelSelector(objAt(id, 'selector'), `${field}.selector`));
  return errs;
}

function validateResourceLike(src: Obj, field: string, container: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!strAt(src, 'name')) errs.push(required(`${field}.name`, 'must specify a resource name'));
  if (container && !strAt(src, 'container')) errs.push(required(`${field}.container`, 'must specify a container'));
  const target = objAt(src, 'target') ?? {};
  errs.push(...validateMetricTarget(target, `${field}.target`));
  if (target.averageUtilization === undefined && target.averageValue === undefined) {
    errs.push(required(`${field}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  }
  if (target.averageUtilization !== undefined && target.averageValue !== undefined) {
    errs.push(forbidden(`${field}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function validateMetricSpec(m: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = strAt(m, 'type') ?? '';
  if (!type) errs.push(required(`${field}.type`, 'must specify a metric source type'));
  const present = ['object', 'pods', 'resource', 'containerResource', 'external'].filter((k) => objAt(m, k) !== undefined);
  const expected: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' };
  const expectedField = expected[type];
  if (type && !expectedField) errs.push(notSupported(`${field}.type`, type, metricSourceTypes));
  if (expectedField && objAt(m, expectedField) === undefined) errs.push(required(`${field}.${expectedField}`, 'must populate information for the given metric source'));
  if (present.length > 1 || (present.length === 1 && present[0] !== expectedField)) {
    for (const p of present) if (p !== expectedField) errs.push(forbidden(`${field}.${p}`, 'must populate the given metric source only'));
  }
  const obj = objAt(m, 'object');
  if (obj && expectedField === 'object') {
    errs.push(...validateCrossVersionObjectReference(obj.describedObject, `${field}.object.describedObject`));
    errs.push(...validateMetricIdentifier(obj.metric, `${field}.object.metric`));
    const target = objAt(obj, 'target') ?? {};
    errs.push(...validateMetricTarget(target, `${field}.object.target`));
    if (target.value === undefined && target.averageValue === undefined) errs.push(required(`${field}.object.target.value`, 'must set either a target value or averageValue'));
  }
  const pods = objAt(m, 'pods');
  if (pods && expectedField === 'pods') {
    errs.push(...validateMetricIdentifier(pods.metric, `${field}.pods.metric`));
    const target = objAt(pods, 'target') ?? {};
    errs.push(...validateMetricTarget(target, `${field}.pods.target`));
    if (target.averageValue === undefined) errs.push(required(`${field}.pods.target.averageValue`, 'must specify a positive target averageValue'));
  }
  const ext = objAt(m, 'external');
  if (ext && expectedField === 'external') {
    errs.push(...validateMetricIdentifier(ext.metric, `${field}.external.metric`));
    const target = objAt(ext, 'target') ?? {};
    errs.push(...validateMetricTarget(target, `${field}.external.target`));
    if (target.value === undefined && target.averageValue === undefined) errs.push(required(`${field}.external.target.value`, 'must set either a target value for metric or a per-pod target'));
    if (target.value !== undefined && target.averageValue !== undefined) errs.push(forbidden(`${field}.external.target.value`, 'may not set both a target value for metric and a per-pod target'));
  }
  const res = objAt(m, 'resource');
  if (res && expectedField === 'resource') errs.push(...validateResourceLike(res, `${field}.resource`, false));
  const cres = objAt(m, 'containerResource');
  if (cres && expectedField === 'containerResource') errs.push(...validateResourceLike(cres, `${field}.containerResource`, true));
  return errs;
}

function validateScalingRules(rules: unknown, field: string): FieldError[] {
  if (!isObj(rules)) return [];
  const errs: FieldError[] = [];
  const win = rules.stabilizationWindowSeconds;
  if (typeof win === 'number') {
    if (win < 0) errs.push(invalid(`${field}.stabilizationWindowSeconds`, win, 'must be greater than or equal to zero'));
    if (win > maxStabilizationWindowSeconds) errs.push(invalid(`${field}.stabilizationWindowSeconds`, win, `must be less than or equal to ${maxStabilizationWindowSeconds}`));
  }
  const select = strAt(rules, 'selectPolicy');
  if (select !== undefined && !['Disabled', 'Max', 'Min'].includes(select)) errs.push(notSupported(`${field}.selectPolicy`, select, ['Disabled', 'Max', 'Min']));
  const policies = arrAt(rules, 'policies');
  if (policies.length === 0) errs.push(required(`${field}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const f = `${field}.policies[${i}]`;
    const type = strAt(p, 'type') ?? '';
    if (!['Percent', 'Pods'].includes(type)) errs.push(notSupported(`${f}.type`, type, ['Percent', 'Pods']));
    const value = isObj(p) ? p.value : undefined;
    if (typeof value !== 'number' || value <= 0) errs.push(invalid(`${f}.value`, value ?? 0, 'must be greater than zero'));
    const period = isObj(p) ? p.periodSeconds : undefined;
    if (typeof period !== 'number' || period <= 0) errs.push(invalid(`${f}.periodSeconds`, period ?? 0, 'must be greater than zero'));
    else if (period > maxPeriodSeconds) errs.push(invalid(`${f}.periodSeconds`, period, `must be less than or equal to ${maxPeriodSeconds}`));
  });
  return errs;
}

/** `ValidateHorizontalPodAutoscaler` (spec part; metadata is checked by the store). */
export function validateHorizontalPodAutoscaler(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  const min = spec.minReplicas;
  const max = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0;
  if (typeof min === 'number' && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (typeof min === 'number' && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  arrAt(spec, 'metrics').forEach((m, i) => errs.push(...validateMetricSpec(m, `spec.metrics[${i}]`)));
  const behavior = objAt(spec, 'behavior');
  if (behavior) {
    errs.push(...validateScalingRules(behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

function validateStatus(obj: KubeObject): FieldError[] {
  const status = isObj(obj.status) ? obj.status : {};
  return [...nonNegative(status.currentReplicas, 'status.currentReplicas'), ...nonNegative(status.desiredReplicas, 'status.desiredReplicas')];
}

export function horizontalPodAutoscalerStrategy(): Strategy {
  return {
    default: defaultHorizontalPodAutoscaler,
    prepareForCreate(obj) {
      // Kubernetes 1.32 resets status but keeps no generation for HPAs.
      obj.status = { desiredReplicas: 0 };
    },
    prepareForUpdate(obj, old) {
      obj.status = old.status;
    },
    validate: (obj) => validateHorizontalPodAutoscaler(obj),
    validateUpdate: (obj) => validateHorizontalPodAutoscaler(obj),
    status: {
      validateUpdate: (obj) => validateStatus(obj),
    },
  };
}
