/**
 * apps/v1 ControllerRevision: the snapshots DaemonSets and StatefulSets keep of their
 * templates. `data` is required and immutable; `revision` is non-negative.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { nonNegative, required } from '../group-checks.js';

export function validateControllerRevision(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(required('data', 'data is mandatory'));
  errs.push(...nonNegative(obj.revision, 'revision'));
  return errs;
}

export function controllerRevisionStrategy(): Strategy {
  return {
    validate: (obj) => validateControllerRevision(obj),
    validateUpdate(obj, old) {
      const errs = validateControllerRevision(obj);
      if (!deepEqual(obj.data, old.data)) errs.push({ type: 'FieldValueInvalid', field: 'data', detail: 'field is immutable' });
      return errs;
    },
  };
}
