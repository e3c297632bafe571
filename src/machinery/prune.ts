import { resolveSchema, type OpenAPISchema, type SchemaDefinitions } from './openapi-schema.js';

/** What decoding found wrong with an object against its schema. */
export interface DecodeProblems {
  /** Paths of fields the schema does not know, e.g. `.spec.replicaz` (dropped from the object). */
  unknownFields: string[];
  /** Values of the wrong JSON type, in the words Go's decoder uses. */
  typeErrors: string[];
}

const metaFields = new Set(['apiVersion', 'kind', 'metadata']);

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function goType(s: OpenAPISchema): string {
  switch (s.type) {
    case 'integer':
      return s.format === 'int64' ? 'int64' : 'int32';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'array':
      return 'array';
    default:
      return 'object';
  }
}

/**
 * Drops fields the schema does not define, as decoding into Kubernetes' Go types does, and
 * reports them (for `fieldValidation=Strict|Warn`) along with type mismatches. Mutates `obj`.
 * Parts of the schema marked `x-kubernetes-preserve-unknown-fields`, and parts without a schema,
 * are kept as they are.
 */
export function pruneUnknownFields(obj: unknown, root: OpenAPISchema | undefined, defs: SchemaDefinitions, options: PruneOptions = {}): DecodeProblems {
  const problems: DecodeProblems = { unknownFields: [], typeErrors: [] };
  walk(obj, root, defs, '', problems, true, options.opaqueEmptyObjects ?? false);
  return problems;
}

export interface PruneOptions {
  /**
   * Built-in kinds: an object schema with neither properties nor additionalProperties is an
   * opaque blob (FieldsV1, RawExtension), kept as is. CRD structural schemas: it is an empty
   * object, and everything in it is pruned unless x-kubernetes-preserve-unknown-fields.
   */
  opaqueEmptyObjects?: boolean;
}

function walk(value: unknown, schemaIn: OpenAPISchema | undefined, defs: SchemaDefinitions, path: string, problems: DecodeProblems, isRoot: boolean, opaque: boolean): void {
  const schema = resolveSchema(schemaIn, defs);
  if (!schema || value === null || value === undefined) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && typeof value !== 'number') problems.typeErrors.push(mismatch(value, path, 'intstr.IntOrString'));
    return;
  }
  const t = jsonType(value);
  if (schema.type === 'object' || schema.properties || schema.additionalProperties) {
    if (t !== 'object') {
      if (schema.type) problems.typeErrors.push(mismatch(value, path, 'object'));
      return;
    }
    const o = value as Record<string, unknown>;
    const props = schema.properties;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || (opaque && !props && !schema.additionalProperties);
    for (const key of Object.keys(o)) {
      const child = props?.[key];
      const childPath = `${path}.${key}`;
      if (child) {
        walk(o[key], child, defs, childPath, problems, false, opaque);
      } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        walk(o[key], schema.additionalProperties, defs, childPath, problems, false, opaque);
      } else if (preserve || schema.additionalProperties === true || (!props && schema.type !== 'object')) {
        // kept as is
      } else if (isRoot && metaFields.has(key)) {
        // apiVersion/kind/metadata are always known at the root
      } else if (props || schema.type === 'object') {
        if (props || !preserve) {
          problems.unknownFields.push(childPath);
          delete o[key];
        }
      }
    }
    return;
  }
  if (schema.type === 'array') {
    if (t !== 'array') {
      problems.typeErrors.push(mismatch(value, path, 'array'));
      return;
    }
    (value as unknown[]).forEach((item, i) => walk(item, schema.items, defs, `${path}[${i}]`, problems, false, opaque));
    return;
  }
  const fits =
    (schema.type === 'string' && t === 'string') ||
    (schema.type === 'integer' && t === 'number' && Number.isInteger(value)) ||
    (schema.type === 'number' && t === 'number') ||
    (schema.type === 'boolean' && t === 'boolean') ||
    !schema.type;
  if (!fits) problems.typeErrors.push(mismatch(value, path, goType(schema)));
}

/** Go's wording: `json: cannot unmarshal string into Go struct field .spec.replicas of type int32`. */
function mismatch(value: unknown, path: string, expected: string): string {
  const t = jsonType(value);
  const what = t === 'number' && !Number.isInteger(value) ? 'number ' + String(value) : t === 'boolean' ? 'bool' : t;
  return `json: cannot unmarshal ${what} into Go struct field ${path || '.'} of type ${expected}`;
}
