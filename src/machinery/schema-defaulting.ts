/**
 * Defaulting from a structural schema's `default` values, as apiextensions-apiserver does for
 * custom resources on every write and every read: a missing field with a default gets a copy of
 * it (and a `null` in a field that is not nullable counts as missing); the defaulted value is
 * then defaulted itself. Fields that are `null` without being nullable and without a default are
 * dropped, as Kubernetes prunes them.
 */

import type { OpenAPISchema } from './openapi-schema.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function copy<T>(v: T): T {
  return structuredClone(v);
}

function nonNullableNullWithDefault(v: unknown, s: OpenAPISchema | undefined): boolean {
  return v === null && !!s && !s.nullable && s.default !== undefined;
}

/** Fills defaults into `value` in place (objects and arrays; scalars have nothing to fill). */
export function applySchemaDefaults(value: unknown, schema: OpenAPISchema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      if (nonNullableNullWithDefault(value[i], items)) value[i] = copy(items.default);
      applySchemaDefaults(value[i], items);
    }
    return;
  }
  if (!isObject(value)) return;
  const props = schema.properties ?? {};
  for (const [name, prop] of Object.entries(props)) {
    if (prop.default === undefined) continue;
    if (!(name in value) || value[name] === undefined || nonNullableNullWithDefault(value[name], prop)) value[name] = copy(prop.default);
  }
  const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const key of Object.keys(value)) {
    const prop = props[key];
    if (prop) {
      applySchemaDefaults(value[key], prop);
    } else if (additional) {
      if (nonNullableNullWithDefault(value[key], additional)) value[key] = copy(additional.default);
      applySchemaDefaults(value[key], additional);
    }
  }
}

/** Drops `null` values of fields that are neither nullable nor defaulted (in place). */
export function pruneNonNullableNulls(value: unknown, schema: OpenAPISchema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) pruneNonNullableNulls(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const key of Object.keys(value)) {
    const prop = schema.properties?.[key] ?? additional;
    if (!prop) continue;
    const v = value[key];
    if (v === null) {
      if (!prop.nullable && prop.default === undefined) delete value[key];
    } else {
      pruneNonNullableNulls(v, prop);
    }
  }
}
