import { StatusError, badRequest } from '../../machinery/status-error.js';
import type { OpenAPISchema, SchemaDefinitions } from '../../machinery/openapi-schema.js';
import type { KubeObject } from '../registry/strategy.js';
import { asKubeObject } from './codec.js';

/** The three non-apply patch formats, provided by machinery. */
export interface Patcher {
  json(doc: unknown, patch: unknown): unknown;
  merge(doc: unknown, patch: unknown): unknown;
  strategic(doc: unknown, patch: unknown, schema: OpenAPISchema | undefined, defs: SchemaDefinitions): unknown;
}

/** Applies a PATCH body of the given content type to the current object (in the request's version). */
export function applyPatch(
  patcher: Patcher,
  contentType: string,
  current: KubeObject,
  patch: unknown,
  schema: { schema: OpenAPISchema; defs: SchemaDefinitions } | undefined,
): KubeObject {
  const doc = structuredClone(current);
  let out: unknown;
  switch (contentType) {
    case 'application/json-patch+json':
      if (!Array.isArray(patch)) throw badRequest(`json: cannot unmarshal object into Go value of type jsonpatch.Patch`);
      out = patcher.json(doc, patch);
      break;
    case 'application/merge-patch+json':
      out = patcher.merge(doc, patch);
      break;
    case 'application/strategic-merge-patch+json':
      if (!schema) {
        // Custom resources have no Go struct to carry patch strategies, so Kubernetes refuses this.
        throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      }
      out = patcher.strategic(doc, patch, schema.schema, schema.defs);
      break;
    default:
      throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }
  return asKubeObject(out);
}
