import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customResourcePrinter } from '../../../src/apiserver/tables/custom-columns.js';
import { findResults, JSONPathError, parseJSONPath } from '../../../src/apiserver/tables/json-path.js';

const now = new Date('2024-05-01T12:00:00Z');

const widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w1', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z', labels: { app: 'shop', 'app.kubernetes.io/name': 'widget' } },
  spec: { replicas: 3, ratio: 0.5, size: 2.9, enabled: true, ports: [80, 443], owner: { team: 'core', pager: 'x' } },
  status: {
    conditions: [
      { type: 'Synced', status: 'True', lastTransitionTime: '2024-05-01T11:58:00Z' },
      { type: 'Ready', status: 'False', reason: 'Waiting' },
    ],
    observedAt: '2024-05-01T11:30:00Z',
  },
};

const eval1 = (path: string, data: unknown = widget) => findResults(parseJSONPath(path), data);

test('the JSONPath subset used by printer columns', () => {
  assert.deepEqual(eval1('.spec.replicas'), [3]);
  assert.deepEqual(eval1('.metadata.labels.app'), ['shop']);
  assert.deepEqual(eval1('.status.conditions[?(@.type=="Ready")].status'), ['False']);
  assert.deepEqual(eval1(".status.conditions[?(@.type=='Synced')].lastTransitionTime"), ['2024-05-01T11:58:00Z']);
  assert.deepEqual(eval1('.status.conditions[?(@.type!="Ready")].type'), ['Synced']);
  assert.deepEqual(eval1('.status.conditions[?(@.reason)].reason'), ['Waiting']);
  assert.deepEqual(eval1('.status.conditions[0].type'), ['Synced']);
  assert.deepEqual(eval1('.status.conditions[-1].type'), ['Ready']);
  assert.deepEqual(eval1('.status.conditions[*].type'), ['Synced', 'Ready']);
  assert.deepEqual(eval1('.spec.ports[0:1]'), [80]);
  assert.deepEqual(eval1(".metadata.labels['app.kubernetes.io/name']"), ['widget']);
  assert.deepEqual(eval1('.metadata.labels.app\\.kubernetes\\.io/name'), ['widget']);
  assert.deepEqual(eval1('{.spec.replicas}'), [3]);
  assert.deepEqual(eval1('$.spec.replicas'), [3]);
  assert.deepEqual(eval1('..team'), ['core']);
  assert.deepEqual(eval1('.spec.missing.deeper'), []);
  assert.deepEqual(eval1('.status.conditions[5]'), []);
  assert.deepEqual(eval1('.spec.ports[?(@ > 100)]'), [443]);
});

test('malformed paths are rejected', () => {
  assert.throws(() => parseJSONPath('spec.replicas'), JSONPathError);
  assert.throws(() => parseJSONPath('.spec[?(@.a=="x"]'), JSONPathError);
  assert.throws(() => parseJSONPath('.spec.ports[x]'), JSONPathError);
  assert.throws(() => parseJSONPath(''), JSONPathError);
});

test('a CRD version with printer columns: NAME first, then typed cells', () => {
  const printer = customResourcePrinter([
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Is it ready' },
    { name: 'App', type: 'string', jsonPath: '.metadata.labels.app', priority: 1 },
    { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
    { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
    { name: 'Ports', type: 'string', jsonPath: '.spec.ports' },
    { name: 'Owner', type: 'string', jsonPath: '.spec.owner' },
    { name: 'Count', type: 'string', jsonPath: '.spec.replicas' },
    { name: 'Observed', type: 'date', jsonPath: '.status.observedAt' },
    { name: 'Missing', type: 'string', jsonPath: '.status.nothing' },
    { name: 'Wrong', type: 'integer', jsonPath: '.metadata.name' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
  assert.deepEqual(printer.columns[0], {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: printer.columns[0]!.description,
    priority: 0,
  });
  assert.deepEqual(printer.columns[1], { name: 'Replicas', type: 'integer', format: '', description: 'Custom resource definition column (in JSONPath format): .spec.replicas', priority: 0 });
  assert.equal(printer.columns[2]!.description, 'Is it ready');
  assert.equal(printer.columns[3]!.priority, 1);
  assert.deepEqual(printer.row(widget, now), ['w1', 3, 'False', 'shop', 2, 0.5, true, '[80,443]', '{"pager":"x","team":"core"}', '3', '30m', null, null, '60m']);
});

test('a CRD version without printer columns gets NAME and AGE', () => {
  const printer = customResourcePrinter(undefined);
  assert.deepEqual(printer.columns.map((c) => [c.name, c.type]), [
    ['Name', 'string'],
    ['Age', 'date'],
  ]);
  assert.deepEqual(printer.row(widget, now), ['w1', '60m']);
  assert.deepEqual(customResourcePrinter([]).row(widget, now), ['w1', '60m']);
});

test('date columns: unset is <unknown>, unparsable is <invalid>', () => {
  const printer = customResourcePrinter([{ name: 'When', type: 'date', jsonPath: '.spec.when' }]);
  assert.deepEqual(printer.row({ metadata: { name: 'a' }, spec: { when: '' } }, now), ['a', '<unknown>']);
  assert.deepEqual(printer.row({ metadata: { name: 'a' }, spec: { when: 'yesterday' } }, now), ['a', '<invalid>']);
  assert.deepEqual(printer.row({ metadata: { name: 'a' }, spec: { when: 5 } }, now), ['a', null]);
});

test('an invalid column path is reported when the printer is built', () => {
  assert.throws(() => customResourcePrinter([{ name: 'Bad', type: 'string', jsonPath: '.spec[' }]), JSONPathError);
});
