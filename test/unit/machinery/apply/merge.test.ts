import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMerge, mergeObjects } from '../../../../src/machinery/apply/merge.js';
import { FieldSet, fieldSetFromObject } from '../../../../src/machinery/apply/field-set.js';
import { compareObjects } from '../../../../src/machinery/apply/compare.js';
import { pathToString } from '../../../../src/machinery/apply/path-element.js';
import { defs, deploymentSchema } from './deployment-schema.js';

type Obj = Record<string, unknown>;
const containersOf = (o: unknown): Obj[] => (((o as Obj)['spec'] as Obj)['template'] as { spec: { containers: Obj[] } }).spec.containers;
const podSpec = (containers: Obj[], extra: Obj = {}): Obj => ({ spec: { template: { spec: { containers, ...extra } } } });

test('map-list items merge by key; live-only items stay where they were', () => {
  const live = podSpec([
    { name: 'a', image: 'a:1', imagePullPolicy: 'Always' },
    { name: 'sidecar', image: 's:1' },
    { name: 'b', image: 'b:1' },
  ]);
  const applied = podSpec([{ name: 'b', image: 'b:2' }, { name: 'a', image: 'a:2' }, { name: 'c', image: 'c:1' }]);
  const merged = mergeObjects(live, applied, deploymentSchema, defs);
  assert.deepEqual(containersOf(merged), [
    { name: 'sidecar', image: 's:1' },
    { name: 'b', image: 'b:2' },
    { name: 'a', image: 'a:2', imagePullPolicy: 'Always' },
    { name: 'c', image: 'c:1' },
  ]);
});

test('atomic lists and maps are replaced, granular maps merged, sets unioned', () => {
  const live = {
    metadata: { labels: { app: 'web', tier: 'front' }, finalizers: ['x'] },
    spec: { selector: { matchLabels: { app: 'web', old: 'yes' } }, template: { spec: { containers: [{ name: 'a', command: ['sleep', '1'] }], nodeSelector: { a: '1' } } } },
  };
  const applied = {
    metadata: { labels: { app: 'web2' }, finalizers: ['y'] },
    spec: { selector: { matchLabels: { app: 'web2' } }, template: { spec: { containers: [{ name: 'a', command: ['true'] }], nodeSelector: { b: '2' } } } },
  };
  const merged = mergeObjects(live, applied, deploymentSchema, defs) as Obj;
  assert.deepEqual(merged['metadata'], { labels: { app: 'web2', tier: 'front' }, finalizers: ['x', 'y'] });
  const spec = merged['spec'] as Obj;
  assert.deepEqual(spec['selector'], { matchLabels: { app: 'web2' } });
  assert.deepEqual(containersOf(merged), [{ name: 'a', command: ['true'] }]);
  assert.deepEqual(((spec['template'] as Obj)['spec'] as Obj)['nodeSelector'], { b: '2' });
});

test('applyMerge removes what this manager applied before and dropped, keeps what others own', () => {
  const first = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', team: 'x' } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'nginx' }, { name: 'log', image: 'fluentd' }] } } },
  };
  const previously = fieldSetFromObject(first, deploymentSchema, defs);
  // Defaults nobody owns, and a label another manager owns too.
  const live = structuredClone(first) as Obj;
  containersOf(live)[0]!['imagePullPolicy'] = 'Always';
  const others = FieldSet.fromPaths([[{ field: 'metadata' }, { field: 'labels' }, { field: 'team' }]]);

  const second = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } };
  const { object, appliedSet } = applyMerge(live, second, deploymentSchema, defs, previously, { ownedByOthers: others });
  assert.deepEqual(object['metadata'], { name: 'web', labels: { app: 'web', team: 'x' } }, 'team is still owned by someone else');
  const spec = object['spec'] as Obj;
  assert.equal(spec['replicas'], undefined, 'replicas dropped from the config and owned by nobody else');
  assert.deepEqual(containersOf(object), [{ name: 'web', image: 'nginx:2', imagePullPolicy: 'Always' }], 'log container removed, defaulted field kept');
  assert.ok(appliedSet.has([{ field: 'spec' }, { field: 'template' }, { field: 'spec' }, { field: 'containers' }, { key: [['name', 'web']] }, { field: 'image' }]));
});

test('applyMerge: a struct whose last applied field is dropped goes with it; an emptied map disappears', () => {
  const first = { metadata: { labels: { app: 'web' } }, spec: { strategy: { type: 'Recreate' }, replicas: 1 } };
  const live = { metadata: { labels: { app: 'web' } }, spec: { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }, replicas: 1 } };
  const { object } = applyMerge(live, { spec: { replicas: 1 } }, deploymentSchema, defs, fieldSetFromObject(first, deploymentSchema, defs));
  assert.deepEqual(object, { spec: { replicas: 1 } });
});

test('compareObjects reports added, modified and removed paths, with added containers marked', () => {
  const before = { metadata: { labels: { app: 'a' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: '1' }] } } } };
  const after = { metadata: { labels: { app: 'a', tier: 'x' } }, spec: { template: { spec: { containers: [{ name: 'a', image: '2' }, { name: 'b', image: '1' }] } } } };
  const c = compareObjects(before, after, deploymentSchema, defs);
  assert.deepEqual(c.added.paths().map(pathToString), [
    '.metadata.labels.tier',
    '.spec.template.spec.containers[name="b"]',
    '.spec.template.spec.containers[name="b"].image',
    '.spec.template.spec.containers[name="b"].name',
  ]);
  assert.deepEqual(c.modified.paths().map(pathToString), ['.spec.template.spec.containers[name="a"].image']);
  assert.deepEqual(c.removed.paths().map(pathToString), ['.spec.replicas']);
});
