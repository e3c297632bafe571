import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { generateDefinitions } from '../../../src/apiserver/openapi/generate-definitions.js';
import { decodeOpenAPIv2, encodeOpenAPIv2 } from '../../../src/apiserver/openapi/protobuf.js';
import { OpenAPIPublisher } from '../../../src/apiserver/openapi/publish.js';

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const snakeToCamel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

// An independent reader of gnostic's message shapes, back to swagger JSON, for the round trip.
function anyValue(a: unknown): unknown {
  return parseYaml(String(o(a)['yaml']));
}
function ext(m: Obj, out: Obj): void {
  for (const e of arr(m['vendor_extension'])) out[String(o(e)['name'])] = anyValue(o(e)['value']);
}
function plain(m: Obj, out: Obj, skip: readonly string[]): void {
  for (const [k, v] of Object.entries(m)) {
    if (skip.includes(k) || k === 'vendor_extension' || k === 'oneof') continue;
    out[k === '_ref' ? '$ref' : snakeToCamel(k)] = v;
  }
}
function schema(m: Obj): Obj {
  const s: Obj = {};
  plain(m, s, ['default', 'example', 'enum', 'additional_properties', 'type', 'items', 'all_of', 'properties']);
  if (m['default']) s['default'] = anyValue(m['default']);
  if (m['enum']) s['enum'] = arr(m['enum']).map(anyValue);
  const ap = o(m['additional_properties']);
  if ('boolean' in ap) s['additionalProperties'] = ap['boolean'];
  else if (ap['schema']) s['additionalProperties'] = schema(o(ap['schema']));
  const t = arr(o(m['type'])['value']);
  if (t.length === 1) s['type'] = t[0];
  const items = arr(o(m['items'])['schema']);
  if (items.length === 1) s['items'] = schema(o(items[0]));
  if (m['all_of']) s['allOf'] = arr(m['all_of']).map((x) => schema(o(x)));
  if (m['properties']) {
    s['properties'] = Object.fromEntries(arr(o(m['properties'])['additional_properties']).map((p) => [String(o(p)['name']), schema(o(o(p)['value']))]));
  }
  ext(m, s);
  return s;
}
function param(m: Obj): Obj {
  const p = o(m['parameter']);
  if (p['body_parameter']) {
    const b = o(p['body_parameter']);
    const out: Obj = {};
    plain(b, out, ['schema']);
    if (b['schema']) out['schema'] = schema(o(b['schema']));
    return out;
  }
  const nb = o(p['non_body_parameter']);
  const sub = o(nb['query_parameter_sub_schema'] ?? nb['path_parameter_sub_schema'] ?? nb['header_parameter_sub_schema']);
  const out: Obj = {};
  plain(sub, out, []);
  return out;
}
function operation(m: Obj): Obj {
  const out: Obj = {};
  plain(m, out, ['parameters', 'responses']);
  if (m['parameters']) out['parameters'] = arr(m['parameters']).map((x) => param(o(x)));
  const responses: Obj = {};
  for (const rc of arr(o(m['responses'])['response_code'])) {
    const r = o(o(o(rc)['value'])['response']);
    const ro: Obj = { description: r['description'] };
    if (r['schema']) ro['schema'] = schema(o(o(r['schema'])['schema']));
    responses[String(o(rc)['name'])] = ro;
  }
  out['responses'] = responses;
  ext(m, out);
  return out;
}
function fromGnostic(d: Obj): Obj {
  const doc: Obj = { swagger: d['swagger'], info: d['info'] };
  const paths: Obj = {};
  for (const np of arr(o(d['paths'])['path'])) {
    const item = o(o(np)['value']);
    const pi: Obj = {};
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch']) {
      if (item[method]) pi[method] = operation(o(item[method]));
    }
    if (item['parameters']) pi['parameters'] = arr(item['parameters']).map((x) => param(o(x)));
    paths[String(o(np)['name'])] = pi;
  }
  doc['paths'] = paths;
  doc['definitions'] = Object.fromEntries(arr(o(d['definitions'])['additional_properties']).map((n) => [String(o(n)['name']), schema(o(o(n)['value']))]));
  doc['securityDefinitions'] = Object.fromEntries(
    arr(o(d['security_definitions'])['additional_properties']).map((n) => {
      const k = o(o(o(n)['value'])['api_key_security']);
      return [String(o(n)['name']), k];
    }),
  );
  doc['security'] = arr(d['security']).map((r) =>
    Object.fromEntries(arr(o(r)['additional_properties']).map((n) => [String(o(n)['name']), arr(o(o(n)['value'])['value'])])),
  );
  return doc;
}

const { definitions } = generateDefinitions();
const publisher = new OpenAPIPublisher({
  definitions,
  resources: () => [
    { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'], subresources: ['status', 'log', 'exec'] },
    { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], subresources: ['scale'] },
  ],
});

test('the v2 document survives protobuf encode and decode unchanged', () => {
  const doc = publisher.v2Document();
  const bytes = encodeOpenAPIv2(doc);
  assert.ok(bytes.byteLength > 10_000);
  const back = fromGnostic(decodeOpenAPIv2(bytes));
  // Object key order differs between the two forms; compare canonical JSON.
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Obj)[k])])) : v;
  assert.deepEqual(canon(back), canon(doc));
});

test('vendor extensions are Any{yaml} values that YAML parsers read back as structures', () => {
  const decoded = decodeOpenAPIv2(encodeOpenAPIv2(publisher.v2Document()));
  const defs = arr(o(decoded['definitions'])['additional_properties']).map(o);
  const podSpec = o(defs.find((d) => d['name'] === 'io.k8s.api.core.v1.PodSpec')?.['value']);
  const containers = arr(o(podSpec['properties'])['additional_properties']).map(o).find((p) => p['name'] === 'containers');
  const exts = arr(o(containers?.['value'])['vendor_extension']).map(o);
  const mergeKey = exts.find((e) => e['name'] === 'x-kubernetes-patch-merge-key');
  assert.equal(parseYaml(String(o(mergeKey?.['value'])['yaml'])), 'name');
  assert.deepEqual(podSpec['required'], ['containers']);
  assert.deepEqual(o(podSpec['type'])['value'], ['object']);
  const pod = o(defs.find((d) => d['name'] === 'io.k8s.api.core.v1.Pod')?.['value']);
  const gvk = arr(pod['vendor_extension']).map(o).find((e) => e['name'] === 'x-kubernetes-group-version-kind');
  assert.deepEqual(parseYaml(String(o(gvk?.['value'])['yaml'])), [{ group: '', version: 'v1', kind: 'Pod' }]);
  // Query parameters sit in the NonBodyParameter oneof, as gnostic expects.
  const path = arr(o(decoded['paths'])['path']).map(o).find((p) => p['name'] === '/api/v1/namespaces/{namespace}/pods/{name}');
  const patch = o(o(path?.['value'])['patch']);
  const fv = arr(patch['parameters']).map(o).find((p) => o(o(o(p['parameter'])['non_body_parameter'])['query_parameter_sub_schema'])['name'] === 'fieldValidation');
  assert.ok(fv, 'fieldValidation is a query parameter of the PATCH operation');
});
