/**
 * PersistentVolumeClaims: access modes and a positive storage request are required; after
 * creation the spec is fixed except binding (`volumeName` once) and growing the request of a
 * bound claim; status via /status (created Pending).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { arrAt, forbidden, invalid, isObj, notSupported, required, strAt, validateLabelSelector, type Obj } from '../group-checks.js';
import { toQuantity, unparsableQuantity, validateResourceQuantityValue } from './core-checks.js';
import { accessModes, volumeModes } from './persistentvolumes.js';

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

/** SetDefaults_PersistentVolumeClaimSpec. */
export function defaultPersistentVolumeClaim(pvc: KubeObject): void {
  const spec = specOf(pvc);
  if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
}

/** `ValidatePersistentVolumeClaimSpec` at `path` (also used for volume claim templates). */
export function validatePersistentVolumeClaimSpec(spec: unknown, path: string): FieldError[] {
  if (!isObj(spec)) return [required(path, '')];
  const errs: FieldError[] = [];
  const modes = arrAt(spec, 'accessModes');
  if (modes.length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  for (const m of modes) if (!accessModes.includes(String(m))) errs.push(notSupported(`${path}.accessModes`, m, accessModes));
  errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  const resources: Obj = isObj(spec.resources) ? spec.resources : {};
  const requests: Obj = isObj(resources.requests) ? resources.requests : {};
  const storage = requests.storage;
  if (storage === undefined) errs.push(required(`${path}.resources[storage]`, ''));
  else {
    const q = toQuantity(storage);
    if (!q) errs.push(unparsableQuantity(storage, `${path}.resources[storage]`));
    else if (q.sign() <= 0) errs.push(invalid(`${path}.resources[storage]`, q.toString(), 'must be greater than zero'));
    else errs.push(...validateResourceQuantityValue('storage', storage, `${path}.resources[storage]`));
  }
  const sc = strAt(spec, 'storageClassName');
  if (sc) for (const m of isDNS1123Subdomain(sc)) errs.push(invalid(`${path}.storageClassName`, sc, m));
  const mode = spec.volumeMode;
  if (mode !== undefined && mode !== null && !volumeModes.includes(String(mode))) errs.push(notSupported(`${path}.volumeMode`, mode, volumeModes));
  return errs;
}

export function validatePersistentVolumeClaimUpdate(pvc: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolumeClaimSpec(pvc.spec, 'spec');
  const spec = specOf(pvc);
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const newClone = structuredClone(spec);
  const oldClone = structuredClone(oldSpec);
  if (!strAt(oldSpec, 'volumeName')) setOrDelete(oldClone, 'volumeName', spec.volumeName);
  // A storage class may be set once on a claim that had none.
  if (!strAt(oldSpec, 'storageClassName') && strAt(spec, 'storageClassName')) oldClone.storageClassName = spec.storageClassName;
  const bound = isObj(pvc.status) && pvc.status.phase === 'Bound';
  const oldStorage = isObj(oldSpec.resources) && isObj(oldSpec.resources.requests) ? oldSpec.resources.requests.storage : undefined;
  if (bound && isObj(newClone.resources) && isObj(newClone.resources.requests)) newClone.resources.requests.storage = oldStorage;
  if (!deepEqual(newClone, oldClone)) {
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  const newStorage = isObj(spec.resources) && isObj(spec.resources.requests) ? spec.resources.requests.storage : undefined;
  const nq = toQuantity(newStorage);
  const oq = toQuantity(oldStorage);
  if (nq && oq && nq.cmp(oq) < 0) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  return errs;
}

function setOrDelete(o: Obj, key: string, value: unknown): void {
  if (value === undefined) delete o[key];
  else o[key] = value;
}

export const persistentVolumeClaimStrategy: Strategy = {
  default: defaultPersistentVolumeClaim,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate: (obj) => validatePersistentVolumeClaimSpec(obj.spec, 'spec'),
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj, old) => validatePersistentVolumeClaimUpdate(obj, old),
  status: {
    validateUpdate(obj) {
      const phase = isObj(obj.status) ? obj.status.phase : undefined;
      const phases = ['Bound', 'Lost', 'Pending'];
      return phase !== undefined && !phases.includes(String(phase)) ? [notSupported('status.phase', phase, phases)] : [];
    },
  },
};
