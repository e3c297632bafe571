/**
 * One step of a field path, as structured-merge-diff names it: a field of a map (`f:`), an item of
 * a map-list chosen by its key fields (`k:`), an item of a set-list chosen by its value (`v:`), or
 * an item of an atomic list chosen by its position (`i:`).
 */
export type PathElement =
  | { readonly field: string }
  /** Key fields sorted by name. */
  | { readonly key: ReadonlyArray<readonly [string, unknown]> }
  | { readonly value: unknown }
  | { readonly index: number };

/** A path from the object's root; the empty path is the object itself. */
export type Path = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { field: name };
}

export function keyElement(fields: Iterable<readonly [string, unknown]>): PathElement {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return { key: sorted };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Byte-wise order of Go's strings.Compare (UTF-16 order agrees for the BMP, which covers field names). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isPlainObject(v)) return 4;
  return 5; // null
}

/** The total order structured-merge-diff puts on values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a === false ? -1 : 1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
      return la.length === lb.length ? 0 : la.length < lb.length ? -1 : 1;
    }
    case 4: {
      const ma = a as Record<string, unknown>;
      const mb = b as Record<string, unknown>;
      const ka = Object.keys(ma).sort(compareStrings);
      const kb = Object.keys(mb).sort(compareStrings);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compareStrings(ka[i]!, kb[i]!);
        if (c !== 0) return c;
        const cv = compareValues(ma[ka[i]!], mb[kb[i]!]);
        if (cv !== 0) return cv;
      }
      return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
    }
    default:
      return 0;
  }
}

/** Deep equality of JSON values (object key order ignored). */
export { deepEqual as valuesEqual } from '../json-value.js';

function kindRank(e: PathElement): number {
  if ('field' in e) return 0;
  if ('key' in e) return 1;
  if ('value' in e) return 2;
  return 3;
}

/** Order of path elements: fields < keys < values < indexes, then by content (as FieldsV1 is sorted). */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ('field' in a && 'field' in b) return compareStrings(a.field, b.field);
  if ('key' in a && 'key' in b) {
    for (let i = 0; ; i++) {
      const fa = a.key[i];
      const fb = b.key[i];
      if (!fa && !fb) return 0;
      if (!fa) return -1;
      if (!fb) return 1;
      const c = compareStrings(fa[0], fb[0]);
      if (c !== 0) return c;
      const cv = compareValues(fa[1], fb[1]);
      if (cv !== 0) return cv;
    }
  }
  if ('value' in a && 'value' in b) return compareValues(a.value, b.value);
  if ('index' in a && 'index' in b) return a.index < b.index ? -1 : a.index > b.index ? 1 : 0;
  return 0;
}

/**
 * JSON as Go's encoder writes it for these values: map keys sorted, and `<`, `>`, `&`, U+2028 and
 * U+2029 escaped, so that the FieldsV1 keys we write are the ones Kubernetes writes.
 */
export function goJSON(v: unknown): string {
  const text = JSON.stringify(sortKeysDeep(v)) ?? 'null';
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(compareStrings)) out[k] = sortKeysDeep(v[k]);
    return out;
  }
  return v;
}

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`. Also its identity. */
export function serializePathElement(e: PathElement): string {
  if ('field' in e) return `f:${e.field}`;
  if ('key' in e) return `k:{${e.key.map(([name, v]) => `${goJSON(name)}:${goJSON(v)}`).join(',')}}`;
  if ('value' in e) return `v:${goJSON(e.value)}`;
  return `i:${e.index}`;
}

/** Parses a FieldsV1 key; returns undefined for element kinds this version does not know (they are dropped, as Kubernetes does). */
export function parsePathElement(s: string): PathElement | undefined {
  if (s.length < 2 || s[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(s)}`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { field: body };
    case 'v':
      return { value: JSON.parse(body) as unknown };
    case 'k': {
      const parsed: unknown = JSON.parse(body);
      if (!isPlainObject(parsed)) throw new Error(`invalid key path element ${JSON.stringify(s)}`);
      return keyElement(Object.entries(parsed));
    }
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(s)}`);
      return { index: Number(body) };
    }
    default:
      return undefined;
  }
}

/** Go's `value.ToString`, used in conflict messages. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueToString).join(',')}]`;
  if (isPlainObject(v)) return Object.keys(v).map((k) => `${k}=${valueToString(v[k])}`).join('');
  return String(v);
}

/** One element as Kubernetes prints it: `.spec`, `[name="web"]`, `[="x"]`, `[0]`. */
export function pathElementToString(e: PathElement): string {
  if ('field' in e) return `.${e.field}`;
  if ('key' in e) return `[${e.key.map(([k, v]) => `${k}=${valueToString(v)}`).join(',')}]`;
  if ('value' in e) return `[=${valueToString(e.value)}]`;
  return `[${e.index}]`;
}

/** A whole path as conflict messages print it: `.spec.template.spec.containers[name="web"].image`. */
export function pathToString(p: Path): string {
  return p.map(pathElementToString).join('');
}
