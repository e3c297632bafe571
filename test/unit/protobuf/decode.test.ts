import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { FIELD_NUMBERS } from '../../../src/apiserver/protobuf/field-numbers.js';
import { decodeKubernetesProtobuf, formatDuration, isKubernetesProtobuf, protoName } from '../../../src/apiserver/protobuf/decode.js';
import { decodeBody } from '../../../src/apiserver/handlers/codec.js';
import { StatusError } from '../../../src/machinery/status-error.js';
import { generateDefinitions } from '../../../src/apiserver/openapi/generate-definitions.js';
import { builtinResources } from '../../../src/api/resource-table.js';

// A test-only encoder built from the same table, standing in for Go's generated Marshal.
const scalars = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'double', 'float']);
const root = new protobuf.Root();
for (const [name, fields] of Object.entries(FIELD_NUMBERS)) {
  const type = new protobuf.Type(protoName(name));
  for (const [field, [id, fieldType, flags = '']] of Object.entries(fields)) {
    const t = scalars.has(fieldType) ? fieldType : protoName(fieldType);
    if (flags.includes('m')) type.add(new protobuf.MapField(field, id, 'string', t));
    else type.add(new protobuf.Field(field, id, t, flags.includes('r') ? 'repeated' : 'optional'));
  }
  root.add(type);
}
root.resolveAll();

function encode(definition: string, value: Record<string, unknown>): Uint8Array {
  const type = root.lookupType(protoName(definition));
  return type.encode(type.fromObject(value)).finish();
}

/** The `k8s\0` + runtime.Unknown envelope client-go writes. */
function envelope(apiVersion: string, kind: string, definition: string, value: Record<string, unknown>): Buffer {
  const unknown = encode('io.k8s.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion, kind }, raw: encode(definition, value), contentEncoding: '', contentType: '' });
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
}

// Go writes every non-pointer field; these mimic what it sends for unset ones.
const emptyMeta = { name: '', generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {} };
const goContainer = (name: string, image: string): Record<string, unknown> => ({
  name, image, workingDir: '', terminationMessagePath: '', imagePullPolicy: '', stdin: false, stdinOnce: false, tty: false, terminationMessagePolicy: '', resources: {},
});

function deployment(replicas: number | undefined): Buffer {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { ...emptyMeta, labels: { app: 'web' } }, spec: { containers: [goContainer('web', 'nginx')], restartPolicy: '', dnsPolicy: '', serviceAccountName: '', hostNetwork: false } },
    strategy: {},
    minReadySeconds: 0,
    paused: false,
  };
  if (replicas !== undefined) spec.replicas = replicas;
  // DeploymentStatus' counters are omitempty, so Go's all-zero status is an unset one.
  return envelope('apps/v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment', { metadata: { ...emptyMeta, name: 'web' }, spec, status: { observedGeneration: 0, replicas: 0 } });
}

test('a Deployment decodes to its JSON form; replicas 0 survives, absent stays absent, Go\'s empty non-pointer fields go', () => {
  const zero = decodeKubernetesProtobuf(deployment(0));
  assert.deepEqual(zero, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  });
  const absent = decodeKubernetesProtobuf(deployment(undefined));
  assert.equal('replicas' in (absent.spec as Record<string, unknown>), false);
  assert.equal((decodeKubernetesProtobuf(deployment(3)).spec as { replicas?: number }).replicas, 3);
});

test('Secret data and ConfigMap binaryData bytes become base64; map values and list items keep empty strings', () => {
  const secret = decodeKubernetesProtobuf(envelope('v1', 'Secret', 'io.k8s.api.core.v1.Secret', {
    metadata: { ...emptyMeta, name: 's', labels: { empty: '' } },
    data: { p: Buffer.from('q'), bin: Buffer.from([0, 255, 1]), none: Buffer.alloc(0) },
    type: 'Opaque',
  }));
  assert.deepEqual(secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { empty: '' } }, data: { p: 'cQ==', bin: 'AP8B', none: '' }, type: 'Opaque' });

  const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', 'io.k8s.api.core.v1.ConfigMap', { metadata: { name: 'c' }, binaryData: { b: Buffer.from('hi') }, immutable: false }));
  assert.deepEqual(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, binaryData: { b: 'aGk=' }, immutable: false });

  const role = decodeKubernetesProtobuf(envelope('rbac.authorization.k8s.io/v1', 'Role', 'io.k8s.api.rbac.v1.Role', { metadata: { name: 'r' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }));
  assert.deepEqual(role.rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
});

test('IntOrString decodes to a number or a string; a pointer 0 is kept, a non-pointer zero is unset', () => {
  const svc = decodeKubernetesProtobuf(envelope('v1', 'Service', 'io.k8s.api.core.v1.Service', {
    metadata: { name: 'n' },
    spec: {
      type: 'NodePort',
      ports: [
        { name: 'a', protocol: 'TCP', port: 80, targetPort: { type: 0, intVal: 8080, strVal: '' }, nodePort: 0 },
        { name: 'b', protocol: 'TCP', port: 81, targetPort: { type: 1, intVal: 0, strVal: 'http' }, nodePort: 30001 },
        { name: 'c', protocol: 'TCP', port: 82, targetPort: { type: 0, intVal: 0, strVal: '' }, nodePort: 0 },
      ],
    },
  }));
  assert.deepEqual((svc.spec as { ports: unknown }).ports, [
    { name: 'a', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: 'b', protocol: 'TCP', port: 81, targetPort: 'http', nodePort: 30001 },
    { name: 'c', protocol: 'TCP', port: 82 },
  ]);

  const strategy = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment', {
    spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { type: 0, intVal: 0, strVal: '' }, maxSurge: { type: 1, intVal: 0, strVal: '25%' } } } },
  }));
  assert.deepEqual((strategy.spec as { strategy: unknown }).strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
});

test('Time is RFC 3339 in whole seconds, MicroTime keeps six fractional digits, a zero Time is dropped', () => {
  const seconds = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000;
  const pod = decodeKubernetesProtobuf(envelope('v1', 'Pod', 'io.k8s.api.core.v1.Pod', {
    metadata: { name: 'p', creationTimestamp: { seconds, nanos: 999 }, deletionTimestamp: { seconds: seconds + 60 }, deletionGracePeriodSeconds: 0 },
    status: { startTime: {}, conditions: [{ type: 'Ready', status: 'True', lastProbeTime: {}, lastTransitionTime: { seconds } }] },
  }));
  assert.deepEqual(pod.metadata, { name: 'p', creationTimestamp: '2024-01-02T03:04:05Z', deletionTimestamp: '2024-01-02T03:05:05Z', deletionGracePeriodSeconds: 0 });
  assert.deepEqual(pod.status, { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-02T03:04:05Z' }] });

  const lease = decodeKubernetesProtobuf(envelope('coordination.k8s.io/v1', 'Lease', 'io.k8s.api.coordination.v1.Lease', {
    metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: { seconds, nanos: 123456789 }, acquireTime: { seconds, nanos: 0 } },
  }));
  assert.deepEqual(lease.spec, { holderIdentity: 'me', renewTime: '2024-01-02T03:04:05.123456Z', acquireTime: '2024-01-02T03:04:05.000000Z' });
});

test('Quantity is its string; ResourceList maps and container resources come out as JSON sends them', () => {
  const quota = decodeKubernetesProtobuf(envelope('v1', 'ResourceQuota', 'io.k8s.api.core.v1.ResourceQuota', { metadata: { name: 'q' }, spec: { hard: { pods: { string: '3' }, 'requests.memory': { string: '1Gi' } } } }));
  assert.deepEqual(quota.spec, { hard: { pods: '3', 'requests.memory': '1Gi' } });
  const pod = decodeKubernetesProtobuf(envelope('v1', 'Pod', 'io.k8s.api.core.v1.Pod', {
    spec: { containers: [{ ...goContainer('c', 'busybox'), resources: { limits: { cpu: { string: '500m' } } } }] },
  }));
  assert.deepEqual(pod.spec, { containers: [{ name: 'c', image: 'busybox', resources: { limits: { cpu: '500m' } } }] });
});

test('embedded structs are inlined and an empty pointer struct (emptyDir: {}) is kept', () => {
  const pod = decodeKubernetesProtobuf(envelope('v1', 'Pod', 'io.k8s.api.core.v1.Pod', {
    spec: {
      volumes: [{ name: 'scratch', volumeSource: { emptyDir: {} } }],
      containers: [{ ...goContainer('c', 'busybox'), readinessProbe: { handler: { httpGet: { path: '/', port: { type: 1, strVal: 'http' }, host: '', scheme: 'HTTP' } }, initialDelaySeconds: 0, periodSeconds: 5 } }],
    },
  }));
  assert.deepEqual(pod.spec, {
    volumes: [{ name: 'scratch', emptyDir: {} }],
    containers: [{ name: 'c', image: 'busybox', readinessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' }, periodSeconds: 5 } }],
  });
});

test('pointer fields keep empty strings and zeros: storageClassName "" and gracePeriodSeconds 0', () => {
  const pvc = decodeKubernetesProtobuf(envelope('v1', 'PersistentVolumeClaim', 'io.k8s.api.core.v1.PersistentVolumeClaim', {
    metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', volumeName: '' },
  }));
  assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], storageClassName: '' });

  const eviction = decodeKubernetesProtobuf(envelope('policy/v1', 'Eviction', 'io.k8s.api.policy.v1.Eviction', {
    metadata: { name: 'p', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0, dryRun: [] },
  }));
  assert.deepEqual(eviction, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0 } });
});

test('RawExtension carries JSON; TokenRequest, Binding and Scale decode', () => {
  const rev = decodeKubernetesProtobuf(envelope('apps/v1', 'ControllerRevision', 'io.k8s.api.apps.v1.ControllerRevision', {
    metadata: { name: 'r' }, data: { raw: Buffer.from('{"spec":{"template":{"x":1}}}') }, revision: 7,
  }));
  assert.deepEqual(rev, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, data: { spec: { template: { x: 1 } } }, revision: 7 });

  const token = decodeKubernetesProtobuf(envelope('authentication.k8s.io/v1', 'TokenRequest', 'io.k8s.api.authentication.v1.TokenRequest', {
    metadata: emptyMeta, spec: { audiences: ['foo'], expirationSeconds: 1200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uID: 'u-1' } }, status: { token: '', expirationTimestamp: {} },
  }));
  assert.deepEqual(token, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['foo'], expirationSeconds: 1200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u-1' } } });

  const binding = decodeKubernetesProtobuf(envelope('v1', 'Binding', 'io.k8s.api.core.v1.Binding', { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1', namespace: '', uid: '' } }));
  assert.deepEqual(binding, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } });

  const scale = decodeKubernetesProtobuf(envelope('autoscaling/v1', 'Scale', 'io.k8s.api.autoscaling.v1.Scale', { metadata: { name: 'd' }, spec: { replicas: 4 }, status: { replicas: 2, selector: 'app=d' } }));
  assert.deepEqual(scale, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd' }, spec: { replicas: 4 }, status: { replicas: 2, selector: 'app=d' } });

  const del = decodeKubernetesProtobuf(envelope('v1', 'DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', { propagationPolicy: 'Foreground', preconditions: { uid: 'abc' } }));
  assert.deepEqual(del, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', preconditions: { uid: 'abc' } });
  // Option kinds are registered in every group-version.
  const appsDel = decodeKubernetesProtobuf(envelope('autoscaling/v2', 'DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', { gracePeriodSeconds: 5, dryRun: ['All'] }));
  assert.deepEqual(appsDel, { apiVersion: 'autoscaling/v2', kind: 'DeleteOptions', gracePeriodSeconds: 5, dryRun: ['All'] });
});

test('the expected kind fills in an envelope without typeMeta', () => {
  const unknown = encode('io.k8s.apimachinery.pkg.runtime.Unknown', { raw: encode('io.k8s.api.core.v1.ConfigMap', { metadata: { name: 'a' }, data: { x: '1' } }) });
  const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
  assert.deepEqual(decodeKubernetesProtobuf(body, { group: '', version: 'v1', kind: 'ConfigMap' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: '1' } });
  assert.throws(() => decodeKubernetesProtobuf(body), (e: unknown) => e instanceof StatusError && e.code === 400);
});

test('bodies that are not Kubernetes protobuf, or name an unknown kind, are 400s', () => {
  const is400 = (re: RegExp) => (e: unknown): boolean => e instanceof StatusError && e.code === 400 && re.test(e.message);
  assert.throws(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Pod"}')), is400(/expected prefix \[107 56 115 0\]/));
  assert.throws(() => decodeKubernetesProtobuf(envelope('example.com/v1', 'Widget', 'io.k8s.api.core.v1.ConfigMap', {})), is400(/no kind "Widget" is registered for version "example.com\/v1"/));
  assert.throws(() => decodeKubernetesProtobuf(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, 0xff, 0xff])])), is400(/error decoding/));
});

// Captured from kubectl 1.32: `kubectl create deployment web --image=busybox --replicas=2 --port=8080`.
const KUBECTL_CREATE_DEPLOYMENT =
  'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50Er0BCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEosBCAISDAoKCgNhcHASA3dlYhpxChwKABIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViElESMwoHYnVzeWJveBIHYnVzeWJveCoAMgsKABAAGJA/IgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==';
// And `kubectl create secret generic bin --from-literal=p=q --from-literal=e= --type=Opaque`.
const KUBECTL_CREATE_SECRET = 'azhzAAoMCgJ2MRIGU2VjcmV0EiwKEwoDYmluEgAaACIAKgAyADgAQgASBQoBZRIAEgYKAXASAXEaBk9wYXF1ZRoAIgA=';

test('real kubectl bodies decode to what `kubectl create -f` of the same object sends', () => {
  assert.deepEqual(decodeKubernetesProtobuf(Buffer.from(KUBECTL_CREATE_DEPLOYMENT, 'base64'), { group: 'apps', version: 'v1', kind: 'Deployment' }), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'busybox', image: 'busybox', ports: [{ containerPort: 8080 }] }] } },
    },
  });
  assert.deepEqual(decodeKubernetesProtobuf(Buffer.from(KUBECTL_CREATE_SECRET, 'base64')), {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bin' }, data: { e: '', p: 'cQ==' }, type: 'Opaque',
  });
});

test('decodeBody dispatches on the media type: protobuf decodes, unknown types are 415', () => {
  assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isKubernetesProtobuf('Application/VND.kubernetes.protobuf; charset=binary'), true);
  assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), true);
  assert.equal(isKubernetesProtobuf('application/json'), false);
  assert.equal(isKubernetesProtobuf(undefined), false);

  const secret = decodeBody(Buffer.from(KUBECTL_CREATE_SECRET, 'base64'), 'application/vnd.kubernetes.protobuf') as Record<string, unknown>;
  assert.equal(secret.kind, 'Secret');
  assert.deepEqual(decodeBody(Buffer.from('{"a":1}'), 'application/json'), { a: 1 });
  assert.deepEqual(decodeBody(Buffer.from('a: 1'), 'application/yaml'), { a: 1 });
  assert.deepEqual(decodeBody(Buffer.from('{"a":1}'), undefined), { a: 1 });
  assert.throws(
    () => decodeBody(Buffer.from('a=1'), 'application/x-www-form-urlencoded'),
    (e: unknown) => e instanceof StatusError && e.code === 415 && e.reason === 'UnsupportedMediaType' && /accepted media types include: application\/json, application\/yaml, application\/vnd.kubernetes.protobuf/.test(e.message),
  );
});

test('Duration renders like Go', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(3.6e12), '1h0m0s');
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(1.5e9), '1.5s');
  assert.equal(formatDuration(1.5e6), '1.5ms');
  assert.equal(formatDuration(2000), '2µs');
  assert.equal(formatDuration(-5), '-5ns');
});

test('the table uses our OpenAPI definition names: every served built-in kind resolves and matches its schema', () => {
  const { definitions } = generateDefinitions();
  const pkgOf = (group: string): string => (group === '' ? 'core' : group.split('.')[0]!);
  for (const r of builtinResources) {
    if (r.group === 'apiextensions.k8s.io') continue; // CRDs are never sent as protobuf
    for (const version of r.versions) {
      const name = `io.k8s.api.${pkgOf(r.group)}.${version}.${r.kind}`;
      const fields = FIELD_NUMBERS[name];
      assert.ok(fields, `${name} is in the table`);
      const schema = definitions[name];
      assert.ok(schema, `${name} is an OpenAPI definition`);
      for (const [field, [, type, flags = '', json = field]] of Object.entries(fields)) {
        assert.ok(flags.includes('i') || schema.properties?.[json], `${name}.${json} is an OpenAPI property`);
        if (!scalars.has(type) && !/\.(Time|MicroTime|Quantity|IntOrString|RawExtension)$/.test(type)) assert.ok(definitions[type], `${type} is an OpenAPI definition`);
      }
    }
  }
});
