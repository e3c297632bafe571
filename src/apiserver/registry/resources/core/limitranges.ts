/**
 * LimitRanges: limit types (Pod, Container, PersistentVolumeClaim), resource names and
 * quantities, and the ordering min ≤ defaultRequest ≤ default ≤ max. Container items get
 * Kubernetes' defaults (default ← max, defaultRequest ← default ← min).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { Quantity } from '../../../../machinery/quantity.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, duplicate, forbidden, invalid, invalidGo, isObj, required, type Obj } from '../group-checks.js';
import { isExtendedResource, isHugePageResource, toQuantity, unparsableQuantity } from './core-checks.js';

const limitTypes = ['Pod', 'Container', 'PersistentVolumeClaim'];
const standardLimitResources = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);

/** SetDefaults_LimitRangeItem for every Container item. */
export function defaultLimitRange(lr: KubeObject): void {
  for (const item of arrAt(lr.spec, 'limits')) {
    if (!isObj(item) || item.type !== 'Container') continue;
    const def: Obj = isObj(item.default) ? item.default : {};
    const defReq: Obj = isObj(item.defaultRequest) ? item.defaultRequest : {};
    for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (def[k] === undefined) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (defReq[k] === undefined) defReq[k] = v;
    for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (defReq[k] === undefined) defReq[k] = v;
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(defReq).length) item.defaultRequest = defReq;
  }
}

function validateResourceName(name: string, field: string): FieldError[] {
  const errs = validateQualifiedName(name).map((m) => invalid(field, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !standardLimitResources.has(name) && !isHugePageResource(name)) {
    errs.push(invalid(field, name, 'must be a standard limit type or fully qualified'));
  }
  return errs;
}

export function validateLimitRange(lr: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const seenTypes = new Set<string>();
  arrAt(lr.spec, 'limits').forEach((item, i) => {
    const f = `spec.limits[${i}]`;
    if (!isObj(item)) return;
    const type = typeof item.type === 'string' ? item.type : '';
    for (const m of validateQualifiedName(type)) errs.push(invalid(`${f}.type`, type, m));
    if (!type.includes('/') && !limitTypes.includes(type)) errs.push(invalid(`${f}.type`, type, 'must be a standard limit type or fully qualified'));
    if (seenTypes.has(type)) errs.push(duplicate(`${f}.type`, type));
    seenTypes.add(type);
    const maps: Record<string, Map<string, Quantity>> = {};
    const keys = new Set<string>();
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      const m = new Map<string, Quantity>();
      maps[field] = m;
      for (const [k, v] of Object.entries(isObj(item[field]) ? (item[field] as Obj) : {})) {
        const path = `${f}.${field}[${k}]`;
        errs.push(...validateResourceName(k, path));
        const q = toQuantity(v);
        if (!q) {
          errs.push(unparsableQuantity(v, path));
          continue;
        }
        keys.add(k);
        m.set(k, q);
      }
    }
    if (type === 'Pod') {
      if (maps.default!.size) errs.push(forbidden(`${f}.default`, "may not be specified when `type` is 'Pod'"));
      if (maps.defaultRequest!.size) errs.push(forbidden(`${f}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    if (type === 'PersistentVolumeClaim' && !maps.min!.has('storage') && !maps.max!.has('storage')) {
      errs.push(required(`${f}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    for (const k of keys) {
      const min = maps.min!.get(k);
      const max = maps.max!.get(k);
      const def = maps.default!.get(k);
      const defReq = maps.defaultRequest!.get(k);
      const ratio = maps.maxLimitRequestRatio!.get(k);
      if (min && max && min.cmp(max) > 0) errs.push(invalidGo(`${f}.min[${k}]`, min.toString(), `min value ${min} is greater than max value ${max}`));
      if (defReq && min && min.cmp(defReq) > 0) errs.push(invalidGo(`${f}.defaultRequest[${k}]`, defReq.toString(), `min value ${min} is greater than default request value ${defReq}`));
      if (defReq && max && defReq.cmp(max) > 0) errs.push(invalidGo(`${f}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than max value ${max}`));
      if (defReq && def && defReq.cmp(def) > 0) errs.push(invalidGo(`${f}.defaultRequest[${k}]`, defReq.toString(), `default request value ${defReq} is greater than default limit value ${def}`));
      if (def && min && min.cmp(def) > 0) errs.push(invalidGo(`${f}.default[${k}]`, min.toString(), `min value ${min} is greater than default value ${def}`));
      if (def && max && def.cmp(max) > 0) errs.push(invalidGo(`${f}.default[${k}]`, max.toString(), `default value ${def} is greater than max value ${max}`));
      if (ratio && ratio.milliValue() < 1000n) errs.push(invalidGo(`${f}.maxLimitRequestRatio[${k}]`, ratio.toString(), `ratio ${ratio} is less than 1`));
      if (ratio && min && max && min.sign() > 0) {
        const limit = Number(max.milliValue()) / Number(min.milliValue());
        if (Number(ratio.milliValue()) / 1000 > limit) {
          errs.push(invalidGo(`${f}.maxLimitRequestRatio[${k}]`, ratio.toString(), `ratio ${ratio} is greater than max/min = ${limit.toFixed(6)}`));
        }
      }
      const overcommit = !isHugePageResource(k) && !isExtendedResource(k);
      if (!overcommit && def && defReq && def.cmp(defReq) !== 0) {
        errs.push(invalidGo(`${f}.defaultRequest[${k}]`, defReq.toString(), `default value ${def} must equal to defaultRequest value ${defReq} in ${k}`));
      }
    }
  });
  return errs;
}

export const limitRangeStrategy: Strategy = {
  default: defaultLimitRange,
  validate: (obj) => validateLimitRange(obj),
  validateUpdate: (obj) => validateLimitRange(obj),
};
