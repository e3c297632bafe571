/**
 * Namespaces (pkg/registry/core/namespace): cluster-scoped, named by DNS-1123 labels, created
 * Active with the `kubernetes` finalizer in `spec.finalizers`, labelled with their own name.
 *
 * Deletion is not the generic store's: while `spec.finalizers` is non-empty a DELETE only marks
 * the namespace (deletionTimestamp, phase Terminating — see `markNamespaceTerminating`); the
 * namespace controller empties it, then clears `spec.finalizers` through the `finalize`
 * subresource (a PUT to `namespaces/NAME/finalize`, whose only effect is on `spec.finalizers`:
 * `prepareNamespaceFinalize`) and deletes again, which now removes it.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, invalid, isObj, type Obj } from '../group-checks.js';

export const namespaceNameLabel = 'kubernetes.io/metadata.name';
const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

/** SetDefaults_Namespace: the `kubernetes.io/metadata.name` label always equals the name. */
export function defaultNamespace(ns: KubeObject): void {
  const meta = (ns.metadata ??= {});
  if (meta.name) meta.labels = { ...(meta.labels ?? {}), [namespaceNameLabel]: meta.name };
}

/** `validateFinalizerName` as used for `spec.finalizers`. */
function validateSpecFinalizers(ns: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of arrAt(ns.spec, 'finalizers')) {
    const name = typeof f === 'string' ? f : '';
    for (const m of validateQualifiedName(name)) errs.push(invalid('spec.finalizers', name, m));
    if (!name.includes('/') && !standardFinalizers.has(name)) errs.push(invalid('spec.finalizers', name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

/** `ValidateNamespaceStatusUpdate`: the phase follows deletionTimestamp. */
export function validateNamespaceStatus(ns: KubeObject): FieldError[] {
  const phase = isObj(ns.status) ? ns.status.phase : undefined;
  if (!ns.metadata?.deletionTimestamp) {
    return phase !== 'Active' ? [invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty")] : [];
  }
  return phase !== 'Terminating' ? [invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty")] : [];
}

/**
 * The `finalize` subresource's update: everything but `spec.finalizers` comes from the stored
 * namespace. Call with the request body and the stored object; then validate with
 * `validateNamespaceFinalize` and store the result.
 */
export function prepareNamespaceFinalize(obj: KubeObject, old: KubeObject): KubeObject {
  const next = structuredClone(old);
  const finalizers = arrAt(obj.spec, 'finalizers');
  next.spec = { ...(isObj(old.spec) ? old.spec : {}), finalizers: structuredClone(finalizers) };
  if (finalizers.length === 0 && isObj(next.spec)) delete (next.spec as Obj).finalizers;
  return next;
}

export function validateNamespaceFinalize(obj: KubeObject): FieldError[] {
  return validateSpecFinalizers(obj);
}

/** True while `spec.finalizers` holds the namespace back from removal. */
export function namespaceHeldBySpecFinalizers(ns: KubeObject): boolean {
  return arrAt(ns.spec, 'finalizers').length > 0;
}

/**
 * What a DELETE does to a namespace that `spec.finalizers` holds: deletionTimestamp (if not
 * already set, grace 0) and phase Terminating. Returns the updated copy to store.
 */
export function markNamespaceTerminating(ns: KubeObject, now: Date): KubeObject {
  const next = structuredClone(ns);
  const meta = (next.metadata ??= {});
  if (!meta.deletionTimestamp) {
    meta.deletionTimestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    meta.deletionGracePeriodSeconds = 0;
  }
  next.status = { ...(isObj(next.status) ? next.status : {}), phase: 'Terminating' };
  return next;
}

export const namespaceStrategy: Strategy = {
  nameValidation: 'label',
  default: defaultNamespace,
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
    const spec = specOf(obj);
    const finalizers = arrAt(spec, 'finalizers');
    if (!finalizers.includes('kubernetes')) spec.finalizers = [...finalizers, 'kubernetes'];
  },
  validate: (obj) => validateSpecFinalizers(obj),
  prepareForUpdate(obj, old) {
    // spec.finalizers changes only through /finalize; status only through /status.
    const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
    const spec = specOf(obj);
    if (oldSpec.finalizers === undefined) delete spec.finalizers;
    else spec.finalizers = structuredClone(oldSpec.finalizers);
    obj.status = structuredClone(old.status);
  },
  validateUpdate: (obj) => validateSpecFinalizers(obj),
  status: {
    validateUpdate: (obj) => validateNamespaceStatus(obj),
  },
};
