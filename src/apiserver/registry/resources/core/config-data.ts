/**
 * Checks shared by ConfigMaps and Secrets: data keys (`IsConfigMapKey`), the 1 MiB size limit,
 * and base64 values as Go's encoding/json decodes `[]byte`.
 */
import { badRequest } from '../../../../machinery/status-error.js';
import { regexError } from '../../../../machinery/name-validation.js';

/** `MaxSecretSize`, which ConfigMaps share. */
export const maxDataSize = 1024 * 1024;

const configKeyFmt = '[-._a-zA-Z0-9]+';
const configKeyRe = /^[-._a-zA-Z0-9]+$/;

/** `IsConfigMapKey`. */
export function configKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!configKeyRe.test(key)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", configKeyFmt, 'key.name', 'KEY_NAME', 'key-name'));
  }
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

const b64Char = /[A-Za-z0-9+/]/;

/**
 * Decoded length of standard, padded base64 (newlines ignored, as Go does); throws the 400
 * Kubernetes answers while decoding: `illegal base64 data at input byte N`.
 */
export function decodedBase64Length(value: string, kind: string): number {
  const fail = (at: number): never => {
    throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${at}`);
  };
  let n = 0;
  let pad = 0;
  let pos = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\n' || c === '\r') continue;
    if (c === '=') {
      if (n % 4 < 2) fail(pos);
      pad++;
      n++;
    } else {
      if (pad > 0 || !b64Char.test(c)) fail(pos);
      n++;
    }
    pos++;
  }
  if (n % 4 !== 0) fail(n - (n % 4));
  return (n / 4) * 3 - pad;
}
