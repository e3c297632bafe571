/**
 * rbac.authorization.k8s.io Role: names are path segments; each rule needs verbs, and either
 * apiGroups + resources or (cluster roles only) nonResourceURLs, as `pkg/apis/rbac/validation`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, invalid, required } from '../group-checks.js';

/** `ValidatePolicyRule`: one rule at `field` (e.g. `rules[0]`). */
export function validatePolicyRule(rule: unknown, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (arrAt(rule, 'verbs').length === 0) errs.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
  const urls = arrAt(rule, 'nonResourceURLs');
  if (urls.length > 0) {
    if (namespaced) errs.push(invalid(`${field}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (arrAt(rule, 'apiGroups').length > 0 || arrAt(rule, 'resources').length > 0) {
      errs.push(invalid(`${field}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arrAt(rule, 'apiGroups').length === 0) errs.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arrAt(rule, 'resources').length === 0) errs.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(obj: KubeObject): FieldError[] {
  return arrAt(obj, 'rules').flatMap((r, i) => validatePolicyRule(r, true, `rules[${i}]`));
}

export function roleStrategy(): Strategy {
  return {
    nameValidation: 'path',
    validate: (obj) => validateRole(obj),
    validateUpdate: (obj) => validateRole(obj),
  };
}
