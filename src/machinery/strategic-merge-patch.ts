/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), the patch `kubectl apply`,
 * `kubectl edit` and `kubectl patch` send by default. It is a JSON merge patch in which each
 * list follows its schema: lists marked `x-kubernetes-patch-strategy: merge` merge element by
 * element on `x-kubernetes-patch-merge-key` (or as a set for lists of scalars); other lists are
 * replaced. Directives steer the merge:
 * - `$patch: replace | delete` in a map, `{$patch: delete, <key>: v}` / `{$patch: replace}` in a list;
 * - `$retainKeys: [...]` clears the keys of the live map that are not listed;
 * - `$deleteFromPrimitiveList/<field>: [...]` removes scalars from a merging list;
 * - `$setElementOrder/<field>: [...]` fixes the order of a merging list;
 * - `null` deletes a field.
 * Where no schema is known (unknown fields, preserve-unknown-fields) maps merge and lists are
 * replaced, i.e. merge-patch behaviour.
 */
import { resolveSchema, type OpenAPISchema, type SchemaDefinitions } from './openapi-schema.js';
import { StatusError } from './status-error.js';
import { deepClone, isJsonObject, type JsonObject } from './json-value.js';

const directiveMarker = '$patch';
const replaceDirective = 'replace';
const deleteDirective = 'delete';
const mergeDirective = 'merge';
const retainKeysDirective = '$retainKeys';
const retainKeysStrategy = 'retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

// Kubernetes' mergepatch error texts; the first group becomes 400 BadRequest.
const errBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
const errBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
const errBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
const errNoListOfLists = 'lists of lists are not supported';

/** Why a patch failed, mapped to the status Kubernetes answers with. */
class SmpError extends Error {
  constructor(
    readonly kind: 'badRequest' | 'invalid' | 'internal',
    message: string,
  ) {
    super(message);
  }
}

const badFormat = (msg: string): SmpError => new SmpError('badRequest', msg);
const internal = (msg: string): SmpError => new SmpError('internal', msg);

/** Go's `%v` rendering of JSON values, used in Kubernetes' error texts. */
function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isJsonObject(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goFormat(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (isJsonObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

function errBadArgType(expected: 'list' | 'map', actual: unknown): SmpError {
  const e = expected === 'list' ? '[]interface {}' : 'map[string]interface {}';
  return internal(`expected a ${e}, but received a ${goTypeName(actual)}`);
}

function errNoMergeKey(m: JsonObject, key: string): SmpError {
  return internal(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

// ---- schema lookups ----

/** Patch metadata of one field plus the schema of its value (for lists: of its elements). */
interface FieldMeta {
  /** Value schema (maps) or element schema (lists); undefined when unknown. */
  sub: OpenAPISchema | undefined;
  strategy: string;
  mergeKey: string;
  /** False when the field has no schema at all. */
  known: boolean;
}

const unknownField: FieldMeta = { sub: undefined, strategy: '', mergeKey: '', known: false };

class SchemaWalker {
  constructor(private readonly defs: SchemaDefinitions) {}

  resolve(s: OpenAPISchema | undefined): OpenAPISchema | undefined {
    return resolveSchema(s, this.defs);
  }

  /** The property schema of `key` in an object schema (or its additionalProperties). */
  private property(schema: OpenAPISchema | undefined, key: string): OpenAPISchema | undefined {
    const s = this.resolve(schema);
    if (!s) return undefined;
    const p = s.properties?.[key];
    if (p) return p;
    if (isJsonObject(s.additionalProperties)) return s.additionalProperties as OpenAPISchema;
    return undefined;
  }

  /** Reads an extension from the property, its `allOf` members, or what it refers to. */
  private extension(prop: OpenAPISchema, name: 'x-kubernetes-patch-strategy' | 'x-kubernetes-patch-merge-key'): string {
    const candidates: Array<OpenAPISchema | undefined> = [prop, ...(prop.allOf ?? []), this.resolve(prop)];
    for (const c of candidates) {
      const v = c?.[name];
      if (typeof v === 'string') return v;
    }
    return '';
  }

  /** Metadata for a field whose value is a map. */
  forMap(schema: OpenAPISchema | undefined, key: string): FieldMeta {
    const prop = this.property(schema, key);
    if (!prop) return unknownField;
    return { sub: prop, strategy: extractStrategy(this.extension(prop, 'x-kubernetes-patch-strategy')), mergeKey: '', known: true };
  }

  /** Metadata for a field whose value is a list; `sub` is the element schema. */
  forList(schema: OpenAPISchema | undefined, key: string): FieldMeta {
    const prop = this.property(schema, key);
    if (!prop) return unknownField;
    return {
      sub: this.resolve(prop)?.items,
      strategy: extractStrategy(this.extension(prop, 'x-kubernetes-patch-strategy')),
      mergeKey: this.extension(prop, 'x-kubernetes-patch-merge-key'),
      known: true,
    };
  }
}

/** Drops `retainKeys` from a strategy list such as `merge,retainKeys`; what remains decides merging. */
function extractStrategy(raw: string): string {
  if (raw === '') return '';
  const parts = raw.split(',');
  if (parts.length === 1) return parts[0] === retainKeysStrategy ? '' : parts[0]!;
  if (parts.length === 2) {
    if (parts[0] === retainKeysStrategy) return parts[1]!;
    if (parts[1] === retainKeysStrategy) return parts[0]!;
  }
  throw internal(`unexpected patch strategy: ${goFormat(parts)}`);
}

// ---- cleaning values taken from the patch as they are ----

/**
 * Prepares a patch value that is stored without merging: nulls are dropped, maps carrying
 * `$patch` are dropped (returns undefined), other directive keys are removed.
 */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const c = clean(x);
      if (c !== undefined) out.push(c);
    }
    return out;
  }
  if (isJsonObject(v)) {
    if (directiveMarker in v) return undefined;
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || isDirectiveKey(k)) continue;
      const c = clean(x);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return v;
}

function isDirectiveKey(k: string): boolean {
  return k === retainKeysDirective || k.startsWith(`${setElementOrderPrefix}/`) || k.startsWith(`${deleteFromPrimitiveListPrefix}/`);
}

function setCleaned(target: JsonObject, key: string, v: unknown): void {
  const c = clean(v);
  if (c === undefined) delete target[key];
  else target[key] = c;
}

// ---- lists ----

type ElementKind = 'map' | 'scalar';

/** The common element kind of the lists; undefined when they are all empty. */
function elementKind(...lists: unknown[][]): ElementKind | undefined {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = Array.isArray(v) ? 'array' : isJsonObject(v) ? 'map' : v === null ? 'null' : typeof v;
      if (prev === undefined) {
        if (t === 'array') throw new SmpError('invalid', errNoListOfLists);
        prev = t;
      } else if (prev !== t) {
        throw internal(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (prev === undefined) return undefined;
  return prev === 'map' ? 'map' : 'scalar';
}

function keyOf(item: unknown, mergeKey: string, kind: ElementKind): unknown {
  if (kind === 'map') return isJsonObject(item) ? item[mergeKey] : undefined;
  return item;
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: ElementKind): number {
  const want = keyOf(item, mergeKey, kind);
  return list.findIndex((v) => keyOf(v, mergeKey, kind) === want);
}

function requireMergeKeys(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw errBadArgType('map', item);
      if (!(mergeKey in item)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

function isDeleteElement(v: unknown): boolean {
  return isJsonObject(v) && v[directiveMarker] === deleteDirective;
}

/** Sorts `toSort` by position in `order` (stable); `$patch: delete` elements go last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    requireMergeKeys(mergeKey, toSort, order);
    items = toSort.filter((v) => !isDeleteElement(v));
    toDelete = toSort.filter(isDeleteElement);
  }
  const ranked = items.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, kind) }));
  ranked.sort((a, b) => {
    if (a.at >= 0 && b.at >= 0) return a.at - b.at || a.i - b.i;
    if (a.at >= 0) return -1;
    if (b.at >= 0) return 1;
    return a.i - b.i;
  });
  return [...ranked.map((r) => r.v), ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`): a server-only item goes
 * first only when both are in the live list and it came earlier there.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(patch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/** Splits `list` into items present in `by` and the rest, keeping order. */
function partition(list: unknown[], by: unknown[], mergeKey: string, kind: ElementKind): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (kind === 'map') {
      if (!isJsonObject(v)) throw errBadArgType('map', v);
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
      for (const b of by) if (!isJsonObject(b)) throw internal(`value for key ${by.indexOf(b)} is not a map`);
    }
    (indexIn(by, v, mergeKey, kind) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

function dedupeScalars(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.includes(v)) out.push(v);
  return out;
}

// ---- the merge ----

class Merger {
  constructor(private readonly schemas: SchemaWalker) {}

  mergeMap(original: JsonObject, patch: JsonObject, schema: OpenAPISchema | undefined): JsonObject {
    if (directiveMarker in patch) {
      const directive = patch[directiveMarker];
      if (directive === replaceDirective) {
        delete patch[directiveMarker];
        return clean(patch) as JsonObject;
      }
      if (directive === deleteDirective) return {};
      throw internal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
    }
    this.applyRetainKeys(original, patch);
    this.applySetElementOrder(original, patch, schema);

    for (const [rawKey, patchV] of Object.entries(patch)) {
      let key = rawKey;
      let isDeleteList = false;
      if (rawKey.startsWith(deleteFromPrimitiveListPrefix)) {
        key = extractKey(rawKey, deleteFromPrimitiveListPrefix);
        isDeleteList = true;
      }
      if (patchV === null) {
        delete original[key];
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(original, key)) {
        // A deletion list for a field the object does not have deletes nothing.
        if (!isDeleteList) setCleaned(original, key, patchV);
        continue;
      }
      const origV = original[key];
      if (isJsonObject(origV) && isJsonObject(patchV)) {
        const meta = this.schemas.forMap(schema, key);
        if (meta.strategy === replaceDirective) setCleaned(original, key, patchV);
        else original[key] = this.mergeMap(origV, patchV, meta.sub);
      } else if (Array.isArray(origV) && Array.isArray(patchV)) {
        const meta = this.schemas.forList(schema, key);
        original[key] = this.mergeListField(origV, patchV, meta, isDeleteList);
      } else if (!isDeleteList) {
        setCleaned(original, key, patchV);
      }
    }
    return original;
  }

  private mergeListField(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
    if (meta.strategy === mergeDirective || isDeleteList) return this.mergeSlice(original, patch, meta, isDeleteList);
    return clean(patch) as unknown[];
  }

  private mergeSlice(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind(original, patch)!;
    const mergeKey = meta.mergeKey;
    let merged: unknown[];
    let orig = original;
    let pat = patch;
    if (kind === 'scalar') {
      if (isDeleteList) return original.filter((v) => !patch.includes(v));
      merged = dedupeScalars([...original, ...patch]);
    } else {
      if (mergeKey === '') throw internal('cannot merge lists without merge key');
      [orig, pat] = this.applyListDirectives(original, patch, mergeKey);
      merged = this.mergeByKey(orig, pat, mergeKey, meta.sub);
    }
    const [patchItems, serverOnly] = partition(merged, pat, kind === 'map' ? mergeKey : '', kind);
    return normalizeElementOrder(patchItems, serverOnly, pat, orig, kind === 'map' ? mergeKey : '', kind);
  }

  /** Handles `{$patch: delete, key: v}` and `{$patch: replace}` elements; returns (original, rest of patch). */
  private applyListDirectives(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
    let orig = original;
    const rest: unknown[] = [];
    let replace = false;
    for (const v of patch) {
      const m = v as JsonObject;
      if (!(directiveMarker in m)) {
        rest.push(v);
        continue;
      }
      const directive = m[directiveMarker];
      if (directive === deleteDirective) {
        if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
        const want = m[mergeKey];
        orig = orig.filter((o) => {
          if (!isJsonObject(o)) throw internal(`value for key ${orig.indexOf(o)} is not a map`);
          return !(mergeKey in o && o[mergeKey] === want);
        });
      } else if (directive === replaceDirective) {
        replace = true;
      } else if (directive === mergeDirective) {
        throw internal('merging lists cannot yet be specified in the patch');
      } else {
        throw internal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(m)}`);
      }
    }
    if (replace) return [rest.map((v) => clean(v)).filter((v) => v !== undefined), []];
    return [orig, rest];
  }

  private mergeByKey(original: unknown[], patch: unknown[], mergeKey: string, elemSchema: OpenAPISchema | undefined): unknown[] {
    const out = [...original];
    for (const v of patch) {
      const m = v as JsonObject;
      if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
      const want = m[mergeKey];
      let found = -1;
      for (let i = 0; i < out.length; i++) {
        const o = out[i];
        if (!isJsonObject(o)) throw internal(`value for key ${i} is not a map`);
        if (mergeKey in o && o[mergeKey] === want) {
          found = i;
          break;
        }
      }
      if (found >= 0) out[found] = this.mergeMap(out[found] as JsonObject, m, elemSchema);
      else {
        const c = clean(m);
        if (c !== undefined) out.push(c);
      }
    }
    return out;
  }

  private applyRetainKeys(original: JsonObject, patch: JsonObject): void {
    if (!(retainKeysDirective in patch)) return;
    const list = patch[retainKeysDirective];
    delete patch[retainKeysDirective];
    if (!Array.isArray(list)) throw badFormat(errBadPatchFormatForRetainKeys);
    const keep = new Set<unknown>(list);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
      if (!keep.has(k)) throw badFormat(errBadPatchFormatForRetainKeys);
    }
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }

  /** Merges every list that has a `$setElementOrder/<field>` and puts it in that order. */
  private applySetElementOrder(original: JsonObject, patch: JsonObject, schema: OpenAPISchema | undefined): void {
    for (const key of Object.keys(patch)) {
      if (!key.startsWith(setElementOrderPrefix)) continue;
      const order = patch[key];
      delete patch[key];
      if (!Array.isArray(order)) throw errBadArgType('list', order);
      const field = extractKey(key, setElementOrderPrefix);
      const foundOriginal = Object.prototype.hasOwnProperty.call(original, field);
      const foundPatch = Object.prototype.hasOwnProperty.call(patch, field);
      const origList = original[field];
      const patchList = patch[field];
      if (foundOriginal && !Array.isArray(origList)) throw errBadArgType('list', origList);
      if (foundPatch && !Array.isArray(patchList)) throw errBadArgType('list', patchList);
      const o = (foundOriginal ? origList : []) as unknown[];
      const p = (foundPatch ? patchList : []) as unknown[];
      const meta = this.schemas.forList(schema, field);
      if (!foundOriginal && !foundPatch) continue;
      delete patch[field];
      const kind = elementKind(o, p);
      if (!meta.known || kind === undefined || (kind === 'map' && meta.mergeKey === '')) {
        // Without patch metadata there is no order to enforce: plain merge-patch behaviour.
        if (foundPatch) original[field] = foundOriginal ? this.mergeListField(o, p, meta, false) : clean(p);
        continue;
      }
      const mergeKey = kind === 'map' ? meta.mergeKey : '';
      validateOrder(p, order, mergeKey, kind);
      let merged: unknown[];
      if (foundOriginal && !foundPatch) merged = o;
      else if (!foundOriginal) merged = clean(p) as unknown[];
      else merged = this.mergeListField(o, p, meta, false);
      const [patchItems, serverOnly] = partition(merged, order, mergeKey, kind);
      original[field] = normalizeElementOrder(patchItems, serverOnly, order, o, mergeKey, kind);
    }
  }
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badFormat(prefix === deleteFromPrimitiveListPrefix ? errBadPatchFormatForPrimitiveList : errBadPatchFormatForSetElementOrderList);
  }
  return key.slice(slash + 1);
}

/** The patch list (deletions aside) must follow the relative order of `$setElementOrder`. */
function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = kind === 'map' ? patchList.filter((v) => !isDeleteElement(v)) : patchList;
  let pi = 0;
  let oi = 0;
  while (pi < nonDelete.length && oi < order.length) {
    const item = nonDelete[pi];
    if (isJsonObject(item) && directiveMarker in item) {
      pi++;
      continue;
    }
    if (kind === 'map') {
      const a = item;
      const b = order[oi];
      if (!isJsonObject(a)) throw errBadArgType('map', a);
      if (!isJsonObject(b)) throw errBadArgType('map', b);
      if (!(mergeKey in a)) throw errNoMergeKey(a, mergeKey);
      if (!(mergeKey in b)) throw errNoMergeKey(b, mergeKey);
      if (a[mergeKey] === b[mergeKey]) pi++;
    } else if (item === order[oi]) {
      pi++;
    }
    oi++;
  }
  if (pi < nonDelete.length) {
    throw internal(`the order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(order)}`);
  }
}

function toStatusError(e: SmpError): StatusError {
  switch (e.kind) {
    case 'badRequest':
      return new StatusError(400, 'BadRequest', e.message);
    case 'invalid': {
      const err = new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
      err.cause = new Error(e.message);
      return err;
    }
    case 'internal':
      return new StatusError(500, 'InternalError', e.message);
  }
}

/**
 * Applies a strategic merge patch and returns the patched object; the inputs are not modified.
 * `schema` describes `original` (e.g. the `io.k8s.api.apps.v1.Deployment` definition) and `defs`
 * resolves its `$ref`s. Throws `StatusError`: 400 for malformed directives or a patch that is
 * not a JSON object, 422 for lists of lists, 500 for other failures (as Kubernetes does).
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: OpenAPISchema | undefined, defs: SchemaDefinitions): unknown {
  if (!isJsonObject(patch)) {
    const kind = Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch;
    throw new StatusError(400, 'BadRequest', `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  const base = isJsonObject(original) ? deepClone(original) : {};
  try {
    return new Merger(new SchemaWalker(defs)).mergeMap(base, deepClone(patch), schema);
  } catch (e) {
    if (e instanceof SmpError) throw toStatusError(e);
    throw e;
  }
}
