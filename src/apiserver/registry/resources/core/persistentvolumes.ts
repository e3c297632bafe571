/**
 * PersistentVolumes: cluster-scoped; capacity (storage only), access modes and exactly one
 * volume source are required; the source may not change; status via /status (created Pending).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { arrAt, forbidden, immutable, invalid, isObj, notSupported, required, strAt, type Obj } from '../group-checks.js';
import { toQuantity, unparsableQuantity } from './core-checks.js';

export const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const volumeModes = ['Block', 'Filesystem'];

const pvSources = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc',
  'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
  'scaleIO', 'local', 'storageos', 'csi',
];

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

function now(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** SetDefaults_PersistentVolume. */
export function defaultPersistentVolume(pv: KubeObject): void {
  const spec = specOf(pv);
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
  if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
  if (isObj(spec.hostPath) && spec.hostPath.type === undefined) spec.hostPath.type = '';
}

function sourceOf(spec: Obj): Obj {
  const out: Obj = {};
  for (const k of pvSources) if (spec[k] !== undefined && spec[k] !== null) out[k] = spec[k];
  return out;
}

export function validatePersistentVolume(pv: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(pv);
  const modes = arrAt(spec, 'accessModes');
  if (modes.length === 0) errs.push(required('spec.accessModes', ''));
  for (const m of modes) if (!accessModes.includes(String(m))) errs.push(notSupported('spec.accessModes', m, accessModes));
  const capacity: Obj = isObj(spec.capacity) ? spec.capacity : {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(required('spec.capacity', ''));
  else if (!keys.includes('storage') || keys.length > 1) errs.push(notSupported('spec.capacity', capacity, ['storage']));
  for (const [k, v] of Object.entries(capacity)) {
    const q = toQuantity(v);
    if (!q) errs.push(unparsableQuantity(v, `spec.capacity[${k}]`));
    else if (q.sign() < 0) errs.push(invalid(`spec.capacity[${k}]`, Number(q.value()), 'must be a valid resource quantity'));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !['Delete', 'Recycle', 'Retain'].includes(String(policy))) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
  const mode = spec.volumeMode;
  if (mode !== undefined && !volumeModes.includes(String(mode))) errs.push(notSupported('spec.volumeMode', mode, volumeModes));
  const sources = Object.keys(sourceOf(spec));
  if (sources.length === 0) errs.push(required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (isObj(spec.hostPath) && !strAt(spec.hostPath, 'path')) errs.push(required('spec.hostPath.path', ''));
  if (isObj(spec.local)) {
    if (!strAt(spec.local, 'path')) errs.push(required('spec.local.path', ''));
    if (!isObj(spec.nodeAffinity)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (isObj(spec.nfs)) {
    if (!strAt(spec.nfs, 'server')) errs.push(required('spec.nfs.server', ''));
    const p = strAt(spec.nfs, 'path') ?? '';
    if (!p) errs.push(required('spec.nfs.path', ''));
    else if (!p.startsWith('/')) errs.push(invalid('spec.nfs.path', p, 'must be an absolute path'));
  }
  if (isObj(spec.csi)) {
    if (!strAt(spec.csi, 'driver')) errs.push(required('spec.csi.driver', ''));
    if (!strAt(spec.csi, 'volumeHandle')) errs.push(required('spec.csi.volumeHandle', ''));
  }
  return errs;
}

export function validatePersistentVolumeUpdate(pv: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolume(pv);
  const spec = specOf(pv);
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const src = sourceOf(spec);
  const oldSrc = sourceOf(oldSpec);
  if (!deepEqual(src, oldSrc)) {
    errs.push(forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n- ${JSON.stringify(oldSrc)}\n+ ${JSON.stringify(src)}`));
  }
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  if (isObj(oldSpec.nodeAffinity) && !deepEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) {
    errs.push(invalid('nodeAffinity', 'nodeAffinity', 'field is immutable'));
  }
  return errs;
}

export const persistentVolumeStrategy: Strategy = {
  default: defaultPersistentVolume,
  prepareForCreate(obj, ctx) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: now(ctx.now) };
  },
  validate: (obj) => validatePersistentVolume(obj),
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj, old) => validatePersistentVolumeUpdate(obj, old),
  status: {
    prepareForUpdate(obj, old, ctx) {
      const phase = isObj(obj.status) ? obj.status.phase : undefined;
      const oldPhase = isObj(old.status) ? old.status.phase : undefined;
      if (isObj(obj.status) && phase !== oldPhase) obj.status.lastPhaseTransitionTime = now(ctx.now);
    },
    validateUpdate(obj) {
      const phase = isObj(obj.status) ? obj.status.phase : undefined;
      const phases = ['Available', 'Bound', 'Failed', 'Pending', 'Released'];
      return phase !== undefined && !phases.includes(String(phase)) ? [notSupported('status.phase', phase, phases)] : [];
    },
  },
};
