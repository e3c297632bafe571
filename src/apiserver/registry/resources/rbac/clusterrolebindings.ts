/**
 * rbac.authorization.k8s.io ClusterRoleBinding: roleRef must be a ClusterRole and cannot change;
 * ServiceAccount subjects must name their namespace.
 */
import type { Strategy } from '../../strategy.js';
import { defaultBinding, roleRefUnchanged, validateBinding } from './rolebindings.js';

export function clusterRoleBindingStrategy(): Strategy {
  return {
    nameValidation: 'path',
    default: defaultBinding,
    validate: (obj) => validateBinding(obj, false),
    validateUpdate: (obj, old) => [...validateBinding(obj, false), ...roleRefUnchanged(obj, old)],
  };
}
