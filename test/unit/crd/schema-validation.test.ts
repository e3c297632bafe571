import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAgainstSchema, validateEmbeddedResources, goFloat, formatValid } from '../../../src/machinery/schema-validation.js';
import { applySchemaDefaults, pruneNonNullableNulls } from '../../../src/machinery/schema-defaulting.js';
import { fieldErrorMessage } from '../../../src/machinery/status-error.js';
import type { OpenAPISchema } from '../../../src/machinery/openapi-schema.js';

function messages(value: unknown, schema: OpenAPISchema): string[] {
  return validateAgainstSchema(value, schema).map(fieldErrorMessage);
}

const specSchema = (props: Record<string, OpenAPISchema>, required?: string[]): OpenAPISchema => ({
  type: 'object',
  properties: { spec: { type: 'object', properties: props, ...(required ? { required } : {}) } },
});

test('schema validation: type mismatches read as Kubernetes writes them', () => {
  const schema = specSchema({ replicas: { type: 'integer' }, name: { type: 'string' }, on: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } });
  assert.deepEqual(messages({ spec: { replicas: 'string' } }, schema), ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']);
  assert.deepEqual(messages({ spec: { replicas: 1.5 } }, schema), ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
  assert.deepEqual(messages({ spec: { name: 5 } }, schema), ['spec.name: Invalid value: "integer": spec.name in body must be of type string: "integer"']);
  assert.deepEqual(messages({ spec: { on: 'yes', tags: [1] } }, schema), [
    'spec.on: Invalid value: "string": spec.on in body must be of type boolean: "string"',
    'spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer"',
  ]);
  assert.deepEqual(messages({ spec: { name: null } }, schema), ['spec.name: Invalid value: "null": spec.name in body must be of type string: "null"']);
  assert.deepEqual(messages({ spec: { name: null } }, specSchema({ name: { type: 'string', nullable: true } })), []);
  const causes = validateAgainstSchema({ spec: { replicas: 'x' } }, schema);
  assert.equal(causes[0]!.type, 'FieldValueTypeInvalid');
  assert.equal(causes[0]!.field, 'spec.replicas');
});

test('schema validation: bounds, lengths, patterns, enums and required fields', () => {
  const schema = specSchema(
    {
      size: { type: 'integer', maximum: 10, minimum: 1 },
      ratio: { type: 'number', maximum: 1, exclusiveMaximum: true },
      step: { type: 'integer', multipleOf: 5 },
      color: { type: 'string', enum: ['red', 'blue'] },
      level: { type: 'integer', enum: [1, 2] },
      code: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 4 },
      items: { type: 'array', minItems: 1, maxItems: 2, uniqueItems: true, items: { type: 'string' } },
      labels: { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
    },
    ['name'],
  );
  assert.deepEqual(messages({ spec: { size: 20 } }, schema), ['spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10', 'spec.name: Required value']);
  assert.deepEqual(messages({ spec: { name: 'x', size: 0 } }, schema), ['spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1']);
  assert.deepEqual(messages({ spec: { name: 'x', ratio: 1 } }, schema), ['spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1']);
  assert.deepEqual(messages({ spec: { name: 'x', step: 7 } }, schema), ['spec.step: Invalid value: 7: spec.step in body should be a multiple of 5']);
  assert.deepEqual(messages({ spec: { name: 'x', color: 'pink' } }, schema), ['spec.color: Unsupported value: "pink": supported values: "red", "blue"']);
  assert.deepEqual(messages({ spec: { name: 'x', level: 3 } }, schema), ['spec.level: Unsupported value: 3: supported values: "1", "2"']);
  assert.deepEqual(messages({ spec: { name: 'x', code: 'AB' } }, schema), ["spec.code: Invalid value: \"AB\": spec.code in body should match '^[a-z]+$'"]);
  assert.deepEqual(messages({ spec: { name: 'x', code: 'a' } }, schema), ['spec.code: Invalid value: "a": spec.code in body should be at least 2 chars long']);
  assert.deepEqual(messages({ spec: { name: 'x', code: 'abcdef' } }, schema), ['spec.code: Too long: may not be more than 4 bytes']);
  assert.deepEqual(messages({ spec: { name: 'x', items: [] } }, schema), ['spec.items: Invalid value: 0: spec.items in body should have at least 1 items']);
  assert.deepEqual(messages({ spec: { name: 'x', items: ['a', 'b', 'c'] } }, schema), ['spec.items: Too many: 3: must have at most 2 items']);
  assert.deepEqual(messages({ spec: { name: 'x', items: ['a', 'a'] } }, schema), ['spec.items: Invalid value: "": spec.items in body shouldn\'t contain duplicates']);
  assert.deepEqual(messages({ spec: { name: 'x', labels: { a: 'x', b: 1 } } }, schema), [
    'spec.labels: Too many: 2: must have at most 1 item',
    'spec.labels.b: Invalid value: "integer": spec.labels.b in body must be of type string: "integer"',
  ]);
  assert.deepEqual(messages({ spec: { name: 'x', size: 5, ratio: 0.5, step: 10, color: 'red', level: 2, code: 'ab', items: ['a'], labels: { a: 'b' } } }, schema), []);
});

test('schema validation: formats, int-or-string, composition and embedded resources', () => {
  const schema = specSchema({
    when: { type: 'string', format: 'date-time' },
    count: { type: 'integer', format: 'int32' },
    port: { 'x-kubernetes-int-or-string': true },
    either: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+%$' }] },
    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  });
  assert.deepEqual(messages({ spec: { when: 'yesterday' } }, schema), ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']);
  assert.deepEqual(messages({ spec: { when: '2024-02-29T10:00:00Z', count: 3000000000, port: 'http', free: { anything: [1] } } }, schema), []);
  assert.deepEqual(messages({ spec: { port: true } }, schema), ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']);
  assert.deepEqual(messages({ spec: { either: 'x' } }, schema), [
    '<nil>: Invalid value: "": "spec.either" must validate at least one schema (anyOf)',
    'spec.either: Invalid value: "string": spec.either in body must be of type integer: "string"',
  ]);
  assert.deepEqual(messages({ spec: { either: '50%' } }, schema), []);
  assert.deepEqual(messages({ spec: { not: 1 } }, specSchema({ not: { not: { type: 'integer' } } })), ['<nil>: Invalid value: "": "spec.not" must not validate the schema (not)']);

  const embedded: OpenAPISchema = specSchema({ template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } });
  assert.deepEqual(validateEmbeddedResources({ spec: { template: { metadata: {} } } }, embedded).map(fieldErrorMessage), [
    'spec.template.apiVersion: Required value: must not be empty',
    'spec.template.kind: Required value: must not be empty',
  ]);
  assert.deepEqual(validateEmbeddedResources({ spec: { template: { apiVersion: 'v1', kind: 'Pod' } } }, embedded), []);

  assert.ok(formatValid('ipv4', '10.0.0.1') && !formatValid('ipv4', '10.0.0.256'));
  assert.ok(formatValid('ipv6', '::1') && formatValid('ipv6', 'fe80::1:2') && !formatValid('ipv6', '1::2::3'));
  assert.ok(formatValid('cidr', '10.0.0.0/8') && !formatValid('cidr', '10.0.0.0/33'));
  assert.ok(formatValid('date', '2024-02-29') && !formatValid('date', '2023-02-29'));
  assert.ok(formatValid('uuid', '123e4567-e89b-12d3-a456-426614174000') && !formatValid('uuid', 'nope'));
  assert.equal(goFloat(1e6), '1e+06');
  assert.equal(goFloat(123456), '123456');
  assert.equal(goFloat(0.5), '0.5');
});

test('schema defaulting fills missing and null fields, recursively, and drops other nulls', () => {
  const schema: OpenAPISchema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        default: {},
        properties: {
          replicas: { type: 'integer', default: 1 },
          mode: { type: 'string', default: 'auto' },
          note: { type: 'string' },
          maybe: { type: 'string', nullable: true },
          ports: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', default: 'TCP' } } } },
          limits: { type: 'object', additionalProperties: { type: 'object', properties: { unit: { type: 'string', default: 'Mi' } } } },
        },
      },
    },
  };
  const a: Record<string, unknown> = {};
  applySchemaDefaults(a, schema);
  assert.deepEqual(a, { spec: { replicas: 1, mode: 'auto' } });

  const b = { spec: { replicas: 3, mode: null, note: null, maybe: null, ports: [{ port: 80 }], limits: { mem: {} } } };
  pruneNonNullableNulls(b, schema);
  applySchemaDefaults(b, schema);
  assert.deepEqual(b, { spec: { replicas: 3, mode: 'auto', maybe: null, ports: [{ port: 80, protocol: 'TCP' }], limits: { mem: { unit: 'Mi' } } } });
});
