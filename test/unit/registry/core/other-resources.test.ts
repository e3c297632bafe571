import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicationControllerStrategy } from '../../../../src/apiserver/registry/resources/core/replicationcontrollers.js';
import { persistentVolumeClaimStrategy } from '../../../../src/apiserver/registry/resources/core/persistentvolumeclaims.js';
import { persistentVolumeStrategy } from '../../../../src/apiserver/registry/resources/core/persistentvolumes.js';
import { nodeStrategy } from '../../../../src/apiserver/registry/resources/core/nodes.js';
import { eventStrategy } from '../../../../src/apiserver/registry/resources/core/events.js';
import { endpointsStrategy } from '../../../../src/apiserver/registry/resources/core/endpoints.js';
import { limitRangeStrategy } from '../../../../src/apiserver/registry/resources/core/limitranges.js';
import { resourceQuotaStrategy } from '../../../../src/apiserver/registry/resources/core/resourcequotas.js';
import { coreStrategies } from '../../../../src/apiserver/registry/resources/core/index.js';
import { builtinResources } from '../../../../src/api/resource-table.js';
import { ctx, rejection, spec, storeFor, write } from './harness.js';

type Rec = Record<string, unknown>;

test('coreStrategies covers every core/v1 resource except bindings', () => {
  const plurals = builtinResources.filter((d) => d.group === '' && d.resource !== 'bindings').map((d) => d.resource).sort();
  assert.deepEqual(Object.keys(coreStrategies()).sort(), plurals);
});

test('replicationcontrollers: defaults from the template, and the selector must match it', async () => {
  const store = storeFor('replicationcontrollers', replicationControllerStrategy);
  const rc = await store.create('default', { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } } }, ctx(), write);
  assert.equal(spec(rc).replicas, 1);
  assert.deepEqual(spec(rc).selector, { app: 'web' });
  assert.deepEqual(rc.metadata?.labels, { app: 'web' });
  assert.equal(rc.metadata?.generation, 1);
  const tspec = (spec(rc).template as Rec).spec as Rec;
  assert.equal(tspec.restartPolicy, 'Always');
  assert.equal(tspec.enableServiceLinks, undefined);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'bad' }, spec: { selector: { app: 'other' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } } }, ctx(), write)),
    'ReplicationController "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'neg' }, spec: { replicas: -1, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } } }, ctx(), write)),
    'ReplicationController "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'never' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] } } } }, ctx(), write)),
    'ReplicationController "never" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  );
});

test('persistentvolumeclaims: access modes and storage are required; the spec is fixed after creation', async () => {
  const store = storeFor('persistentvolumeclaims', persistentVolumeClaimStrategy);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'c' }, spec: {} }, ctx(), write)),
    'PersistentVolumeClaim "c" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]',
  );
  const pvc = await store.create('default', { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }, ctx(), write);
  assert.deepEqual(pvc.status, { phase: 'Pending' });
  assert.equal(spec(pvc).volumeMode, 'Filesystem');
  const changed = structuredClone(pvc);
  spec(changed).accessModes = ['ReadWriteMany'];
  assert.match(await rejection(store.update('default', 'c', changed, ctx(), write)), /spec: Forbidden: spec is immutable after creation except resources\.requests/);
  const bind = structuredClone(pvc);
  spec(bind).volumeName = 'pv-1';
  assert.equal(spec(await store.update('default', 'c', bind, ctx(), write)).volumeName, 'pv-1');
});

test('persistentvolumes: capacity, access modes and one source', async () => {
  const store = storeFor('persistentvolumes', persistentVolumeStrategy);
  assert.equal(
    await rejection(store.create('', { metadata: { name: 'pv' }, spec: {} }, ctx(''), write)),
    'PersistentVolume "pv" is invalid: [spec.accessModes: Required value, spec.capacity: Required value, spec: Required value: must specify a volume type]',
  );
  const pv = await store.create('', { metadata: { name: 'pv' }, spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, hostPath: { path: '/data' } } }, ctx(''), write);
  assert.equal(spec(pv).persistentVolumeReclaimPolicy, 'Retain');
  assert.equal((pv.status as Rec).phase, 'Pending');
  const moved = structuredClone(pv);
  spec(moved).hostPath = { path: '/elsewhere', type: '' };
  assert.match(await rejection(store.update('', 'pv', moved, ctx(''), write)), /spec\.persistentvolumesource: Forbidden: spec\.persistentvolumesource is immutable after creation/);
});

test('nodes: podCIDR may be set once; taint effects are checked; status is kept on create', async () => {
  const store = storeFor('nodes', nodeStrategy);
  const node = await store.create('', { metadata: { name: 'n1' }, spec: {}, status: { capacity: { cpu: '4', pods: '110' } } }, ctx(''), write);
  assert.deepEqual((node.status as Rec).allocatable, { cpu: '4', pods: '110' });
  const withCIDR = await store.update('', 'n1', { ...node, spec: { podCIDR: '10.42.1.0/24' } }, ctx(''), write);
  assert.deepEqual(spec(withCIDR).podCIDRs, ['10.42.1.0/24']);
  assert.match(
    await rejection(store.update('', 'n1', { ...withCIDR, spec: { podCIDR: '10.42.2.0/24', podCIDRs: ['10.42.2.0/24'] } }, ctx(''), write)),
    /spec\.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid/,
  );
  assert.equal(
    await rejection(store.update('', 'n1', { ...withCIDR, spec: { ...spec(withCIDR), taints: [{ key: 'k', effect: 'Sometimes' }] } }, ctx(''), write)),
    'Node "n1" is invalid: spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  );
  assert.deepEqual(nodeStrategy.selectableFields?.({ spec: { unschedulable: true } }), { 'spec.unschedulable': 'true' });
});

test('events: the involved object must be in the event namespace', async () => {
  const store = storeFor('events', eventStrategy);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' }, reason: 'X' }, ctx(), write)),
    'Event "e" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  );
  const ev = await store.create('default', { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', uid: 'u1' }, reason: 'Started', type: 'Normal', source: { component: 'kubelet' } }, ctx(), write);
  const fields = eventStrategy.selectableFields?.(ev) ?? {};
  assert.equal(fields['involvedObject.name'], 'p');
  assert.equal(fields['involvedObject.uid'], 'u1');
  assert.equal(fields.source, 'kubelet');
});

test('endpoints: PUT creates; addresses must be IPs', async () => {
  const store = storeFor('endpoints', endpointsStrategy);
  const created = await store.update('default', 'svc', { metadata: { name: 'svc' }, subsets: [{ addresses: [{ ip: '10.42.0.5' }], ports: [{ port: 80 }] }] }, ctx(), write);
  assert.deepEqual((created.subsets as Rec[])[0]!.ports, [{ port: 80, protocol: 'TCP' }]);
  assert.equal(
    await rejection(store.update('default', 'svc', { metadata: { name: 'svc' }, subsets: [{ addresses: [{ ip: 'x' }], ports: [{ port: 80 }] }] }, ctx(), write)),
    'Endpoints "svc" is invalid: subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  );
});

test('limitranges: container defaults and ordering of values', async () => {
  const store = storeFor('limitranges', limitRangeStrategy);
  const lr = await store.create('default', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } }, ctx(), write);
  const item = (spec(lr).limits as Rec[])[0]!;
  assert.deepEqual(item.default, { cpu: '2' });
  assert.deepEqual(item.defaultRequest, { cpu: '2', memory: '64Mi' });
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'bad' }, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } }, ctx(), write)),
    'LimitRange "bad" is invalid: [spec.limits[0].min[cpu]: Invalid value: 2: min value 2 is greater than max value 1, spec.limits[0].defaultRequest[cpu]: Invalid value: 1: min value 2 is greater than default request value 1, spec.limits[0].default[cpu]: Invalid value: 2: min value 2 is greater than default value 1]',
  );
});

test('resourcequotas: resource names and amounts are checked; status is cleared on create', async () => {
  const store = storeFor('resourcequotas', resourceQuotaStrategy);
  const q = await store.create('default', { metadata: { name: 'q' }, spec: { hard: { pods: '10', 'requests.cpu': '4' } }, status: { used: { pods: '3' } } }, ctx(), write);
  assert.deepEqual(q.status, {});
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'bad' }, spec: { hard: { widgets: '1', pods: '-1' } } }, ctx(), write)),
    'ResourceQuota "bad" is invalid: [spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota, spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0]',
  );
});
