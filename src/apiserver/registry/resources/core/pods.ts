/**
 * Pods (pkg/registry/core/pod/strategy.go): defaults, validation, the narrow set of spec
 * changes an update may make, status on create (Pending + QoS class), graceful deletion and
 * the field selectors kubelets and schedulers use.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { arrAt, forbidden, invalid, isObj, strAt, type Obj } from '../group-checks.js';
import { validateIP } from './core-checks.js';
import { defaultPodOnlyFields, defaultPodSpec } from './pod-spec-defaults.js';
import { validatePodSpec } from './pod-spec-validation.js';
import { podQOSClass } from '../../../../machinery/pod-qos.js';

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

/** SetDefaults_Pod + SetDefaults_PodSpec and everything beneath. */
export function defaultPod(pod: KubeObject): void {
  const spec = specOf(pod);
  defaultPodSpec(spec);
  defaultPodOnlyFields(spec);
}

/** `ValidatePodCreate` minus metadata (checked by the store). */
export function validatePod(pod: KubeObject): FieldError[] {
  return validatePodSpec(pod.spec, 'spec');
}

const updatableMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** A short diff of two specs in the spirit of the `cmp.Diff` Kubernetes appends. */
function specDiff(oldSpec: Obj, newSpec: Obj): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines: string[] = ['  core.PodSpec{'];
  for (const k of keys) {
    if (deepEqual(oldSpec[k], newSpec[k])) continue;
    if (oldSpec[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(oldSpec[k])},`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(newSpec[k])},`);
  }
  lines.push('  }');
  return lines.join('\n');
}

/** `validateOnlyAddedTolerations`: every old toleration must remain (its tolerationSeconds may change). */
function onlyAddedTolerations(newTols: unknown[], oldTols: unknown[]): FieldError[] {
  for (const old of oldTols) {
    const found = newTols.some((n) => isObj(old) && isObj(n) && deepEqual({ ...old, tolerationSeconds: n.tolerationSeconds }, n));
    if (!found) return [forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return [];
}

/** `ValidatePodUpdate` (spec part): only images, activeDeadlineSeconds, tolerations (additions) and a few more may change. */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePod(pod);
  const spec = specOf(pod);
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const containers = arrAt(spec, 'containers');
  const oldContainers = arrAt(oldSpec, 'containers');
  if (containers.length !== oldContainers.length) return [...errs, forbidden('spec.containers', 'pod updates may not add or remove containers')];
  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (typeof ads === 'number') {
    if (ads < 0 || ads > 2147483647) return [...errs, invalid('spec.activeDeadlineSeconds', ads, 'must be between 0 and 2147483647, inclusive')];
    if (typeof oldAds === 'number' && oldAds < ads) return [...errs, invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (typeof oldAds === 'number') {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  // Build the spec as it would be if only the permitted fields had changed, then compare.
  const munged = structuredClone(spec);
  const withOldImages = (list: unknown[], oldList: unknown[]): unknown[] =>
    list.map((c, i) => {
      const o = oldList[i];
      if (!isObj(c) || !isObj(o)) return c;
      return { ...c, image: o.image };
    });
  munged.containers = withOldImages(containers, oldContainers);
  if (Array.isArray(spec.initContainers)) munged.initContainers = withOldImages(arrAt(spec, 'initContainers'), arrAt(oldSpec, 'initContainers'));
  setOrDelete(munged, 'activeDeadlineSeconds', oldSpec.activeDeadlineSeconds);
  errs.push(...onlyAddedTolerations(arrAt(spec, 'tolerations'), arrAt(oldSpec, 'tolerations')));
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && spec.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  // Scheduling gates may only be removed; while gated, node selectors/affinity may be added to.
  const gates = arrAt(spec, 'schedulingGates');
  const oldGates = arrAt(oldSpec, 'schedulingGates');
  if (gates.every((g) => oldGates.some((o) => deepEqual(o, g)))) setOrDelete(munged, 'schedulingGates', oldSpec.schedulingGates);
  if (oldGates.length > 0 && isObj(spec.nodeSelector)) {
    const oldSel: Obj = isObj(oldSpec.nodeSelector) ? oldSpec.nodeSelector : {};
    if (Object.entries(oldSel).every(([k, v]) => (spec.nodeSelector as Obj)[k] === v)) setOrDelete(munged, 'nodeSelector', oldSpec.nodeSelector);
  }
  if (!deepEqual(munged, oldSpec)) errs.push(forbidden('spec', `${updatableMessage}\n${specDiff(oldSpec, munged)}`));
  return errs;
}

function setOrDelete(o: Obj, key: string, value: unknown): void {
  if (value === undefined) delete o[key];
  else o[key] = structuredClone(value);
}

/** `ValidatePodStatusUpdate` (the checks that matter to clients). */
export function validatePodStatusUpdate(pod: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const status: Obj = isObj(pod.status) ? pod.status : {};
  const nominated = strAt(status, 'nominatedNodeName');
  if (nominated) for (const m of isDNS1123Subdomain(nominated)) errs.push(invalid('status.nominatedNodeName', nominated, m));
  const seen = new Set<string>();
  arrAt(status, 'podIPs').forEach((p, i) => {
    const ip = isObj(p) ? p.ip : undefined;
    errs.push(...validateIP(ip, `status.podIPs[${i}].ip`));
    if (typeof ip === 'string') {
      if (seen.has(ip)) errs.push({ type: 'FieldValueDuplicate', field: `status.podIPs[${i}]`, value: ip, detail: '' });
      seen.add(ip);
    }
  });
  arrAt(status, 'hostIPs').forEach((p, i) => errs.push(...validateIP(isObj(p) ? p.ip : undefined, `status.hostIPs[${i}].ip`)));
  return errs;
}

/** Fields for field selectors (`PodToSelectableFields`). */
export function podSelectableFields(pod: KubeObject): Record<string, string> {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const status: Obj = isObj(pod.status) ? pod.status : {};
  const ips = arrAt(status, 'podIPs');
  const first = ips[0];
  const podIP = isObj(first) && typeof first.ip === 'string' ? first.ip : strAt(status, 'podIP') ?? '';
  return {
    'spec.nodeName': strAt(spec, 'nodeName') ?? '',
    'spec.restartPolicy': strAt(spec, 'restartPolicy') ?? '',
    'spec.schedulerName': strAt(spec, 'schedulerName') ?? '',
    'spec.serviceAccountName': strAt(spec, 'serviceAccountName') ?? '',
    'spec.hostNetwork': spec.hostNetwork === true ? 'true' : 'false',
    'status.phase': strAt(status, 'phase') ?? '',
    'status.podIP': podIP,
    'status.nominatedNodeName': strAt(status, 'nominatedNodeName') ?? '',
  };
}

/**
 * `CheckGracefulDelete`: the requested grace period, else the pod's own (default 30); pods not
 * yet on a node, or already finished, go at once. A negative period counts as 1 second.
 */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const phase = isObj(pod.status) ? pod.status.phase : undefined;
  let period = requested ?? (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 0);
  if (!strAt(spec, 'nodeName')) period = 0;
  if (phase === 'Succeeded' || phase === 'Failed') period = 0;
  if (period < 0) period = 1;
  return period;
}

export const podStrategy: Strategy = {
  default: defaultPod,
  prepareForCreate(obj, ctx) {
    const spec = specOf(obj);
    const status: Obj = { phase: 'Pending', qosClass: podQOSClass(spec) };
    if (arrAt(spec, 'schedulingGates').length > 0) {
      status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates', lastProbeTime: null, lastTransitionTime: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z') }];
    }
    obj.status = status;
  },
  validate: (obj) => validatePod(obj),
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj, old) => validatePodUpdate(obj, old),
  gracefulDeleteSeconds: (obj, requested) => podGracePeriod(obj, requested),
  selectableFields: podSelectableFields,
  status: {
    validateUpdate: (obj) => validatePodStatusUpdate(obj),
  },
};
