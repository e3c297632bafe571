/**
 * apps/v1 StatefulSet: defaults (`SetDefaults_StatefulSet`: OrderedReady, RollingUpdate with
 * partition 0, Retain/Retain PVC retention, replicas 1, revisionHistoryLimit 10; claim templates
 * get PVC defaults), validation (`ValidateStatefulSetSpec`) and the update rule that only
 * replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
 * persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import {
  arrAt,
  child,
  forbidden,
  invalid,
  isObj,
  nonNegative,
  notMoreThan100Percent,
  notSupported,
  objAt,
  required,
  setDefault,
  validatePositiveIntOrPercent,
  type Obj,
} from '../group-checks.js';
import { restartAlways, selectorMatchesTemplate, specOf, validateWorkloadSelector } from './workload-checks.js';
import { validatePodTemplateMetadata } from '../core/pod-spec-validation.js';

const retentionPolicies = ['Retain', 'Delete'];

export function defaultStatefulSet(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const us = child(spec, 'updateStrategy');
  if (!us.type) {
    us.type = 'RollingUpdate';
    child(us, 'rollingUpdate');
  }
  const ru = objAt(us, 'rollingUpdate');
  if (us.type === 'RollingUpdate' && ru) setDefault(ru, 'partition', 0);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
  if (!retention.whenScaled) retention.whenScaled = 'Retain';
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(spec.template);
  for (const pvc of arrAt(spec, 'volumeClaimTemplates')) {
    if (!isObj(pvc)) continue;
    setDefault(pvc, 'apiVersion', 'v1');
    setDefault(pvc, 'kind', 'PersistentVolumeClaim');
    setDefault(child(pvc, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(child(pvc, 'status'), 'phase', 'Pending');
  }
}

function validateUpdateStrategy(us: unknown): FieldError[] {
  const s: Obj = isObj(us) ? us : {};
  const type = s.type;
  const ru = s.rollingUpdate;
  switch (type) {
    case undefined:
    case '':
      return [required('spec.updateStrategy')];
    case 'OnDelete':
      return ru !== undefined && ru !== null ? [invalid('spec.updateStrategy.rollingUpdate', ru, "only allowed for updateStrategy 'RollingUpdate'")] : [];
    case 'RollingUpdate': {
      if (!isObj(ru)) return [];
      const errs = nonNegative(ru.partition, 'spec.updateStrategy.rollingUpdate.partition');
      if (ru.maxUnavailable !== undefined) {
        errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        errs.push(...notMoreThan100Percent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        if (ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') errs.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'must be greater than 0'));
      }
      return errs;
    }
    default:
      return [invalid('spec.updateStrategy', s, "must be 'RollingUpdate' or 'OnDelete'")];
  }
}

/** `ValidateStatefulSetSpec` at `spec`. */
export function validateStatefulSet(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (pmp === undefined || pmp === '') errs.push(required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  const retention = objAt(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    for (const k of ['whenDeleted', 'whenScaled']) {
      const v = retention[k];
      if (typeof v === 'string' && !retentionPolicies.includes(v)) errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, retentionPolicies));
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(objAt(spec, 'ordinals')?.start, 'spec.ordinals.start'));
  const { errs: selErrs, selector } = validateWorkloadSelector(spec.selector, 'spec.selector', 'statefulset');
  errs.push(...selErrs);
  if (selector) {
    if (!selector.empty()) errs.push(...selectorMatchesTemplate(selector, spec.template, 'spec.template'));
    // As ValidatePodTemplateSpecForStatefulSet: only the template's metadata. Its pod spec may
    // mount volumeClaimTemplates that are not among its volumes; pods are validated when made.
    errs.push(...validatePodTemplateMetadata(spec.template, 'spec.template'));
  }
  errs.push(...restartAlways(spec.template, 'spec.template'));
  const ads = objAt(objAt(spec, 'template'), 'spec')?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

const mutableSpecFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** `ValidateStatefulSetUpdate`: the spec rules plus the list of fields that may change. */
export function validateStatefulSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStatefulSet(obj);
  const strip = (spec: unknown): Obj => {
    const copy: Obj = isObj(spec) ? { ...spec } : {};
    for (const k of mutableSpecFields) delete copy[k];
    return copy;
  };
  if (!deepEqual(strip(obj.spec), strip(old.spec))) {
    errs.push(
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

export function validateStatefulSetStatus(obj: KubeObject): FieldError[] {
  const s = objAt(obj, 'status') ?? {};
  const errs = ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'].flatMap((f) => nonNegative(s[f], `status.${f}`));
  const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    if (n(k) > n('replicas')) errs.push(invalid(`status.${k}`, n(k), 'cannot be greater than status.replicas'));
  }
  if (n('availableReplicas') > n('readyReplicas')) errs.push(invalid('status.availableReplicas', n('availableReplicas'), 'cannot be greater than status.readyReplicas'));
  return errs;
}

export function statefulSetStrategy(): Strategy {
  return specStatusStrategy({
    default: defaultStatefulSet,
    validate: (obj) => validateStatefulSet(obj),
    validateUpdate: (obj, old) => validateStatefulSetUpdate(obj, old),
    status: { validateUpdate: (obj) => validateStatefulSetStatus(obj) },
  });
}
