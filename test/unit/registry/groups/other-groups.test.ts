import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctx, dig, rejection, storeFor, write } from './harness.js';

test('RoleBindings default the RBAC group and keep their roleRef', async () => {
  const store = storeFor('rbac.authorization.k8s.io', 'rolebindings');
  const rb = await store.create(
    'default',
    { metadata: { name: 'read' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default', namespace: 'default' }] },
    ctx(),
    write,
  );
  assert.deepEqual(rb.roleRef, { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' });
  assert.equal(dig(rb, 'subjects', 0, 'apiGroup'), 'rbac.authorization.k8s.io');
  assert.equal(dig(rb, 'subjects', 1, 'apiGroup'), '');
  const msg = await rejection(store.update('default', 'read', { ...rb, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } }, ctx(), write));
  assert.equal(msg, 'RoleBinding.rbac.authorization.k8s.io "read" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef');
});

test('Role rules need verbs, groups and resources; names are path segments', async () => {
  const store = storeFor('rbac.authorization.k8s.io', 'roles');
  const msg = await rejection(store.create('default', { metadata: { name: 'r' }, rules: [{ resources: ['pods'] }] }, ctx(), write));
  assert.equal(
    msg,
    'Role.rbac.authorization.k8s.io "r" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group]',
  );
  const cr = storeFor('rbac.authorization.k8s.io', 'clusterroles');
  const created = await cr.create('', { metadata: { name: 'system:odd:Name' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }, ctx(''), write);
  assert.equal(created.metadata?.name, 'system:odd:Name');
});

test('EndpointSlices need an addressType that then never changes, and at most 1000 endpoints', async () => {
  const store = storeFor('discovery.k8s.io', 'endpointslices');
  assert.equal(await rejection(store.create('default', { metadata: { name: 's' }, endpoints: [] }, ctx(), write)), 'EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Required value');
  const s = await store.create('default', { metadata: { name: 's' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] }, ctx(), write);
  assert.equal(dig(s, 'ports', 0, 'protocol'), 'TCP');
  assert.equal(await rejection(store.update('default', 's', { ...s, addressType: 'IPv6', endpoints: [] }, ctx(), write)), 'EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Invalid value: "IPv6": field is immutable');
  const many = Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`] }));
  assert.equal(await rejection(store.create('default', { metadata: { name: 'big' }, addressType: 'IPv4', endpoints: many }, ctx(), write)), 'EndpointSlice.discovery.k8s.io "big" is invalid: endpoints: Too many: 1001: must have at most 1000 items');
});

test('StorageClasses default their policies and keep provisioner and parameters', async () => {
  const store = storeFor('storage.k8s.io', 'storageclasses');
  const sc = await store.create('', { metadata: { name: 'local' }, provisioner: 'rancher.io/local-path', parameters: { a: 'b' } }, ctx(''), write);
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  assert.equal(
    await rejection(store.update('', 'local', { ...sc, parameters: { a: 'c' } }, ctx(''), write)),
    'StorageClass.storage.k8s.io "local" is invalid: parameters: Forbidden: updates to parameters are forbidden.',
  );
  assert.equal(await rejection(store.create('', { metadata: { name: 'none' } }, ctx(''), write)), 'StorageClass.storage.k8s.io "none" is invalid: provisioner: Required value');
});

test('PodDisruptionBudgets take minAvailable or maxUnavailable, not both', async () => {
  const store = storeFor('policy', 'poddisruptionbudgets');
  const msg = await rejection(store.create('default', { metadata: { name: 'p' }, spec: { minAvailable: 1, maxUnavailable: '10%', selector: { matchLabels: { app: 'x' } } } }, ctx(), write));
  assert.match(msg, /spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set/);
  assert.match(await rejection(store.create('default', { metadata: { name: 'q' }, spec: { maxUnavailable: '120%' } }, ctx(), write)), /spec\.maxUnavailable: Invalid value: "120%": must not be greater than 100%/);
});

test('PriorityClasses: system- names are reserved and the value is fixed', async () => {
  const store = storeFor('scheduling.k8s.io', 'priorityclasses');
  assert.equal(
    await rejection(store.create('', { metadata: { name: 'system-mine' }, value: 5 }, ctx(''), write)),
    "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  );
  const pc = await store.create('', { metadata: { name: 'high' }, value: 1000 }, ctx(''), write);
  assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
  assert.equal(await rejection(store.update('', 'high', { ...pc, value: 2000 }, ctx(''), write)), 'PriorityClass.scheduling.k8s.io "high" is invalid: value: Forbidden: may not be changed in an update.');
  await store.create('', { metadata: { name: 'system-node-critical' }, value: 2000001000 }, ctx(''), write);
});

test('Leases are created by a PUT and need a positive duration', async () => {
  const store = storeFor('coordination.k8s.io', 'leases');
  const lease = await store.update('kube-system', 'leader', { metadata: { name: 'leader', namespace: 'kube-system' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }, ctx('kube-system'), write);
  assert.equal(dig(lease, 'spec', 'holderIdentity'), 'a');
  assert.equal(
    await rejection(store.update('kube-system', 'leader', { ...lease, spec: { leaseDurationSeconds: 0 } }, ctx('kube-system'), write)),
    'Lease.coordination.k8s.io "leader" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
  );
});

test('Ingresses need rules or a default backend, and typed absolute paths', async () => {
  const store = storeFor('networking.k8s.io', 'ingresses');
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'i' }, spec: {} }, ctx(), write)),
    'Ingress.networking.k8s.io "i" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
  );
  const backend = { service: { name: 'web', port: { number: 80 } } };
  const msg = await rejection(store.create('default', { metadata: { name: 'j' }, spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: 'x', pathType: 'Prefix', backend }] } }] } }, ctx(), write));
  assert.equal(msg, 'Ingress.networking.k8s.io "j" is invalid: spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path');
  await store.create('default', { metadata: { name: 'k' }, spec: { rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } }, ctx(), write);
});

test('NetworkPolicies default policyTypes from their rules', async () => {
  const store = storeFor('networking.k8s.io', 'networkpolicies');
  const np = await store.create('default', { metadata: { name: 'n' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } }, ctx(), write);
  assert.deepEqual(dig(np, 'spec', 'policyTypes'), ['Ingress', 'Egress']);
  assert.equal(dig(np, 'spec', 'egress', 0, 'ports', 0, 'protocol'), 'TCP');
});

test('events.k8s.io Events (stored in core form) need their reporting fields', async () => {
  const store = storeFor('events.k8s.io', 'events');
  const msg = await rejection(store.create('default', { metadata: { name: 'e' }, eventTime: '2024-05-01T10:00:00.000000Z', type: 'Normal', involvedObject: { namespace: 'default' } }, ctx(), write));
  assert.match(msg, /^Event\.events\.k8s\.io "e" is invalid: \[reportingController: Required value, reportingController: Invalid value: "": name part must be non-empty, /);
  assert.match(msg, /reportingInstance: Required value, action: Required value, reason: Required value\]$/);
  const ok = { metadata: { name: 'f' }, eventTime: '2024-05-01T10:00:00.000000Z', type: 'Normal', involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' }, reportingComponent: 'k8ts.io/test', reportingInstance: 'node-1', action: 'Pull', reason: 'Pulled', message: 'ok' };
  const created = await store.create('default', ok, ctx(), write);
  assert.equal(
    await rejection(store.update('default', 'f', { ...created, reason: 'Other' }, ctx(), write)),
    'Event.events.k8s.io "f" is invalid: reason: Invalid value: "Other": field is immutable',
  );
});
