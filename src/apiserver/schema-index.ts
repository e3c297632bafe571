import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPISchema, SchemaDefinitions } from '../machinery/openapi-schema.js';
import type { SchemaLookup } from './handlers/resource-handler.js';

/** The generated definitions of the built-in kinds, next to the compiled code: `dist/openapi/definitions.json`. */
export function loadBuiltinDefinitions(): SchemaDefinitions {
  // This file compiles to dist/src/apiserver/schema-index.js.
  const here = dirname(fileURLToPath(import.meta.url));
  const file = join(here, '..', '..', 'openapi', 'definitions.json');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` (it generates the OpenAPI definitions from @kubernetes/client-node)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as SchemaDefinitions;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/**
 * Finds the schema of a kind by group/version/kind: built-in definitions indexed by their
 * `x-kubernetes-group-version-kind`, and CustomResourceDefinition schemas added at run time.
 */
export class SchemaIndex implements SchemaLookup {
  private readonly byGVK = new Map<string, { schema: OpenAPISchema; defs: SchemaDefinitions }>();
  private readonly custom = new Map<string, { schema: OpenAPISchema; defs: SchemaDefinitions; gvk: { group: string; version: string; kind: string } }>();
  private readonly listeners = new Set<() => void>();

  constructor(readonly definitions: SchemaDefinitions) {
    for (const [name, schema] of Object.entries(definitions)) {
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
        const key = gvkKey(gvk.group, gvk.version, gvk.kind);
        // Prefer the definition from the kind's own group when a kind appears twice (e.g. core and events Event).
        if (!this.byGVK.has(key) || name.includes(`.${gvk.group.split('.')[0]}.`)) this.byGVK.set(key, { schema: { $ref: `#/definitions/${name}` }, defs: definitions });
      }
    }
  }

  lookup(group: string, version: string, kind: string): { schema: OpenAPISchema; defs: SchemaDefinitions } | undefined {
    const key = gvkKey(group, version, kind);
    return this.custom.get(key) ?? this.byGVK.get(key);
  }

  /** Registers a custom resource's schema (from its CRD version); replaces an earlier one. */
  setCustom(group: string, version: string, kind: string, schema: OpenAPISchema): void {
    this.custom.set(gvkKey(group, version, kind), { schema, defs: this.definitions, gvk: { group, version, kind } });
    this.changed();
  }

  removeCustom(group: string, version: string, kind: string): void {
    if (this.custom.delete(gvkKey(group, version, kind))) this.changed();
  }

  /** Every custom resource schema, for publishing in /openapi. */
  customSchemas(): Array<{ group: string; version: string; kind: string; schema: OpenAPISchema }> {
    return [...this.custom.values()].map((c) => ({ ...c.gvk, schema: c.schema }));
  }

  /** Called after any custom schema is added, replaced or removed. */
  onCustomChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
