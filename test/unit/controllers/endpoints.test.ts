import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import { EndpointsController } from '../../../src/controllers/endpoints.js';
import { EndpointSliceController } from '../../../src/controllers/endpointslice.js';
import { eventually, startHarness } from './harness.js';

interface Subset {
  addresses?: Array<{ ip: string; nodeName?: string; hostname?: string; targetRef?: { kind: string; name: string; uid: string } }>;
  notReadyAddresses?: Array<{ ip: string; targetRef?: { name: string } }>;
  ports?: Array<{ name?: string; port: number; protocol: string }>;
}

interface Slice {
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string }> };
  addressType: string;
  endpoints?: Array<{ addresses: string[]; conditions: { ready: boolean; serving: boolean; terminating: boolean }; nodeName?: string; hostname?: string; targetRef?: { name: string } }>;
  ports?: Array<{ name?: string; port: number; protocol: string }>;
}

async function pod(client: Client, name: string, opts: { ip?: string; ready?: boolean; hostname?: string; app?: string } = {}): Promise<ApiObject> {
  const created = await client.create(refs.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: opts.app ?? 'web' } },
    spec: {
      nodeName: 'node-a',
      ...(opts.hostname ? { hostname: opts.hostname, subdomain: 'web' } : {}),
      containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http-alt', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }],
    },
  });
  if (opts.ip) await setStatus(client, name, opts.ip, opts.ready ?? false);
  return created;
}

async function setStatus(client: Client, name: string, ip: string, ready: boolean): Promise<void> {
  const fresh = await client.get(refs.pods, 'default', name);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await client.update(refs.pods, 'default', { ...fresh, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } }, { subresource: 'status' });
}

async function service(client: Client, metadata: ApiObject['metadata'], spec: Record<string, unknown>): Promise<void> {
  await client.create(refs.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata, spec });
}

async function slicesOf(client: Client, svc: string): Promise<Slice[]> {
  return (await client.list(refs.endpointslices, 'default', { labelSelector: `kubernetes.io/service-name=${svc}` })).items as unknown as Slice[];
}

test('Endpoints and EndpointSlices follow pod readiness and resolve named target ports', async () => {
  const h = await startHarness();
  try {
    await h.start(EndpointsController, EndpointSliceController);
    await service(h.client, { name: 'web', labels: { tier: 'front' } }, { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http-alt' }, { name: 'metrics', port: 9000, targetPort: 9090 }] });
    await pod(h.client, 'ready-1', { ip: '10.42.0.5', ready: true, hostname: 'r1' });
    await pod(h.client, 'unready-1', { ip: '10.42.0.6', ready: false });
    await pod(h.client, 'no-ip');
    await pod(h.client, 'other', { ip: '10.42.0.9', ready: true, app: 'db' });

    const ep = await eventually(async () => {
      const e = await h.client.get(refs.endpoints, 'default', 'web');
      const s = (e['subsets'] as Subset[] | undefined) ?? [];
      return s[0]?.addresses?.length === 1 && s[0].notReadyAddresses?.length === 1 ? e : undefined;
    }, 'Endpoints with one ready and one not-ready address');
    const subsets = ep['subsets'] as Subset[];
    assert.equal(subsets.length, 1);
    const [subset] = subsets;
    assert.equal(subset!.addresses![0]!.ip, '10.42.0.5');
    assert.equal(subset!.addresses![0]!.nodeName, 'node-a');
    assert.equal(subset!.addresses![0]!.hostname, 'r1');
    assert.equal(subset!.addresses![0]!.targetRef?.kind, 'Pod');
    assert.equal(subset!.addresses![0]!.targetRef?.name, 'ready-1');
    assert.equal(subset!.notReadyAddresses![0]!.ip, '10.42.0.6');
    assert.deepEqual(
      [...subset!.ports!].sort((a, b) => a.port - b.port),
      [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
    );
    assert.equal(ep.metadata?.labels?.['tier'], 'front');
    assert.ok(ep.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);

    const slice = await eventually(async () => {
      const [s] = await slicesOf(h.client, 'web');
      return s && (s.endpoints ?? []).length === 2 ? s : undefined;
    }, 'an EndpointSlice with two endpoints');
    assert.equal(slice.addressType, 'IPv4');
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata.labels['tier'], 'front');
    assert.equal(slice.metadata.ownerReferences?.[0]?.kind, 'Service');
    assert.ok(slice.metadata.name.startsWith('web-'));
    const byName = new Map(slice.endpoints!.map((e) => [e.targetRef?.name, e]));
    assert.deepEqual(byName.get('ready-1')!.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byName.get('unready-1')!.conditions, { ready: false, serving: false, terminating: false });
    assert.equal(byName.get('ready-1')!.nodeName, 'node-a');
    assert.equal(byName.get('ready-1')!.hostname, 'r1');
    assert.deepEqual(byName.get('ready-1')!.addresses, ['10.42.0.5']);
    assert.deepEqual(
      [...slice.ports!].sort((a, b) => a.port - b.port),
      [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
    );

    // Readiness flips: the ready pod becomes not ready and vice versa.
    await setStatus(h.client, 'unready-1', '10.42.0.6', true);
    await setStatus(h.client, 'ready-1', '10.42.0.5', false);
    await eventually(async () => {
      const s = ((await h.client.get(refs.endpoints, 'default', 'web'))['subsets'] as Subset[] | undefined) ?? [];
      return s[0]?.addresses?.[0]?.ip === '10.42.0.6' && s[0].notReadyAddresses?.[0]?.ip === '10.42.0.5';
    }, 'addresses swapped');
    await eventually(async () => {
      const [s] = await slicesOf(h.client, 'web');
      const e = new Map((s?.endpoints ?? []).map((x) => [x.targetRef?.name, x.conditions.ready]));
      return e.get('unready-1') === true && e.get('ready-1') === false;
    }, 'slice conditions swapped');

    // A deleted pod leaves both.
    await h.client.delete(refs.pods, 'default', 'unready-1', { gracePeriodSeconds: 0 });
    await eventually(async () => {
      const s = ((await h.client.get(refs.endpoints, 'default', 'web'))['subsets'] as Subset[] | undefined) ?? [];
      return s.length === 1 && !s[0]!.addresses && s[0]!.notReadyAddresses?.length === 1;
    }, 'deleted pod gone from Endpoints');
    await eventually(async () => {
      const all = await slicesOf(h.client, 'web');
      return all.length === 1 && all[0]!.endpoints?.length === 1;
    }, 'deleted pod gone from slices');

    // The API server's own `kubernetes` Endpoints are left alone, and no slice is made for it.
    const k = await h.client.get(refs.endpoints, 'default', 'kubernetes').catch(() => undefined);
    assert.ok(!k?.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
    assert.equal((await slicesOf(h.client, 'kubernetes')).filter((s) => s.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io').length, 0);

    // Deleting the Service removes its Endpoints and slices.
    await h.client.delete(refs.services, 'default', 'web');
    await eventually(async () => {
      try {
        await h.client.get(refs.endpoints, 'default', 'web');
        return false;
      } catch {
        return (await slicesOf(h.client, 'web')).length === 0;
      }
    }, 'Endpoints and slices removed with the Service');
  } finally {
    await h.stop();
  }
});

test('publishNotReadyAddresses, the per-slice limit and a headless Service without ports', async () => {
  const h = await startHarness();
  try {
    h.ctx.options = { maxEndpointsPerSlice: 2 };
    await h.start(EndpointsController, EndpointSliceController);
    await service(h.client, { name: 'web' }, { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'web' } });
    for (let i = 1; i <= 5; i++) await pod(h.client, `p${i}`, { ip: `10.42.1.${i}`, ready: i === 1 });
    const ep = await eventually(async () => {
      const e = await h.client.get(refs.endpoints, 'default', 'web');
      const s = (e['subsets'] as Subset[] | undefined) ?? [];
      return s[0]?.addresses?.length === 5 ? e : undefined;
    }, 'all five addresses ready');
    const subset = (ep['subsets'] as Subset[])[0]!;
    assert.equal(subset.notReadyAddresses, undefined);
    assert.equal(subset.ports, undefined);
    assert.equal(ep.metadata?.labels?.['service.kubernetes.io/headless'], '');

    const slices = await eventually(async () => {
      const all = await slicesOf(h.client, 'web');
      const n = all.reduce((a, s) => a + (s.endpoints ?? []).length, 0);
      return n === 5 && all.length === 3 ? all : undefined;
    }, 'five endpoints over three slices of at most two');
    for (const s of slices) {
      assert.ok((s.endpoints ?? []).length <= 2);
      for (const e of s.endpoints ?? []) assert.equal(e.conditions.ready, true);
    }
    const ips = slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.addresses[0])).sort();
    assert.deepEqual(ips, ['10.42.1.1', '10.42.1.2', '10.42.1.3', '10.42.1.4', '10.42.1.5']);

    // Stable: with nothing changing, the slices are not rewritten.
    const before = (await slicesOf(h.client, 'web')).map((s) => `${s.metadata.name}@${String((s.metadata as { resourceVersion?: string }).resourceVersion)}`).sort();
    await new Promise((r) => setTimeout(r, 300));
    const after = (await slicesOf(h.client, 'web')).map((s) => `${s.metadata.name}@${String((s.metadata as { resourceVersion?: string }).resourceVersion)}`).sort();
    assert.deepEqual(after, before);

    // All pods gone: one empty placeholder slice remains.
    for (let i = 1; i <= 5; i++) await h.client.delete(refs.pods, 'default', `p${i}`, { gracePeriodSeconds: 0 });
    await eventually(async () => {
      const all = await slicesOf(h.client, 'web');
      return all.length === 1 && (all[0]!.endpoints ?? []).length === 0;
    }, 'one placeholder slice');
  } finally {
    await h.stop();
  }
});

test('a Service with one unnamed port (as `kubectl expose` makes) gets one slice that is not rewritten', async () => {
  const h = await startHarness();
  try {
    await h.start(EndpointsController, EndpointSliceController);
    await service(h.client, { name: 'web' }, { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 9090 }] });
    await pod(h.client, 'p1', { ip: '10.42.2.1', ready: true });
    await pod(h.client, 'p2', { ip: '10.42.2.2', ready: true });
    const revisions = async (): Promise<string[]> =>
      (await slicesOf(h.client, 'web')).map((s) => `${s.metadata.name}@${String((s.metadata as { resourceVersion?: string }).resourceVersion)}`);
    const slices = await eventually(async () => {
      const all = await slicesOf(h.client, 'web');
      return all.length === 1 && (all[0]!.endpoints ?? []).length === 2 ? all : undefined;
    }, 'one slice with both pods');
    // Kubernetes writes the empty port name out; the controller must compare against that.
    assert.deepEqual(slices[0]!.ports, [{ name: '', port: 9090, protocol: 'TCP' }]);
    const before = await revisions();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await revisions(), before);
  } finally {
    await h.stop();
  }
});
