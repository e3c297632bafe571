import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, containerEnv, expandEnvRefs, serviceEnvVars, type EnvContext, type EnvSources } from '../../../src/kubelet/container-env.js';

function sources(o: { configMaps?: ConfigMap[]; secrets?: Secret[]; services?: Service[] } = {}): EnvSources {
  return {
    configMap: async (ns, name) => o.configMaps?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    secret: async (ns, name) => o.secrets?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    services: async (ns) => (o.services ?? []).filter((s) => s.metadata?.namespace === ns || (s.metadata?.namespace === 'default' && s.metadata.name === 'kubernetes')),
  };
}

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, ns = 'shop'): Pod {
  return {
    metadata: { name: 'web-1', namespace: ns, uid: 'uid-123', labels: { app: 'web', tier: 'front' }, annotations: { note: 'hi' } },
    spec: { containers: [], nodeName: 'node-a', serviceAccountName: 'builder', ...spec },
  };
}

function ctx(p: Pod): EnvContext {
  return { pod: p, podIPs: ['10.42.0.7', 'fd00::7'], hostIP: '192.168.1.5', nodeName: 'node-a', nodeAllocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' } };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const asMap = (env: Array<{ key: string; value: string }>): Map<string, string> => new Map(env.map((e) => [e.key, e.value]));

const kubernetesSvc: Service = { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } };
const backendSvc: Service = {
  metadata: { name: 'my-backend', namespace: 'shop' },
  spec: { clusterIP: '10.43.12.9', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090, protocol: 'UDP' }] },
};
const headless: Service = { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } };
const otherNs: Service = { metadata: { name: 'elsewhere', namespace: 'other' }, spec: { clusterIP: '10.43.5.5', ports: [{ port: 1 }] } };

test('service variables follow the docker-link scheme for services with a cluster IP', () => {
  const env = asMap(serviceEnvVars([backendSvc, headless]));
  assert.equal(env.get('MY_BACKEND_SERVICE_HOST'), '10.43.12.9');
  assert.equal(env.get('MY_BACKEND_SERVICE_PORT'), '80');
  assert.equal(env.get('MY_BACKEND_SERVICE_PORT_HTTP'), '80');
  assert.equal(env.get('MY_BACKEND_SERVICE_PORT_METRICS'), '9090');
  assert.equal(env.get('MY_BACKEND_PORT'), 'tcp://10.43.12.9:80');
  assert.equal(env.get('MY_BACKEND_PORT_80_TCP'), 'tcp://10.43.12.9:80');
  assert.equal(env.get('MY_BACKEND_PORT_80_TCP_PROTO'), 'tcp');
  assert.equal(env.get('MY_BACKEND_PORT_80_TCP_PORT'), '80');
  assert.equal(env.get('MY_BACKEND_PORT_80_TCP_ADDR'), '10.43.12.9');
  assert.equal(env.get('MY_BACKEND_PORT_9090_UDP'), 'udp://10.43.12.9:9090');
  assert.ok(![...env.keys()].some((k) => k.startsWith('DB_')), 'headless services give no variables');
  const v6 = asMap(serviceEnvVars([{ metadata: { name: 'six' }, spec: { clusterIP: 'fd00::10', ports: [{ port: 8080 }] } }]));
  assert.equal(v6.get('SIX_PORT'), 'tcp://[fd00::10]:8080');
  assert.equal(v6.get('SIX_PORT_8080_TCP_ADDR'), 'fd00::10');
});

test('the pod gets its namespace services and kubernetes, only kubernetes without service links', async () => {
  const src = sources({ services: [kubernetesSvc, backendSvc, headless, otherNs] });
  const env = asMap(await containerEnv(ctx(pod()), { name: 'c' }, src));
  assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
  assert.equal(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
  assert.equal(env.get('KUBERNETES_PORT_443_TCP'), 'tcp://10.43.0.1:443');
  assert.equal(env.get('MY_BACKEND_SERVICE_HOST'), '10.43.12.9');
  assert.equal(env.has('ELSEWHERE_SERVICE_HOST'), false);

  const noLinks = asMap(await containerEnv(ctx(pod({ enableServiceLinks: false })), { name: 'c' }, src));
  assert.equal(noLinks.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  assert.equal(noLinks.has('MY_BACKEND_SERVICE_HOST'), false);
});

test('env overrides envFrom, $(VAR) expands from earlier variables and services, secrets are decoded', async () => {
  const src = sources({
    services: [backendSvc],
    configMaps: [{ metadata: { name: 'app-config', namespace: 'shop' }, data: { mode: 'fast', LEVEL: 'debug' } }],
    secrets: [{ metadata: { name: 'creds', namespace: 'shop' }, data: { password: b64('s3cr3t'), user: b64('admin') } }],
  });
  const c: Container = {
    name: 'main',
    envFrom: [{ configMapRef: { name: 'app-config' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }],
    env: [
      { name: 'LEVEL', value: 'info' },
      { name: 'URL', value: 'http://$(MY_BACKEND_SERVICE_HOST):$(MY_BACKEND_SERVICE_PORT)/$(mode)' },
      { name: 'ESCAPED', value: '$$(LEVEL) $(UNKNOWN) $(LEVEL)' },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'EMPTY' },
    ],
  };
  const env = asMap(await containerEnv(ctx(pod()), c, src));
  assert.equal(env.get('LEVEL'), 'info');
  assert.equal(env.get('mode'), 'fast');
  assert.equal(env.get('DB_password'), 's3cr3t');
  assert.equal(env.get('DB_user'), 'admin');
  assert.equal(env.get('URL'), 'http://10.43.12.9:80/fast');
  assert.equal(env.get('ESCAPED'), '$(LEVEL) $(UNKNOWN) info');
  assert.equal(env.get('MODE'), 'fast');
  assert.equal(env.get('PASS'), 's3cr3t');
  assert.equal(env.get('EMPTY'), '');
});

test('a later variable does not expand into an earlier one', async () => {
  const env = asMap(await containerEnv(ctx(pod()), { name: 'c', env: [{ name: 'A', value: '$(B)x' }, { name: 'B', value: 'b' }] }, sources()));
  assert.equal(env.get('A'), '$(B)x');
});

test('expansion keeps unterminated references and lone dollars', () => {
  const look = (n: string): string | undefined => (n === 'X' ? '1' : undefined);
  assert.equal(expandEnvRefs('$(X)$X$(X', look), '1$X$(X');
  assert.equal(expandEnvRefs('cost: 5$', look), 'cost: 5$');
  assert.equal(expandEnvRefs('$$$(X)', look), '$1');
});

test('missing configMaps, secrets and keys give the kubelet messages; optional ones are skipped', async () => {
  const src = sources({
    configMaps: [{ metadata: { name: 'app-config', namespace: 'shop' }, data: { other: 'x' } }],
    secrets: [{ metadata: { name: 'creds', namespace: 'shop' }, data: {} }],
  });
  const run = (c: Omit<Container, 'name'>): Promise<Array<{ key: string; value: string }>> => containerEnv(ctx(pod()), { name: 'c', ...c }, src);
  await assert.rejects(run({ env: [{ name: 'M', valueFrom: { configMapKeyRef: { name: 'nope', key: 'mode' } } }] }), (e: unknown) => e instanceof ContainerConfigError && e.message === 'configmap "nope" not found');
  await assert.rejects(run({ env: [{ name: 'M', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } }] }), { message: "couldn't find key mode in ConfigMap shop/app-config" });
  await assert.rejects(run({ env: [{ name: 'M', valueFrom: { secretKeyRef: { name: 'missing', key: 'k' } } }] }), { message: 'secret "missing" not found' });
  await assert.rejects(run({ env: [{ name: 'M', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }] }), { message: "couldn't find key token in Secret shop/creds" });
  await assert.rejects(run({ envFrom: [{ configMapRef: { name: 'absent' } }] }), { message: 'configmap "absent" not found' });
  await assert.rejects(run({ envFrom: [{ secretRef: { name: 'absent' } }] }), { message: 'secret "absent" not found' });
  const ok = asMap(
    await run({
      envFrom: [{ configMapRef: { name: 'absent', optional: true } }, { secretRef: { name: 'absent', optional: true } }],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'mode', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'creds', key: 'token', optional: true } } },
        { name: 'D', value: 'd' },
      ],
    }),
  );
  assert.deepEqual([...ok.keys()], ['D']);
});

test('fieldRef reads the pod, its IPs and the node', async () => {
  const f = (fieldPath: string): { name: string; valueFrom: { fieldRef: { fieldPath: string } } } => ({ name: fieldPath.replace(/\W/g, '_'), valueFrom: { fieldRef: { fieldPath } } });
  const paths = ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['note']", 'metadata.labels', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.podIP', 'status.podIPs'];
  const env = await containerEnv(ctx(pod()), { name: 'c', env: paths.map(f) }, sources());
  assert.deepEqual(
    env.map((e) => e.value),
    ['web-1', 'shop', 'uid-123', 'web', 'hi', 'app="web"\ntier="front"', 'node-a', 'builder', '192.168.1.5', '10.42.0.7', '10.42.0.7,fd00::7'],
  );
  await assert.rejects(containerEnv(ctx(pod()), { name: 'c', env: [f('spec.bogus')] }, sources()), ContainerConfigError);
});

test('resourceFieldRef divides and rounds up, and unset limits are the node allocatable', async () => {
  const p = pod({
    containers: [
      { name: 'app', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m', memory: '128Mi' } } },
      { name: 'side', resources: { requests: { cpu: '100m' } } },
    ],
  });
  const r = (name: string, resource: string, divisor?: string, containerName?: string): { name: string; valueFrom: { resourceFieldRef: { resource: string; divisor?: string; containerName?: string } } } => ({
    name,
    valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}), ...(containerName ? { containerName } : {}) } },
  });
  const env = asMap(
    await containerEnv(
      ctx(p),
      {
        ...p.spec!.containers[0]!,
        env: [
          r('CPU_LIMIT', 'limits.cpu'),
          r('CPU_LIMIT_M', 'limits.cpu', '1m'),
          r('CPU_REQ_M', 'requests.cpu', '1m'),
          r('CPU_REQ', 'requests.cpu'),
          r('MEM_LIMIT_MI', 'limits.memory', '1Mi'),
          r('MEM_REQ', 'requests.memory'),
          r('SIDE_CPU_LIMIT', 'limits.cpu', undefined, 'side'),
          r('SIDE_MEM_LIMIT_GI', 'limits.memory', '1Gi', 'side'),
          r('SIDE_MEM_REQ', 'requests.memory', undefined, 'side'),
          r('SIDE_EPHEMERAL_GI', 'limits.ephemeral-storage', '1Gi', 'side'),
        ],
      },
      sources(),
    ),
  );
  assert.equal(env.get('CPU_LIMIT'), '2');
  assert.equal(env.get('CPU_LIMIT_M'), '1500');
  assert.equal(env.get('CPU_REQ_M'), '250');
  assert.equal(env.get('CPU_REQ'), '1');
  assert.equal(env.get('MEM_LIMIT_MI'), '128');
  assert.equal(env.get('MEM_REQ'), String(64 * 1024 * 1024));
  assert.equal(env.get('SIDE_CPU_LIMIT'), '4');
  assert.equal(env.get('SIDE_MEM_LIMIT_GI'), '8');
  assert.equal(env.get('SIDE_MEM_REQ'), '0');
  assert.equal(env.get('SIDE_EPHEMERAL_GI'), '100');
  await assert.rejects(containerEnv(ctx(p), { name: 'x', env: [r('N', 'limits.cpu', undefined, 'ghost')] }, sources()), { message: 'container ghost not found' });
});
