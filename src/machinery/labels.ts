/**
 * Label selectors as Kubernetes has them (k8s.io/apimachinery/pkg/labels): the string syntax of
 * `?labelSelector=` and `kubectl -l`, the `metav1.LabelSelector` form of specs, and the
 * canonical string both print as.
 */
import { StatusError, badRequest } from './status-error.js';
import { validateLabelValue, validateQualifiedName } from './name-validation.js';

/** Operator spellings are those of `selection.Operator`. */
export type SelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** One condition on one label; a selector is the AND of its requirements. */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Empty for `exists` and `!`; one value for `=`, `==`, `!=`, `gt`, `lt`; one or more for `in`/`notin`. */
  readonly values: readonly string[];
}

/** A parsed label selector. Immutable. */
export interface Selector {
  /** Sorted by key, as Kubernetes sorts them. */
  readonly requirements: readonly Requirement[];
  /** True when every requirement holds for `labels` (missing labels count as absent). */
  matches(labels: Record<string, string> | undefined | null): boolean;
  /** True for the selector that matches everything (no requirements). */
  empty(): boolean;
  /** True only for the selector that matches nothing (from a nil `LabelSelector`). */
  matchesNothing(): boolean;
  /** The value `key` must equal, if the selector pins it with `=`, `==` or a one-value `in`. */
  requiresExactMatch(key: string): string | undefined;
  /** Canonical string: `a=b,c in (x,y),!d`. */
  toString(): string;
}

/** `metav1.LabelSelectorRequirement` */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[] | null;
}

/** `metav1.LabelSelector` */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const val = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(val as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(val as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const lv = parseInt64(val as string);
      const rv = parseInt64(r.values[0]!);
      if (lv === undefined || rv === undefined) return false;
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return v;
}

function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? `!${r.key}` : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case 'in':
      s += ' in ';
      break;
    case 'notin':
      s += ' notin ';
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
    default:
      s += r.operator;
  }
  const vals = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(',');
  return r.operator === 'in' || r.operator === 'notin' ? `${s}(${vals})` : s + vals;
}

class InternalSelector implements Selector {
  constructor(
    readonly requirements: readonly Requirement[],
    private readonly nothing = false,
  ) {}

  matches(labels: Record<string, string> | undefined | null): boolean {
    if (this.nothing) return false;
    const ls = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, ls));
  }

  empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  matchesNothing(): boolean {
    return this.nothing;
  }

  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

const everythingSelector: Selector = new InternalSelector([]);
const nothingSelector: Selector = new InternalSelector([], true);

/** Matches every object. */
export function everything(): Selector {
  return everythingSelector;
}

/** Matches no object (what a nil `LabelSelector` means). */
export function nothing(): Selector {
  return nothingSelector;
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  // Array.prototype.sort is stable, so equal keys keep their input order.
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Renders a value as Go's `%q`/`%#v` would in a field error. */
function goQuote(v: string): string {
  return JSON.stringify(v);
}

function goStringSlice(vals: readonly string[]): string {
  return vals.length === 0 ? '[]string(nil)' : `[]string{${vals.map(goQuote).join(', ')}}`;
}

function aggregate(msgs: string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/**
 * Builds one requirement and validates it as `labels.NewRequirement` does; throws
 * `RequirementError` with Kubernetes' aggregated field-error message.
 */
export function newRequirement(key: string, operator: SelectorOperator, values: readonly string[]): Requirement {
  const errs: string[] = [];
  const keyErrs = validateQualifiedName(key);
  if (keyErrs.length) errs.push(`key: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`values: Invalid value: ${goStringSlice(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`values: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`values: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(`values[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = validateLabelValue(v);
    if (vErrs.length) errs.push(`values[${i}][${key}]: Invalid value: ${goQuote(v)}: ${vErrs.join('; ')}`);
  });
  if (errs.length) throw new RequirementError(aggregate(errs));
  return { key, operator, values: [...values] };
}

/** A requirement that fails validation; its message is Kubernetes' aggregate of field errors. */
export class RequirementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequirementError';
  }
}

// ---- the string syntax ----

type Tok =
  | 'error'
  | 'eos'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'id'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const literalTokens: Record<string, Tok> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

interface Item {
  tok: Tok;
  lit: string;
}

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch) && ch !== '';

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'eos', lit: '' });
      return items;
    }
    const ch = s[pos]!;
    if (isSpecial(ch)) {
      // Longest run of special characters that still forms a known operator.
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos]!)) {
        const next = buf + s[pos]!;
        const t = literalTokens[next];
        if (t) {
          buf = next;
          last = { tok: t, lit: next };
          pos++;
        } else if (last) {
          break;
        } else {
          buf = next;
          pos++;
        }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
    } else {
      let buf = '';
      while (pos < s.length && !isSpecial(s[pos]!) && !isWhitespace(s[pos]!)) buf += s[pos++]!;
      const t = literalTokens[buf];
      items.push({ tok: t ?? 'id', lit: buf });
    }
  }
}

class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  /** In a values context `in` and `notin` are plain identifiers. */
  private look(values: boolean): Item {
    const it = this.items[this.position]!;
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it;
  }

  private consume(values: boolean): Item {
    const it = this.look(values);
    this.position++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === 'id' || tok === '!') {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new RequirementError(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const next = this.consume(true);
        if (next.tok === 'eos') return reqs;
        if (next.tok === ',') {
          const after = this.look(true);
          if (after.tok !== 'id' && after.tok !== '!') throw new RequirementError(`found '${after.lit}', expected: identifier after ','`);
          continue;
        }
        throw new RequirementError(`found '${next.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'eos') return reqs;
      throw new RequirementError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): Requirement {
    let { tok, lit } = this.consume(true);
    let op: SelectorOperator | undefined;
    if (tok === '!') {
      op = '!';
      ({ tok, lit } = this.consume(true));
    }
    if (tok !== 'id') throw new Error(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrs = validateQualifiedName(key);
    if (keyErrs.length) throw new Error(`<nil>: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
    const after = this.look(true).tok;
    if (after === 'eos' || after === ',') {
      if (op !== '!') op = 'exists';
    }
    if (op === 'exists' || op === '!') return newRequirement(key, op, []);

    const opItem = this.consume(false);
    const opMap: Partial<Record<Tok, SelectorOperator>> = { in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };
    const operator = opMap[opItem.tok];
    if (!operator) throw new Error(`found '${opItem.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, [...values].sort());
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.look(true);
    if (tok === 'id' || tok === ',') {
      const s = this.parseIdentifiersList();
      if (this.consume(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
      return s;
    }
    if (tok === ')') {
      this.consume(true);
      return new Set(['']);
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      if (tok === 'id') {
        s.add(lit);
        const next = this.look(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return s;
        throw new Error(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        // Empty values between commas are the empty string.
        if (s.size === 0) s.add('');
        const next = this.look(true).tok;
        if (next === ')') {
          s.add('');
          return s;
        }
        if (next === ',') s.add('');
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.look(true).tok;
    if (next === 'eos' || next === ',') return new Set(['']);
    const { tok, lit } = this.consume(true);
    if (tok === 'id') return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/**
 * Parses the string form (`app=web,tier in (a,b),!canary`). Throws `StatusError` 400 BadRequest
 * with Kubernetes' message (e.g. `unable to parse requirement: <nil>: Invalid value: "a b": ...`).
 */
export function parseSelector(selector: string): Selector {
  try {
    return new InternalSelector(sortByKey(new Parser(lex(selector)).parse()));
  } catch (e) {
    if (e instanceof RequirementError) throw badRequest(e.message);
    throw e;
  }
}

/** A selector requiring exactly these labels (`SelectorFromSet`); empty or missing matches everything. */
export function selectorFromSet(set: Record<string, string> | undefined | null): Selector {
  if (!set) return everythingSelector;
  return new InternalSelector(sortByKey(Object.entries(set).map(([key, v]) => ({ key, operator: '=' as const, values: [v] }))));
}

/**
 * Converts a `metav1.LabelSelector` (`LabelSelectorAsSelector`): null/undefined matches nothing,
 * an empty selector matches everything. Invalid selectors throw `StatusError` 400.
 */
export function selectorFromLabelSelector(ls: LabelSelector | undefined | null): Selector {
  if (ls === undefined || ls === null) return nothingSelector;
  const matchLabels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  if (Object.keys(matchLabels).length === 0 && exprs.length === 0) return everythingSelector;
  const reqs: Requirement[] = [];
  try {
    for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [v]));
    for (const expr of exprs) {
      const opMap: Record<string, SelectorOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
      const op = opMap[expr.operator];
      if (!op) throw new RequirementError(`${goQuote(expr.operator)} is not a valid label selector operator`);
      reqs.push(newRequirement(expr.key, op, expr.values ?? []));
    }
  } catch (e) {
    if (e instanceof RequirementError) throw badRequest(e.message);
    throw e;
  }
  return new InternalSelector(sortByKey(reqs));
}

/**
 * The string Kubernetes prints for a `LabelSelector` (`metav1.FormatLabelSelector`), e.g. in the
 * SELECTOR column of `kubectl get rs -o wide`: `app=web,tier in (a,b)`; `<none>` when it selects
 * nothing or everything, `<error>` when invalid.
 */
export function formatLabelSelector(ls: LabelSelector | undefined | null): string {
  let sel: Selector;
  try {
    sel = selectorFromLabelSelector(ls);
  } catch (e) {
    if (e instanceof StatusError) return '<error>';
    throw e;
  }
  const s = sel.toString();
  return s.length === 0 ? '<none>' : s;
}

/** The `key=value,...` form of a label set, keys sorted (`labels.Set.String()`). */
export function formatLabels(set: Record<string, string> | undefined | null): string {
  if (!set) return '';
  return Object.keys(set)
    .sort()
    .map((k) => `${k}=${set[k]}`)
    .join(',');
}
