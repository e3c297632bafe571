/**
 * rbac.authorization.k8s.io ClusterRole: like Role, but rules may name nonResourceURLs, and an
 * aggregationRule needs at least one valid clusterRoleSelector.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, objAt, required, validateLabelSelector } from '../group-checks.js';
import { validatePolicyRule } from './roles.js';

export function validateClusterRole(obj: KubeObject): FieldError[] {
  const errs = arrAt(obj, 'rules').flatMap((r, i) => validatePolicyRule(r, false, `rules[${i}]`));
  const agg = objAt(obj, 'aggregationRule');
  if (agg) {
    const selectors = arrAt(agg, 'clusterRoleSelectors');
    if (selectors.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

export function clusterRoleStrategy(): Strategy {
  return {
    nameValidation: 'path',
    validate: (obj) => validateClusterRole(obj),
    validateUpdate: (obj) => validateClusterRole(obj),
  };
}
