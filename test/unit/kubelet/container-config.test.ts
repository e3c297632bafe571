import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerConfig, milliCPUToShares, oomScoreAdj, podSandboxConfig, qosClass, verifyRunAsNonRoot } from '../../../src/kubelet/container-config.js';
import { ContainerConfigError } from '../../../src/kubelet/container-env.js';

type Obj = Record<string, unknown>;
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);

function pod(containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { 'kubernetes.io/config.source': 'api' } }, spec: { containers, ...spec } };
}
const res = (requests?: Record<string, string>, limits?: Record<string, string>): Container['resources'] => ({ ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) });

test('QoS class: BestEffort, Burstable, Guaranteed as Kubernetes computes it', () => {
  assert.equal(qosClass(pod([{ name: 'a' }])), 'BestEffort');
  assert.equal(qosClass(pod([{ name: 'a', resources: res({ cpu: '100m' }) }])), 'Burstable');
  assert.equal(qosClass(pod([{ name: 'a', resources: res({ cpu: '1', memory: '1Gi' }, { cpu: '1000m', memory: '1Gi' }) }])), 'Guaranteed');
  // Undefaulted limits alone count as Burstable in GetPodQOS (the API server copies them into requests first).
  assert.equal(qosClass(pod([{ name: 'a', resources: res(undefined, { cpu: '1', memory: '1Gi' }) }])), 'Burstable');
  // The class recorded in status wins.
  assert.equal(qosClass({ ...pod([{ name: 'a' }]), status: { qosClass: 'Burstable' } }), 'Burstable');
  // One container without limits makes the pod Burstable.
  assert.equal(qosClass(pod([{ name: 'a', resources: res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }) }, { name: 'b', resources: res({ cpu: '1' }) }])), 'Burstable');
  assert.equal(qosClass(pod([{ name: 'a', resources: res({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }) }])), 'Burstable');
  // Other resources do not count.
  assert.equal(qosClass(pod([{ name: 'a', resources: res({ 'ephemeral-storage': '1Gi' }) }])), 'BestEffort');
});

test('sandbox config: metadata, hostname, labels, cgroup parent, namespaces, ports, DNS', () => {
  const p = pod(
    [
      { name: 'web', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: 'UDP', name: 'dns' }] },
      { name: 'side', securityContext: { privileged: true } },
    ],
    { hostname: 'front', shareProcessNamespace: true, securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000], sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } },
  );
  const c = podSandboxConfig(p, { attempt: 2, logDirectory: '/logs/shop_web-1_u-1', dns: { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local'], options: ['ndots:5'] } });
  assert.deepEqual(c['metadata'], { name: 'web-1', uid: 'u-1', namespace: 'shop', attempt: 2 });
  assert.equal(c['hostname'], 'front');
  assert.equal(c['logDirectory'], '/logs/shop_web-1_u-1');
  assert.deepEqual(c['labels'], { app: 'web', 'io.kubernetes.pod.name': 'web-1', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1' });
  assert.deepEqual(c['annotations'], { 'kubernetes.io/config.source': 'api' });
  assert.deepEqual(c['dnsConfig'], { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local'], options: ['ndots:5'] });
  assert.deepEqual(c['portMappings'], [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
    { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
  ]);
  assert.equal(at(c, 'linux', 'cgroupParent'), '/kubepods/besteffort/podu-1');
  const sc = at(c, 'linux', 'securityContext') as Obj;
  assert.deepEqual(sc['namespaceOptions'], { network: 'POD', pid: 'POD', ipc: 'POD' });
  assert.equal(sc['privileged'], true);
  assert.deepEqual(sc['runAsUser'], { value: '1000' });
  assert.deepEqual(sc['runAsGroup'], { value: '3000' });
  assert.deepEqual(sc['supplementalGroups'], ['2000', '4000']);
  assert.deepEqual(at(c, 'linux', 'sysctls'), { 'net.core.somaxconn': '1024' });

  const host = podSandboxConfig(pod([{ name: 'a' }], { hostNetwork: true, hostPID: true }), { attempt: 0, logDirectory: '/l' });
  // The node's UTS namespace is shared, so the sandbox sets no hostname of its own.
  assert.equal(host['hostname'], '');
  assert.deepEqual(at(host, 'linux', 'securityContext', 'namespaceOptions'), { network: 'NODE', pid: 'NODE', ipc: 'POD' });
  assert.equal(at(host, 'linux', 'securityContext', 'privileged'), false);
  assert.equal(host['portMappings'], undefined);

  const long = 'x'.repeat(60) + '-abc-def';
  assert.equal(podSandboxConfig({ metadata: { name: long, uid: 'u' }, spec: { containers: [] } }, { attempt: 0, logDirectory: '/l' })['hostname'], 'x'.repeat(60) + '-ab');
});

test('cgroup parent follows the QoS class', () => {
  const g = pod([{ name: 'a', resources: res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }) }]);
  const b = pod([{ name: 'a', resources: res({ memory: '1Gi' }) }]);
  assert.equal(at(podSandboxConfig(g, { attempt: 0, logDirectory: '/l' }), 'linux', 'cgroupParent'), '/kubepods/podu-1');
  assert.equal(at(podSandboxConfig(b, { attempt: 0, logDirectory: '/l' }), 'linux', 'cgroupParent'), '/kubepods/burstable/podu-1');
});

test('container config: command/args expanded, env, mounts, log path, labels and annotations', () => {
  const c: Container = {
    name: 'main',
    image: 'busybox',
    command: ['sh', '-c'],
    args: ['echo $(GREETING) $(MISSING) $$(GREETING)'],
    workingDir: '/work',
    tty: true,
    stdin: true,
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ports: [{ containerPort: 80 }],
  };
  const p = pod([c], { terminationGracePeriodSeconds: 45 });
  const cfg = containerConfig(p, c, {
    attempt: 3,
    env: [{ key: 'GREETING', value: 'héllo' }],
    mounts: [
      { containerPath: '/data', hostPath: '/var/lib/k8ts/pods/u-1/volumes/data' },
      { containerPath: '/cfg', hostPath: '/h/cfg', readonly: true, propagation: 'HostToContainer' },
    ],
    image: 'sha256:abc',
  });
  assert.deepEqual(cfg['metadata'], { name: 'main', attempt: 3 });
  assert.deepEqual(cfg['image'], { image: 'sha256:abc', userSpecifiedImage: 'busybox' });
  assert.deepEqual(cfg['command'], ['sh', '-c']);
  assert.deepEqual(cfg['args'], ['echo héllo $(MISSING) $(GREETING)']);
  assert.equal(cfg['workingDir'], '/work');
  const envs = cfg['envs'] as Array<{ key: string; value: Uint8Array }>;
  assert.deepEqual(
    envs.map((e) => [e.key, Buffer.from(e.value).toString('utf8')]),
    [['GREETING', 'héllo']],
  );
  assert.deepEqual(cfg['mounts'], [
    { containerPath: '/data', hostPath: '/var/lib/k8ts/pods/u-1/volumes/data', readonly: false, selinuxRelabel: false, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/cfg', hostPath: '/h/cfg', readonly: true, selinuxRelabel: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
  ]);
  assert.equal(cfg['logPath'], 'main/3.log');
  assert.equal(cfg['tty'], true);
  assert.equal(cfg['stdin'], true);
  assert.equal(cfg['stdinOnce'], false);
  assert.deepEqual(cfg['labels'], { 'io.kubernetes.pod.name': 'web-1', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.container.name': 'main' });
  const ann = cfg['annotations'] as Record<string, string>;
  assert.equal(ann['io.kubernetes.container.restartCount'], '3');
  assert.equal(ann['io.kubernetes.container.terminationMessagePath'], '/dev/termination-log');
  assert.equal(ann['io.kubernetes.container.terminationMessagePolicy'], 'FallbackToLogsOnError');
  assert.equal(ann['io.kubernetes.pod.terminationGracePeriod'], '45');
  assert.equal(ann['io.kubernetes.container.ports'], '[{"containerPort":80}]');
  assert.match(ann['io.kubernetes.container.hash'] ?? '', /^[0-9a-f]+$/);

  // Without command/args the image's entrypoint and cmd stay.
  const plain = containerConfig(p, { name: 'x' }, { attempt: 0, env: [], mounts: [], image: 'img' });
  assert.deepEqual([plain['command'], plain['args']], [[], []]);
});

test('resources: shares, quota and memory limit from requests and limits', () => {
  const mem = { cpu: '4', memory: '8Gi' };
  const one = (c: Container, p = pod([c])): Obj => at(containerConfig(p, c, { attempt: 0, env: [], mounts: [], image: 'i', nodeAllocatable: mem }), 'linux', 'resources') as Obj;
  const burst = one({ name: 'a', resources: res({ cpu: '250m', memory: '1Gi' }, { cpu: '500m', memory: '2Gi' }) });
  assert.equal(burst['cpuShares'], '256');
  assert.equal(burst['cpuPeriod'], '100000');
  assert.equal(burst['cpuQuota'], '50000');
  assert.equal(burst['memoryLimitInBytes'], String(2 * 1024 ** 3));
  // 1000 - 1000 * 1Gi / 8Gi
  assert.equal(burst['oomScoreAdj'], '875');

  const best = one({ name: 'a' });
  assert.equal(best['cpuShares'], '2');
  assert.equal(best['cpuQuota'], '0');
  assert.equal(best['memoryLimitInBytes'], undefined);
  assert.equal(best['oomScoreAdj'], '1000');

  // A limit without a request gives shares from the limit; tiny quotas are raised to 1 ms.
  const limitOnly = one({ name: 'a', resources: res(undefined, { cpu: '5m', memory: '64Mi' }) });
  assert.equal(limitOnly['cpuShares'], '5');
  assert.equal(limitOnly['cpuQuota'], '1000');
  assert.equal(limitOnly['oomScoreAdj'], '999');
  const guaranteed = one({ name: 'a', resources: res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }) });
  assert.equal(guaranteed['oomScoreAdj'], '-998');
  assert.equal(guaranteed['cpuShares'], '1024');
  assert.equal(milliCPUToShares(1n), 2n);
  assert.equal(milliCPUToShares(1000000n), 262144n);
});

test('OOM score of burstable containers stays between guaranteed and besteffort', () => {
  const cap = 1000n * 1024n * 1024n;
  const mk = (memory?: string): [Pod, Container] => {
    const c: Container = { name: 'a', resources: res(memory ? { memory, cpu: '1m' } : { cpu: '1m' }) };
    return [pod([c]), c];
  };
  assert.equal(oomScoreAdj(...mk(), cap), 999);
  assert.equal(oomScoreAdj(...mk('1000Mi'), cap), 2);
  assert.equal(oomScoreAdj(...mk('500Mi'), cap), 500);
});

test('security context: container over pod, capabilities, noNewPrivs, masked paths, namespaces', () => {
  const c: Container = {
    name: 'a',
    securityContext: { runAsUser: 1001, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  };
  const p = pod([c], { shareProcessNamespace: true, securityContext: { runAsUser: 5, runAsGroup: 6, runAsNonRoot: true, fsGroup: 7, seccompProfile: { type: 'RuntimeDefault' } } });
  const sc = at(containerConfig(p, c, { attempt: 0, env: [], mounts: [], image: 'i' }), 'linux', 'securityContext') as Obj;
  assert.deepEqual(sc['runAsUser'], { value: '1001' });
  assert.deepEqual(sc['runAsGroup'], { value: '6' });
  assert.deepEqual(sc['capabilities'], { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
  assert.equal(sc['readonlyRootfs'], true);
  assert.equal(sc['noNewPrivs'], true);
  assert.equal(sc['privileged'], false);
  assert.deepEqual(sc['supplementalGroups'], ['7']);
  assert.deepEqual(sc['namespaceOptions'], { network: 'POD', pid: 'POD', ipc: 'POD' });
  assert.deepEqual(sc['seccomp'], { profileType: 'RuntimeDefault' });
  assert.ok((sc['maskedPaths'] as string[]).includes('/proc/kcore'));
  assert.ok((sc['readonlyPaths'] as string[]).includes('/proc/sys'));

  const bare = at(containerConfig(pod([{ name: 'b' }]), { name: 'b' }, { attempt: 0, env: [], mounts: [], image: 'i' }), 'linux', 'securityContext') as Obj;
  assert.equal(bare['runAsUser'], undefined);
  assert.equal(bare['noNewPrivs'], false);
  assert.equal(bare['capabilities'], undefined);
  assert.deepEqual(bare['seccomp'], { profileType: 'Unconfined' });
  assert.deepEqual(bare['namespaceOptions'], { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
});

test('runAsNonRoot is verified against the runAsUser or the image user', () => {
  const p = pod([{ name: 'a' }], { securityContext: { runAsNonRoot: true } });
  const c: Container = { name: 'a' };
  assert.throws(() => verifyRunAsNonRoot(p, c, { uid: 0 }), (e: unknown) => e instanceof ContainerConfigError && e.message === 'container has runAsNonRoot and image will run as root (pod: "web-1_shop(u-1)", container: a)');
  assert.throws(() => verifyRunAsNonRoot(p, c, { username: 'nobody' }), { message: 'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web-1_shop(u-1)", container: a)' });
  assert.throws(() => verifyRunAsNonRoot(p, { name: 'a', securityContext: { runAsUser: 0 } }), { message: 'container\'s runAsUser breaks non-root policy (pod: "web-1_shop(u-1)", container: a)' });
  verifyRunAsNonRoot(p, c, { uid: '1000' });
  verifyRunAsNonRoot(p, { name: 'a', securityContext: { runAsUser: 1000 } });
  verifyRunAsNonRoot(pod([c]), c, { uid: 0 });
});
