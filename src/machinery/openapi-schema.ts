/**
 * The one schema model of k8ts: an OpenAPI v3 schema object with Kubernetes' extensions.
 * Built-in kinds (generated from the API definitions) and CustomResourceDefinitions both use it,
 * and every consumer reads it: OpenAPI publication, validation, strategic merge patch,
 * server-side apply, defaulting and pruning.
 */
export interface OpenAPISchema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, OpenAPISchema>;
  additionalProperties?: OpenAPISchema | boolean;
  items?: OpenAPISchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  allOf?: OpenAPISchema[];
  anyOf?: OpenAPISchema[];
  oneOf?: OpenAPISchema[];
  not?: OpenAPISchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  multipleOf?: number;
  'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }>;
  /** Strategic merge patch: 'merge', 'replace', 'retainKeys' or 'merge,retainKeys'. */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  /** Server-side apply: how a list merges. */
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-unions'?: unknown[];
  [extension: `x-${string}`]: unknown;
}

/** Definitions keyed by their OpenAPI name, e.g. `io.k8s.api.core.v1.Pod`. */
export type SchemaDefinitions = Record<string, OpenAPISchema>;

/** Follows `$ref` (`#/definitions/X` or `#/components/schemas/X`) and single-element `allOf` wrappers. */
export function resolveSchema(schema: OpenAPISchema | undefined, defs: SchemaDefinitions): OpenAPISchema | undefined {
  let s = schema;
  for (let hops = 0; s && hops < 32; hops++) {
    if (s.$ref) {
      const name = s.$ref.replace(/^#\/(definitions|components\/schemas)\//, '');
      s = defs[name];
      continue;
    }
    if (s.allOf && s.allOf.length === 1 && !s.properties && !s.type) {
      s = s.allOf[0];
      continue;
    }
    return s;
  }
  return s;
}
