import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPrinter, parseIncludeObject, toTable } from '../../../src/apiserver/tables/table.js';
import { builtinPrinters, mergePrinters, printerFor } from '../../../src/apiserver/tables/index.js';
import { StatusError } from '../../../src/machinery/status-error.js';

const now = new Date('2024-05-01T12:00:00Z');
const cm = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: 'default', uid: 'u1', resourceVersion: '42', labels: { app: 'web' }, creationTimestamp: '2024-05-01T11:00:00Z' },
  data: { a: '1', b: '2' },
};

test('a Table carries kind, apiVersion, list metadata, all columns and PartialObjectMetadata rows by default', () => {
  const table = toTable(printerFor('', 'configmaps'), [cm], { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 }, 'Metadata', now);
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(table.metadata, { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 });
  assert.deepEqual(
    table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Data', 'string', '', 0],
      ['Age', 'string', '', 0],
    ],
  );
  assert.equal(table.rows.length, 1);
  assert.deepEqual(table.rows[0]!.cells, ['settings', 2, '60m']);
  assert.deepEqual(table.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm.metadata });
  // It must survive JSON encoding exactly (no undefined holes).
  assert.deepEqual(JSON.parse(JSON.stringify(table)), table);
});

test('includeObject None sends null objects, Object sends the full object', () => {
  assert.equal(toTable(defaultPrinter, [cm], {}, 'None', now).rows[0]!.object, null);
  assert.equal(toTable(defaultPrinter, [cm], {}, 'Object', now).rows[0]!.object, cm);
});

test('empty list metadata fields are left out, and v1beta1 tables stamp v1beta1 partial objects', () => {
  const t = toTable(defaultPrinter, [cm], { resourceVersion: '', continue: '' }, 'Metadata', now, { apiVersion: 'meta.k8s.io/v1beta1' });
  assert.deepEqual(t.metadata, {});
  assert.equal(t.apiVersion, 'meta.k8s.io/v1beta1');
  assert.equal((t.rows[0]!.object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
});

test('noHeaders leaves out the column definitions', () => {
  assert.deepEqual(toTable(defaultPrinter, [cm], {}, 'None', now, { noHeaders: true }).columnDefinitions, []);
});

test('the default table is NAME and an RFC 3339 CREATED AT', () => {
  const t = toTable(defaultPrinter, [{ metadata: { name: 'x', creationTimestamp: '2024-05-01T11:00:00.000Z' } }], {}, 'None', now);
  assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.type, c.format]), [
    ['Name', 'string', 'name'],
    ['Created At', 'date', ''],
  ]);
  assert.deepEqual(t.rows[0]!.cells, ['x', '2024-05-01T11:00:00Z']);
  assert.deepEqual(t.rows, [{ cells: ['x', '2024-05-01T11:00:00Z'], object: null }]);
});

test('roles, limit ranges, CRDs and unknown resources use the default table', () => {
  assert.equal(printerFor('rbac.authorization.k8s.io', 'roles'), defaultPrinter);
  assert.equal(printerFor('rbac.authorization.k8s.io', 'clusterroles'), defaultPrinter);
  assert.equal(printerFor('', 'limitranges'), defaultPrinter);
  assert.equal(printerFor('apiextensions.k8s.io', 'customresourcedefinitions'), defaultPrinter);
  assert.equal(printerFor('example.com', 'widgets'), defaultPrinter);
  assert.notEqual(printerFor('', 'pods'), defaultPrinter);
});

test('every printer yields one cell per column', () => {
  for (const [key, printer] of builtinPrinters) {
    const cells = printer.row({ metadata: { name: 'n' } }, now);
    assert.equal(cells.length, printer.columns.length, key);
  }
});

test('the printer registry refuses duplicates', () => {
  assert.throws(() => mergePrinters({ '/pods': defaultPrinter }, { '/pods': defaultPrinter }), /duplicate table printer for \/pods/);
});

test('includeObject parsing defaults to Metadata and rejects unknown values with 400', () => {
  assert.equal(parseIncludeObject(undefined), 'Metadata');
  assert.equal(parseIncludeObject(''), 'Metadata');
  assert.equal(parseIncludeObject('Object'), 'Object');
  assert.throws(
    () => parseIncludeObject('Everything'),
    (e: unknown) => e instanceof StatusError && e.code === 400 && /includeObject/.test(e.message),
  );
});
