/**
 * Decodes `application/vnd.kubernetes.protobuf` request bodies (what client-go's typed clients,
 * and so kubectl's typed commands, send) into the JSON object a JSON client would have sent.
 *
 * Wire form: the magic `k8s\0`, then a runtime.Unknown whose typeMeta names the kind and whose
 * `raw` is the object in k8s.io/api's generated.proto encoding. Go's encoder writes non-pointer
 * fields even when they are empty, so the conversion drops what JSON's `omitempty` would have
 * dropped; the field facts come from FIELD_NUMBERS.
 */
import protobuf from 'protobufjs';
import { StatusError, badRequest } from '../../machinery/status-error.js';
import { FIELD_NUMBERS, type FieldFact } from './field-numbers.js';

export const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const UNKNOWN = 'io.k8s.apimachinery.pkg.runtime.Unknown';

/** The group/version/kind a handler expects, used when the body's typeMeta leaves it out. */
export interface ExpectedKind {
  group: string;
  version: string;
  kind: string;
}

/** True when the Content-Type (parameters ignored) is Kubernetes' protobuf media type. */
export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === KUBERNETES_PROTOBUF;
}

/**
 * Decodes an enveloped protobuf body into its JSON form, `apiVersion` and `kind` first (taken from
 * the envelope's typeMeta, else from `expected`). Throws a 400 StatusError for bodies that are not
 * Kubernetes protobuf, are malformed, or carry a kind k8ts has no field facts for; a 415 when the
 * envelope says its raw bytes are in another media type.
 */
export function decodeKubernetesProtobuf(body: Buffer, expected?: ExpectedKind): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...MAGIC].join(' ')}]`);
  }
  const envelope = decodeMessage(UNKNOWN, body.subarray(MAGIC.length), 'object');
  const typeMeta = isRecord(envelope.typeMeta) ? envelope.typeMeta : {};
  if (str(envelope.contentEncoding)) throw badRequest(`unsupported content encoding "${str(envelope.contentEncoding)}" in protobuf envelope`);
  const innerType = str(envelope.contentType);
  if (innerType && innerType !== KUBERNETES_PROTOBUF) throw new StatusError(415, 'UnsupportedMediaType', `unsupported content type "${innerType}" in protobuf envelope`);

  let apiVersion = str(typeMeta.apiVersion);
  let kind = str(typeMeta.kind);
  if (!kind && expected) kind = expected.kind;
  if (!apiVersion && expected) apiVersion = expected.group ? `${expected.group}/${expected.version}` : expected.version;
  if (!kind) throw badRequest(`Object 'Kind' is missing in protobuf envelope`);
  const definition = definitionFor(apiVersion, kind);
  if (!definition) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "k8ts"`);

  const raw = typeof envelope.raw === 'string' ? Buffer.from(envelope.raw, 'base64') : Buffer.alloc(0);
  const object = messageToJSON(definition, decodeMessage(definition, raw, kind));
  return { apiVersion, kind, ...object };
}

/** Definition names for an apiVersion and kind: k8s.io/api packages are named after the group's first label. */
function definitionFor(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = group === '' ? 'core' : group.split('.')[0]!;
  const candidates = [`io.k8s.api.${pkg}.${version}.${kind}`];
  // Option kinds (DeleteOptions…) are meta/v1 types registered into every group-version.
  if (metaKinds.has(kind)) candidates.push(`${META}.${kind}`);
  return candidates.find((c) => FIELD_NUMBERS[c] !== undefined);
}

const metaKinds = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'Status']);

let root: protobuf.Root | undefined;

/** protobufjs types for every definition of the table, built on first use. */
function protoRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const [name, fields] of Object.entries(FIELD_NUMBERS)) {
    const type = new protobuf.Type(protoName(name));
    for (const [field, fact] of Object.entries(fields)) {
      const [id, fieldType, flags = ''] = fact;
      const t = scalarTypes.has(fieldType) ? fieldType : protoName(fieldType);
      if (flags.includes('m')) type.add(new protobuf.MapField(field, id, 'string', t));
      else type.add(new protobuf.Field(field, id, t, flags.includes('r') ? 'repeated' : 'optional'));
    }
    r.add(type);
  }
  r.resolveAll();
  root = r;
  return r;
}

const scalarTypes = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float']);

/** A flat, identifier-safe proto name for a definition name. */
export function protoName(definition: string): string {
  return definition.replace(/[.-]/g, '_');
}

/** protobufjs' plain-object form: present fields only, int64 as numbers, bytes as base64. */
function decodeMessage(definition: string, bytes: Uint8Array, what: string): Record<string, unknown> {
  const type = protoRoot().lookupType(protoName(definition));
  try {
    return type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

function messageToJSON(definition: string, message: Record<string, unknown>): Record<string, unknown> {
  const fields = FIELD_NUMBERS[definition] ?? {};
  const out: Record<string, unknown> = {};
  for (const [field, fact] of Object.entries(fields)) {
    if (!Object.prototype.hasOwnProperty.call(message, field)) continue;
    const value = message[field];
    const [, type, flags = '', jsonName = field] = fact;
    if (flags.includes('r')) {
      if (Array.isArray(value) && value.length > 0) out[jsonName] = value.map((v) => valueToJSON(type, v));
      continue;
    }
    if (flags.includes('m')) {
      if (isRecord(value)) out[jsonName] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, valueToJSON(type, v)]));
      continue;
    }
    const converted = valueToJSON(type, value);
    if (flags.includes('i')) {
      if (isRecord(converted)) Object.assign(out, converted);
      continue;
    }
    if (converted === undefined) continue;
    if (!flags.includes('p') && isUnset(fact, converted)) continue;
    out[jsonName] = converted;
  }
  return out;
}

/**
 * Whether a non-pointer field's value is what Go's encoder writes for "not set": empty strings and
 * empty structs always (JSON clients leave them out, and defaulting fills them), zeros and false
 * only where the Go field has `omitempty`.
 */
function isUnset(fact: FieldFact, value: unknown): boolean {
  const flags = fact[2] ?? '';
  if (value === '') return true;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return flags.includes('o') && (value === 0 || value === false);
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Types whose JSON form is not an object of their proto fields. */
const specialTypes: Readonly<Record<string, (m: Record<string, unknown>) => unknown>> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': (m) => str(m.string) || '0',
  [INT_OR_STRING]: (m) => (num(m.type) === 1 ? str(m.strVal) : num(m.intVal)),
  [`${META}.Time`]: (m) => (m.seconds === undefined && m.nanos === undefined ? undefined : formatTime(num(m.seconds))),
  [`${META}.MicroTime`]: (m) => (m.seconds === undefined && m.nanos === undefined ? undefined : formatTime(num(m.seconds), Math.floor(num(m.nanos) / 1000))),
  [`${META}.Duration`]: (m) => formatDuration(num(m.duration)),
  [`${META}.FieldsV1`]: (m) => embeddedJSON(m.Raw, 'fieldsV1'),
  [`${META}.Verbs`]: (m) => (Array.isArray(m.items) ? m.items : []),
  'io.k8s.api.authentication.v1.ExtraValue': (m) => (Array.isArray(m.items) ? m.items : []),
  'io.k8s.api.authorization.v1.ExtraValue': (m) => (Array.isArray(m.items) ? m.items : []),
  'io.k8s.api.certificates.v1.ExtraValue': (m) => (Array.isArray(m.items) ? m.items : []),
  'io.k8s.apimachinery.pkg.runtime.RawExtension': (m) => embeddedJSON(m.raw, 'RawExtension'),
};

function valueToJSON(type: string, value: unknown): unknown {
  if (scalarTypes.has(type)) return value;
  const message = isRecord(value) ? value : {};
  const special = specialTypes[type];
  return special ? special(message) : messageToJSON(type, message);
}

/** RawExtension and FieldsV1 carry JSON; a nested object may also arrive as enveloped protobuf. */
function embeddedJSON(base64: unknown, what: string): unknown {
  if (typeof base64 !== 'string' || base64 === '') return undefined;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.subarray(0, MAGIC.length).equals(MAGIC)) return decodeKubernetesProtobuf(bytes);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

/** RFC 3339 in UTC, as metav1.Time (whole seconds) and MicroTime (six fractional digits) marshal. */
function formatTime(seconds: number, micros?: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micros === undefined ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

/** Go's time.Duration.String(): `1h2m3.5s`, `1.5ms`, `0s`. */
export function formatDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  const sign = nanos < 0 ? '-' : '';
  let n = Math.abs(nanos);
  const frac = (v: number, unit: number): string => {
    const whole = Math.floor(v / unit);
    const rest = v - whole * unit;
    if (rest === 0) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${frac(n, 1e3)}µs`;
  if (n < 1e9) return `${sign}${frac(n, 1e6)}ms`;
  const hours = Math.floor(n / 3.6e12);
  n -= hours * 3.6e12;
  const minutes = Math.floor(n / 6e10);
  n -= minutes * 6e10;
  const seconds = `${frac(n, 1e9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}
