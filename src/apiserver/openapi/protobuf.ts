/**
 * The OpenAPI v2 document in gnostic's protobuf form (`openapi.v2.Document` of
 * github.com/google/gnostic-models/openapiv2), which kubectl asks for with
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and walks with
 * k8s.io/kube-openapi/pkg/util/proto.
 *
 * Our own message definitions below carry gnostic's field numbers for the parts of the format we
 * emit. As in gnostic, every free-form value (vendor extensions, `default`, `enum`, `example`) is
 * an `Any` whose `yaml` string holds the value; we write it as JSON, which is valid YAML.
 */
import protobuf from 'protobufjs';

const OPENAPI_V2_PROTO = `
syntax = "proto3";
package openapi.v2;

message ProtobufAny { string type_url = 1; bytes value = 2; }
message Any { ProtobufAny value = 1; string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message ExternalDocs { string description = 1; string url = 2; repeated NamedAny vendor_extension = 3; }
message Xml { string name = 1; string namespace = 2; string prefix = 3; bool attribute = 4; bool wrapped = 5; repeated NamedAny vendor_extension = 6; }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5;
  double multiple_of = 6; double maximum = 7; bool exclusive_maximum = 8; double minimum = 9; bool exclusive_minimum = 10;
  int64 max_length = 11; int64 min_length = 12; string pattern = 13; int64 max_items = 14; int64 min_items = 15;
  bool unique_items = 16; int64 max_properties = 17; int64 min_properties = 18; repeated string required = 19;
  repeated Any enum = 20; AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25; string discriminator = 26; bool read_only = 27; Xml xml = 28;
  ExternalDocs external_docs = 29; Any example = 30; repeated NamedAny vendor_extension = 31;
}
message Contact { string name = 1; string url = 2; string email = 3; repeated NamedAny vendor_extension = 4; }
message License { string name = 1; string url = 2; repeated NamedAny vendor_extension = 3; }
message Info {
  string title = 1; string version = 2; string description = 3; string terms_of_service = 4;
  Contact contact = 5; License license = 6; repeated NamedAny vendor_extension = 7;
}
message PrimitivesItems {
  string type = 1; string format = 2; PrimitivesItems items = 3; string collection_format = 4; Any default = 5;
  double maximum = 6; bool exclusive_maximum = 7; double minimum = 8; bool exclusive_minimum = 9;
  int64 max_length = 10; int64 min_length = 11; string pattern = 12; int64 max_items = 13; int64 min_items = 14;
  bool unique_items = 15; repeated Any enum = 16; double multiple_of = 17; repeated NamedAny vendor_extension = 18;
}
message BodyParameter {
  string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5;
  repeated NamedAny vendor_extension = 6;
}
message HeaderParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6;
  PrimitivesItems items = 7; string collection_format = 8; Any default = 9; double maximum = 10; bool exclusive_maximum = 11;
  double minimum = 12; bool exclusive_minimum = 13; int64 max_length = 14; int64 min_length = 15; string pattern = 16;
  int64 max_items = 17; int64 min_items = 18; bool unique_items = 19; repeated Any enum = 20; double multiple_of = 21;
  repeated NamedAny vendor_extension = 22;
}
message FormDataParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; bool allow_empty_value = 5; string type = 6;
  string format = 7; PrimitivesItems items = 8; string collection_format = 9; Any default = 10; double maximum = 11;
  bool exclusive_maximum = 12; double minimum = 13; bool exclusive_minimum = 14; int64 max_length = 15; int64 min_length = 16;
  string pattern = 17; int64 max_items = 18; int64 min_items = 19; bool unique_items = 20; repeated Any enum = 21;
  double multiple_of = 22; repeated NamedAny vendor_extension = 23;
}
message QueryParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; bool allow_empty_value = 5; string type = 6;
  string format = 7; PrimitivesItems items = 8; string collection_format = 9; Any default = 10; double maximum = 11;
  bool exclusive_maximum = 12; double minimum = 13; bool exclusive_minimum = 14; int64 max_length = 15; int64 min_length = 16;
  string pattern = 17; int64 max_items = 18; int64 min_items = 19; bool unique_items = 20; repeated Any enum = 21;
  double multiple_of = 22; repeated NamedAny vendor_extension = 23;
}
message PathParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6;
  PrimitivesItems items = 7; string collection_format = 8; Any default = 9; double maximum = 10; bool exclusive_maximum = 11;
  double minimum = 12; bool exclusive_minimum = 13; int64 max_length = 14; int64 min_length = 15; string pattern = 16;
  int64 max_items = 17; int64 min_items = 18; bool unique_items = 19; repeated Any enum = 20; double multiple_of = 21;
  repeated NamedAny vendor_extension = 22;
}
message NonBodyParameter {
  oneof oneof {
    HeaderParameterSubSchema header_parameter_sub_schema = 1;
    FormDataParameterSubSchema form_data_parameter_sub_schema = 2;
    QueryParameterSubSchema query_parameter_sub_schema = 3;
    PathParameterSubSchema path_parameter_sub_schema = 4;
  }
}
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message JsonReference { string _ref = 1; string description = 2; }
message ParametersItem { oneof oneof { Parameter parameter = 1; JsonReference json_reference = 2; } }
message NamedParameter { string name = 1; Parameter value = 2; }
message ParameterDefinitions { repeated NamedParameter additional_properties = 1; }
message FileSchema {
  string format = 1; string title = 2; string description = 3; Any default = 4; repeated string required = 5; string type = 6;
  bool read_only = 7; ExternalDocs external_docs = 8; Any example = 9; repeated NamedAny vendor_extension = 10;
}
message SchemaItem { oneof oneof { Schema schema = 1; FileSchema file_schema = 2; } }
message Header {
  string type = 1; string format = 2; PrimitivesItems items = 3; string collection_format = 4; Any default = 5;
  double maximum = 6; bool exclusive_maximum = 7; double minimum = 8; bool exclusive_minimum = 9; int64 max_length = 10;
  int64 min_length = 11; string pattern = 12; int64 max_items = 13; int64 min_items = 14; bool unique_items = 15;
  repeated Any enum = 16; double multiple_of = 17; string description = 18; repeated NamedAny vendor_extension = 19;
}
message NamedHeader { string name = 1; Header value = 2; }
message Headers { repeated NamedHeader additional_properties = 1; }
message Examples { repeated NamedAny additional_properties = 1; }
message Response {
  string description = 1; SchemaItem schema = 2; Headers headers = 3; Examples examples = 4;
  repeated NamedAny vendor_extension = 5;
}
message ResponseValue { oneof oneof { Response response = 1; JsonReference json_reference = 2; } }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message Responses { repeated NamedResponseValue response_code = 1; repeated NamedAny vendor_extension = 2; }
message NamedResponse { string name = 1; Response value = 2; }
message ResponseDefinitions { repeated NamedResponse additional_properties = 1; }
message StringArray { repeated string value = 1; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message Operation {
  repeated string tags = 1; string summary = 2; string description = 3; ExternalDocs external_docs = 4;
  string operation_id = 5; repeated string produces = 6; repeated string consumes = 7;
  repeated ParametersItem parameters = 8; Responses responses = 9; repeated string schemes = 10; bool deprecated = 11;
  repeated SecurityRequirement security = 12; repeated NamedAny vendor_extension = 13;
}
message PathItem {
  string _ref = 1; Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5;
  Operation options = 6; Operation head = 7; Operation patch = 8; repeated ParametersItem parameters = 9;
  repeated NamedAny vendor_extension = 10;
}
message NamedPathItem { string name = 1; PathItem value = 2; }
message Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; repeated NamedAny vendor_extension = 5; }
message BasicAuthenticationSecurity { string type = 1; string description = 2; repeated NamedAny vendor_extension = 3; }
message SecurityDefinitionsItem {
  oneof oneof { BasicAuthenticationSecurity basic_authentication_security = 1; ApiKeySecurity api_key_security = 2; }
}
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message Tag { string name = 1; string description = 2; ExternalDocs external_docs = 3; repeated NamedAny vendor_extension = 4; }
message Document {
  string swagger = 1; Info info = 2; string host = 3; string base_path = 4; repeated string schemes = 5;
  repeated string consumes = 6; repeated string produces = 7; Paths paths = 8; Definitions definitions = 9;
  ParameterDefinitions parameters = 10; ResponseDefinitions responses = 11; repeated SecurityRequirement security = 12;
  SecurityDefinitions security_definitions = 13; repeated Tag tags = 14; ExternalDocs external_docs = 15;
  repeated NamedAny vendor_extension = 16;
}
`;

let documentType: protobuf.Type | undefined;

/** The `openapi.v2.Document` message type (parsed once). */
export function openAPIv2DocumentType(): protobuf.Type {
  documentType ??= protobuf.parse(OPENAPI_V2_PROTO, { keepCase: true }).root.lookupType('openapi.v2.Document');
  return documentType;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
type Msg = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const anyOf = (v: unknown): Msg => ({ yaml: `${JSON.stringify(v)}\n` });

function vendorExtensions(o: JsonObject): Msg[] {
  return Object.keys(o)
    .filter((k) => k.startsWith('x-'))
    .map((k) => ({ name: k, value: anyOf(o[k]) }));
}

/** Copies the plain-valued keys that JSON and gnostic share (`camelCase` → `snake_case`). */
function scalars(o: JsonObject, out: Msg, keys: readonly string[]): void {
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
}

const SCHEMA_SCALARS = [
  'format', 'title', 'description', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties',
  'required', 'discriminator', 'readOnly',
] as const;

function schemaMsg(s: JsonObject): Msg {
  const m: Msg = {};
  if (typeof s['$ref'] === 'string') m['_ref'] = s['$ref'];
  scalars(s, m, SCHEMA_SCALARS);
  if (s['default'] !== undefined) m['default'] = anyOf(s['default']);
  if (s['example'] !== undefined) m['example'] = anyOf(s['example']);
  if (Array.isArray(s['enum'])) m['enum'] = s['enum'].map(anyOf);
  const ap = s['additionalProperties'];
  if (typeof ap === 'boolean') m['additional_properties'] = { boolean: ap };
  else if (isObject(ap)) m['additional_properties'] = { schema: schemaMsg(ap) };
  const t = s['type'];
  if (typeof t === 'string') m['type'] = { value: [t] };
  else if (Array.isArray(t)) m['type'] = { value: t };
  const items = s['items'];
  if (isObject(items)) m['items'] = { schema: [schemaMsg(items)] };
  else if (Array.isArray(items)) m['items'] = { schema: items.filter(isObject).map(schemaMsg) };
  if (Array.isArray(s['allOf'])) m['all_of'] = s['allOf'].filter(isObject).map(schemaMsg);
  const props = s['properties'];
  if (isObject(props)) {
    m['properties'] = {
      additional_properties: Object.entries(props).flatMap(([name, v]) => (isObject(v) ? [{ name, value: schemaMsg(v) }] : [])),
    };
  }
  const ext = vendorExtensions(s);
  if (ext.length) m['vendor_extension'] = ext;
  return m;
}

const PARAM_SCALARS = [
  'required', 'in', 'description', 'name', 'type', 'format', 'collectionFormat', 'maximum', 'exclusiveMaximum',
  'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf',
] as const;

function parametersItem(p: JsonObject): Msg {
  if (typeof p['$ref'] === 'string') return { json_reference: { _ref: p['$ref'] } };
  if (p['in'] === 'body') {
    const body: Msg = {};
    scalars(p, body, ['description', 'name', 'in', 'required']);
    if (isObject(p['schema'])) body['schema'] = schemaMsg(p['schema']);
    const ext = vendorExtensions(p);
    if (ext.length) body['vendor_extension'] = ext;
    return { parameter: { body_parameter: body } };
  }
  const sub: Msg = {};
  scalars(p, sub, PARAM_SCALARS);
  if (p['in'] === 'query' || p['in'] === 'formData') scalars(p, sub, ['allowEmptyValue']);
  if (p['default'] !== undefined) sub['default'] = anyOf(p['default']);
  if (Array.isArray(p['enum'])) sub['enum'] = p['enum'].map(anyOf);
  const ext = vendorExtensions(p);
  if (ext.length) sub['vendor_extension'] = ext;
  const key = {
    query: 'query_parameter_sub_schema',
    path: 'path_parameter_sub_schema',
    header: 'header_parameter_sub_schema',
    formData: 'form_data_parameter_sub_schema',
  }[String(p['in'])] ?? 'query_parameter_sub_schema';
  return { parameter: { non_body_parameter: { [key]: sub } } };
}

function responsesMsg(r: JsonObject): Msg {
  const codes: Msg[] = [];
  for (const [code, v] of Object.entries(r)) {
    if (code.startsWith('x-') || !isObject(v)) continue;
    if (typeof v['$ref'] === 'string') {
      codes.push({ name: code, value: { json_reference: { _ref: v['$ref'] } } });
      continue;
    }
    const resp: Msg = {};
    if (typeof v['description'] === 'string') resp['description'] = v['description'];
    if (isObject(v['schema'])) resp['schema'] = { schema: schemaMsg(v['schema']) };
    const ext = vendorExtensions(v);
    if (ext.length) resp['vendor_extension'] = ext;
    codes.push({ name: code, value: { response: resp } });
  }
  const m: Msg = { response_code: codes };
  const ext = vendorExtensions(r);
  if (ext.length) m['vendor_extension'] = ext;
  return m;
}

function operationMsg(o: JsonObject): Msg {
  const m: Msg = {};
  scalars(o, m, ['tags', 'summary', 'description', 'operationId', 'produces', 'consumes', 'schemes', 'deprecated']);
  if (Array.isArray(o['parameters'])) m['parameters'] = o['parameters'].filter(isObject).map(parametersItem);
  if (isObject(o['responses'])) m['responses'] = responsesMsg(o['responses']);
  if (Array.isArray(o['security'])) m['security'] = o['security'].filter(isObject).map(securityRequirement);
  const ext = vendorExtensions(o);
  if (ext.length) m['vendor_extension'] = ext;
  return m;
}

function securityRequirement(r: JsonObject): Msg {
  return {
    additional_properties: Object.entries(r).map(([name, v]) => ({
      name,
      value: { value: Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [] },
    })),
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** Converts a swagger 2.0 JSON document into the plain object form of `openapi.v2.Document`. */
export function toGnosticDocument(doc: JsonObject): Msg {
  const m: Msg = {};
  scalars(doc, m, ['swagger', 'host', 'basePath', 'schemes', 'consumes', 'produces']);
  const info = doc['info'];
  if (isObject(info)) {
    const i: Msg = {};
    scalars(info, i, ['title', 'version', 'description', 'termsOfService']);
    const ext = vendorExtensions(info);
    if (ext.length) i['vendor_extension'] = ext;
    m['info'] = i;
  }
  const paths = doc['paths'];
  if (isObject(paths)) {
    const path: Msg[] = [];
    for (const [name, item] of Object.entries(paths)) {
      if (!isObject(item) || name.startsWith('x-')) continue;
      const pi: Msg = {};
      if (typeof item['$ref'] === 'string') pi['_ref'] = item['$ref'];
      for (const method of METHODS) {
        const op = item[method];
        if (isObject(op)) pi[method] = operationMsg(op);
      }
      if (Array.isArray(item['parameters'])) pi['parameters'] = item['parameters'].filter(isObject).map(parametersItem);
      const ext = vendorExtensions(item);
      if (ext.length) pi['vendor_extension'] = ext;
      path.push({ name, value: pi });
    }
    m['paths'] = { path, ...(vendorExtensions(paths).length ? { vendor_extension: vendorExtensions(paths) } : {}) };
  }
  const defs = doc['definitions'];
  if (isObject(defs)) {
    m['definitions'] = {
      additional_properties: Object.entries(defs).flatMap(([name, v]) => (isObject(v) ? [{ name, value: schemaMsg(v) }] : [])),
    };
  }
  if (Array.isArray(doc['security'])) m['security'] = doc['security'].filter(isObject).map(securityRequirement);
  const sd = doc['securityDefinitions'];
  if (isObject(sd)) {
    m['security_definitions'] = {
      additional_properties: Object.entries(sd).flatMap(([name, v]): Msg[] => {
        if (!isObject(v)) return [];
        const s: Msg = {};
        if (v['type'] === 'basic') {
          scalars(v, s, ['type', 'description']);
          return [{ name, value: { basic_authentication_security: s } }];
        }
        scalars(v, s, ['type', 'name', 'in', 'description']);
        return [{ name, value: { api_key_security: s } }];
      }),
    };
  }
  const ext = vendorExtensions(doc);
  if (ext.length) m['vendor_extension'] = ext;
  return m;
}

/** Encodes a swagger 2.0 JSON document as gnostic's `openapi.v2.Document` protobuf. */
export function encodeOpenAPIv2(doc: object): Uint8Array {
  const type = openAPIv2DocumentType();
  return type.encode(type.fromObject(toGnosticDocument(doc as JsonObject))).finish();
}

/** Decodes gnostic protobuf bytes into the plain object form (snake_case fields, `yaml` strings kept). */
export function decodeOpenAPIv2(bytes: Uint8Array): Msg {
  const type = openAPIv2DocumentType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: false }) as Msg;
}
