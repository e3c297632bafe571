/**
 * The one error type of the API: it becomes a `meta/v1 Status` body with the same code, reason
 * and causes that Kubernetes would send.
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  /** e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueDuplicate`, `FieldValueForbidden`, `FieldValueTooLong`. */
  reason: string;
  message: string;
  /** JSON-path-like field, e.g. `spec.containers[0].image`, `metadata.name`. */
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): StatusBody {
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** `group` is '' for core; `resource` is the plural (e.g. `pods`, `deployments.apps` is formed here). */
function qualified(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(group: string, resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(group, resource)} "${name}" not found`, { name, group: group || undefined, kind: resource });
}

export function alreadyExists(group: string, resource: string, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(group, resource)} "${name}" already exists`, { name, group: group || undefined, kind: resource });
}

export function conflict(group: string, resource: string, name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, { name, group: group || undefined, kind: resource });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** A field-level validation failure, as `field.Error` in Kubernetes. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid' | 'InternalError';
  field: string;
  /** The offending value, shown in the message as Kubernetes does (omitted for Required/Forbidden). */
  value?: unknown;
  detail: string;
}

const errorPhrase: Record<FieldError['type'], string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  InternalError: 'Internal error',
};

/** Renders one error the way `field.Error.Error()` does: `spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function fieldErrorMessage(e: FieldError): string {
  const phrase = errorPhrase[e.type];
  const showValue = e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'InternalError' && e.value !== undefined;
  let value = '';
  if (showValue) {
    value = typeof e.value === 'string' ? `"${e.value}"` : typeof e.value === 'object' ? JSON.stringify(e.value) : String(e.value);
  }
  return `${e.field}: ${phrase}${showValue ? `: ${value}` : ''}${e.detail ? `: ${e.detail}` : ''}`;
}

/** The 422 Kubernetes answers for an invalid object: `Deployment.apps "web" is invalid: [a, b]`. */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): StatusError {
  const messages = errors.map(fieldErrorMessage);
  const list = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${list}`, {
    name,
    group: group || undefined,
    kind,
    causes: errors.map((e, i) => ({ reason: e.type, message: messages[i]!.slice(e.field.length + 2), field: e.field })),
  });
}
