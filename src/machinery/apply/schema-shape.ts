import { resolveSchema, type OpenAPISchema, type SchemaDefinitions } from '../openapi-schema.js';
import { isPlainObject, keyElement, type PathElement } from './path-element.js';

/**
 * The schema of one node as server-side apply uses it; `undefined` means unknown, in which case the
 * shape is deduced from the value (maps granular, lists atomic), as structured-merge-diff does.
 */
export type TypeRef = OpenAPISchema | undefined;

/** How server-side apply treats one node of an object. */
export type Shape =
  | { readonly kind: 'scalar' }
  | {
      readonly kind: 'map';
      /** Owned as a whole (`x-kubernetes-map-type: atomic`). */
      readonly atomic: boolean;
      /** Declared properties: a struct's named fields. */
      readonly fields: Readonly<Record<string, OpenAPISchema>>;
      /** Schema of keys that are not declared fields; undefined means deduced. */
      readonly elements: TypeRef;
    }
  | { readonly kind: 'list'; readonly listType: 'atomic' }
  | { readonly kind: 'list'; readonly listType: 'set'; readonly items: TypeRef }
  | { readonly kind: 'list'; readonly listType: 'map'; readonly keys: readonly string[]; readonly items: TypeRef };

/** An object that does not fit the rules of server-side apply (missing or duplicate list keys). */
export class ApplySchemaError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'ApplySchemaError';
  }
}

const DEDUCED_MAP: Shape = { kind: 'map', atomic: false, fields: {}, elements: undefined };

interface Extensions {
  listType?: string;
  listMapKeys?: string[];
  mapType?: string;
  patchStrategy?: string;
  patchMergeKey?: string;
  intOrString?: boolean;
}

/** Follows `$ref`/`allOf` wrappers, keeping the x-kubernetes extensions of the outer layers (they win). */
function resolveWithExtensions(schema: OpenAPISchema, defs: SchemaDefinitions): { resolved: OpenAPISchema | undefined; ext: Extensions } {
  const ext: Extensions = {};
  let s: OpenAPISchema | undefined = schema;
  for (let hops = 0; s && hops < 32; hops++) {
    ext.listType ??= s['x-kubernetes-list-type'];
    ext.listMapKeys ??= s['x-kubernetes-list-map-keys'];
    ext.mapType ??= s['x-kubernetes-map-type'];
    ext.patchStrategy ??= s['x-kubernetes-patch-strategy'];
    ext.patchMergeKey ??= s['x-kubernetes-patch-merge-key'];
    ext.intOrString ||= s['x-kubernetes-int-or-string'] === true;
    if (s.$ref) {
      s = defs[s.$ref.replace(/^#\/(definitions|components\/schemas)\//, '')];
    } else if (s.allOf && s.allOf.length === 1 && !s.properties && !s.type) {
      s = s.allOf[0];
    } else {
      break;
    }
  }
  return { resolved: s, ext };
}

function deduce(value: unknown): Shape {
  if (isPlainObject(value)) return DEDUCED_MAP;
  if (Array.isArray(value)) return { kind: 'list', listType: 'atomic' };
  return { kind: 'scalar' };
}

/** The shape of a node with schema `schema` holding `value`; a value that does not match its schema is deduced. */
export function shapeOf(schema: TypeRef, defs: SchemaDefinitions, value: unknown): Shape {
  if (!schema) return deduce(value);
  const { resolved, ext } = resolveWithExtensions(schema, defs);
  if (!resolved || ext.intOrString) return deduce(value);
  const isList = resolved.type === 'array' || (!resolved.type && resolved.items !== undefined);
  const isMap = resolved.type === 'object' || (!resolved.type && (resolved.properties !== undefined || resolved.additionalProperties !== undefined));
  const present = value !== undefined && value !== null;
  if (isList) {
    if (present && !Array.isArray(value)) return deduce(value);
    return listShape(resolved, ext);
  }
  if (isMap) {
    if (present && !isPlainObject(value)) return deduce(value);
    const ap = resolved.additionalProperties;
    return {
      kind: 'map',
      atomic: ext.mapType === 'atomic',
      fields: resolved.properties ?? {},
      elements: typeof ap === 'object' ? ap : undefined,
    };
  }
  if (resolved.type) {
    return present && (isPlainObject(value) || Array.isArray(value)) ? deduce(value) : { kind: 'scalar' };
  }
  return deduce(value);
}

function listShape(resolved: OpenAPISchema, ext: Extensions): Shape {
  const items = resolved.items;
  switch (ext.listType) {
    case 'atomic':
      return { kind: 'list', listType: 'atomic' };
    case 'set':
      return { kind: 'list', listType: 'set', items };
    case 'map': {
      const keys = ext.listMapKeys ?? (ext.patchMergeKey ? [ext.patchMergeKey] : []);
      return keys.length > 0 ? { kind: 'list', listType: 'map', keys, items } : { kind: 'list', listType: 'atomic' };
    }
    default:
      break;
  }
  // Kubernetes' built-in types predate list-type: the strategic-merge-patch markers say the same thing.
  if (ext.patchStrategy?.split(',').includes('merge')) {
    if (ext.patchMergeKey) return { kind: 'list', listType: 'map', keys: [ext.patchMergeKey], items };
    return { kind: 'list', listType: 'set', items };
  }
  return { kind: 'list', listType: 'atomic' };
}

/** The schema of field `name` of a map node. */
export function fieldSchema(shape: Shape & { kind: 'map' }, name: string): { schema: TypeRef; declared: boolean } {
  const declared = shape.fields[name];
  if (declared) return { schema: declared, declared: true };
  return { schema: shape.elements, declared: false };
}

/** The schema of the items of a list node. */
export function itemSchema(shape: Shape & { kind: 'list' }): TypeRef {
  return shape.listType === 'atomic' ? undefined : shape.items;
}

/**
 * The path element naming one item of an associative list: its key fields (`k:`) for map lists,
 * its value (`v:`) for sets. A missing key field takes the default of its schema, as Kubernetes
 * does (e.g. a container port's `protocol: TCP`).
 */
export function listItemElement(shape: Shape & { kind: 'list' }, item: unknown, defs: SchemaDefinitions, path: string, index: number): PathElement {
  if (shape.listType === 'set') return { value: item };
  if (shape.listType === 'atomic') return { index };
  if (item === null || item === undefined) {
    throw new ApplySchemaError(path, `element ${index}: associative list with keys may not have a null element`);
  }
  if (!isPlainObject(item)) {
    throw new ApplySchemaError(path, `element ${index}: associative list with keys may not have non-map elements`);
  }
  const fields: Array<[string, unknown]> = [];
  for (const key of shape.keys) {
    if (Object.prototype.hasOwnProperty.call(item, key) && item[key] !== undefined) {
      fields.push([key, item[key]]);
      continue;
    }
    const def = keyDefault(shape.items, key, defs);
    if (def === undefined) {
      throw new ApplySchemaError(path, `element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`);
    }
    fields.push([key, def]);
  }
  return keyElement(fields);
}

function keyDefault(items: TypeRef, key: string, defs: SchemaDefinitions): unknown {
  const item = resolveSchema(items, defs);
  const prop = item?.properties?.[key];
  if (!prop) return undefined;
  if (prop.default !== undefined) return prop.default;
  return resolveSchema(prop, defs)?.default;
}
