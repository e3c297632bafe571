/**
 * coordination.k8s.io Lease: what leader election and node heartbeats write. A PUT to a missing
 * lease creates it; durations must be positive, transitions non-negative.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { forbidden, invalid, isObj, notSupported, strAt } from '../group-checks.js';

export function validateLease(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) errs.push(invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  const strategy = strAt(spec, 'strategy');
  if (strategy !== undefined && strategy !== 'OldestEmulationVersion') errs.push(notSupported('spec.strategy', strategy, ['OldestEmulationVersion']));
  const preferred = strAt(spec, 'preferredHolder');
  if (preferred && !strategy) errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}

export function leaseStrategy(): Strategy {
  return {
    allowCreateOnUpdate: true,
    validate: (obj) => validateLease(obj),
    validateUpdate: (obj) => validateLease(obj),
  };
}
