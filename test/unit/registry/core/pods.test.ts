import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podStrategy, podGracePeriod, podSelectableFields } from '../../../../src/apiserver/registry/resources/core/pods.js';
import { defaultTolerations, admitPodServiceAccount } from '../../../../src/apiserver/registry/resources/core/pod-admission.js';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import { ctx, rejection, spec, storeFor, write } from './harness.js';

function pod(name: string, podSpec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: podSpec };
}

type Rec = Record<string, unknown>;

test('pods: a minimal pod gets Kubernetes defaults and a Pending status with its QoS class', async () => {
  const store = storeFor('pods', podStrategy);
  const created = await store.create('default', pod('web', {
    containers: [{
      name: 'web',
      image: 'nginx',
      ports: [{ containerPort: 80 }],
      livenessProbe: { httpGet: { port: 80 } },
      env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    }],
    volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'scratch' }],
  }), ctx(), write);
  const s = spec(created);
  assert.equal(s.restartPolicy, 'Always');
  assert.equal(s.dnsPolicy, 'ClusterFirst');
  assert.equal(s.terminationGracePeriodSeconds, 30);
  assert.equal(s.schedulerName, 'default-scheduler');
  assert.deepEqual(s.securityContext, {});
  assert.equal(s.enableServiceLinks, true);
  const c = (s.containers as Rec[])[0]!;
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.deepEqual(c.resources, {});
  assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual((c.env as Rec[])[0], { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } });
  assert.deepEqual(s.volumes, [{ name: 'cfg', configMap: { name: 'x', defaultMode: 420 } }, { name: 'scratch', emptyDir: {} }]);
  assert.deepEqual(created.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('pods: imagePullPolicy follows the tag', async () => {
  const store = storeFor('pods', podStrategy);
  const created = await store.create('default', pod('tags', {
    containers: [
      { name: 'a', image: 'nginx:latest' },
      { name: 'b', image: 'nginx:1.25' },
      { name: 'c', image: 'registry.local:5000/app' },
      { name: 'd', image: 'busybox@sha256:abc' },
    ],
  }), ctx(), write);
  assert.deepEqual((spec(created).containers as Rec[]).map((c) => c.imagePullPolicy), ['Always', 'IfNotPresent', 'Always', 'IfNotPresent']);
});

test('pods: limits alone make requests equal and the pod Guaranteed; requests alone make it Burstable', async () => {
  const store = storeFor('pods', podStrategy);
  const g = await store.create('default', pod('g', { containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '500m', memory: '128Mi' } } }] }), ctx(), write);
  const gc = (spec(g).containers as Rec[])[0]!;
  assert.deepEqual((gc.resources as Rec).requests, { cpu: '500m', memory: '128Mi' });
  assert.equal((g.status as Rec).qosClass, 'Guaranteed');
  const b = await store.create('default', pod('b', { containers: [{ name: 'a', image: 'x:1', resources: { requests: { cpu: '100m' } } }] }), ctx(), write);
  assert.equal((b.status as Rec).qosClass, 'Burstable');
});

test('pods: invalid pods are refused with Kubernetes messages', async () => {
  const store = storeFor('pods', podStrategy);
  assert.equal(await rejection(store.create('default', pod('p', { containers: [] }), ctx(), write)), 'Pod "p" is invalid: spec.containers: Required value');
  assert.equal(await rejection(store.create('default', pod('p', { containers: [{ name: 'a' }] }), ctx(), write)), 'Pod "p" is invalid: spec.containers[0].image: Required value');
  assert.equal(
    await rejection(store.create('default', pod('p', { restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'x' }] }), ctx(), write)),
    'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  );
  assert.equal(
    await rejection(store.create('default', pod('p', { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }), ctx(), write)),
    'Pod "p" is invalid: spec.containers[1].name: Duplicate value: "a"',
  );
  assert.equal(
    await rejection(store.create('default', pod('p', { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000 }] }] }), ctx(), write)),
    'Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  );
  assert.equal(
    await rejection(store.create('default', pod('p', { containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }), ctx(), write)),
    'Pod "p" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  );
  assert.equal(
    await rejection(store.create('default', pod('p', { dnsPolicy: 'Bogus', containers: [{ name: 'a', image: 'x' }] }), ctx(), write)),
    'Pod "p" is invalid: spec.dnsPolicy: Unsupported value: "Bogus": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
  );
  const dupVolumes = await rejection(store.create('default', pod('p', { volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }], containers: [{ name: 'a', image: 'x' }] }), ctx(), write));
  assert.equal(dupVolumes, 'Pod "p" is invalid: spec.volumes[1].name: Duplicate value: "v"');
  const badMount = await rejection(store.create('default', pod('p', { containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'nope', mountPath: '/data' }] }] }), ctx(), write));
  assert.match(badMount, /^Pod "p" is invalid: spec\.containers\[0\]\.volumeMounts\[0\]\.name: .*"nope"/);
  const badName = await rejection(store.create('default', pod('p', { containers: [{ name: 'Web_1', image: 'x' }] }), ctx(), write));
  assert.match(badName, /spec\.containers\[0\]\.name: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of/);
});

test('pods: only images (and a few fields) may change on update', async () => {
  const store = storeFor('pods', podStrategy);
  await store.create('default', pod('u', { containers: [{ name: 'a', image: 'nginx:1.24' }] }), ctx(), write);
  const current = await store.get('default', 'u');
  const newImage = structuredClone(current);
  (spec(newImage).containers as Rec[])[0]!.image = 'nginx:1.25';
  const updated = await store.update('default', 'u', newImage, ctx(), write);
  assert.equal((spec(updated).containers as Rec[])[0]!.image, 'nginx:1.25');

  const newCommand = structuredClone(updated);
  (spec(newCommand).containers as Rec[])[0]!.command = ['sleep', '1'];
  const msg = await rejection(store.update('default', 'u', newCommand, ctx(), write));
  assert.ok(
    msg.startsWith(
      'Pod "u" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    msg,
  );

  const addToleration = structuredClone(updated);
  spec(addToleration).tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
  spec(addToleration).activeDeadlineSeconds = 100;
  const withTol = await store.update('default', 'u', addToleration, ctx(), write);
  assert.equal((spec(withTol).tolerations as Rec[]).length, 1);

  const removeToleration = structuredClone(withTol);
  spec(removeToleration).tolerations = [];
  assert.match(await rejection(store.update('default', 'u', removeToleration, ctx(), write)), /spec\.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds/);

  const raiseDeadline = structuredClone(withTol);
  spec(raiseDeadline).activeDeadlineSeconds = 200;
  assert.equal(await rejection(store.update('default', 'u', raiseDeadline, ctx(), write)), 'Pod "u" is invalid: spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value');
});

test('pods: status cannot be set through the main resource', async () => {
  const store = storeFor('pods', podStrategy);
  const created = await store.create('default', { ...pod('s', { containers: [{ name: 'a', image: 'x' }] }), status: { phase: 'Running' } }, ctx(), write);
  assert.equal((created.status as Rec).phase, 'Pending');
  const viaStatus = await store.update('default', 's', { ...created, status: { phase: 'Running', qosClass: 'BestEffort', podIPs: [{ ip: '10.42.0.5' }] } }, ctx(), { ...write, subresource: 'status' });
  assert.equal((viaStatus.status as Rec).phase, 'Running');
  const badIP = rejection(store.update('default', 's', { ...viaStatus, status: { phase: 'Running', podIPs: [{ ip: 'nope' }] } }, ctx(), { ...write, subresource: 'status' }));
  assert.equal(await badIP, 'Pod "s" is invalid: status.podIPs[0].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
});

test('pods: grace period on delete', () => {
  const scheduled = pod('g', { nodeName: 'n1', terminationGracePeriodSeconds: 30, containers: [] });
  assert.equal(podGracePeriod(scheduled, undefined), 30);
  assert.equal(podGracePeriod(scheduled, 5), 5);
  assert.equal(podGracePeriod(scheduled, -3), 1);
  assert.equal(podGracePeriod(pod('g', { terminationGracePeriodSeconds: 30, containers: [] }), undefined), 0);
  assert.equal(podGracePeriod({ ...scheduled, status: { phase: 'Succeeded' } }, undefined), 0);
});

test('pods: a scheduled pod is only marked on delete; an unscheduled one goes at once', async () => {
  const store = storeFor('pods', podStrategy);
  await store.create('default', pod('on-node', { nodeName: 'n1', containers: [{ name: 'a', image: 'x' }] }), ctx(), write);
  const marked = await store.delete('default', 'on-node', ctx(), { dryRun: false });
  assert.equal(marked.deleted, false);
  assert.equal(marked.object.metadata?.deletionGracePeriodSeconds, 30);
  await store.create('default', pod('pending', { containers: [{ name: 'a', image: 'x' }] }), ctx(), write);
  assert.equal((await store.delete('default', 'pending', ctx(), { dryRun: false })).deleted, true);
});

test('pods: selectable fields', () => {
  const p: KubeObject = { metadata: { name: 'x' }, spec: { nodeName: 'n1', restartPolicy: 'Never', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true }, status: { phase: 'Running', podIPs: [{ ip: '10.42.0.9' }] } };
  assert.deepEqual(podSelectableFields(p), {
    'spec.nodeName': 'n1',
    'spec.restartPolicy': 'Never',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'true',
    'status.phase': 'Running',
    'status.podIP': '10.42.0.9',
    'status.nominatedNodeName': '',
  });
});

test('pods: admission helpers add default tolerations and the service account token volume', () => {
  const p = pod('a', { containers: [{ name: 'c', image: 'x' }], tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] });
  defaultTolerations(p);
  assert.deepEqual(spec(p).tolerations, [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  admitPodServiceAccount(p, { suffix: 'abcde' });
  assert.equal(spec(p).serviceAccountName, 'default');
  assert.equal((spec(p).volumes as Rec[])[0]!.name, 'kube-api-access-abcde');
  assert.deepEqual(((spec(p).containers as Rec[])[0]!.volumeMounts as Rec[])[0], { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
  const noToken = pod('b', { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'x' }] });
  admitPodServiceAccount(noToken);
  assert.equal(spec(noToken).volumes, undefined);
});
