import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printerFor } from '../../../src/apiserver/tables/index.js';

const now = new Date('2024-05-01T12:00:00Z');
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: '2024-04-30T12:00:00Z', ...extra });
const cells = (group: string, resource: string, obj: unknown) => printerFor(group, resource).row(obj, now);
const columns = (group: string, resource: string) => printerFor(group, resource).columns.map((c) => c.name);

test('ingresses and ingress classes', () => {
  assert.deepEqual(columns('networking.k8s.io', 'ingresses'), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  const ing = {
    metadata: meta('web'),
    spec: { ingressClassName: 'traefik', tls: [{ hosts: ['a.example.com'] }], rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }, {}, { host: 'c.example.com' }, { host: 'd.example.com' }] },
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
  };
  assert.deepEqual(cells('networking.k8s.io', 'ingresses', ing), ['web', 'traefik', 'a.example.com,b.example.com,c.example.com + 2 more...', '192.168.1.10', '80, 443', '24h']);
  const bare = { metadata: meta('any'), spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } };
  assert.deepEqual(cells('networking.k8s.io', 'ingresses', bare), ['any', '<none>', '*', '', '80', '24h']);

  const ic = { metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } };
  assert.deepEqual(cells('networking.k8s.io', 'ingressclasses', ic), ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '24h']);
});

test('network policies and endpoint slices', () => {
  assert.deepEqual(cells('networking.k8s.io', 'networkpolicies', { metadata: meta('deny-all'), spec: { podSelector: {} } }), ['deny-all', '<none>', '24h']);
  assert.deepEqual(cells('networking.k8s.io', 'networkpolicies', { metadata: meta('db'), spec: { podSelector: { matchLabels: { role: 'db' } } } })[1], 'role=db');

  const slice = {
    metadata: meta('web-abc12'),
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6'] }, { addresses: ['10.42.1.2'] }, { addresses: ['10.42.1.3'] }],
  };
  assert.deepEqual(columns('discovery.k8s.io', 'endpointslices'), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', slice), ['web-abc12', 'IPv4', '80,metrics', '10.42.0.5,10.42.0.6,10.42.1.2 + 1 more...', '24h']);
  assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', { metadata: meta('empty'), addressType: 'IPv4' }).slice(2, 4), ['<unset>', '<unset>']);
});

test('role bindings print ROLE and, wide, their subjects', () => {
  const cols = printerFor('rbac.authorization.k8s.io', 'clusterrolebindings').columns.map((c) => [c.name, c.priority]);
  assert.deepEqual(cols, [
    ['Name', 0],
    ['Role', 0],
    ['Age', 0],
    ['Users', 1],
    ['Groups', 1],
    ['ServiceAccounts', 1],
  ]);
  const crb = {
    metadata: meta('cluster-admin'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' },
      { kind: 'User', name: 'alice' },
      { kind: 'User', name: 'bob' },
      { kind: 'ServiceAccount', namespace: 'kube-system', name: 'admin' },
    ],
  };
  assert.deepEqual(cells('rbac.authorization.k8s.io', 'clusterrolebindings', crb), ['cluster-admin', 'ClusterRole/cluster-admin', '24h', 'alice, bob', 'system:masters', 'kube-system/admin']);
  const rb = { metadata: meta('read'), roleRef: { kind: 'Role', name: 'reader', apiGroup: 'rbac.authorization.k8s.io' } };
  assert.deepEqual(cells('rbac.authorization.k8s.io', 'rolebindings', rb), ['read', 'Role/reader', '24h', '', '', '']);
});

test('horizontal pod autoscalers show targets like cpu: 50%/80%', () => {
  assert.deepEqual(columns('autoscaling', 'horizontalpodautoscalers'), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
  const hpa = {
    metadata: meta('web'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    },
    status: { currentReplicas: 3, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 50, averageValue: '150m' } } }] },
  };
  assert.deepEqual(cells('autoscaling', 'horizontalpodautoscalers', hpa), ['web', 'Deployment/web', 'cpu: 50%/80%', '2', 10, 3, '24h']);

  const many = {
    metadata: meta('multi'),
    spec: {
      scaleTargetRef: { kind: 'StatefulSet', name: 'db' },
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
      ],
    },
    status: { currentReplicas: 1, desiredReplicas: 1 },
  };
  assert.deepEqual(cells('autoscaling', 'horizontalpodautoscalers', many).slice(2, 6), ['memory: <unknown>/500Mi, <unknown>/1k + 1 more...', '<unset>', 5, 1]);
  const none = { metadata: meta('none'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } };
  assert.equal(cells('autoscaling', 'horizontalpodautoscalers', none)[2], '<none>');
  const v1 = { metadata: meta('v1'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, targetCPUUtilizationPercentage: 70 }, status: { currentReplicas: 1 } };
  assert.equal(cells('autoscaling', 'horizontalpodautoscalers', v1)[2], 'cpu: <unknown>/70%');
});

test('leases, storage classes, disruption budgets and priority classes', () => {
  assert.deepEqual(cells('coordination.k8s.io', 'leases', { metadata: meta('kube-scheduler'), spec: { holderIdentity: 'node-1_4b1c' } }), ['kube-scheduler', 'node-1_4b1c', '24h']);

  assert.deepEqual(columns('storage.k8s.io', 'storageclasses'), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  const sc = { metadata: meta('local-path', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }), provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' };
  assert.deepEqual(cells('storage.k8s.io', 'storageclasses', sc), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '24h']);
  assert.deepEqual(cells('storage.k8s.io', 'storageclasses', { metadata: meta('fast'), provisioner: 'x', allowVolumeExpansion: true }).slice(0, 5), ['fast', 'x', 'Delete', 'Immediate', true]);

  const pdb = { metadata: meta('web'), spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 1 } };
  assert.deepEqual(cells('policy', 'poddisruptionbudgets', pdb), ['web', '50%', 'N/A', 1, '24h']);
  assert.deepEqual(cells('policy', 'poddisruptionbudgets', { metadata: meta('db'), spec: { maxUnavailable: 1 } }).slice(1, 4), ['N/A', '1', 0]);

  assert.deepEqual(columns('scheduling.k8s.io', 'priorityclasses'), ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
  const pc = { metadata: meta('system-node-critical'), value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' };
  assert.deepEqual(cells('scheduling.k8s.io', 'priorityclasses', pc), ['system-node-critical', 2000001000, false, '24h', 'PreemptLowerPriority']);
});
