/**
 * Secrets: `stringData` is folded into `data` (base64) and dropped, as the v1 conversion does;
 * `type` defaults to Opaque and decides the required keys; data is valid base64, at most 1 MiB;
 * `type` is immutable, and so is the data once `immutable: true`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { forbidden, invalid, isObj, required, tooLong, type Obj } from '../group-checks.js';
import { configKeyErrors, decodedBase64Length, maxDataSize } from './config-data.js';

export const serviceAccountNameAnnotation = 'kubernetes.io/service-account.name';

/** SetDefaults_Secret + the stringData merge of the v1→internal conversion. */
export function defaultSecret(secret: KubeObject): void {
  if (!secret.type) secret.type = 'Opaque';
  const stringData = secret.stringData;
  if (isObj(stringData)) {
    const data: Obj = isObj(secret.data) ? secret.data : {};
    for (const [k, v] of Object.entries(stringData)) {
      if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
    secret.data = data;
  }
  delete secret.stringData;
}

function decoded(secret: KubeObject, key: string): Buffer | undefined {
  const data = isObj(secret.data) ? secret.data : {};
  const v = data[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
}

/** `ValidateSecret` minus metadata. Throws 400 for data values that are not base64. */
export function validateSecret(secret: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data: Obj = isObj(secret.data) ? secret.data : {};
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const m of configKeyErrors(key)) errs.push(invalid(`data[${key}]`, key, m));
    total += typeof value === 'string' ? decodedBase64Length(value, 'Secret') : 0;
  }
  if (total > maxDataSize) errs.push(tooLong('data', maxDataSize));
  const has = (k: string): boolean => k in data;
  const jsonKey = (k: string): void => {
    if (!has(k)) {
      errs.push(required(`data[${k}]`, ''));
      return;
    }
    try {
      const parsed: unknown = JSON.parse(decoded(secret, k)?.toString('utf8') ?? '');
      if (!isObj(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
    } catch (e) {
      errs.push(invalid(`data[${k}]`, '<secret contents redacted>', e instanceof Error ? e.message : String(e)));
    }
  };
  switch (secret.type) {
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.[serviceAccountNameAnnotation]) errs.push(required(`metadata.annotations[${serviceAccountNameAnnotation}]`, ''));
      break;
    case 'kubernetes.io/dockercfg':
      jsonKey('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      jsonKey('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('data[username]', ''), required('data[password]', ''));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!decoded(secret, 'ssh-privatekey')?.length) errs.push(required('data[ssh-privatekey]', ''));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required('data[tls.crt]', ''));
      if (!has('tls.key')) errs.push(required('data[tls.key]', ''));
      break;
    default:
      break;
  }
  return errs;
}

/** `ValidateSecretUpdate`. */
export function validateSecretUpdate(secret: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (secret.type !== old.type) errs.push(invalid('type', secret.type ?? '', 'field is immutable'));
  if (old.immutable === true) {
    if (secret.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!deepEqual(secret.data ?? {}, old.data ?? {})) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateSecret(secret)];
}

export const secretStrategy: Strategy = {
  default: defaultSecret,
  validate: (obj) => validateSecret(obj),
  validateUpdate: (obj, old) => validateSecretUpdate(obj, old),
  selectableFields: (obj) => ({ type: typeof obj.type === 'string' ? obj.type : '' }),
};
