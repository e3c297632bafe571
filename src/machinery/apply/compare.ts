import type { SchemaDefinitions } from '../openapi-schema.js';
import { FieldSet } from './field-set.js';
import { isPlainObject, pathElementToString, serializePathElement, valuesEqual, type PathElement } from './path-element.js';
import { fieldSchema, itemSchema, listItemElement, shapeOf, type Shape, type TypeRef } from './schema-shape.js';

/** What changed between two versions of an object, path by path (structured-merge-diff's `Comparison`). */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** `Comparison` with every path at or below one of `ignored` dropped. */
export function excludeFromComparison(c: Comparison, ignored: FieldSet): Comparison {
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

/**
 * Compares `lhs` (before) with `rhs` (after). A scalar, an atomic list or map, or an empty container
 * is one leaf; a map key or list item that appears or disappears is added/removed along with what
 * lies under it. Throws `ApplySchemaError` when a map-list item lacks its key.
 */
export function compareObjects(lhs: unknown, rhs: unknown, schema: TypeRef, defs: SchemaDefinitions): Comparison {
  const added = FieldSet.empty();
  const modified = FieldSet.empty();
  const removed = FieldSet.empty();

  const leaf = (l: unknown, r: unknown, path: PathElement[]): void => {
    if (l === undefined) added.insert(path);
    else if (r === undefined) removed.insert(path);
    else if (!valuesEqual(l, r)) modified.insert(path);
  };

  // Returns whether the node was handled as a leaf, so the caller does not also mark it added/removed.
  const walk = (l: unknown, r: unknown, type: TypeRef, path: PathElement[]): boolean => {
    const ls = l === undefined ? undefined : shapeOf(type, defs, l);
    const rs = r === undefined ? undefined : shapeOf(type, defs, r);
    const shape = (rs ?? ls) as Shape;
    if (ls && rs && ls.kind !== rs.kind) {
      leaf(l, r, path);
      return true;
    }
    if (shape.kind === 'scalar') {
      leaf(l, r, path);
      return true;
    }
    if (shape.kind === 'list') {
      const ll = Array.isArray(l) ? l : undefined;
      const rl = Array.isArray(r) ? r : undefined;
      if (shape.listType === 'atomic' || ((ll?.length ?? 0) === 0 && (rl?.length ?? 0) === 0)) {
        leaf(l, r, path);
        return true;
      }
      const where = path.map(pathElementToString).join('');
      const items = itemSchema(shape);
      const order: Array<{ pe: PathElement; key: string }> = [];
      const lItems = new Map<string, unknown[]>();
      const rItems = new Map<string, unknown[]>();
      const known = new Set<string>();
      const index = (list: unknown[] | undefined, into: Map<string, unknown[]>): void => {
        (list ?? []).forEach((item, i) => {
          const pe = listItemElement(shape, item, defs, where, i);
          const key = serializePathElement(pe);
          const seen = into.get(key);
          if (seen) seen.push(item);
          else into.set(key, [item]);
          if (!known.has(key)) {
            known.add(key);
            order.push({ pe, key });
          }
        });
      };
      index(ll, lItems);
      index(rl, rItems);
      for (const { pe, key } of order) {
        const lv = lItems.get(key) ?? [];
        const rv = rItems.get(key) ?? [];
        const itemPath = [...path, pe];
        if (lv.length <= 1 && rv.length <= 1) {
          child(lv[0], rv[0], items, itemPath);
        } else if (lv.length >= 2 && rv.length >= 2) {
          if (!valuesEqual(lv, rv)) modified.insert(itemPath);
        } else if (lv.length >= 2) {
          if (rv.length) child(undefined, rv[0], items, itemPath);
          removed.insert(itemPath);
        } else {
          if (lv.length) child(lv[0], undefined, items, itemPath);
          added.insert(itemPath);
        }
      }
      return false;
    }
    const lm = isPlainObject(l) ? l : undefined;
    const rm = isPlainObject(r) ? r : undefined;
    const emptyBoth = Object.keys(lm ?? {}).length === 0 && Object.keys(rm ?? {}).length === 0;
    if (shape.atomic || emptyBoth) {
      leaf(l, r, path);
      return true;
    }
    const keys = new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})]);
    for (const key of keys) {
      const lv = lm?.[key];
      const rv = rm?.[key];
      if (lv === undefined && rv === undefined) continue;
      child(lv, rv, fieldSchema(shape, key).schema, [...path, { field: key }]);
    }
    return false;
  };

  const child = (l: unknown, r: unknown, type: TypeRef, path: PathElement[]): void => {
    if (l === undefined && r === undefined) return;
    const wasLeaf = walk(l, r, type, path);
    if (!wasLeaf) {
      if (l === undefined) added.insert(path);
      else if (r === undefined) removed.insert(path);
    }
  };

  walk(lhs ?? {}, rhs ?? {}, schema, []);
  return { added, modified, removed };
}
