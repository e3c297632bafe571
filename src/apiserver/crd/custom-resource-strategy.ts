/**
 * How custom resources of one CRD behave in the generic store, as apiextensions-apiserver's
 * customResourceStrategy: defaulting and pruning from the version's schema, `status` reset or kept
 * when the status subresource exists, generation bumps, validation against the schema (plus
 * embedded resources and scale replicas), and conversion `None` between versions.
 */

import { StatusError, type FieldError } from '../../machinery/status-error.js';
import type { OpenAPISchema } from '../../machinery/openapi-schema.js';
import { pruneUnknownFields } from '../../machinery/prune.js';
import { applySchemaDefaults, pruneNonNullableNulls } from '../../machinery/schema-defaulting.js';
import { validateAgainstSchema, validateEmbeddedResources } from '../../machinery/schema-validation.js';
import type { AdmissionHook, VersionConverter } from '../registry/generic-store.js';
import type { KubeObject, Strategy } from '../registry/strategy.js';
import { deepEqual } from '../../machinery/json-value.js';
import { hasStatus, scaleOf, schemaOf, servedVersions, storageVersion, versionFromApiVersion, versionOf, type CustomResourceDefinition } from './crd-model.js';

const MAX_INT32 = 2147483647;

/** The strategy's view of its CRD; replaced in place when the CRD changes. */
export interface CustomResourceContext {
  crd: CustomResourceDefinition;
  /** True once the CRD is being deleted: creating new objects is refused. */
  terminating: boolean;
}

function apiVersionFor(crd: CustomResourceDefinition, version: string): string {
  return `${crd.spec.group}/${version}`;
}

/** The version whose schema applies to `obj`: its apiVersion when served, else the storage version. */
function objectVersion(crd: CustomResourceDefinition, obj: KubeObject): string {
  const v = versionFromApiVersion(obj.apiVersion);
  if (v && versionOf(crd, v)) return v;
  return storageVersion(crd) ?? servedVersions(crd)[0] ?? '';
}

/**
 * A copy of a version's schema fit for pruning and server-side apply: the root `metadata` is left
 * to the ObjectMeta rules (Kubernetes never prunes it by the CRD schema), and embedded resources
 * keep their apiVersion, kind and metadata.
 */
export function servingSchema(schema: OpenAPISchema | undefined): OpenAPISchema {
  if (!schema) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const copy = structuredClone(schema);
  if (copy.properties) {
    delete copy.properties['metadata'];
    copy.properties['apiVersion'] ??= { type: 'string' };
    copy.properties['kind'] ??= { type: 'string' };
  }
  fixEmbedded(copy, true);
  return copy;
}

function fixEmbedded(s: OpenAPISchema, isRoot: boolean): void {
  if (s['x-kubernetes-embedded-resource'] && !isRoot) {
    s.properties ??= {};
    s.properties['apiVersion'] ??= { type: 'string' };
    s.properties['kind'] ??= { type: 'string' };
    s.properties['metadata'] = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    if (!s.type) s.type = 'object';
  }
  for (const [name, p] of Object.entries(s.properties ?? {})) if (!(isRoot && name === 'metadata')) fixEmbedded(p, false);
  if (s.items) fixEmbedded(s.items, false);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') fixEmbedded(s.additionalProperties, false);
  for (const sub of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) fixEmbedded(sub, false);
}

/** Defaulting as on a write or a read: prune unknown fields, drop non-nullable nulls, fill defaults. */
export function defaultCustomResource(crd: CustomResourceDefinition, obj: KubeObject, version = objectVersion(crd, obj)): void {
  const schema = schemaOf(crd, version);
  if (!schema) return;
  pruneUnknownFields(obj, servingSchema(schema), {});
  const withoutMeta = { ...schema, properties: { ...schema.properties } };
  delete withoutMeta.properties['metadata'];
  pruneNonNullableNulls(obj, withoutMeta);
  applySchemaDefaults(obj, withoutMeta);
}

function getPath(obj: unknown, path: string): { found: boolean; value: unknown } {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !(part in cur)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

function goTypeName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (v === null) return '<nil>';
  return 'map[string]interface {}';
}

function validateReplicas(obj: KubeObject, path: string): FieldError[] {
  const { found, value } = getPath(obj, path);
  if (!found) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return [{ type: 'FieldValueInvalid', field: path, value: 0, detail: `${path} accessor error: ${String(value)} is of the type ${goTypeName(value)}, expected int64` }];
  }
  if (value < 0) return [{ type: 'FieldValueInvalid', field: path, value, detail: 'should be a non-negative integer' }];
  if (value > MAX_INT32) return [{ type: 'FieldValueInvalid', field: path, value, detail: `should be less than or equal to ${MAX_INT32}` }];
  return [];
}

/** Everything Kubernetes checks on a custom resource beyond ObjectMeta (which the generic store checks). */
export function validateCustomResource(crd: CustomResourceDefinition, obj: KubeObject, version = objectVersion(crd, obj), checkSpecReplicas = true): FieldError[] {
  const schema = schemaOf(crd, version);
  const errors = [...validateAgainstSchema(obj, schema), ...validateEmbeddedResources(obj, schema)];
  const scale = scaleOf(crd, version);
  if (scale) {
    if (checkSpecReplicas) errors.push(...validateReplicas(obj, scale.specReplicasPath));
    errors.push(...validateReplicas(obj, scale.statusReplicasPath));
  }
  return errors;
}

function withoutMetadata(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** Values of the CRD version's `selectableFields`, by path without the leading dot. */
function selectableFields(crd: CustomResourceDefinition, obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of versionOf(crd, objectVersion(crd, obj))?.selectableFields ?? []) {
    const { found, value } = getPath(obj, f.jsonPath);
    const key = f.jsonPath.replace(/^\./, '');
    out[key] = found && value !== null && typeof value !== 'object' ? String(value) : '';
  }
  return out;
}

/** The strategy of one CRD's custom resources; `ctx.crd` is read on every call, so updates apply at once. */
export function customResourceStrategy(ctx: CustomResourceContext): Strategy {
  const statusOn = (obj: KubeObject): boolean => hasStatus(ctx.crd, objectVersion(ctx.crd, obj));
  const strategy: Strategy = {
    default(obj) {
      defaultCustomResource(ctx.crd, obj);
    },
    prepareForCreate(obj) {
      if (ctx.terminating) {
        throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      }
      if (statusOn(obj)) delete obj.status;
      obj.metadata ??= {};
      obj.metadata.generation = 1;
    },
    validate(obj) {
      return validateCustomResource(ctx.crd, obj);
    },
    prepareForUpdate(obj, old) {
      if (statusOn(obj)) {
        if ('status' in old) obj.status = old.status;
        else delete obj.status;
      }
      obj.metadata ??= {};
      const generation = old.metadata?.generation ?? 1;
      obj.metadata.generation = deepEqual(withoutMetadata(obj), withoutMetadata(old)) ? generation : generation + 1;
    },
    validateUpdate(obj) {
      return validateCustomResource(ctx.crd, obj);
    },
    selectableFields(obj) {
      return selectableFields(ctx.crd, obj);
    },
  };
  // The status subresource exists only when a version declares it; the handler checks the descriptor.
  strategy.status = {
    validateUpdate(obj) {
      return validateCustomResource(ctx.crd, obj, undefined, false);
    },
  };
  return strategy;
}

/**
 * Conversion `None`: only apiVersion changes. Writes keep the request's apiVersion until the
 * strategy has defaulted and validated with that version's schema; `storageVersionHook` then
 * rewrites it just before the object is stored. Reads are defaulted with the target version's schema.
 */
export function noneConverter(ctx: CustomResourceContext): VersionConverter {
  return {
    get storageApiVersion() {
      return apiVersionFor(ctx.crd, storageVersion(ctx.crd) ?? '');
    },
    toStorage(obj, fromVersion) {
      return { ...obj, apiVersion: apiVersionFor(ctx.crd, fromVersion) };
    },
    fromStorage(obj, toVersion) {
      const out = structuredClone(obj);
      out.apiVersion = apiVersionFor(ctx.crd, toVersion);
      defaultCustomResource(ctx.crd, out, toVersion);
      return out;
    },
  };
}

/** The last admission step of a custom resource store: the object is stored in the storage version. */
export function storageVersionHook(ctx: CustomResourceContext): AdmissionHook {
  return {
    async admit(op, _resource, obj) {
      if (op === 'DELETE') return;
      const sv = storageVersion(ctx.crd);
      if (sv) obj.apiVersion = apiVersionFor(ctx.crd, sv);
    },
  };
}
