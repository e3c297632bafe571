/**
 * Validation of a JSON value against an OpenAPI v3 (structural) schema, as apiextensions-apiserver
 * validates custom resources: kube-openapi's validator produces its errors (`spec.size in body
 * should be less than or equal to 10`), which are then turned into field errors with Kubernetes'
 * types and paths (`spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10`).
 *
 * Formats are validated only for the string formats Kubernetes supports (int32, int64, float …
 * are ignored, as apiextensions strips them); `x-kubernetes-int-or-string` means integer or string.
 */

import type { OpenAPISchema } from './openapi-schema.js';
import type { FieldError } from './status-error.js';

/** A kube-openapi validation error before conversion to a field error. */
interface SchemaError {
  code: Code;
  /** kube-openapi's `Name`: the dotted path (`spec.items[0].name`), '' at the root. */
  name: string;
  message: string;
  value?: unknown;
  /** The limit (max length, max items …). */
  valid?: number;
  /** Allowed values of an enum. */
  values?: unknown[];
}

type Code =
  | 'InvalidType'
  | 'Required'
  | 'TooLong'
  | 'TooShort'
  | 'Pattern'
  | 'Enum'
  | 'MultipleOf'
  | 'Max'
  | 'Min'
  | 'Unique'
  | 'MaxItems'
  | 'MinItems'
  | 'TooFewProperties'
  | 'TooManyProperties'
  | 'UnallowedProperty'
  | 'MultipleOfMustBePositive'
  /** A plain error without a field (anyOf/oneOf/allOf/not). */
  | 'Composite';

interface Result {
  errors: SchemaError[];
  matchCount: number;
}

const IN = 'body';

function newResult(): Result {
  return { errors: [], matchCount: 0 };
}

function addErrors(r: Result, ...errs: SchemaError[]): void {
  for (const e of errs) if (!r.errors.some((x) => x.message === e.message)) r.errors.push(e);
}

function merge(r: Result, ...others: (Result | undefined)[]): Result {
  for (const o of others) {
    if (!o) continue;
    addErrors(r, ...o.errors);
    r.matchCount += o.matchCount;
  }
  return r;
}

type Kind = 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map';

/** The Go kind a JSON value decodes to in an unstructured object (integral numbers are int64). */
function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

/** Go's `%q` for a string (close enough: JSON quoting). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** Go's `%v` of a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (`1e+06`). */
export function goFloat(n: number): string {
  if (n === 0) return '0';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const [mantissa, e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Go's `%v` of the number as the validator holds it: int64 for integral values, float64 otherwise. */
function goNumber(n: number, asInt: boolean): string {
  return asInt ? String(Math.trunc(n)) : goFloat(n);
}

// --- kube-openapi error constructors (errors/schema.go wording) ---

function invalidType(name: string, typeName: string, value: unknown): SchemaError {
  const message = typeof value === 'string' ? `${name} in ${IN} must be of type ${typeName}: ${quote(value)}` : `${name} in ${IN} must be of type ${typeName}`;
  return { code: 'InvalidType', name, message, value };
}

function compositeError(message: string): SchemaError {
  return { code: 'Composite', name: '', message };
}

// --- the validator ---

interface Compiled {
  types: string[];
  /** A format kube-openapi validates ('' when unsupported, as apiextensions strips those). */
  format: string;
}

const supportedFormats = new Set([
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5',
  'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date', 'duration', 'datetime',
]);

function compile(s: OpenAPISchema): Compiled {
  const types = s['x-kubernetes-int-or-string'] ? ['integer', 'string'] : s.type ? [s.type] : [];
  const format = s.format && supportedFormats.has(s.format.replace(/-/g, '')) ? s.format : '';
  return { types, format };
}

function validateSchema(s: OpenAPISchema, path: string, data: unknown): Result {
  const result = newResult();
  const c = compile(s);
  const kind = kindOf(data);
  const typeApplies = c.types.length > 0 || c.format !== '';
  if (kind === 'nil') {
    if (typeApplies) merge(result, typeValidator(s, c, path, data));
    merge(result, enumValidator(s, path, data));
    return result;
  }
  const run = (r: Result | undefined): void => {
    merge(result, r);
    result.matchCount++;
  };
  if (typeApplies) run(typeValidator(s, c, path, data));
  run(schemaPropsValidator(s, path, data));
  if (kind === 'string') run(stringValidator(s, path, data as string));
  if (kind === 'string' && c.format) run(formatValidator(c.format, path, data as string));
  if (kind === 'int' || kind === 'float') run(numberValidator(s, c, path, data as number));
  if (kind === 'slice') run(sliceValidator(s, path, data as unknown[]));
  run(enumValidator(s, path, data));
  if (kind === 'map') run(objectValidator(s, path, data as Record<string, unknown>));
  result.matchCount++;
  return result;
}

function single(e: SchemaError | undefined): Result | undefined {
  if (!e) return undefined;
  const r = newResult();
  addErrors(r, e);
  return r;
}

function typeValidator(s: OpenAPISchema, c: Compiled, path: string, data: unknown): Result {
  const r = newResult();
  r.matchCount++;
  const kind = kindOf(data);
  if (kind === 'nil') {
    if (c.types.length > 0 && !c.types.includes('null') && !s.nullable) addErrors(r, invalidType(path, c.types.join(','), 'null'));
    return r;
  }
  const [schType, format] = schemaInfo(kind);
  const isIntFloat = schType === 'integer' && c.types.includes('number');
  if (kind !== 'string' && kind !== 'slice' && c.format !== '' && !(c.types.includes(schType) || format === c.format || isIntFloat)) {
    addErrors(r, invalidType(path, c.format, format));
    return r;
  }
  if (!(c.types.includes('number') || c.types.includes('integer')) && c.format !== '' && (kind === 'string' || kind === 'slice')) return r;
  if (!(c.types.includes(schType) || isIntFloat)) addErrors(r, invalidType(path, c.types.join(','), schType));
  return r;
}

function schemaInfo(kind: Kind): [string, string] {
  switch (kind) {
    case 'bool':
      return ['boolean', ''];
    case 'string':
      return ['string', ''];
    case 'int':
      return ['integer', 'int64'];
    case 'float':
      return ['number', 'float64'];
    case 'slice':
      return ['array', ''];
    default:
      return ['object', ''];
  }
}

function schemaPropsValidator(s: OpenAPISchema, path: string, data: unknown): Result {
  const main = newResult();
  if (s.anyOf?.length) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let succeeded = false;
    for (const sub of s.anyOf) {
      const r = validateSchema(sub, path, data);
      if (r.errors.length === 0) {
        best = undefined;
        succeeded = true;
        firstSuccess ??= r;
        break;
      }
      if (!best || r.matchCount > best.matchCount) best = r;
    }
    if (!succeeded) addErrors(main, compositeError(`${quote(path)} must validate at least one schema (anyOf)`));
    if (best) merge(main, best);
    else if (firstSuccess) merge(main, firstSuccess);
  }
  if (s.oneOf?.length) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let validated = 0;
    for (const sub of s.oneOf) {
      const r = validateSchema(sub, path, data);
      if (r.errors.length === 0) {
        validated++;
        best = undefined;
        firstSuccess ??= r;
        continue;
      }
      if (validated === 0 && (!best || r.matchCount > best.matchCount)) best = r;
    }
    if (validated !== 1) {
      const extra = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      addErrors(main, compositeError(`${quote(path)} must validate one and only one schema (oneOf). ${extra}`));
      if (best) merge(main, best);
    } else if (firstSuccess) {
      merge(main, firstSuccess);
    }
  }
  if (s.allOf?.length) {
    let validated = 0;
    for (const sub of s.allOf) {
      const r = validateSchema(sub, path, data);
      if (r.errors.length === 0) validated++;
      merge(main, r);
    }
    if (validated !== s.allOf.length) {
      addErrors(main, compositeError(`${quote(path)} must validate all the schemas (allOf)${validated === 0 ? '. None validated' : ''}`));
    }
  }
  if (s.not) {
    const r = validateSchema(s.not, path, data);
    if (r.errors.length === 0) addErrors(main, compositeError(`${quote(path)} must not validate the schema (not)`));
  }
  main.matchCount++;
  return main;
}

/** Go's regexp (RE2) syntax, mostly: a leading `(?i)` (or other flags) becomes a JavaScript flag. */
function compilePattern(pattern: string): RegExp {
  let source = pattern;
  let flags = '';
  const m = /^\(\?([imsU]+)\)/.exec(source);
  if (m) {
    flags = m[1]!.replace(/U/g, '');
    source = source.slice(m[0].length);
  }
  source = source.replace(/\\z/g, '$').replace(/\\A/g, '^');
  try {
    return new RegExp(source, flags + 'u');
  } catch {
    return new RegExp(source, flags);
  }
}

function stringValidator(s: OpenAPISchema, path: string, data: string): Result | undefined {
  const length = [...data].length;
  if (s.maxLength !== undefined && length > s.maxLength) {
    return single({ code: 'TooLong', name: path, value: data, valid: s.maxLength, message: `${path} in ${IN} should be at most ${s.maxLength} chars long` });
  }
  if (s.minLength !== undefined && length < s.minLength) {
    return single({ code: 'TooShort', name: path, value: data, valid: s.minLength, message: `${path} in ${IN} should be at least ${s.minLength} chars long` });
  }
  if (s.pattern) {
    let re: RegExp | undefined;
    let problem = '';
    try {
      re = compilePattern(s.pattern);
    } catch (e) {
      problem = (e as Error).message;
    }
    if (!re) return single({ code: 'Pattern', name: path, value: data, message: `${path} in ${IN} should match '${s.pattern}, but pattern is invalid: ${problem}'` });
    if (!re.test(data)) return single({ code: 'Pattern', name: path, value: data, message: `${path} in ${IN} should match '${s.pattern}'` });
  }
  return undefined;
}

function formatValidator(format: string, path: string, data: string): Result | undefined {
  if (formatValid(format.replace(/-/g, ''), data)) return undefined;
  return single(invalidType(path, format, data));
}

/** The checks of go-openapi's strfmt default registry, for the formats Kubernetes supports. */
export function formatValid(format: string, v: string): boolean {
  switch (format) {
    case 'password':
      return true;
    case 'bsonobjectid':
      return /^[0-9a-fA-F]{24}$/.test(v);
    case 'uri':
      return isURI(v);
    case 'email':
      return /^[^\s@<>()[\]]+@[^\s@<>()[\]]+$/.test(v) || /^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(v);
    case 'hostname':
      return isHostname(v);
    case 'ipv4':
      return isIPv4(v);
    case 'ipv6':
      return isIPv6(v);
    case 'cidr': {
      const [ip, bits, ...rest] = v.split('/');
      if (rest.length || ip === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
      if (isIPv4(ip)) return Number(bits) <= 32;
      return isIPv6(ip) && Number(bits) <= 128;
    }
    case 'mac':
      return /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(v) || /^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$/.test(v) || /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(v);
    case 'uuid':
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v);
    case 'uuid3':
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v);
    case 'uuid4':
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(v);
    case 'uuid5':
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(v);
    case 'isbn':
      return isISBN10(v) || isISBN13(v);
    case 'isbn10':
      return isISBN10(v);
    case 'isbn13':
      return isISBN13(v);
    case 'creditcard':
      return /^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$/.test(v.replace(/\D/g, ''));
    case 'ssn':
      return /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(v);
    case 'hexcolor':
      return /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(v);
    case 'rgbcolor':
      return /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(v);
    case 'byte':
      return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v);
    case 'date':
      return isDate(v);
    case 'datetime':
      return isDateTime(v);
    case 'duration':
      return isDuration(v);
    default:
      return true;
  }
}

function isIPv4(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !(p.length > 1 && p.startsWith('0')));
}

function isIPv6(v: string): boolean {
  if (!v.includes(':')) return false;
  let s = v;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  let groupsNeeded = 8;
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    s = s.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < groupsNeeded : all.length === groupsNeeded;
}

function isHostname(v: string): boolean {
  if (v.length === 0 || v.length > 255) return false;
  return /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u.test(v);
}

function isURI(v: string): boolean {
  // Go's url.ParseRequestURI: an absolute URI or an absolute path.
  if (v.startsWith('/')) return !/\s/.test(v);
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/.test(v);
}

function isISBN10(v: string): boolean {
  const s = v.replace(/[\s-]/g, '');
  if (!/^\d{9}[\dX]$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += (s[i] === 'X' ? 10 : Number(s[i])) * (10 - i);
  return sum % 11 === 0;
}

function isISBN13(v: string): boolean {
  const s = v.replace(/[\s-]/g, '');
  if (!/^\d{13}$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(s[i]) * (i % 2 === 0 ? 1 : 3);
  return sum % 10 === 0;
}

function isDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

function isDateTime(v: string): boolean {
  const parts = v.split(/[tT]/);
  if (parts.length !== 2 || !isDate(parts[0]!)) return false;
  const m = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?([zZ]|[+-](\d{2}):(\d{2}))$/.exec(parts[1]!);
  if (!m) return false;
  const [h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || mi > 59 || sec > 60) return false;
  if (m[6] !== undefined && (Number(m[6]) > 23 || Number(m[7]) > 59)) return false;
  return true;
}

function isDuration(v: string): boolean {
  // Go's time.ParseDuration, or strfmt's long form ("3 days", "1 hour").
  if (/^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(v) || v === '0') return true;
  return /^[-+]?\d+\s*(ns|us|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|minutes?|min|hours?|hr|days?|weeks?|wk)$/i.test(v.trim());
}

/** Like the numeric validators' IsValueValidAgainstRange: does `n` fit the type of the schema? */
function fitsType(n: number, typeName: string): boolean {
  return typeName !== 'integer' || Number.isInteger(n);
}

function numberValidator(s: OpenAPISchema, c: Compiled, path: string, data: number): Result {
  const res = newResult();
  const typeName = c.types.length === 1 ? c.types[0]! : '';
  const isInt = Number.isInteger(data);
  const errMultiple = newResult();
  const errMin = newResult();
  const errMax = newResult();
  if (s.multipleOf !== undefined) {
    const factor = s.multipleOf;
    if (fitsType(factor, typeName) && isInt) {
      const f = Math.trunc(factor);
      if (f <= 0) addErrors(errMultiple, { code: 'MultipleOfMustBePositive', name: path, value: f, message: `factor MultipleOf declared for ${path} must be positive: ${f}` });
      else if (data % f !== 0) addErrors(errMultiple, { code: 'MultipleOf', name: path, value: data, message: `${path} in ${IN} should be a multiple of ${f}` });
    } else if (factor <= 0) {
      addErrors(errMultiple, { code: 'MultipleOfMustBePositive', name: path, value: factor, message: `factor MultipleOf declared for ${path} must be positive: ${goFloat(factor)}` });
    } else {
      const mult = factor < 1 ? (1 / factor) * data : data / factor;
      if (!Number.isInteger(mult)) addErrors(errMultiple, { code: 'MultipleOf', name: path, value: data, message: `${path} in ${IN} should be a multiple of ${goFloat(factor)}` });
    }
  }
  if (s.maximum !== undefined) {
    const asInt = isInt && fitsType(s.maximum, typeName);
    const max = asInt ? Math.trunc(s.maximum) : s.maximum;
    const exclusive = !!s.exclusiveMaximum;
    if ((!exclusive && data > max) || (exclusive && data >= max)) {
      addErrors(errMax, { code: 'Max', name: path, value: data, message: `${path} in ${IN} should be less than${exclusive ? '' : ' or equal to'} ${goNumber(max, asInt)}` });
    }
  }
  if (s.minimum !== undefined) {
    const asInt = isInt && fitsType(s.minimum, typeName);
    const min = asInt ? Math.trunc(s.minimum) : s.minimum;
    const exclusive = !!s.exclusiveMinimum;
    if ((!exclusive && data < min) || (exclusive && data <= min)) {
      addErrors(errMin, { code: 'Min', name: path, value: data, message: `${path} in ${IN} should be greater than${exclusive ? '' : ' or equal to'} ${goNumber(min, asInt)}` });
    }
  }
  merge(res, errMultiple, errMin, errMax);
  res.matchCount++;
  return res;
}

function sliceValidator(s: OpenAPISchema, path: string, data: unknown[]): Result {
  const result = newResult();
  if (s.items) {
    data.forEach((item, i) => merge(result, validateSchema(s.items!, `${path}[${i}]`, item)));
  }
  const size = data.length;
  if (s.minItems !== undefined && size < s.minItems) {
    addErrors(result, { code: 'MinItems', name: path, value: size, valid: s.minItems, message: `${path} in ${IN} should have at least ${s.minItems} items` });
  }
  if (s.maxItems !== undefined && size > s.maxItems) {
    addErrors(result, { code: 'MaxItems', name: path, value: size, valid: s.maxItems, message: `${path} in ${IN} should have at most ${s.maxItems} items` });
  }
  if (s.uniqueItems) {
    const seen: unknown[] = [];
    for (const v of data) {
      if (seen.some((u) => jsonEqual(u, v))) {
        addErrors(result, { code: 'Unique', name: path, message: `${path} in ${IN} shouldn't contain duplicates` });
        break;
      }
      seen.push(v);
    }
  }
  result.matchCount++;
  return result;
}

function enumValidator(s: OpenAPISchema, path: string, data: unknown): Result | undefined {
  if (!s.enum || s.enum.length === 0) return undefined;
  if (data !== null && data !== undefined && s.enum.some((e) => jsonEqual(e, data))) return undefined;
  return single({ code: 'Enum', name: path, value: data, values: s.enum, message: `${path} in ${IN} should be one of ${JSON.stringify(s.enum)}` });
}

function objectValidator(s: OpenAPISchema, path: string, data: Record<string, unknown>): Result {
  const res = newResult();
  const keys = Object.keys(data);
  if (s.minProperties !== undefined && keys.length < s.minProperties) {
    addErrors(res, { code: 'TooFewProperties', name: path, value: keys.length, valid: s.minProperties, message: `${path} in ${IN} should have at least ${s.minProperties} properties` });
  }
  if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
    addErrors(res, { code: 'TooManyProperties', name: path, value: keys.length, valid: s.maxProperties, message: `${path} in ${IN} should have at most ${s.maxProperties} properties` });
  }
  const props = s.properties ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(props, k);
  if (s.additionalProperties === false) {
    for (const k of keys) if (!has(k)) addErrors(res, { code: 'UnallowedProperty', name: path, value: k, message: `${path}.${k} in ${IN} is a forbidden property` });
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const k of keys) if (!has(k)) merge(res, validateSchema(s.additionalProperties, `${path}.${k}`, data[k]));
  }
  for (const [name, sub] of Object.entries(props)) {
    if (Object.prototype.hasOwnProperty.call(data, name)) merge(res, validateSchema(sub, path ? `${path}.${name}` : name, data[name]));
  }
  for (const k of s.required ?? []) {
    if (!Object.prototype.hasOwnProperty.call(data, k)) addErrors(res, { code: 'Required', name: `${path}.${k}`, message: `${path}.${k} in ${IN} is required` });
  }
  return res;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  return ak.length === Object.keys(bo).length && ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

// --- conversion to field errors (apiextensions' kubeOpenAPIResultToFieldErrors) ---

/** `field.Path` of a nil path, as Go prints it: errors that name no field. */
const NIL_PATH = '<nil>';

function fieldOf(name: string, prefix: string): string {
  const child = name.replace(/^\./, '');
  if (!child || name === '.') return prefix || NIL_PATH;
  return prefix ? `${prefix}.${child}` : child;
}

function toFieldError(e: SchemaError, prefix: string): FieldError {
  if (e.code === 'Composite') return { type: 'FieldValueInvalid', field: prefix || NIL_PATH, value: '', detail: e.message };
  const field = fieldOf(e.name, prefix);
  switch (e.code) {
    case 'Required':
      return { type: 'FieldValueRequired', field, detail: '' };
    case 'Enum': {
      const values = (e.values ?? []).map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v)));
      return { type: 'FieldValueNotSupported', field, value: e.value ?? null, detail: values.length ? `supported values: ${values.join(', ')}` : '' };
    }
    case 'TooLong': {
      const max = e.valid ?? -1;
      return { type: 'FieldValueTooLong', field, detail: max >= 0 ? `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` : 'value is too long' };
    }
    case 'MaxItems':
    case 'TooManyProperties': {
      const max = e.valid ?? -1;
      return { type: 'FieldValueTooMany', field, value: e.value, detail: max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items' };
    }
    case 'InvalidType':
      return { type: 'FieldValueTypeInvalid', field, value: e.value ?? '', detail: e.message };
    default:
      return { type: 'FieldValueInvalid', field, value: e.value ?? '', detail: e.message };
  }
}

export interface SchemaValidationOptions {
  /** Field path the value sits at (e.g. `spec` when validating only the spec); '' for a whole object. */
  path?: string;
}

/**
 * Validates `value` against `schema` and returns Kubernetes' field errors, in kube-openapi's
 * order (type, anyOf/oneOf/allOf/not, string, format, number, array, enum, object), depth first.
 * A missing schema accepts everything.
 */
export function validateAgainstSchema(value: unknown, schema: OpenAPISchema | undefined, options: SchemaValidationOptions = {}): FieldError[] {
  if (!schema) return [];
  const result = validateSchema(schema, '', value);
  return result.errors.map((e) => toFieldError(e, options.path ?? ''));
}

/**
 * The checks Kubernetes makes on objects nested under `x-kubernetes-embedded-resource`:
 * apiVersion and kind must be set (non-empty strings) and metadata, if present, an object.
 */
export function validateEmbeddedResources(value: unknown, schema: OpenAPISchema | undefined, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  walkEmbedded(value, schema, path, errors);
  return errors;
}

function join(path: string, child: string): string {
  return path ? `${path}.${child}` : child;
}

function walkEmbedded(value: unknown, schema: OpenAPISchema | undefined, path: string, errors: FieldError[]): void {
  if (!schema || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => walkEmbedded(v, schema.items, `${path}[${i}]`, errors));
    return;
  }
  if (typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (schema['x-kubernetes-embedded-resource']) {
    if (!('apiVersion' in obj)) errors.push({ type: 'FieldValueRequired', field: join(path, 'apiVersion'), detail: 'must not be empty' });
    if (!('kind' in obj)) errors.push({ type: 'FieldValueRequired', field: join(path, 'kind'), detail: 'must not be empty' });
    for (const key of ['apiVersion', 'kind'] as const) {
      if (!(key in obj)) continue;
      const v = obj[key];
      if (typeof v !== 'string') errors.push({ type: 'FieldValueInvalid', field: join(path, key), value: v, detail: 'must be a string' });
      else if (v.length === 0) errors.push({ type: 'FieldValueInvalid', field: join(path, key), value: v, detail: 'must not be empty' });
      else if (key === 'apiVersion' && v.split('/').length > 2) errors.push({ type: 'FieldValueInvalid', field: join(path, key), value: v, detail: `unexpected GroupVersion string: ${v}` });
    }
    if ('metadata' in obj && (typeof obj['metadata'] !== 'object' || obj['metadata'] === null || Array.isArray(obj['metadata']))) {
      errors.push({ type: 'FieldValueInvalid', field: join(path, 'metadata'), value: obj['metadata'], detail: 'must be an object' });
    }
  }
  for (const [k, v] of Object.entries(obj)) {
    const prop = schema.properties?.[k];
    if (prop) walkEmbedded(v, prop, join(path, k), errors);
    else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walkEmbedded(v, schema.additionalProperties, `${path}[${k}]`, errors);
  }
}
