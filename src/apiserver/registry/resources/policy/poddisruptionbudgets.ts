/**
 * policy PodDisruptionBudget: minAvailable xor maxUnavailable (each a non-negative integer or a
 * percentage up to 100%), a valid selector; status only through `/status`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { invalid, isObj, nonNegative, notMoreThan100Percent, notSupported, strAt, validateLabelSelector, validatePositiveIntOrPercent } from '../group-checks.js';

const evictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

export function validatePodDisruptionBudget(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable']) {
    if (spec[f] === undefined) continue;
    errs.push(...validatePositiveIntOrPercent(spec[f], `spec.${f}`), ...notMoreThan100Percent(spec[f], `spec.${f}`));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = strAt(spec, 'unhealthyPodEvictionPolicy');
  if (policy !== undefined && !evictionPolicies.includes(policy)) errs.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, evictionPolicies));
  return errs;
}

function validateStatus(obj: KubeObject): FieldError[] {
  const s = isObj(obj.status) ? obj.status : {};
  return ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods', 'observedGeneration'].flatMap((f) => nonNegative(s[f], `status.${f}`));
}

export function podDisruptionBudgetStrategy(): Strategy {
  const base = specStatusStrategy();
  return {
    ...base,
    prepareForCreate(obj, ctx) {
      void base.prepareForCreate?.(obj, ctx);
      // policy/v1 PDBs start with an empty status that still shows the required counters.
      obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    },
    validate: (obj) => validatePodDisruptionBudget(obj),
    validateUpdate: (obj) => validatePodDisruptionBudget(obj),
    status: { validateUpdate: (obj) => validateStatus(obj) },
  };
}
