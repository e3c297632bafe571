/**
 * Name, label-key and label-value checks with Kubernetes' exact messages
 * (k8s.io/apimachinery/pkg/util/validation, as served by a 1.32 apiserver).
 * Each returns the list of problems; an empty list means valid.
 */
import type { FieldError } from './status-error.js';

const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const labelValueMaxLength = 63;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const dns1123LabelMaxLength = 63;
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const dns1123SubdomainMaxLength = 253;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const dns1035LabelMaxLength = 63;
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);

/** `must be no more than 63 characters` */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** `must be non-empty` */
export function emptyError(): string {
  return 'must be non-empty';
}

/** The regex explanation Kubernetes appends: `msg (e.g. 'a' or 'b', regex used for validation is '...')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

/** Label keys, annotation keys, finalizer-like names: `[prefix/]name` (IsQualifiedName). */
export function validateQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) {
      errs.push(`prefix part ${emptyError()}`);
    } else {
      for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
    }
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) {
    errs.push(`name part ${emptyError()}`);
  } else if (name.length > qualifiedNameMaxLength) {
    errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  }
  if (!qualifiedNameRe.test(name)) {
    errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** Label values (IsValidLabelValue). */
export function validateLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > labelValueMaxLength) errs.push(maxLenError(labelValueMaxLength));
  if (!labelValueRe.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** RFC 1123 label (e.g. namespace names, service names' DNS part). */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > dns1123LabelMaxLength) errs.push(maxLenError(dns1123LabelMaxLength));
  if (!dns1123LabelRe.test(value)) {
    // A valid subdomain that is not a valid label can only fail because of dots.
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

/** RFC 1123 subdomain (most object names). */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > dns1123SubdomainMaxLength) errs.push(maxLenError(dns1123SubdomainMaxLength));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

/** RFC 1035 label (Service names, container port names' DNS form). */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > dns1035LabelMaxLength) errs.push(maxLenError(dns1035LabelMaxLength));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

/** Kubernetes caps the total size of an object's annotations (keys plus values) at 256 KiB. */
export const totalAnnotationSizeLimitBytes = 256 * 1024;

/** `metav1validation.ValidateLabels`: one error per problem, keys in sorted order. */
export function validateLabels(labels: Record<string, string> | undefined | null, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(labels ?? {}).sort()) {
    for (const msg of validateQualifiedName(k)) errs.push({ type: 'FieldValueInvalid', field: fieldPath, value: k, detail: msg });
    for (const msg of validateLabelValue(labels![k]!)) errs.push({ type: 'FieldValueInvalid', field: fieldPath, value: labels![k], detail: msg });
  }
  return errs;
}

/** `apimachineryvalidation.ValidateAnnotations`: keys must be qualified names (checked lower-cased); total size is capped. */
export function validateAnnotations(annotations: Record<string, string> | undefined | null, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const k of Object.keys(annotations ?? {}).sort()) {
    for (const msg of validateQualifiedName(k.toLowerCase())) errs.push({ type: 'FieldValueInvalid', field: fieldPath, value: k, detail: msg });
    size += Buffer.byteLength(k) + Buffer.byteLength(annotations![k]!);
  }
  if (size > totalAnnotationSizeLimitBytes) {
    errs.push({ type: 'FieldValueTooLong', field: fieldPath, detail: `may not be more than ${totalAnnotationSizeLimitBytes} bytes` });
  }
  return errs;
}
