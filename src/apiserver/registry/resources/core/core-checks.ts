/**
 * Validation helpers shared by the core/v1 strategies, with Kubernetes' wording: ports, IPs,
 * quantities and resource requirements, taints and tolerations. Field-error constructors and
 * small JSON accessors come from `../group-checks.js`.
 */
import { isIP } from 'node:net';
import type { FieldError } from '../../../../machinery/status-error.js';
import { Quantity, QuantityParseError } from '../../../../machinery/quantity.js';
import { validateLabelValue, validateQualifiedName } from '../../../../machinery/name-validation.js';
import { invalid, invalidGo, isObj, notSupported, required, type Obj } from '../group-checks.js';

/**
 * `field.NotFound` (`Not found: "x"`). FieldError has no NotFound type yet, so this is reported
 * as an Invalid value saying "not found" until `status-error.ts` gains `FieldValueNotFound`.
 */
export function notFoundError(field: string, value: unknown): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail: 'not found' };
}

/** `IsValidPortNum`. */
export function portNumErrors(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** `IsValidPortName` (IANA_SVC_NAME). */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** `ValidatePortNumOrName` for an IntOrString port. */
export function validatePortNumOrName(port: unknown, field: string): FieldError[] {
  if (typeof port === 'number') return portNumErrors(port).map((m) => invalid(field, port, m));
  if (typeof port === 'string') return portNameErrors(port).map((m) => invalid(field, port, m));
  return [invalid(field, port ?? null, 'must be an integer or a string')];
}

export const ipErrorDetail = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** `ValidateIPAddress`. */
export function validateIP(ip: unknown, field: string): FieldError[] {
  return typeof ip === 'string' && isIP(ip) !== 0 ? [] : [invalid(field, ip ?? '', ipErrorDetail)];
}

export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'] as const;

/** Parses a quantity given as JSON (string or number); undefined when it is not one. */
export function toQuantity(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return Quantity.parse(v);
  } catch (e) {
    if (e instanceof QuantityParseError) return undefined;
    throw e;
  }
}

/** A quantity that does not parse: Kubernetes refuses it while decoding; here it is a field error. */
export function unparsableQuantity(v: unknown, field: string): FieldError {
  let detail = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  if (typeof v === 'string' || typeof v === 'number') {
    try {
      Quantity.parse(v);
    } catch (e) {
      if (e instanceof QuantityParseError) detail = e.message;
    }
  }
  return invalid(field, v ?? null, detail);
}

/** `ValidateNonnegativeQuantity` (plus the parse check). */
export function validateNonNegativeQuantity(v: unknown, field: string): FieldError[] {
  const q = toQuantity(v);
  if (!q) return [unparsableQuantity(v, field)];
  return q.sign() < 0 ? [invalid(field, q.toString(), 'must be greater than or equal to 0')] : [];
}

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

export function isHugePageResource(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** Native resources live in the kubernetes.io namespace (or have no prefix). */
function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Extended resources: fully qualified, outside kubernetes.io, not `requests.`-prefixed. */
export function isExtendedResource(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return validateQualifiedName(`requests.${name}`).length === 0;
}

/** `validateContainerResourceName`. */
export function validateContainerResourceName(name: string, field: string): FieldError[] {
  const errs = validateQualifiedName(name).map((m) => invalid(field, name, m));
  if (!name.includes('/')) {
    if (!standardContainerResources.has(name) && !isHugePageResource(name)) errs.push(invalid(field, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    errs.push(invalid(field, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** `ValidateResourceQuantityValue`: non-negative, and whole numbers for extended resources. */
export function validateResourceQuantityValue(resource: string, v: unknown, field: string): FieldError[] {
  const errs = validateNonNegativeQuantity(v, field);
  if (errs.length) return errs;
  const q = toQuantity(v);
  if (q && (isExtendedResource(resource) || integerResources.has(resource)) && q.milliValue() % 1000n !== 0n) {
    errs.push(invalidGo(field, q.toString(), 'must be an integer'));
  }
  return errs;
}

/** Quota resource names whose values must be whole numbers (`IsIntegerResourceName`). */
export const integerResources = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
  'count/pods',
]);

/** `ValidateResourceRequirements` for a container's `resources`. */
export function validateResourceRequirements(resources: unknown, field: string): FieldError[] {
  if (resources === undefined || resources === null) return [];
  if (!isObj(resources)) return [invalid(field, resources, 'must be an object')];
  const errs: FieldError[] = [];
  const limits = isObj(resources.limits) ? resources.limits : {};
  const requests = isObj(resources.requests) ? resources.requests : {};
  for (const [name, v] of Object.entries(limits)) {
    const f = `${field}.limits[${name}]`;
    errs.push(...validateContainerResourceName(name, f), ...validateResourceQuantityValue(name, v, f));
  }
  for (const [name, v] of Object.entries(requests)) {
    const f = `${field}.requests[${name}]`;
    errs.push(...validateContainerResourceName(name, f), ...validateResourceQuantityValue(name, v, f));
    const req = toQuantity(v);
    const overcommit = !isHugePageResource(name) && isNativeResource(name);
    if (!req) continue;
    if (name in limits) {
      const lim = toQuantity(limits[name]);
      if (!lim) continue;
      if (!overcommit && req.cmp(lim) !== 0) {
        errs.push(invalid(`${field}.requests`, req.toString(), `must be equal to ${name} limit of ${lim.toString()}`));
      } else if (req.cmp(lim) > 0) {
        errs.push(invalid(`${field}.requests`, req.toString(), `must be less than or equal to ${name} limit of ${lim.toString()}`));
      }
    } else if (!overcommit) {
      errs.push(required(`${field}.limits`, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

export const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** `validateTaintEffect`. */
export function validateTaintEffect(effect: unknown, allowEmpty: boolean, field: string): FieldError[] {
  if (!allowEmpty && (effect === undefined || effect === '')) return [required(field, '')];
  if (effect === undefined || effect === '') return [];
  return (taintEffects as readonly unknown[]).includes(effect) ? [] : [notSupported(field, effect, taintEffects)];
}

/** `ValidateTolerations`. */
export function validateTolerations(tolerations: unknown[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((t, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(t)) {
      errs.push(invalid(f, t, 'must be an object'));
      return;
    }
    const key = typeof t.key === 'string' ? t.key : '';
    const op = typeof t.operator === 'string' ? t.operator : '';
    const value = typeof t.value === 'string' ? t.value : '';
    const effect = typeof t.effect === 'string' ? t.effect : '';
    if (key) for (const m of validateQualifiedName(key)) errs.push(invalid(`${f}.key`, key, m));
    if (!key && op !== 'Exists') {
      errs.push(invalid(`${f}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute') {
      errs.push(invalid(`${f}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const msgs = validateLabelValue(value);
      if (msgs.length) errs.push(invalid(`${f}.operator`, value, msgs.join(';')));
    } else if (op === 'Exists') {
      if (value) errs.push(invalidGo(`${f}.operator`, goToleration(t), "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(`${f}.operator`, op, ['Equal', 'Exists']));
    }
    if (effect) errs.push(...validateTaintEffect(effect, true, `${f}.effect`));
  });
  return errs;
}

function goToleration(t: Obj): string {
  const secs = typeof t.tolerationSeconds === 'number' ? `(*int64)(${t.tolerationSeconds})` : '(*int64)(nil)';
  const s = (k: string): string => JSON.stringify(typeof t[k] === 'string' ? t[k] : '');
  return `core.Toleration{Key:${s('key')}, Operator:${s('operator')}, Value:${s('value')}, Effect:${s('effect')}, TolerationSeconds:${secs}}`;
}

/** `ValidateNonnegativeField` for optional integers. */
export function nonNegativeInt(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(field, v, 'must be an integer')];
  return v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [];
}

/** Reads a string-valued map (labels, selectors), ignoring non-string values. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
