/**
 * ResourceQuotas: `spec.hard` names must be quota resources and amounts valid (whole numbers
 * for object counts); scopes must be known. Status (`hard`/`used`) is written by the quota
 * controller through /status and cleared on create.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, invalid, invalidGo, isObj, notSupported, strAt, type Obj } from '../group-checks.js';
import { isHugePageResource, validateResourceQuantityValue } from './core-checks.js';

const standardQuotaResources = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers', 'cpu', 'memory', 'ephemeral-storage', 'storage',
  'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);
const scopes = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];

function validateQuotaResourceName(name: string, field: string): FieldError[] {
  const errs = validateQualifiedName(name).map((m) => invalid(field, name, m));
  if (errs.length) return errs;
  const hugepages = isHugePageResource(name) || name.startsWith('requests.hugepages-');
  if (!name.includes('/') && !standardQuotaResources.has(name) && !hugepages) errs.push(invalid(field, name, 'must be a standard resource for quota'));
  return errs;
}

function validateResourceList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(isObj(list) ? list : {})) {
    const f = `${path}[${k}]`;
    errs.push(...validateQuotaResourceName(k, f), ...validateResourceQuantityValue(k, v, f));
  }
  return errs;
}

export function validateResourceQuota(rq: KubeObject): FieldError[] {
  const spec: Obj = isObj(rq.spec) ? rq.spec : {};
  const errs = validateResourceList(spec.hard, 'spec.hard');
  const given = arrAt(spec, 'scopes');
  if (given.some((s) => !scopes.includes(String(s)))) {
    errs.push(invalidGo('spec.scopes', `[]core.ResourceQuotaScope{${given.map((s) => JSON.stringify(String(s))).join(', ')}}`, 'unsupported scope'));
  }
  if (given.includes('Terminating') && given.includes('NotTerminating')) {
    errs.push(invalidGo('spec.scopes', `[]core.ResourceQuotaScope{${given.map((s) => JSON.stringify(String(s))).join(', ')}}`, 'conflicting scopes'));
  }
  if (given.includes('BestEffort') && given.includes('NotBestEffort')) {
    errs.push(invalidGo('spec.scopes', `[]core.ResourceQuotaScope{${given.map((s) => JSON.stringify(String(s))).join(', ')}}`, 'conflicting scopes'));
  }
  const sel = spec.scopeSelector;
  arrAt(sel, 'matchExpressions').forEach((e, i) => {
    const f = `spec.scopeSelector.matchExpressions[${i}]`;
    const name = strAt(e, 'scopeName') ?? '';
    if (!scopes.includes(name)) errs.push(notSupported(`${f}.scopeName`, name, scopes));
    const op = strAt(e, 'operator') ?? '';
    const ops = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
    if (!ops.includes(op)) errs.push(notSupported(`${f}.operator`, op, ops));
  });
  return errs;
}

export function validateResourceQuotaStatus(rq: KubeObject): FieldError[] {
  const status: Obj = isObj(rq.status) ? rq.status : {};
  return [...validateResourceList(status.hard, 'status.hard'), ...validateResourceList(status.used, 'status.used')];
}

export const resourceQuotaStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate: (obj) => validateResourceQuota(obj),
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj) => validateResourceQuota(obj),
  status: {
    validateUpdate: (obj) => validateResourceQuotaStatus(obj),
  },
};
