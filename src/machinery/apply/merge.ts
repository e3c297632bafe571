import type { SchemaDefinitions } from '../openapi-schema.js';
import { FieldSet, fieldSetFromObject } from './field-set.js';
import { isPlainObject, pathElementToString, serializePathElement, type Path, type PathElement } from './path-element.js';
import { fieldSchema, itemSchema, listItemElement, shapeOf, type Shape, type TypeRef } from './schema-shape.js';

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** A copy of a configuration value without its null map entries (Kubernetes drops them when decoding). */
function cloneApplied(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneApplied);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = cloneApplied(x);
    return out;
  }
  return v;
}

/**
 * Merges an applied configuration into the live object (structured-merge-diff's `Merge`): scalars,
 * atomic lists and atomic maps are replaced; granular maps merge key by key; associative lists merge
 * item by item (by key or value), in the applied order with live-only items kept in place. A null in
 * the configuration clears a field (Kubernetes drops nulls when it decodes the result).
 * Throws `ApplySchemaError` when a map-list item lacks its key.
 */
export function mergeObjects(live: unknown, applied: unknown, schema: TypeRef, defs: SchemaDefinitions): unknown {
  const merge = (l: unknown, r: unknown, type: TypeRef, path: PathElement[]): unknown => {
    if (r === undefined) return clone(l);
    if (l === undefined || l === null) return cloneApplied(r);
    const ls = shapeOf(type, defs, l);
    const rs = r === null ? ls : shapeOf(type, defs, r);
    if (ls.kind !== rs.kind || rs.kind === 'scalar') return cloneApplied(r);
    if (rs.kind === 'list') {
      if (rs.listType === 'atomic') return cloneApplied(r);
      const ll = Array.isArray(l) ? l : [];
      const rl = Array.isArray(r) ? r : [];
      if (ll.length === 0 && rl.length === 0) return cloneApplied(r);
      return mergeList(ll, rl, rs, path);
    }
    if (rs.atomic) return cloneApplied(r);
    const lm = isPlainObject(l) ? l : {};
    const rm = isPlainObject(r) ? r : {};
    if (Object.keys(lm).length === 0 && Object.keys(rm).length === 0) return cloneApplied(r);
    const out: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
      const v = merge(lm[key], rm[key], fieldSchema(rs, key).schema, [...path, { field: key }]);
      if (v !== undefined && v !== null) out[key] = v;
    }
    return out;
  };

  const mergeList = (l: unknown[], r: unknown[], shape: Shape & { kind: 'list' }, path: PathElement[]): unknown[] => {
    const where = path.map(pathElementToString).join('');
    const items = itemSchema(shape);
    const lKeys = l.map((item, i) => serializePathElement(listItemElement(shape, item, defs, where, i)));
    const rPEs = r.map((item, i) => listItemElement(shape, item, defs, where, i));
    const rKeys = rPEs.map(serializePathElement);
    const lByKey = new Map<string, unknown>();
    for (let i = 0; i < l.length; i++) {
      // A key the live list holds twice is not merged with the configuration: the configuration's item wins.
      lByKey.set(lKeys[i]!, lByKey.has(lKeys[i]!) ? null : l[i]);
    }
    const rByKey = new Map<string, unknown>();
    rKeys.forEach((k, i) => rByKey.set(k, r[i]));
    const item = (k: string, lv: unknown, rv: unknown): unknown => {
      const idx = rKeys.indexOf(k);
      const pe = idx >= 0 ? rPEs[idx]! : { field: k };
      return merge(lv, rv, items, [...path, pe]);
    };

    // The ordering rules of structured-merge-diff: walk both lists, emitting shared items in the
    // configuration's order and live-only items where they stood.
    const sharedOrder = rKeys.filter((k) => lByKey.has(k));
    let nextShared = sharedOrder.shift();
    const mergedR = new Set<string>();
    const out: unknown[] = [];
    const push = (v: unknown): void => {
      if (v !== undefined) out.push(v);
    };
    let li = 0;
    let ri = 0;
    while (li < l.length || ri < r.length) {
      if (li < l.length && ri < r.length) {
        const lk = lKeys[li]!;
        if (lk === rKeys[ri]) {
          mergedR.add(lk);
          push(item(lk, lByKey.get(lk), rByKey.get(lk)));
          li++;
          ri++;
          nextShared = sharedOrder.shift();
          continue;
        }
        if (rByKey.has(lk) && nextShared !== undefined && nextShared !== lk) {
          li++;
          continue;
        }
      }
      if (li < l.length) {
        const lk = lKeys[li]!;
        if (!rByKey.has(lk)) {
          push(item(lk, l[li], undefined));
          li++;
          continue;
        } else if (mergedR.has(lk)) {
          li++;
        }
      }
      if (ri < r.length) {
        const rk = rKeys[ri]!;
        mergedR.add(rk);
        push(item(rk, lByKey.get(rk), rByKey.get(rk)));
        ri++;
        if (nextShared === rk) nextShared = sharedOrder.shift();
      }
    }
    return out;
  };

  return merge(live, applied, schema, []);
}

/**
 * Returns `obj` without the paths that are members of `toRemove` (each with everything below it).
 * A map or list emptied by the removal disappears, as Kubernetes stores it.
 */
export function removeFields(obj: unknown, toRemove: FieldSet, schema: TypeRef, defs: SchemaDefinitions): unknown {
  const walk = (value: unknown, set: FieldSet, type: TypeRef, path: PathElement[]): unknown => {
    const shape = shapeOf(type, defs, value);
    if (shape.kind === 'scalar') return value;
    if (shape.kind === 'list') {
      if (shape.listType === 'atomic' || !Array.isArray(value) || value.length === 0) return value;
      const where = path.map(pathElementToString).join('');
      const out: unknown[] = [];
      value.forEach((item, i) => {
        const pe = listItemElement(shape, item, defs, where, i);
        if (set.has([pe])) return;
        const below = set.withPrefix(pe);
        out.push(below.isEmpty() ? item : walk(item, below, itemSchema(shape), [...path, pe]));
      });
      return out.length > 0 ? out : undefined;
    }
    if (shape.atomic || !isPlainObject(value) || Object.keys(value).length === 0) return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const pe: PathElement = { field: key };
      if (set.has([pe])) continue;
      const below = set.withPrefix(pe);
      const v = below.isEmpty() ? child : walk(child, below, fieldSchema(shape, key).schema, [...path, pe]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  if (toRemove.isEmpty()) return obj;
  return walk(obj, toRemove, schema, []) ?? {};
}

/**
 * Also makes a member every declared struct field that has paths below it (structured-merge-diff's
 * `EnsureNamedFieldsAreMembers`), so that a struct whose last owned field goes away goes with it.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, schema: TypeRef, defs: SchemaDefinitions): FieldSet {
  const out = FieldSet.empty();
  const walk = (s: FieldSet, type: TypeRef, prefix: PathElement[]): void => {
    const shape = type === undefined ? undefined : shapeOf(type, defs, undefined);
    for (const { pe, member, below } of s.entries()) {
      const path: Path = [...prefix, pe];
      if (member) out.insert(path);
      if (below.isEmpty()) continue;
      let childType: TypeRef;
      if (shape?.kind === 'map' && 'field' in pe) {
        const f = fieldSchema(shape, pe.field);
        childType = f.schema;
        if (f.declared) out.insert(path);
      } else if (shape?.kind === 'list') {
        childType = itemSchema(shape);
      }
      walk(below, childType, [...path]);
    }
  };
  walk(set, schema, []);
  return out;
}

/** Result of {@link applyMerge}. */
export interface ApplyMergeResult {
  /** The live object with the configuration merged in and the manager's dropped fields removed. */
  object: Record<string, unknown>;
  /** The fields the configuration sets: what the manager owns from now on. */
  appliedSet: FieldSet;
}

/** Options of {@link applyMerge}. */
export interface ApplyMergeOptions {
  /** Fields other managers own: a field the manager stops applying stays if one of them owns it. */
  ownedByOthers?: FieldSet;
  /** The configuration's field set, when the caller already computed (and filtered) it. */
  appliedSet?: FieldSet;
}

/**
 * The object server-side apply produces: the configuration merged into `live`, then every field
 * the manager applied last time (`previouslyOwned`) but no longer applies removed, unless another
 * manager owns it (or something below it). Fields nobody owned (defaults) are left alone.
 */
export function applyMerge(
  live: Record<string, unknown> | undefined,
  applied: Record<string, unknown>,
  schema: TypeRef,
  defs: SchemaDefinitions,
  previouslyOwned: FieldSet | undefined,
  options: ApplyMergeOptions = {},
): ApplyMergeResult {
  const appliedSet = options.appliedSet ?? fieldSetFromObject(applied, schema, defs, { rejectDuplicates: true });
  let merged = mergeObjects(live ?? {}, applied, schema, defs);
  if (previouslyOwned && !previouslyOwned.isEmpty()) {
    const owned = appliedSet.union(options.ownedByOthers ?? FieldSet.empty());
    const toRemove = ensureNamedFieldsAreMembers(previouslyOwned, schema, defs).difference(ensureNamedFieldsAreMembers(owned, schema, defs));
    merged = removeFields(merged, toRemove, schema, defs);
  }
  return { object: (isPlainObject(merged) ? merged : {}) as Record<string, unknown>, appliedSet };
}
