import type { FieldError } from '../../machinery/status-error.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  validateLabelValue,
  validateQualifiedName,
} from '../../machinery/name-validation.js';
import type { KubeObject, NameValidation } from './strategy.js';

const totalAnnotationSizeLimit = 256 * 1024;

function nameErrors(name: string, how: NameValidation): string[] {
  switch (how) {
    case 'label':
      return isDNS1123Label(name);
    case 'dns1035':
      return isDNS1035Label(name);
    case 'path':
      if (name === '.' || name === '..') return [`may not be '${name}'`];
      return name.includes('/') ? [`may not contain '/'`] : name.includes('%') ? [`may not contain '%'`] : [];
    case 'subdomain':
      return isDNS1123Subdomain(name);
  }
}

/** Validates the keys of a label map and their values, as `ValidateLabels` does. */
export function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of validateQualifiedName(k)) errs.push({ type: 'FieldValueInvalid', field, value: k, detail: msg });
    if (typeof v !== 'string') {
      errs.push({ type: 'FieldValueInvalid', field, value: v, detail: 'must be a string' });
      continue;
    }
    for (const msg of validateLabelValue(v)) errs.push({ type: 'FieldValueInvalid', field, value: v, detail: msg });
  }
  return errs;
}

/**
 * The checks Kubernetes' `ValidateObjectMeta` / `ValidateObjectMetaUpdate` make on every object:
 * name (or generateName), namespace presence, labels, annotations, ownerReferences, finalizers,
 * and immutability of identity on update.
 */
export function validateObjectMeta(obj: KubeObject, namespaced: boolean, how: NameValidation, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const meta = obj.metadata ?? {};
  const name = meta.name ?? '';
  if (!name) {
    errs.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  } else {
    for (const msg of nameErrors(name, how)) errs.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail: msg });
  }
  if (namespaced) {
    if (!meta.namespace) errs.push({ type: 'FieldValueRequired', field: 'metadata.namespace', detail: '' });
    else for (const msg of isDNS1123Label(meta.namespace)) errs.push({ type: 'FieldValueInvalid', field: 'metadata.namespace', value: meta.namespace, detail: msg });
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    for (const msg of validateQualifiedName(k.toLowerCase())) errs.push({ type: 'FieldValueInvalid', field: 'metadata.annotations', value: k, detail: msg });
    annotationBytes += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (annotationBytes > totalAnnotationSizeLimit) {
    errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', detail: `may not be more than ${totalAnnotationSizeLimit} bytes` });
  }
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const f = `metadata.ownerReferences[${i}]`;
    if (!ref.apiVersion) errs.push({ type: 'FieldValueInvalid', field: `${f}.apiVersion`, value: ref.apiVersion ?? '', detail: 'version must not be empty' });
    if (!ref.kind) errs.push({ type: 'FieldValueInvalid', field: `${f}.kind`, value: ref.kind ?? '', detail: 'kind must not be empty' });
    if (!ref.name) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: ref.name ?? '', detail: 'name must not be empty' });
    if (!ref.uid) errs.push({ type: 'FieldValueInvalid', field: `${f}.uid`, value: ref.uid ?? '', detail: 'uid must not be empty' });
  });
  const controllers = (meta.ownerReferences ?? []).filter((r) => r.controller);
  if (controllers.length > 1) {
    errs.push({ type: 'FieldValueInvalid', field: 'metadata.ownerReferences', value: meta.ownerReferences, detail: 'Only one reference can have Controller set to true' });
  }
  (meta.finalizers ?? []).forEach((f, i) => {
    if (!f.includes('/') && !['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) {
      // Kubernetes warns for unqualified finalizers but only rejects malformed ones.
    }
    for (const msg of validateQualifiedName(f)) errs.push({ type: 'FieldValueInvalid', field: `metadata.finalizers[${i}]`, value: f, detail: msg });
  });
  if (old) {
    const om = old.metadata ?? {};
    if (meta.namespace !== om.namespace) errs.push({ type: 'FieldValueInvalid', field: 'metadata.namespace', value: meta.namespace, detail: 'field is immutable' });
    if (om.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(om.finalizers ?? []).includes(f));
      if (added.length) errs.push({ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{"${added.join('", "')}"}` });
    }
  }
  return errs;
}
