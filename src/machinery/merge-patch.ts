/**
 * JSON merge patch (RFC 7386, `application/merge-patch+json`) as Kubernetes applies it, plus the
 * plain-JSON helpers the patch implementations share.
 */
import { StatusError } from './status-error.js';
import { deepClone, deepEqual, isJsonObject, type JsonObject } from './json-value.js';

/** Removes null members from objects, recursively (also inside arrays); array elements stay. */
export function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneNulls);
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}

function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, pv] of Object.entries(patch)) {
    if (pv === null) {
      delete target[k];
      continue;
    }
    const cur = target[k];
    if (isJsonObject(cur) && isJsonObject(pv)) target[k] = mergeInto(cur, pv);
    else target[k] = pruneNulls(deepClone(pv));
  }
  return target;
}

/**
 * Applies a merge patch: objects merge key by key, `null` deletes, everything else (arrays
 * included) replaces. Does not modify its inputs. A patch that is not a JSON object or array
 * is rejected with 400 `Invalid JSON Patch`, as Kubernetes' merge-patch library does.
 */
export function applyMergePatch(original: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) return pruneNulls(deepClone(patch));
  if (!isJsonObject(patch)) throw new StatusError(400, 'BadRequest', 'Invalid JSON Patch');
  if (!isJsonObject(original)) return pruneNulls(deepClone(patch));
  return mergeInto(deepClone(original), patch);
}

/**
 * The merge patch that turns `original` into `modified` (both JSON objects): changed keys with
 * their new values (nested objects diffed), removed keys as `null`, arrays whole.
 */
export function createMergePatch(original: unknown, modified: unknown): JsonObject {
  if (!isJsonObject(original) || !isJsonObject(modified)) throw new Error('Invalid JSON Document');
  return diffObjects(original, modified);
}

function diffObjects(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, bv] of Object.entries(b)) {
    if (!Object.prototype.hasOwnProperty.call(a, k)) {
      out[k] = deepClone(bv);
      continue;
    }
    const av = a[k];
    if (isJsonObject(av) && isJsonObject(bv)) {
      const d = diffObjects(av, bv);
      if (Object.keys(d).length > 0) out[k] = d;
    } else if (!deepEqual(av, bv)) {
      out[k] = deepClone(bv);
    }
  }
  for (const k of Object.keys(a)) if (!Object.prototype.hasOwnProperty.call(b, k)) out[k] = null;
  return out;
}
