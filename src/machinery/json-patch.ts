/**
 * JSON patch (RFC 6902, `application/json-patch+json`): add, remove, replace, move, copy, test,
 * JSON pointers with `~0`/`~1` escapes and the `-` (end of array) index.
 *
 * Errors follow the apiserver's PATCH handler: a body that is not a list of operations is 400
 * BadRequest; an operation that cannot be applied (failed test, missing path…) is 422 Invalid
 * with the generic message Kubernetes sends, "the server rejected our request due to an error in
 * our request" — the specific reason is kept on the error's `cause` for logs.
 */
import { StatusError } from './status-error.js';
import { deepClone, deepEqual, isJsonObject, type JsonObject } from './json-value.js';

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test' | string;
  path: string;
  from?: string;
  value?: unknown;
}

/** Kubernetes refuses larger patches with 413. */
export const maxJsonPatchOperations = 10000;

class PatchApplyError extends Error {}

function rejected(reason: string): StatusError {
  const err = new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  err.cause = new Error(reason);
  return err;
}

/** Splits a JSON pointer into unescaped tokens; `''` is the whole document. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`JSON pointer must be empty or start with a "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Escapes one reference token (`/` → `~1`, `~` → `~0`). */
export function escapeJsonPointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (token === '-' && allowEnd) return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchApplyError(`invalid array index ${JSON.stringify(token)} in path "${path}"`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new PatchApplyError(`array index ${i} out of bounds in path "${path}"`);
  return i;
}

/** The container that holds the last token of `tokens`. */
function parentOf(doc: unknown, tokens: string[], path: string): unknown {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, path)];
    else if (isJsonObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else throw new PatchApplyError(`doc is missing path: "${path}"`);
  }
  if (!Array.isArray(cur) && !isJsonObject(cur)) throw new PatchApplyError(`doc is missing path: "${path}"`);
  return cur;
}

function getValue(doc: unknown, path: string): unknown {
  const tokens = parseJsonPointer(path);
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, path)];
    else if (isJsonObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else throw new PatchApplyError(`doc is missing path: "${path}"`);
  }
  return cur;
}

/** Returns the new document (the root may be replaced). */
function addValue(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, path), 0, value);
  else (parent as JsonObject)[last] = value;
  return doc;
}

function removeValue(doc: unknown, path: string): { doc: unknown; removed: unknown } {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return { doc: null, removed: doc };
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, false, path);
    return { doc, removed: parent.splice(i, 1)[0] };
  }
  const obj = parent as JsonObject;
  if (!Object.prototype.hasOwnProperty.call(obj, last)) throw new PatchApplyError(`Unable to remove nonexistent key: ${last}: missing value`);
  const removed = obj[last];
  delete obj[last];
  return { doc, removed };
}

function replaceValue(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false, path)] = value;
  else {
    const obj = parent as JsonObject;
    if (!Object.prototype.hasOwnProperty.call(obj, last)) throw new PatchApplyError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    obj[last] = value;
  }
  return doc;
}

/** Validates the request body shape: a JSON array of objects. Throws 400 as `DecodePatch` does. */
export function decodeJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) {
    const kind = patch === null ? 'null' : isJsonObject(patch) ? 'object' : typeof patch;
    throw new StatusError(400, 'BadRequest', `json: cannot unmarshal ${kind} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patch) {
    if (!isJsonObject(op)) {
      const kind = Array.isArray(op) ? 'array' : op === null ? 'null' : typeof op;
      throw new StatusError(400, 'BadRequest', `json: cannot unmarshal ${kind} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patch.length > maxJsonPatchOperations) {
    throw new StatusError(413, 'RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${patch.length}`);
  }
  return patch as JsonPatchOperation[];
}

function requiredString(op: JsonObject, field: 'path' | 'from'): string {
  const v = op[field];
  if (typeof v !== 'string') throw new PatchApplyError(`operation missing "${field}" field`);
  return v;
}

/**
 * Applies a JSON patch to a document and returns the result; the input is not modified.
 * Throws `StatusError` (400 for a malformed body, 422 for an operation that does not apply).
 */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  const ops = decodeJsonPatch(patch);
  let doc = deepClone(document);
  try {
    for (const raw of ops) {
      const op = raw as unknown as JsonObject;
      const kind = op.op;
      switch (kind) {
        case 'add': {
          const path = requiredString(op, 'path');
          if (!('value' in op)) throw new PatchApplyError('add operation missing "value"');
          doc = addValue(doc, path, deepClone(op.value));
          break;
        }
        case 'remove':
          doc = removeValue(doc, requiredString(op, 'path')).doc;
          break;
        case 'replace': {
          const path = requiredString(op, 'path');
          if (!('value' in op)) throw new PatchApplyError('replace operation missing "value"');
          doc = replaceValue(doc, path, deepClone(op.value));
          break;
        }
        case 'move': {
          const from = requiredString(op, 'from');
          const path = requiredString(op, 'path');
          if (path !== from && path.startsWith(`${from}/`)) throw new PatchApplyError(`cannot move "${from}" into its own child "${path}"`);
          if (path === from) {
            getValue(doc, from);
            break;
          }
          const { doc: after, removed } = removeValue(doc, from);
          doc = addValue(after, path, removed);
          break;
        }
        case 'copy': {
          const from = requiredString(op, 'from');
          doc = addValue(doc, requiredString(op, 'path'), deepClone(getValue(doc, from)));
          break;
        }
        case 'test': {
          const path = requiredString(op, 'path');
          let actual: unknown;
          let found = true;
          try {
            actual = getValue(doc, path);
          } catch (e) {
            if (!(e instanceof PatchApplyError)) throw e;
            found = false;
          }
          // A missing member tests equal to null, as in the Go library Kubernetes uses.
          const expected = op.value === undefined ? null : op.value;
          if (found ? !deepEqual(actual, expected) : expected !== null) throw new PatchApplyError(`testing value ${path} failed: test failed`);
          break;
        }
        default:
          throw new PatchApplyError(`Unexpected kind: ${String(kind)}`);
      }
    }
  } catch (e) {
    if (e instanceof PatchApplyError) throw rejected(e.message);
    throw e;
  }
  return doc;
}
