/**
 * ConfigMaps: valid keys, no key both in `data` and `binaryData`, at most 1 MiB in all, and no
 * data changes once `immutable: true`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { forbidden, invalid, isObj, tooLong } from '../group-checks.js';
import { configKeyErrors, decodedBase64Length, maxDataSize } from './config-data.js';

function mapOf(v: unknown): Record<string, unknown> {
  return isObj(v) ? v : {};
}

/** `ValidateConfigMap` minus metadata. Throws 400 for binaryData that is not base64. */
export function validateConfigMap(cm: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = mapOf(cm.data);
  const binary = mapOf(cm.binaryData);
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    total += typeof value === 'string' ? Buffer.byteLength(value) : 0;
    for (const m of configKeyErrors(key)) errs.push(invalid(`data[${key}]`, key, m));
    if (key in binary) errs.push(invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
  }
  for (const [key, value] of Object.entries(binary)) {
    total += typeof value === 'string' ? decodedBase64Length(value, 'ConfigMap') : 0;
    for (const m of configKeyErrors(key)) errs.push(invalid(`binaryData[${key}]`, key, m));
    if (key in data) errs.push(invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  }
  if (total > maxDataSize) errs.push(tooLong('', maxDataSize));
  return errs;
}

/** `ValidateConfigMapUpdate`: an immutable ConfigMap keeps its data and stays immutable. */
export function validateConfigMapUpdate(cm: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable === true) {
    if (cm.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!deepEqual(cm.data ?? {}, old.data ?? {})) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
    if (!deepEqual(cm.binaryData ?? {}, old.binaryData ?? {})) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateConfigMap(cm)];
}

export const configMapStrategy: Strategy = {
  validate: (obj) => validateConfigMap(obj),
  validateUpdate: (obj, old) => validateConfigMapUpdate(obj, old),
};
