/**
 * apps/v1 DaemonSet: defaults (RollingUpdate with maxUnavailable 1 and maxSurge 0,
 * revisionHistoryLimit 10), validation (`ValidateDaemonSetSpec`), immutable selector, and the
 * `deprecated.daemonset.template.generation` annotation that apps/v1 shows, counting template
 * changes.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import { validatePodTemplateSpec } from '../core/pod-spec-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import {
  child,
  goLabelSelector,
  immutableSelector,
  intOrPercentValue,
  intOrStringText,
  invalid,
  invalidGo,
  isObj,
  nonNegative,
  notMoreThan100Percent,
  objAt,
  required,
  setDefault,
  validateLabelSelector,
  validatePositiveIntOrPercent,
} from '../group-checks.js';
import { restartAlways, selectorMatchesTemplate, selectorOf, specOf } from './workload-checks.js';

export const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';

export function defaultDaemonSet(obj: KubeObject): void {
  const spec = specOf(obj);
  const us = child(spec, 'updateStrategy');
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = child(us, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(spec.template);
}

function validateUpdateStrategy(us: unknown): FieldError[] {
  const s = isObj(us) ? us : {};
  const path = 'spec.updateStrategy';
  if (s.type === 'OnDelete') return [];
  if (s.type !== 'RollingUpdate') {
    // Kubernetes reports the whole strategy struct here.
    return [{ type: 'FieldValueNotSupported', field: path, detail: `apps.DaemonSetUpdateStrategy{Type:${JSON.stringify(s.type ?? '')}}: supported values: "RollingUpdate", "OnDelete"` }];
  }
  const ru = s.rollingUpdate;
  if (!isObj(ru)) return [required(`${path}.rollingUpdate`)];
  const p = `${path}.rollingUpdate`;
  const errs = [
    ...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`),
    ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`),
    ...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`),
    ...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`),
  ];
  const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
  if (hasUnavailable && hasSurge) errs.push(invalidGo(`${p}.maxSurge`, intOrStringText(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
  if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  return errs;
}

/** `ValidateDaemonSetSpec` at `spec`. */
export function validateDaemonSet(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const selector = selectorOf(spec.selector);
  if (selector) errs.push(...selectorMatchesTemplate(selector, spec.template, 'spec.template'));
  const sel = objAt(spec, 'selector');
  if (sel && Object.keys(objAt(sel, 'matchLabels') ?? {}).length + (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0) === 0) {
    errs.push(invalidGo('spec.selector', goLabelSelector(sel), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(spec.template, 'spec.template'));
  errs.push(...restartAlways(spec.template, 'spec.template'));
  const ads = objAt(objAt(spec, 'template'), 'spec')?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) errs.push(invalid('spec.template.spec.activeDeadlineSeconds', ads, 'activeDeadlineSeconds in DaemonSet is not Supported'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

export function validateDaemonSetStatus(obj: KubeObject): FieldError[] {
  const s = objAt(obj, 'status') ?? {};
  return ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'].flatMap((f) =>
    nonNegative(s[f], `status.${f}`),
  );
}

function setTemplateGeneration(obj: KubeObject, gen: number): void {
  const meta = (obj.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [templateGenerationAnnotation]: String(gen) };
}

export function daemonSetStrategy(): Strategy {
  return {
    default: defaultDaemonSet,
    prepareForCreate(obj) {
      delete obj.status;
      if (obj.metadata) obj.metadata.generation = 1;
      setTemplateGeneration(obj, 1);
    },
    prepareForUpdate(obj, old) {
      obj.status = old.status;
      const oldGen = Number(old.metadata?.annotations?.[templateGenerationAnnotation] ?? '1') || 1;
      const templateChanged = !deepEqual(objAt(obj, 'spec')?.template, objAt(old, 'spec')?.template);
      setTemplateGeneration(obj, templateChanged ? oldGen + 1 : oldGen);
      if (obj.metadata) obj.metadata.generation = (old.metadata?.generation ?? 1) + (deepEqual(obj.spec, old.spec) ? 0 : 1);
    },
    validate: (obj) => validateDaemonSet(obj),
    validateUpdate: (obj, old) => [...validateDaemonSet(obj), ...immutableSelector(objAt(obj, 'spec')?.selector, objAt(old, 'spec')?.selector, 'spec.selector')],
    status: { validateUpdate: (obj) => validateDaemonSetStatus(obj) },
  };
}
