import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend } from '../../../src/store/memory.js';
import { loadOrCreateCertificates } from '../../../src/pki/certificate-authority.js';
import { startControlPlane } from '../../../src/cmd/control-plane.js';
import { createLogger } from '../../../src/machinery/logger.js';
import { refs } from '../../../src/client/informer.js';
import { ApiError, type Client } from '../../../src/client/interface.js';
import { ResourceQuotaAdmission, registryLookup } from '../../../src/apiserver/admission/resource-quota.js';
import { LimitRanger } from '../../../src/apiserver/admission/limit-ranger.js';
import { DefaultStorageClass } from '../../../src/apiserver/admission/default-storage-class.js';

async function withServer(fn: (client: Client) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-adm-'));
  const certs = await loadOrCreateCertificates(dir, { hostnames: [], ips: [] });
  const backend = new MemoryBackend();
  await backend.start();
  const plane = await startControlPlane({ backend, dataDir: dir, certs, token: 'tok', bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', serviceCIDR: '10.43.0.0/16', kubernetesServiceIP: '10.43.0.1', logger: createLogger('error'), disableControllers: true });
  const lookup = registryLookup(plane.apiServer.registry);
  // The chain is shared by every store, so hooks added here apply to every write.
  plane.apiServer.admissionChain.push(new LimitRanger((ns) => lookup('', 'limitranges', ns)), new DefaultStorageClass(() => lookup('storage.k8s.io', 'storageclasses', '')), new ResourceQuotaAdmission(lookup));
  try {
    await fn(plane.apiServer.client);
  } finally {
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const pod = (name: string, resources?: object): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', ...(resources ? { resources } : {}) }] } });

test('a quota of 2 pods refuses the third with Kubernetes wording; limits quota needs limits', async () => {
  await withServer(async (client) => {
    await client.create(refs.resourcequotas, 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '2' } } });
    await client.create(refs.pods, 'default', pod('a'));
    await client.create(refs.pods, 'default', pod('b'));
    const e = await refusal(client.create(refs.pods, 'default', pod('c')));
    assert.equal(e.code, 403);
    assert.equal(e.message, 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    // Another namespace is not limited.
    await client.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await client.create(refs.pods, 'other', pod('c'));

    await client.create(refs.resourcequotas, 'other', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute' }, spec: { hard: { 'limits.cpu': '1' } } });
    const m = await refusal(client.create(refs.pods, 'other', pod('d', { requests: { cpu: '100m' } })));
    assert.equal(m.message, 'pods "d" is forbidden: failed quota: compute: must specify limits.cpu for: c');
    await client.create(refs.pods, 'other', pod('d', { limits: { cpu: '600m' } }));
    const over = await refusal(client.create(refs.pods, 'other', pod('e', { limits: { cpu: '500m' } })));
    assert.equal(over.message, 'pods "e" is forbidden: exceeded quota: compute, requested: limits.cpu=500m, used: limits.cpu=600m, limited: limits.cpu=1');
  });
});

test('LimitRange defaults fill containers and min/max are enforced', async () => {
  await withServer(async (client) => {
    await client.create(refs.limitranges, 'default', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' }, min: { cpu: '50m' } }] } });
    const p = await client.create(refs.pods, 'default', pod('plain'));
    const res = ((p['spec'] as { containers: Array<{ resources: unknown }> }).containers[0]!).resources;
    assert.deepEqual(res, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    assert.equal(p.metadata?.annotations?.['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
    const e = await refusal(client.create(refs.pods, 'default', pod('big', { limits: { cpu: '2' } })));
    assert.equal(e.code, 403);
    assert.equal(e.message, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });
});

test('a claim without a class gets the default StorageClass', async () => {
  await withServer(async (client) => {
    await client.create(refs.storageclasses, '', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' });
    const claim = (name: string, cls?: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { ...(cls !== undefined ? { storageClassName: cls } : {}), accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    assert.equal(((await client.create(refs.persistentvolumeclaims, 'default', claim('a')))['spec'] as { storageClassName?: string }).storageClassName, 'fast');
    assert.equal(((await client.create(refs.persistentvolumeclaims, 'default', claim('b', '')))['spec'] as { storageClassName?: string }).storageClassName, '');
  });
});
