import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { VolumeManager } from '../../../../src/kubelet/volumes/volume-manager.js';
import { isMountPoint } from '../../../../src/kubelet/volumes/host-mounts.js';
import { FakeClock } from '../../../../src/machinery/clock.js';
import { createLogger } from '../../../../src/machinery/logger.js';
import { FakeClient } from './fake-client.js';

/** tmpfs checks need root; CI runs as root and never skips. */
const needsRoot = process.getuid?.() !== 0 && !process.env['CI'] ? 'needs root (tmpfs mounts)' : false;

interface Env {
  dir: string;
  client: FakeClient;
  clock: FakeClock;
  vm: VolumeManager;
  close(): Promise<void>;
}

function setup(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-vol-'));
  const client = new FakeClient();
  const clock = new FakeClock();
  client.now = () => clock.now();
  client.put('nodes', '', { metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi' } } });
  const vm = new VolumeManager({ client, podsDir: join(dir, 'pods'), nodeName: 'n1', log: createLogger('error'), clock });
  return {
    dir,
    client,
    clock,
    vm,
    async close() {
      try {
        execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
      } catch {
        // nothing mounted
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pod(spec: Partial<NonNullable<Pod['spec']>>, meta: Partial<NonNullable<Pod['metadata']>> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', labels: { app: 'web', tier: 'front "end"' }, ...meta },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

const volDir = (e: Env, plugin: string, name: string, uid = 'uid-1'): string => join(e.dir, 'pods', uid, 'volumes', plugin, name);

test('a missing configMap fails with the FailedMount message; once created, its keys are files that refresh updates in place', async () => {
  const e = setup();
  try {
    const p = pod({ volumes: [{ name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'a', path: 'conf/a.txt', mode: 0o600 }, { key: 'b', path: 'b' }] } }] });
    await assert.rejects(e.vm.setUp(p), (err: Error) => {
      assert.equal(err.name, 'VolumeError');
      assert.equal(err.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found');
      return true;
    });
    e.client.put('configmaps', 'default', { metadata: { name: 'app-config' }, data: { a: 'one' } });
    await assert.rejects(e.vm.setUp(p), /configmap references non-existent config key: b/);
    e.client.put('configmaps', 'default', { metadata: { name: 'app-config' }, data: { a: 'one' }, binaryData: { b: Buffer.from('bin').toString('base64') } });
    await e.vm.setUp(p);
    await e.vm.setUp(p);
    const dir = volDir(e, 'kubernetes.io~configmap', 'cfg');
    assert.equal(readFileSync(join(dir, 'conf/a.txt'), 'utf8'), 'one');
    assert.equal(statSync(join(dir, 'conf/a.txt')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'bin');
    assert.equal(statSync(join(dir, 'b')).mode & 0o777, 0o644);

    const mounts = await e.vm.mountsFor(p, { name: 'c', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }] }, { podIPs: [] });
    assert.deepEqual(mounts[0], { containerPath: '/etc/app', hostPath: dir, readonly: true, propagation: 'PROPAGATION_PRIVATE', selinuxRelabel: false });

    const before = readlinkSync(join(dir, '..data'));
    e.client.put('configmaps', 'default', { metadata: { name: 'app-config' }, data: { a: 'two' }, binaryData: { b: Buffer.from('bin').toString('base64') } });
    await e.vm.refresh(p);
    assert.equal(readFileSync(join(dir, 'conf/a.txt'), 'utf8'), 'two', 'the mounted directory shows the new value');
    assert.notEqual(readlinkSync(join(dir, '..data')), before);
  } finally {
    await e.close();
  }
});

test('an optional missing configMap or secret gives an empty volume', async () => {
  const e = setup();
  try {
    await e.vm.setUp(pod({ volumes: [{ name: 'o', configMap: { name: 'nope', optional: true } }, { name: 's', secret: { secretName: 'nope', optional: true } }] }));
    assert.equal(existsSync(join(volDir(e, 'kubernetes.io~configmap', 'o'), '..data')), true);
  } finally {
    await e.close();
  }
});

test('secrets are decoded onto a tmpfs that tearDown unmounts; tearDown twice is fine', { skip: needsRoot }, async () => {
  const e = setup();
  try {
    const p = pod({ volumes: [{ name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } }] });
    await assert.rejects(e.vm.setUp(p), { message: 'MountVolume.SetUp failed for volume "creds" : secret "db" not found' });
    e.client.put('secrets', 'default', { metadata: { name: 'db' }, data: { password: Buffer.from('s3cret').toString('base64') } });
    await e.vm.setUp(p);
    const dir = volDir(e, 'kubernetes.io~secret', 'creds');
    assert.equal(readFileSync(join(dir, 'password'), 'utf8'), 's3cret');
    assert.equal(statSync(join(dir, 'password')).mode & 0o777, 0o400);
    assert.equal(await isMountPoint(dir), true, 'secret volumes are tmpfs');
    // a restarted kubelet (a new manager) finds the volume mounted and does not stack a second tmpfs
    const restarted = new VolumeManager({ client: e.client, podsDir: join(e.dir, 'pods'), nodeName: 'n1', log: createLogger('error'), clock: e.clock });
    await restarted.setUp(p);
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === dir).length, 1);
    assert.deepEqual(await e.vm.podUidsOnDisk(), ['uid-1']);
    await e.vm.tearDown('uid-1');
    assert.deepEqual(await e.vm.podUidsOnDisk(), []);
    assert.equal(await isMountPoint(dir), false);
    assert.equal(existsSync(join(e.dir, 'pods', 'uid-1')), false);
    await e.vm.tearDown('uid-1');
  } finally {
    await e.close();
  }
});

test('emptyDir: a 0777 directory; medium Memory is a tmpfs of sizeLimit', { skip: needsRoot }, async () => {
  const e = setup();
  try {
    const p = pod({ volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }] });
    await e.vm.setUp(p);
    const scratch = volDir(e, 'kubernetes.io~empty-dir', 'scratch');
    assert.equal(statSync(scratch).mode & 0o777, 0o777);
    assert.equal(await isMountPoint(scratch), false);
    const mem = volDir(e, 'kubernetes.io~empty-dir', 'mem');
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mem);
    assert.ok(line, 'the memory emptyDir is mounted');
    assert.match(line, / - tmpfs tmpfs .*size=16384k/);
    writeFileSync(join(scratch, 'data'), 'x');
    await e.vm.tearDown('uid-1');
    assert.equal(await isMountPoint(mem), false);
    assert.equal(existsSync(scratch), false);
  } finally {
    await e.close();
  }
});

test('hostPath types are checked with Kubernetes\' messages, and *OrCreate make what is missing', async () => {
  const e = setup();
  try {
    const host = join(e.dir, 'host');
    mkdirSync(host);
    writeFileSync(join(host, 'file'), 'x');
    const check = async (name: string, path: string, type: string): Promise<string | undefined> => {
      try {
        await e.vm.setUp(pod({ volumes: [{ name, hostPath: { path, type } }] }, { uid: `uid-${name}` }));
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
    assert.equal(await check('d1', join(host, 'missing'), 'Directory'), `MountVolume.SetUp failed for volume "d1" : hostPath type check failed: ${join(host, 'missing')} is not a directory`);
    assert.equal(await check('d2', join(host, 'file'), 'DirectoryOrCreate'), `MountVolume.SetUp failed for volume "d2" : hostPath type check failed: ${join(host, 'file')} is not a directory`);
    assert.equal(await check('d3', join(host, 'new/dir'), 'DirectoryOrCreate'), undefined);
    assert.equal(statSync(join(host, 'new/dir')).isDirectory(), true);
    assert.equal(await check('f1', join(host, 'new/file'), 'FileOrCreate'), undefined);
    assert.equal(statSync(join(host, 'new/file')).isFile(), true);
    assert.equal(await check('f2', host, 'File'), `MountVolume.SetUp failed for volume "f2" : hostPath type check failed: ${host} is not a file`);
    assert.equal(await check('s1', join(host, 'file'), 'Socket'), `MountVolume.SetUp failed for volume "s1" : hostPath type check failed: ${join(host, 'file')} is not a socket file`);
    assert.equal(await check('c1', '/dev/null', 'CharDevice'), undefined);
    assert.equal(await check('b1', '/dev/null', 'BlockDevice'), 'MountVolume.SetUp failed for volume "b1" : hostPath type check failed: /dev/null is not a block device');
    const p = pod({ volumes: [{ name: 'h', hostPath: { path: host } }] }, { uid: 'uid-h' });
    const [m] = await e.vm.mountsFor(p, { name: 'c', volumeMounts: [{ name: 'h', mountPath: '/host', mountPropagation: 'HostToContainer' }] }, { podIPs: [] });
    assert.deepEqual(m, { containerPath: '/host', hostPath: host, readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER', selinuxRelabel: false });
    await e.vm.tearDown('uid-h');
    assert.equal(readFileSync(join(host, 'file'), 'utf8'), 'x', 'tearDown leaves host paths alone');
  } finally {
    await e.close();
  }
});

test('downwardAPI writes labels as sorted quoted lines and container resources in divisor units', async () => {
  const e = setup();
  try {
    const container: Container = { name: 'c', image: 'busybox', resources: { requests: { cpu: '250m', memory: '64Mi' } } };
    const p = pod({
      containers: [container],
      volumes: [
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } },
              { path: 'cpu_req', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
              { path: 'cpu_req_cores', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu' } },
              { path: 'mem_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
            ],
          },
        },
      ],
    });
    await e.vm.setUp(p);
    const dir = volDir(e, 'kubernetes.io~downward-api', 'info');
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    assert.equal(read('labels'), 'app="web"\ntier="front \\"end\\""');
    assert.equal(read('name'), 'web');
    assert.equal(read('app'), 'web');
    assert.equal(read('cpu_req'), '250');
    assert.equal(read('cpu_req_cores'), '1', 'cpu is rounded up');
    assert.equal(read('mem_limit'), '8192', 'an unset limit is the node\'s allocatable');
    p.metadata!.labels = { app: 'web', version: '2' };
    await e.vm.refresh(p);
    assert.equal(read('labels'), 'app="web"\nversion="2"');
  } finally {
    await e.close();
  }
});

test('the kube-api-access projected volume: token, ca.crt and namespace; the token is renewed at 80% of its life', async () => {
  const e = setup();
  try {
    e.client.put('configmaps', 'default', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA PEM' } });
    const p = pod({
      serviceAccountName: 'builder',
      volumes: [
        {
          name: 'kube-api-access-abcde',
          projected: {
            defaultMode: 0o644,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    });
    await assert.rejects(e.vm.setUp(p), { message: 'MountVolume.SetUp failed for volume "kube-api-access-abcde" : failed to fetch token: serviceaccounts "builder" not found' });
    e.client.put('serviceaccounts', 'default', { metadata: { name: 'builder' } });
    e.client.tokenLifetimeSeconds = 1000;
    await e.vm.setUp(p);
    const dir = volDir(e, 'kubernetes.io~projected', 'kube-api-access-abcde');
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'token-1');
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), 'CA PEM');
    assert.equal(readFileSync(join(dir, 'namespace'), 'utf8'), 'default');
    const req = e.client.tokenRequests[0] as { metadata: { name: string }; spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: unknown } };
    assert.equal(req.metadata.name, 'builder');
    assert.deepEqual(req.spec, { audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'uid-1' } });

    await e.clock.step(700_000);
    await e.vm.refresh(p);
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'token-1', 'at 70% of its life the token is kept');
    await e.clock.step(110_000);
    await e.vm.refresh(p);
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'token-2', 'past 80% a new token is written');
    assert.equal(e.client.tokenRequests.length, 2);
  } finally {
    await e.close();
  }
});

test('persistentVolumeClaim: a bound hostPath PV is used in place; an unbound claim is reported', async () => {
  const e = setup();
  try {
    const store = join(e.dir, 'storage', 'pvc-1_default_data');
    const p = pod({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] });
    e.client.put('persistentvolumeclaims', 'default', { metadata: { name: 'data', uid: 'claim-uid' }, spec: {}, status: { phase: 'Pending' } });
    await assert.rejects(e.vm.setUp(p), {
      message: 'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data: PVC is not bound',
    });
    e.client.put('persistentvolumeclaims', 'default', { metadata: { name: 'data', uid: 'claim-uid' }, spec: { volumeName: 'pvc-1' }, status: { phase: 'Bound' } });
    e.client.put('persistentvolumes', '', { metadata: { name: 'pvc-1' }, spec: { hostPath: { path: store, type: 'DirectoryOrCreate' }, claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' } } });
    await e.vm.setUp(p);
    assert.equal(statSync(store).isDirectory(), true);
    const [m] = await e.vm.mountsFor(p, { name: 'c', volumeMounts: [{ name: 'data', mountPath: '/data' }] }, { podIPs: [] });
    assert.equal(m?.hostPath, store);
    assert.equal(m?.readonly, false);

    e.client.put('persistentvolumes', '', { metadata: { name: 'pvc-2' }, spec: { nfs: { server: 'x', path: '/' }, claimRef: { name: 'other', namespace: 'default', uid: 'u2' } } });
    e.client.put('persistentvolumeclaims', 'default', { metadata: { name: 'other', uid: 'u2' }, spec: { volumeName: 'pvc-2' }, status: { phase: 'Bound' } });
    await assert.rejects(e.vm.setUp(pod({ volumes: [{ name: 'o', persistentVolumeClaim: { claimName: 'other' } }] }, { uid: 'uid-2' })), /MountVolume.SetUp failed for volume "pvc-2" : volume source nfs is not supported/);
  } finally {
    await e.close();
  }
});

test('mountsFor: subPath and subPathExpr inside the volume, /etc/hosts and the termination-log file', async () => {
  const e = setup();
  try {
    const p = pod(
      { hostname: 'web-0', subdomain: 'svc', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] }], volumes: [{ name: 'work', emptyDir: {} }] },
      { name: 'web-0' },
    );
    const c: Container = {
      name: 'app',
      terminationMessagePath: '/dev/termination-log',
      volumeMounts: [
        { name: 'work', mountPath: '/a', subPath: 'logs/a' },
        { name: 'work', mountPath: '/b', subPathExpr: '$(POD_NAME)/b', readOnly: true },
      ],
    };
    const mounts = await e.vm.mountsFor(p, c, { podIPs: ['10.42.0.7'], env: { POD_NAME: 'web-0' } });
    const work = volDir(e, 'kubernetes.io~empty-dir', 'work');
    assert.deepEqual(
      mounts.map((m) => [m.containerPath, m.hostPath, m.readonly]),
      [
        ['/a', join(work, 'logs/a'), false],
        ['/b', join(work, 'web-0/b'), true],
        ['/etc/hosts', join(e.dir, 'pods', 'uid-1', 'etc-hosts'), false],
        ['/dev/termination-log', mounts[3]?.hostPath, false],
      ],
    );
    assert.equal(statSync(join(work, 'logs/a')).isDirectory(), true, 'a missing subPath is created');
    assert.equal(
      readFileSync(join(e.dir, 'pods', 'uid-1', 'etc-hosts'), 'utf8'),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
        '10.42.0.7\tweb-0.svc.default.svc.cluster.local\tweb-0\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n',
    );
    const term = mounts[3]?.hostPath ?? '';
    assert.match(term, new RegExp(`${join(e.dir, 'pods', 'uid-1', 'containers', 'app')}/[0-9a-f]{8}$`));
    assert.equal(statSync(term).mode & 0o777, 0o666);
    const again = await e.vm.mountsFor(p, c, { podIPs: ['10.42.0.7'], env: { POD_NAME: 'web-0' } });
    assert.notEqual(again[3]?.hostPath, term, 'each container instance gets its own termination-message file');

    await assert.rejects(e.vm.mountsFor(p, { name: 'x', volumeMounts: [{ name: 'work', mountPath: '/x', subPathExpr: '$(MISSING)' }] }, { podIPs: [] }), { name: 'ContainerConfigError', message: 'missing value for MISSING' });
    await assert.rejects(e.vm.mountsFor(p, { name: 'x', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, { podIPs: [] }), { message: 'cannot find volume "nope" to mount into container "x"' });
    await assert.rejects(e.vm.mountsFor(p, { name: 'x', volumeMounts: [{ name: 'work', mountPath: '/x', mountPropagation: 'Bidirectional' }] }, { podIPs: [] }), {
      message: 'Bidirectional mount propagation is available only to privileged containers',
    });
    symlinkSync('/etc', join(work, 'escape'));
    await assert.rejects(e.vm.mountsFor(p, { name: 'x', volumeMounts: [{ name: 'work', mountPath: '/x', subPath: 'escape' }] }, { podIPs: [] }), {
      message: 'failed to prepare subPath for volumeMount "work" of container "x"',
    });
    const own = await e.vm.mountsFor(p, { name: 'x', terminationMessagePath: '', volumeMounts: [{ name: 'work', mountPath: '/etc/hosts', subPath: 'hosts' }] }, { podIPs: ['10.42.0.7'] });
    assert.deepEqual(own.map((m) => m.containerPath), ['/etc/hosts'], 'a container mounting its own /etc/hosts keeps it');
  } finally {
    await e.close();
  }
});
