/**
 * storage.k8s.io StorageClass: provisioner required; reclaimPolicy defaults to Delete and
 * volumeBindingMode to Immediate; provisioner, parameters and reclaimPolicy cannot change.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { forbidden, immutable, invalid, isObj, notSupported, required, setDefault, strAt, type Obj } from '../group-checks.js';

const maxParameters = 512;
const maxParametersBytes = 256 * 1024;

/** `SetDefaults_StorageClass`. */
export function defaultStorageClass(obj: KubeObject): void {
  const o = obj as Obj;
  setDefault(o, 'reclaimPolicy', 'Delete');
  setDefault(o, 'volumeBindingMode', 'Immediate');
}

export function validateStorageClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = strAt(obj, 'provisioner') ?? '';
  if (!provisioner) errs.push(required('provisioner'));
  else for (const m of validateQualifiedName(provisioner.toLowerCase())) errs.push(invalid('provisioner', provisioner, m));
  const params = isObj(obj.parameters) ? obj.parameters : {};
  const keys = Object.keys(params);
  if (keys.length > maxParameters) errs.push({ type: 'FieldValueTooLong', field: 'parameters', detail: `Provisioner Parameters exceeded max allowed: ${maxParameters}` });
  let size = 0;
  for (const k of keys) {
    if (k.length === 0) errs.push(invalid('parameters', '', 'field can not be empty.'));
    size += k.length + String(params[k]).length;
  }
  if (size > maxParametersBytes) errs.push({ type: 'FieldValueTooLong', field: 'parameters', detail: `Provisioner Parameters exceeded max allowed: ${maxParametersBytes} bytes` });
  const reclaim = strAt(obj, 'reclaimPolicy');
  if (reclaim && !['Delete', 'Retain'].includes(reclaim)) errs.push(notSupported('reclaimPolicy', reclaim, ['Delete', 'Retain']));
  const mode = strAt(obj, 'volumeBindingMode');
  if (mode === undefined) errs.push(required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(mode)) errs.push(notSupported('volumeBindingMode', mode, ['Immediate', 'WaitForFirstConsumer']));
  return errs;
}

export function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStorageClass(obj);
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (obj.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (obj.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

export function storageClassStrategy(): Strategy {
  return {
    default: defaultStorageClass,
    validate: (obj) => validateStorageClass(obj),
    validateUpdate: (obj, old) => validateStorageClassUpdate(obj, old),
  };
}
