/**
 * Field selectors (`?fieldSelector=metadata.name=x,spec.nodeName!=`), as
 * k8s.io/apimachinery/pkg/fields parses them: comma-separated terms of `=`, `==` or `!=`,
 * with `\,`, `\=` and `\\` escapes in values.
 */
import { StatusError, badRequest } from './status-error.js';

/** One term of a field selector. `==` is normalised to `=`, as Kubernetes does. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector: the AND of its requirements. */
export interface FieldSelector {
  /** In Kubernetes' order (terms sorted as strings before parsing). */
  readonly requirements: readonly FieldRequirement[];
  /** A field missing from `fields` has the value `''`. */
  matches(fields: Record<string, string>): boolean;
  /** True when the selector has no terms. */
  empty(): boolean;
  /** The value `field` must equal, if a `=` term pins it. */
  requiresExactMatch(field: string): string | undefined;
  /** `a=b,c!=d`, values re-escaped. */
  toString(): string;
}

const termOperators = ['!=', '==', '='] as const;

/** Splits on commas that are not backslash-escaped; the escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first operator occurrence splits the term; the field part supports no escaping. */
function splitTerm(term: string): { lhs: string; op: (typeof termOperators)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** Undoes `\\`, `\,`, `\=`; unescaped `,` or `=` and other escapes are errors. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw badRequest(`invalid field selector: unescaped character in value: ${c}`);
    else out += c;
  }
  if (inSlash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Escapes a value so that it can be put in a field selector. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

class AndSelector implements FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  matches(fields: Record<string, string>): boolean {
    return this.requirements.every((r) => {
      const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] ?? '' : '';
      return r.operator === '=' ? v === r.value : v !== r.value;
    });
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator === '=') return r.value;
    return undefined;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Matches everything. */
export function everythingFields(): FieldSelector {
  return new AndSelector([]);
}

/**
 * Parses a field selector string. Throws `StatusError` 400 with Kubernetes' message, e.g.
 * `invalid selector: 'foo'; can't understand 'foo'`.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, operator: t.op === '!=' ? '!=' : '=', value: unescapeFieldValue(t.rhs) });
  }
  return new AndSelector(reqs);
}

/** A selector pinning each field to its value (`fields.SelectorFromSet`). */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return new AndSelector(Object.entries(set).map(([field, value]) => ({ field, operator: '=' as const, value })));
}

/**
 * Rejects fields a resource does not index, as the apiserver's field-label conversion does:
 * 400 `field label not supported: spec.foo`.
 */
export function checkSupportedFields(selector: FieldSelector, supported: Iterable<string>): void {
  const ok = new Set(supported);
  for (const r of selector.requirements) {
    if (!ok.has(r.field)) throw new StatusError(400, 'BadRequest', `field label not supported: ${r.field}`);
  }
}
