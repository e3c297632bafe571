/**
 * Small validation helpers shared by the strategies of the non-core groups: field-error
 * constructors with Kubernetes' wording, Go-style renderings of values that Kubernetes prints
 * with `%#v`, label selectors, int-or-percent values and immutability checks.
 */
import type { FieldError } from '../../../machinery/status-error.js';
import type { LabelSelector } from '../../../machinery/labels.js';
import { validateLabelValue, validateQualifiedName } from '../../../machinery/name-validation.js';
import { validateLabels } from '../object-meta-validation.js';
import { deepEqual } from '../../../machinery/json-value.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object at `parent[key]`, created when absent (for defaulting). */
export function child(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (isObj(v)) return v;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

/** The object at `parent[key]`, or undefined. */
export function objAt(parent: unknown, key: string): Obj | undefined {
  if (!isObj(parent)) return undefined;
  const v = parent[key];
  return isObj(v) ? v : undefined;
}

export function arrAt(parent: unknown, key: string): unknown[] {
  if (!isObj(parent)) return [];
  const v = parent[key];
  return Array.isArray(v) ? v : [];
}

export function strAt(parent: unknown, key: string): string | undefined {
  if (!isObj(parent)) return undefined;
  const v = parent[key];
  return typeof v === 'string' ? v : undefined;
}

export function numAt(parent: unknown, key: string): number | undefined {
  if (!isObj(parent)) return undefined;
  const v = parent[key];
  return typeof v === 'number' ? v : undefined;
}

/** Sets `parent[key] = value` when it is undefined or null. */
export function setDefault(parent: Obj, key: string, value: unknown): void {
  if (parent[key] === undefined || parent[key] === null) parent[key] = value;
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

/**
 * An Invalid error whose value Kubernetes prints with Go's `%#v` (structs, maps): the rendering
 * is given verbatim so the message matches, e.g. `map[string]string{"app":"x"}`.
 */
export function invalidGo(field: string, goRendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, detail: `${goRendered}: ${detail}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, value, detail: '' };
}

/** `field.NotSupported`: `Unsupported value: "x": supported values: "a", "b"`. */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` };
}

/** `field.TooLong`: `Too long: may not be more than 128 bytes` (the value is omitted). */
export function tooLong(field: string, max: number): FieldError {
  return { type: 'FieldValueTooLong', field, detail: `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` };
}

/** `field.TooMany`: `Too many: 1001: must have at most 1000 items`. */
export function tooMany(field: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, value: actual, detail: `must have at most ${max} items` };
}

/** `ValidateNonnegativeField`. */
export function nonNegative(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

/** `ValidatePositiveField` (strictly greater than 0). */
export function positive(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value <= 0 ? [invalid(field, value, 'must be greater than 0')] : [];
}

/** `ValidateImmutableField` for simple values (strings, numbers, booleans). */
export function immutable(newValue: unknown, oldValue: unknown, field: string): FieldError[] {
  return deepEqual(newValue, oldValue) ? [] : [invalid(field, newValue === undefined ? null : newValue, 'field is immutable')];
}

// ---- Go renderings ----

/** `%#v` of a `map[string]string`. */
export function goStringMap(m: unknown): string {
  if (!isObj(m)) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`).join(', ')}}`;
}

/** `%#v` of a `[]string`. */
export function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map((s) => JSON.stringify(String(s))).join(', ')}}`;
}

/** `%#v` of a `metav1.LabelSelector` (as printed by `field is immutable` on a selector). */
export function goLabelSelector(ls: unknown): string {
  if (!isObj(ls)) return 'null';
  const exprs = arrAt(ls, 'matchExpressions');
  const renderedExprs = Array.isArray(ls.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${exprs
        .map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(strAt(e, 'key') ?? '')}, Operator:${JSON.stringify(strAt(e, 'operator') ?? '')}, Values:${goStringSlice(isObj(e) ? e.values : undefined)}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(ls.matchLabels)}, MatchExpressions:${renderedExprs}}`;
}

/** `ValidateImmutableField` for a label selector, rendered as Kubernetes does. */
export function immutableSelector(newSel: unknown, oldSel: unknown, field: string): FieldError[] {
  return deepEqual(newSel ?? null, oldSel ?? null) ? [] : [invalidGo(field, goLabelSelector(newSel), 'field is immutable')];
}

// ---- label selectors ----

/** `metav1validation.ValidateLabelSelector`. */
export function validateLabelSelector(ls: unknown, field: string): FieldError[] {
  if (ls === undefined || ls === null) return [];
  if (!isObj(ls)) return [invalid(field, ls, 'must be an object')];
  const errs: FieldError[] = [];
  arrAt(ls, 'matchExpressions').forEach((e, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    const op = strAt(e, 'operator') ?? '';
    const values = arrAt(e, 'values');
    switch (op) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${f}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${f}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${f}.operator`, op, 'not a valid selector operator'));
    }
    const key = strAt(e, 'key') ?? '';
    for (const msg of validateQualifiedName(key)) errs.push(invalid(`${f}.key`, key, msg));
    values.forEach((v, j) => {
      if (typeof v !== 'string') return;
      for (const msg of validateLabelValue(v)) errs.push(invalid(`${f}.values[${j}]`, v, msg));
    });
  });
  const ml = ls.matchLabels;
  if (isObj(ml)) errs.push(...validateLabels(ml as Record<string, string>, `${field}.matchLabels`));
  return errs;
}

/** The selector as the `LabelSelector` type of `machinery/labels`. */
export function asLabelSelector(v: unknown): LabelSelector | undefined {
  return isObj(v) ? (v as LabelSelector) : undefined;
}

// ---- int or percent ----

const percentRe = /^[0-9]+%$/;

/** `ValidatePositiveIntOrPercent`. */
export function validatePositiveIntOrPercent(v: unknown, field: string): FieldError[] {
  if (typeof v === 'string') {
    if (!percentRe.test(v)) return [invalid(field, v, "must be an integer or percentage (e.g '5%')")];
    return [];
  }
  return nonNegative(v, field);
}

/** `IsNotMoreThan100Percent`. */
export function notMoreThan100Percent(v: unknown, field: string): FieldError[] {
  if (typeof v !== 'string' || !percentRe.test(v)) return [];
  const n = Number(v.slice(0, -1));
  return n > 100 ? [invalid(field, v, 'must not be greater than 100%')] : [];
}

/** The integer or percentage number of an int-or-percent (`getIntOrPercentValue`). */
export function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && percentRe.test(v)) return Number(v.slice(0, -1));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return 0;
}

/** How IntOrString prints with `String()`: `25%`, `0`. */
export function intOrStringText(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
}

/** Validates a map of labels at `field` (re-export for strategies). */
export { validateLabels };
