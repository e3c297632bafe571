import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ignoreManagedFieldsTimestamps,
  managerFromUserAgent,
  serverSideApply,
  updateManagedFields,
  type ManagedFieldsEntry,
} from '../../../../src/machinery/apply/field-manager.js';
import { FieldSet } from '../../../../src/machinery/apply/field-set.js';
import { pathToString } from '../../../../src/machinery/apply/path-element.js';
import { StatusError } from '../../../../src/machinery/status-error.js';
import { createdDeployment, defs, deploymentSchema, zeroDeployment } from './deployment-schema.js';

type Obj = Record<string, unknown>;
const T1 = '2024-01-01T00:00:01Z';
const T2 = '2024-01-01T00:00:02Z';
const T3 = '2024-01-01T00:00:03Z';

const entries = (o: Obj): ManagedFieldsEntry[] => ((o['metadata'] as Obj)['managedFields'] as ManagedFieldsEntry[] | undefined) ?? [];
const entry = (o: Obj, manager: string): ManagedFieldsEntry | undefined => entries(o).find((e) => e.manager === manager);
const owned = (o: Obj, manager: string): string[] => {
  const e = entry(o, manager);
  return e ? FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathToString) : [];
};
const spec = (o: Obj): Obj => o['spec'] as Obj;

function config(replicas?: number, extra: Obj = {}): Obj {
  const s: Obj = { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } };
  if (replicas !== undefined) s['replicas'] = replicas;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...extra }, spec: s };
}

function apply(live: Obj | undefined, applied: Obj, manager: string, time = T1, force = false): Obj {
  return serverSideApply({ live, applied, manager, force, apiVersion: 'apps/v1', kind: 'Deployment', time }, deploymentSchema, defs);
}

function update(live: Obj | undefined, updated: Obj, manager: string, time = T2, subresource?: string): Obj {
  return updateManagedFields({ live, updated, manager, operation: 'Update', apiVersion: 'apps/v1', time, subresource }, deploymentSchema, defs);
}

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  assert.fail('expected a conflict');
}

test('first apply creates the object and gives the applier exactly what it applied', () => {
  const out = apply(undefined, config(2, { labels: { app: 'web' } }), 'kubectl');
  assert.equal(spec(out)['replicas'], 2);
  const e = entries(out);
  assert.equal(e.length, 1);
  assert.deepEqual(Object.keys(e[0]!), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
  assert.equal(
    JSON.stringify(e[0]!.fieldsV1),
    '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},' +
      '"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}',
  );
  assert.equal(e[0]!.time, T1);
  assert.equal(e[0]!.operation, 'Apply');
});

test('a second manager changing an applied field conflicts, with Kubernetes’ message and causes', () => {
  const created = update(zeroDeployment(), config(1), 'kubectl-client-side-apply', T1);
  const err = conflictOf(() => apply(created, config(3), 'my-controller', T2));
  assert.equal(err.code, 409);
  assert.equal(err.reason, 'Conflict');
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  assert.deepEqual(err.details, {
    causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }],
  });
  assert.deepEqual(err.toStatus().details?.causes?.[0]?.field, '.spec.replicas');
});

test('several conflicts are listed per manager, and an Apply owner is named without a version', () => {
  const first = apply(undefined, config(1), 'alpha', T1);
  const withImage = config(4);
  ((spec(withImage)['template'] as Obj)['spec'] as { containers: Obj[] }).containers[0]!['image'] = 'nginx:2';
  const err = conflictOf(() => apply(first, withImage, 'beta', T2));
  assert.equal(
    err.message,
    'Apply failed with 2 conflicts: conflicts with "alpha":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
  );
  assert.deepEqual(
    err.details?.causes?.map((c) => [c.message, c.field]),
    [
      ['conflict with "alpha"', '.spec.replicas'],
      ['conflict with "alpha"', '.spec.template.spec.containers[name="web"].image'],
    ],
  );
});

test('force takes the conflicting fields over', () => {
  const created = update(zeroDeployment(), config(1), 'kubectl-client-side-apply', T1);
  const out = apply(created, config(3), 'my-controller', T2, true);
  assert.equal(spec(out)['replicas'], 3);
  assert.ok(owned(out, 'my-controller').includes('.spec.replicas'));
  assert.ok(!owned(out, 'kubectl-client-side-apply').includes('.spec.replicas'));
  assert.ok(owned(out, 'kubectl-client-side-apply').includes('.spec.template.spec.containers[name="web"].image'), 'unchanged fields stay shared');
});

test('applying the live value is no conflict: the field becomes shared', () => {
  const created = update(zeroDeployment(), config(1), 'kubectl-client-side-apply', T1);
  const out = apply(created, config(1), 'my-controller', T2);
  assert.ok(owned(out, 'my-controller').includes('.spec.replicas'));
  assert.ok(owned(out, 'kubectl-client-side-apply').includes('.spec.replicas'));
  // The object did not change, so the new applier's entry carries no time, as in Kubernetes.
  assert.equal(entry(out, 'my-controller')?.time, undefined);
});

test('a field removed from the applied configuration is deleted, unless another manager owns it', () => {
  const first = apply(undefined, config(2, { labels: { app: 'web', team: 'a' } }), 'kubectl', T1);
  const second = apply(first, config(undefined, { labels: { app: 'web' } }), 'kubectl', T2);
  assert.equal(spec(second)['replicas'], undefined);
  assert.deepEqual((second['metadata'] as Obj)['labels'], { app: 'web' });
  assert.ok(!owned(second, 'kubectl').includes('.spec.replicas'));
  assert.equal(entry(second, 'kubectl')?.time, T2);

  // Another applier also sets replicas to the same value: dropping it from kubectl's config keeps it.
  const shared = apply(apply(first, config(2), 'hpa', T2), config(undefined, { labels: { app: 'web', team: 'a' } }), 'kubectl', T3);
  assert.equal(spec(shared)['replicas'], 2);
  assert.deepEqual(owned(shared, 'hpa').filter((p) => p === '.spec.replicas'), ['.spec.replicas']);
});

test('an Update by kubectl-edit takes ownership without conflict, and merges into its own entry', () => {
  const applied = apply(undefined, config(2), 'kubectl', T1);
  const edited = structuredClone(applied);
  spec(edited)['replicas'] = 5;
  const out = update(applied, edited, 'kubectl-edit', T2);
  assert.deepEqual(owned(out, 'kubectl-edit'), ['.spec.replicas']);
  assert.ok(!owned(out, 'kubectl').includes('.spec.replicas'));
  assert.equal(entry(out, 'kubectl-edit')?.time, T2);
  assert.equal(entry(out, 'kubectl')?.time, T1, 'losing a field does not touch the loser’s time');

  const again = structuredClone(out);
  (again['metadata'] as Obj)['labels'] = { edited: 'yes' };
  const out2 = update(out, again, 'kubectl-edit', T3);
  const edits = entries(out2).filter((e) => e.manager === 'kubectl-edit');
  assert.equal(edits.length, 1, 'same manager, operation and version share one entry');
  assert.deepEqual(owned(out2, 'kubectl-edit'), ['.metadata.labels', '.metadata.labels.edited', '.spec.replicas']);
  assert.equal(edits[0]!.time, T3);

  // Applying the old value back now conflicts with kubectl-edit.
  const err = conflictOf(() => apply(out2, config(2), 'kubectl', T3));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
});

test('an update that changes nothing leaves managedFields and times alone', () => {
  const created = update(zeroDeployment(), createdDeployment(), 'kubectl-create', T1);
  const same = update(created, structuredClone(created), 'kubectl-edit', T2);
  assert.deepEqual(entries(same), entries(created));
});

test('managedFields entries: Apply first, then by time, then by manager', () => {
  let o = update(zeroDeployment(), config(1), 'zeta', T1);
  o = apply(o, config(1, { labels: { a: '1' } }), 'applier', T3);
  const changed = structuredClone(o);
  (changed['metadata'] as Obj)['annotations'] = { note: 'x' };
  o = update(o, changed, 'alpha', T2);
  assert.deepEqual(entries(o).map((e) => [e.manager, e.operation]), [
    ['applier', 'Apply'],
    ['zeta', 'Update'],
    ['alpha', 'Update'],
  ]);
});

test('a request carrying managedFields: [] (or [{}]) resets them; other request managedFields replace; none keeps live', () => {
  const created = update(zeroDeployment(), createdDeployment(), 'kubectl-create', T1);
  for (const reset of [[], [{}]]) {
    const req = structuredClone(created);
    (req['metadata'] as Obj)['managedFields'] = reset;
    const out = update(created, req, 'kubectl-edit', T2);
    assert.equal((out['metadata'] as Obj)['managedFields'], undefined, `reset with ${JSON.stringify(reset)}`);
  }
  const custom = structuredClone(created);
  (custom['metadata'] as Obj)['managedFields'] = [
    { manager: 'someone', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
  ];
  assert.deepEqual(entries(update(created, custom, 'kubectl-edit', T2)).map((e) => e.manager), ['someone']);
  const stripped = structuredClone(created);
  delete (stripped['metadata'] as Obj)['managedFields'];
  assert.deepEqual(entries(update(created, stripped, 'kubectl-edit', T2)), entries(created));
  // A subresource never takes managedFields from the request.
  const viaStatus = structuredClone(created);
  (viaStatus['metadata'] as Obj)['managedFields'] = [];
  assert.deepEqual(entries(update(created, viaStatus, 'x', T2, 'status')), entries(created));
});

test('status is not tracked on the main resource; the status subresource tracks only status', () => {
  const created = update(zeroDeployment(), { ...createdDeployment(), status: { replicas: 1 } }, 'kubectl-create', T1);
  assert.ok(owned(created, 'kubectl-create').every((p) => !p.startsWith('.status')));
  const withStatus = structuredClone(created);
  withStatus['status'] = { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
  ((withStatus['metadata'] as Obj)['labels'] as Obj)['x'] = 'y';
  const out = update(created, withStatus, 'kube-controller-manager', T2, 'status');
  const e = entry(out, 'kube-controller-manager')!;
  assert.equal(e.subresource, 'status');
  assert.deepEqual(Object.keys(e), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource']);
  assert.equal(
    JSON.stringify(e.fieldsV1),
    '{"f:status":{"f:conditions":{".":{},"k:{\\"type\\":\\"Available\\"}":{".":{},"f:status":{},"f:type":{}}},"f:readyReplicas":{}}}',
  );
  // A conflict with a subresource manager names the subresource.
  const err = conflictOf(() => serverSideApply({ live: out, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { readyReplicas: 0 } }, manager: 'me', apiVersion: 'apps/v1', time: T3, subresource: 'status' }, deploymentSchema, defs));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "status" using apps/v1: .status.readyReplicas');
});

test('apply refuses managedFields in the configuration and a wrong version or kind', () => {
  const withMf = config(1);
  (withMf['metadata'] as Obj)['managedFields'] = [];
  assert.throws(() => apply(undefined, withMf, 'kubectl'), (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === 'metadata.managedFields must be nil');
  assert.throws(() => apply(undefined, { ...config(1), apiVersion: 'apps/v1beta2' }, 'kubectl'), /invalid object type: apps\/v1beta2, Kind=Deployment/);
  assert.throws(
    () => serverSideApply({ live: undefined, applied: { ...config(1), apiVersion: 'apps/v2' }, manager: 'k', apiVersion: 'apps/v1', time: T1 }, deploymentSchema, defs),
    /Incorrect version specified in apply patch. Specified patch version: apps\/v2, expected: apps\/v1/,
  );
  const noKey = config(1);
  ((spec(noKey)['template'] as Obj)['spec'] as { containers: Obj[] }).containers.push({ image: 'x' });
  assert.throws(() => apply(undefined, noKey, 'kubectl'), /omits key field "name"/);
});

test('kubectl moving from client-side to server-side apply may take what it last applied', () => {
  const lastApplied = JSON.stringify(config(3));
  const csa = update(zeroDeployment(), config(3, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }), 'kubectl-client-side-apply', T1);
  // Changing replicas, which kubectl-client-side-apply owns, with the value its last-applied annotation holds.
  const out = apply(csa, config(5), 'kubectl', T2);
  assert.equal(spec(out)['replicas'], 5);
  assert.ok(owned(out, 'kubectl').includes('.spec.replicas'));
  const annotation = ((out['metadata'] as Obj)['annotations'] as Obj)['kubectl.kubernetes.io/last-applied-configuration'] as string;
  assert.ok(annotation.endsWith('\n'));
  assert.equal((JSON.parse(annotation) as { spec: { replicas: number } }).spec.replicas, 5, 'last-applied follows the server-side apply');
  // Another manager name gets the conflict.
  assert.throws(() => apply(csa, config(5), 'other', T2), /conflict with "kubectl-client-side-apply" using apps\/v1: \.spec\.replicas/);
});

test('more than ten Update managers fold the oldest into ancient-changes', () => {
  let o = update(zeroDeployment(), createdDeployment(), 'creator', '2024-01-01T00:00:00Z');
  for (let i = 1; i <= 11; i++) {
    const next = structuredClone(o);
    (next['metadata'] as Obj)['annotations'] = { ...((next['metadata'] as Obj)['annotations'] as Obj | undefined), [`k${i}`]: 'v' };
    o = update(o, next, `writer-${String(i).padStart(2, '0')}`, `2024-01-01T00:00:${String(i).padStart(2, '0')}Z`);
  }
  const managers = entries(o).map((e) => e.manager);
  assert.equal(managers.length, 10);
  assert.ok(managers.includes('ancient-changes'));
  assert.ok(!managers.includes('creator') && !managers.includes('writer-01') && !managers.includes('writer-02'));
  assert.ok(owned(o, 'ancient-changes').includes('.spec.replicas'));
});

test('managerFromUserAgent keeps the prefix before the first slash', () => {
  assert.equal(managerFromUserAgent('kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl');
  assert.equal(managerFromUserAgent('node-fetch'), 'node-fetch');
  assert.equal(managerFromUserAgent('a\u0007b/1'), 'ab');
  assert.equal(managerFromUserAgent('x'.repeat(200)).length, 128);
});

test('ignoreManagedFieldsTimestamps restores old entries when only their times changed', () => {
  const created = update(zeroDeployment(), createdDeployment(), 'kubectl-create', T1);
  const retimed = structuredClone(created);
  entries(retimed)[0]!.time = T3;
  assert.equal(entries(ignoreManagedFieldsTimestamps(created, retimed))[0]!.time, T1);
  const changed = structuredClone(retimed);
  spec(changed)['replicas'] = 9;
  assert.equal(entries(ignoreManagedFieldsTimestamps(created, changed))[0]!.time, T3);
});
