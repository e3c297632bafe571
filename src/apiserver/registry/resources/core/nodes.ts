/**
 * Nodes: cluster-scoped; kubelets create them with their status (it is kept on create), then
 * write status through /status. podCIDR(s) and providerID may be set once; taints are checked.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { validateLabelValue, validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, forbidden, invalid, isObj, strAt, type Obj } from '../group-checks.js';
import { validateIP, validateNonNegativeQuantity, validateTaintEffect } from './core-checks.js';

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

/** SetDefaults_NodeStatus (allocatable defaults to capacity) and podCIDR/podCIDRs kept in step. */
export function defaultNode(node: KubeObject): void {
  const spec = specOf(node);
  const cidrs = arrAt(spec, 'podCIDRs');
  if (typeof spec.podCIDR === 'string' && spec.podCIDR && cidrs.length === 0) spec.podCIDRs = [spec.podCIDR];
  else if (!spec.podCIDR && typeof cidrs[0] === 'string') spec.podCIDR = cidrs[0];
  if (isObj(node.status) && isObj(node.status.capacity) && node.status.allocatable === undefined) {
    node.status.allocatable = structuredClone(node.status.capacity);
  }
}

function validCIDR(s: string): boolean {
  const [ip, bits] = s.split('/');
  if (!ip || bits === undefined || !/^\d+$/.test(bits)) return false;
  const max = ip.includes(':') ? 128 : 32;
  return validateIP(ip, '').length === 0 && Number(bits) <= max;
}

export function validateNode(node: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(node);
  const seen = new Set<string>();
  arrAt(spec, 'taints').forEach((t, i) => {
    const f = `spec.taints[${i}]`;
    const key = strAt(t, 'key') ?? '';
    for (const m of validateQualifiedName(key)) errs.push(invalid(`${f}.key`, key, m));
    const value = strAt(t, 'value') ?? '';
    for (const m of validateLabelValue(value)) errs.push(invalid(`${f}.value`, value, m));
    const effect = strAt(t, 'effect') ?? '';
    errs.push(...validateTaintEffect(effect, false, `${f}.effect`));
    const k = `${key}:${effect}`;
    if (seen.has(k)) {
      const goTaint = `core.Taint{Key:${JSON.stringify(key)}, Value:${JSON.stringify(value)}, Effect:${JSON.stringify(effect)}, TimeAdded:(*v1.Time)(nil)}`;
      errs.push({ type: 'FieldValueDuplicate', field: f, detail: `${goTaint}: taints must be unique by key and effect pair` });
    }
    seen.add(k);
  });
  arrAt(spec, 'podCIDRs').forEach((c, i) => {
    if (typeof c !== 'string' || !validCIDR(c)) errs.push(invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  if (arrAt(spec, 'podCIDRs').length > 2) errs.push(invalid('spec.podCIDRs', spec.podCIDRs, 'may specify no more than one CIDR for each IP family'));
  const status: Obj = isObj(node.status) ? node.status : {};
  for (const field of ['capacity', 'allocatable'] as const) {
    const m = status[field];
    if (isObj(m)) for (const [k, v] of Object.entries(m)) errs.push(...validateNonNegativeQuantity(v, `status.${field}[${k}]`));
  }
  arrAt(status, 'addresses').forEach((a, i) => {
    const type = strAt(a, 'type');
    if ((type === 'InternalIP' || type === 'ExternalIP') && strAt(a, 'address')) errs.push(...validateIP(strAt(a, 'address'), `status.addresses[${i}].address`));
  });
  return errs;
}

/** `ValidateNodeUpdate`: podCIDRs and providerID may go from unset to set, not change. */
export function validateNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateNode(node);
  const spec = specOf(node);
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const oldCIDRs = arrAt(oldSpec, 'podCIDRs');
  const cidrs = arrAt(spec, 'podCIDRs');
  if (oldCIDRs.length > 0 && (oldCIDRs.length !== cidrs.length || oldCIDRs.some((c, i) => c !== cidrs[i]))) {
    errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  const oldProvider = strAt(oldSpec, 'providerID');
  if (oldProvider && oldProvider !== strAt(spec, 'providerID')) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

export const nodeStrategy: Strategy = {
  default: defaultNode,
  validate: (obj) => validateNode(obj),
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj, old) => validateNodeUpdate(obj, old),
  selectableFields: (obj) => ({ 'spec.unschedulable': isObj(obj.spec) && obj.spec.unschedulable === true ? 'true' : 'false' }),
  status: {
    validateUpdate: (obj, old) => validateNodeUpdate(obj, old),
  },
};
