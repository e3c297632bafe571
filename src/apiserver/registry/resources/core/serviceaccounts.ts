/** ServiceAccounts: referenced secrets and image-pull secrets must name something. */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, invalid, required, strAt } from '../group-checks.js';

export function validateServiceAccount(sa: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['secrets', 'imagePullSecrets'] as const) {
    arrAt(sa, field).forEach((ref, i) => {
      if (!strAt(ref, 'name')) errs.push(required(`${field}[${i}].name`, ''));
    });
  }
  const automount = sa.automountServiceAccountToken;
  if (automount !== undefined && automount !== null && typeof automount !== 'boolean') {
    errs.push(invalid('automountServiceAccountToken', automount, 'must be a boolean'));
  }
  return errs;
}

export const serviceAccountStrategy: Strategy = {
  validate: (obj) => validateServiceAccount(obj),
  validateUpdate: (obj) => validateServiceAccount(obj),
};
