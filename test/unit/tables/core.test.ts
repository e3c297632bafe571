import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printerFor } from '../../../src/apiserver/tables/index.js';

const now = new Date('2024-05-01T12:00:00Z');
const created = '2024-05-01T10:00:00Z';
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', creationTimestamp: created, ...extra });
const cells = (group: string, resource: string, obj: unknown) => printerFor(group, resource).row(obj, now);
const names = (group: string, resource: string) => printerFor(group, resource).columns.map((c) => c.name);

test('services: ClusterIP, NodePort, LoadBalancer and ExternalName', () => {
  assert.deepEqual(names('', 'services'), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  const clusterIP = {
    metadata: meta('kubernetes'),
    spec: { type: 'ClusterIP', clusterIP: '10.43.0.1', clusterIPs: ['10.43.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
  assert.deepEqual(cells('', 'services', clusterIP), ['kubernetes', 'ClusterIP', '10.43.0.1', '<none>', '443/TCP', '120m', '<none>']);

  const nodePort = {
    metadata: meta('web'),
    spec: {
      type: 'NodePort',
      clusterIPs: ['10.43.12.7'],
      selector: { app: 'web', tier: 'front' },
      ports: [
        { port: 80, nodePort: 30080, protocol: 'TCP' },
        { port: 53, nodePort: 30053, protocol: 'UDP' },
      ],
    },
  };
  assert.deepEqual(cells('', 'services', nodePort), ['web', 'NodePort', '10.43.12.7', '<none>', '80:30080/TCP,53:30053/UDP', '120m', 'app=web,tier=front']);

  const lb = { metadata: meta('edge'), spec: { type: 'LoadBalancer', clusterIPs: ['10.43.1.1'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] } };
  assert.equal(cells('', 'services', lb)[3], '<pending>');
  const lbReady = { ...lb, status: { loadBalancer: { ingress: [{ ip: '192.0.2.20' }, { hostname: 'lb.example.com' }, { ip: '192.0.2.10' }] } } };
  assert.equal(cells('', 'services', lbReady)[3], '192.0.2.10,192.0.2.20,lb.example.com');
  const lbExternal = { ...lbReady, spec: { ...lb.spec, externalIPs: ['198.51.100.1'] } };
  assert.equal(cells('', 'services', lbExternal)[3], '192.0.2.10,192.0.2.20,lb.example.com,198.51.100.1');

  const headless = { metadata: meta('db'), spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] } };
  assert.deepEqual(cells('', 'services', headless).slice(1, 5), ['ClusterIP', 'None', '<none>', '<none>']);

  const ext = { metadata: meta('mail'), spec: { type: 'ExternalName', externalName: 'mail.example.com' } };
  assert.deepEqual(cells('', 'services', ext).slice(1, 5), ['ExternalName', '<none>', 'mail.example.com', '<none>']);
});

test('endpoints list up to three addresses', () => {
  const ep = {
    metadata: meta('web'),
    subsets: [
      {
        addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }, { ip: '10.42.1.2' }, { ip: '10.42.1.3' }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ],
  };
  assert.deepEqual(cells('', 'endpoints', ep), ['web', '10.42.0.5:8080,10.42.0.6:8080,10.42.1.2:8080 + 1 more...', '120m']);
  assert.equal(cells('', 'endpoints', { metadata: meta('none') })[1], '<none>');
  assert.equal(cells('', 'endpoints', { metadata: meta('v6'), subsets: [{ addresses: [{ ip: 'fd00::5' }], ports: [{ port: 80 }] }] })[1], '[fd00::5]:80');
});

test('config maps, secrets and service accounts count their entries', () => {
  assert.deepEqual(cells('', 'configmaps', { metadata: meta('c'), data: { a: '1' }, binaryData: { b: 'AA==' } }), ['c', 2, '120m']);
  assert.deepEqual(cells('', 'secrets', { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }), ['tls', 'kubernetes.io/tls', 2, '120m']);
  assert.deepEqual(names('', 'secrets'), ['Name', 'Type', 'Data', 'Age']);
  assert.deepEqual(cells('', 'serviceaccounts', { metadata: meta('default') }), ['default', 0, '120m']);
});

test('nodes: status, roles and the wide columns', () => {
  const node = {
    metadata: { name: 'node-1', creationTimestamp: '2024-04-01T12:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': 'true', 'kubernetes.io/hostname': 'node-1' } },
    spec: { unschedulable: true },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [
        { type: 'Hostname', address: 'node-1' },
        { type: 'InternalIP', address: '192.168.1.10' },
      ],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.7.13' },
    },
  };
  assert.deepEqual(cells('', 'nodes', node), [
    'node-1',
    'Ready,SchedulingDisabled',
    'control-plane,master',
    '30d',
    'v1.32.0',
    '192.168.1.10',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0-18-amd64',
    'containerd://1.7.13',
  ]);
  const fresh = { metadata: { name: 'node-2', creationTimestamp: created, labels: { 'kubernetes.io/role': 'worker' } }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
  assert.deepEqual(cells('', 'nodes', fresh).slice(1, 3), ['NotReady', 'worker']);
  assert.deepEqual(cells('', 'nodes', { metadata: { name: 'n3' } }).slice(1, 3), ['Unknown', '<none>']);
  assert.deepEqual(cells('', 'nodes', { metadata: { name: 'n3' } }).slice(7), ['<unknown>', '<unknown>', '<unknown>']);
});

test('namespaces show their phase', () => {
  assert.deepEqual(cells('', 'namespaces', { metadata: meta('kube-system'), status: { phase: 'Active' } }), ['kube-system', 'Active', '120m']);
});

test('persistent volumes and claims', () => {
  assert.deepEqual(names('', 'persistentvolumes'), ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']);
  const pv = {
    metadata: { name: 'pv-1', creationTimestamp: created },
    spec: {
      capacity: { storage: '10Gi' },
      accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      claimRef: { namespace: 'default', name: 'data' },
      storageClassName: 'local-path',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound' },
  };
  assert.deepEqual(cells('', 'persistentvolumes', pv), ['pv-1', '10Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'local-path', '<unset>', '', '120m', 'Filesystem']);

  const pending = { metadata: meta('data'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path' }, status: { phase: 'Pending' } };
  assert.deepEqual(cells('', 'persistentvolumeclaims', pending), ['data', 'Pending', '', '', '', 'local-path', '<unset>', '120m', '<unset>']);
  const bound = { ...pending, spec: { ...pending.spec, volumeName: 'pv-1' }, status: { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] } };
  assert.deepEqual(cells('', 'persistentvolumeclaims', bound).slice(1, 6), ['Bound', 'pv-1', '10Gi', 'RWO', 'local-path']);
});

test('replication controllers and resource quotas', () => {
  const rc = {
    metadata: meta('legacy'),
    spec: { replicas: 3, selector: { app: 'legacy' }, template: { spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'nginx:1.25' }] } } },
    status: { replicas: 3, readyReplicas: 2 },
  };
  assert.deepEqual(cells('', 'replicationcontrollers', rc), ['legacy', 3, 3, 2, '120m', 'a,b', 'busybox,nginx:1.25', 'app=legacy']);

  const rq = {
    metadata: meta('compute'),
    status: {
      hard: { 'requests.cpu': '1', 'limits.memory': '2Gi', pods: '10', 'limits.cpu': '2' },
      used: { 'requests.cpu': '500m', 'limits.memory': '1Gi', pods: '3' },
    },
  };
  assert.deepEqual(cells('', 'resourcequotas', rq), ['compute', 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 0/2, limits.memory: 1Gi/2Gi', '120m']);
});

test('core events and events.k8s.io events print the same columns', () => {
  assert.deepEqual(names('', 'events'), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
  const ev = {
    metadata: meta('web-7d4b9c.17c'),
    involvedObject: { kind: 'Pod', name: 'web-7d4b9c', namespace: 'default', fieldPath: 'spec.containers{web}' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container web\n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T11:30:00Z',
    lastTimestamp: '2024-05-01T11:58:00Z',
    count: 7,
    type: 'Warning',
  };
  assert.deepEqual(cells('', 'events', ev), [
    '2m',
    'Warning',
    'BackOff',
    'pod/web-7d4b9c',
    'spec.containers{web}',
    'kubelet, node-1',
    'Back-off restarting failed container web',
    '30m',
    7,
    'web-7d4b9c.17c',
  ]);

  const v1 = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: meta('web.18a'),
    eventTime: '2024-05-01T11:59:00.123456Z',
    regarding: { kind: 'Deployment', name: 'web', namespace: 'default' },
    note: 'Scaled up replica set web-7d4b9c to 3',
    reason: 'ScalingReplicaSet',
    type: 'Normal',
    reportingController: 'deployment-controller',
    reportingInstance: '',
    action: 'Scale',
  };
  // 59.877s ago: Go truncates to whole seconds.
  assert.deepEqual(cells('events.k8s.io', 'events', v1), [
    '59s',
    'Normal',
    'ScalingReplicaSet',
    'deployment/web',
    '',
    'deployment-controller',
    'Scaled up replica set web-7d4b9c to 3',
    '59s',
    1,
    'web.18a',
  ]);
  const series = { ...v1, series: { count: 4, lastObservedTime: '2024-05-01T11:59:50.000000Z' } };
  const seriesCells = cells('events.k8s.io', 'events', series);
  assert.deepEqual([seriesCells[0], seriesCells[8]], ['10s', 4]);
});
