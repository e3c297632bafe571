/** The scheduler against the real API server (in-process, memory store). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend } from '../../../src/store/memory.js';
import { loadOrCreateCertificates } from '../../../src/pki/certificate-authority.js';
import { startControlPlane } from '../../../src/cmd/control-plane.js';
import { createLogger } from '../../../src/machinery/logger.js';
import { InformerFactory, refs } from '../../../src/client/informer.js';
import { ClientEventRecorder } from '../../../src/client/event-recorder.js';
import { ApiError, type ApiObject, type Client } from '../../../src/client/interface.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { request } from 'node:https';

/**
 * The in-process client stores Binding objects instead of binding (reported to the lead); until
 * it routes them like the HTTP server does, bindings go over HTTPS.
 */
function withHttpBindings(client: Client, port: number, token: string, ca: string): Client {
  const post = (ns: string, body: unknown): Promise<ApiObject> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/api/v1/namespaces/${ns}/bindings`, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(text) as ApiObject) : reject(new ApiError(res.statusCode ?? 500, 'Error', text))));
      });
      req.on('error', reject);
      req.end(data);
    });
  return new Proxy(client, {
    get(target, prop, recv) {
      if (prop === 'create') return (ref: { resource: string }, ns: string, obj: ApiObject, q?: unknown) => (ref.resource === 'bindings' ? post(ns, obj) : target.create(ref as never, ns, obj, q as never));
      return Reflect.get(target, prop, recv) as unknown;
    },
  });
}

async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function nodeObj(name: string, cpu: string): ApiObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, capacity: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

async function createNode(client: Client, name: string, cpu: string): Promise<void> {
  const created = await client.create(refs.nodes, '', nodeObj(name, cpu));
  // Status is ignored on create: write it like a kubelet would.
  await client.update(refs.nodes, '', { ...created, status: nodeObj(name, cpu)['status'] }, { subresource: 'status' });
}

function podObj(name: string, cpu: string, extra: Record<string, unknown> = {}): ApiObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...extra } };
}

async function nodeOf(client: Client, name: string): Promise<string | undefined> {
  const p = await client.get(refs.pods, 'default', name);
  return (p['spec'] as { nodeName?: string }).nodeName || undefined;
}

test('scheduler binds pods, explains failures, reacts to new nodes and preempts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-sched-'));
  const certs = await loadOrCreateCertificates(dir, { hostnames: [], ips: [] });
  const backend = new MemoryBackend();
  await backend.start();
  const log = createLogger(process.env['SCHED_DEBUG'] ? 'debug' : 'error');
  const plane = await startControlPlane({ backend, dataDir: dir, certs, token: 'tok', bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', serviceCIDR: '10.43.0.0/16', kubernetesServiceIP: '10.43.0.1', logger: log, disableControllers: true });
  const client = plane.apiServer.client;
  const informers = new InformerFactory(client);
  const schedClient = process.env['SCHED_INPROCESS_BINDINGS'] ? client : withHttpBindings(client, plane.port, 'tok', certs.serverCa.certPem);
  const scheduler = new Scheduler({ client: schedClient, informers, recorder: new ClientEventRecorder(client, 'default-scheduler'), log }, { initialBackoffMs: 50, maxBackoffMs: 200 });
  try {
    await createNode(client, 'n1', '2');
    await createNode(client, 'n2', '2');
    await scheduler.start();

    await client.create(refs.pods, 'default', podObj('small-a', '500m'));
    await client.create(refs.pods, 'default', podObj('small-b', '500m'));
    await client.create(refs.pods, 'default', podObj('other', '100m', { schedulerName: 'my-scheduler' }));
    const a = await eventually(() => nodeOf(client, 'small-a'), 'small-a bound');
    const b = await eventually(() => nodeOf(client, 'small-b'), 'small-b bound');
    assert.ok(['n1', 'n2'].includes(a) && ['n1', 'n2'].includes(b));
    assert.notEqual(a, b, 'least allocated spreads the two pods');
    const scheduledEvents = (await client.list(refs.events, 'default')).items.filter((e) => e['reason'] === 'Scheduled');
    await eventually(async () => (await client.list(refs.events, 'default')).items.some((e) => e['reason'] === 'Scheduled' && e['message'] === `Successfully assigned default/small-a to ${a}`), 'Scheduled event');
    assert.ok(scheduledEvents.length <= 2);

    // Too big for every node: FailedScheduling with Kubernetes' message, condition on the pod.
    await client.create(refs.pods, 'default', podObj('big', '3'));
    const ev = await eventually(async () => (await client.list(refs.events, 'default')).items.find((e) => e['reason'] === 'FailedScheduling' && (e['involvedObject'] as { name: string }).name === 'big'), 'FailedScheduling event');
    assert.match(String(ev['message']), /^0\/2 nodes are available: 2 Insufficient cpu\./);
    assert.equal(ev['type'], 'Warning');
    const cond = await eventually(async () => {
      const p = await client.get(refs.pods, 'default', 'big');
      return ((p['status'] as { conditions?: Array<Record<string, string>> }).conditions ?? []).find((c) => c['type'] === 'PodScheduled' && c['status'] === 'False');
    }, 'PodScheduled=False');
    assert.equal(cond['reason'], 'Unschedulable');
    assert.match(cond['message']!, /Insufficient cpu/);
    assert.equal(await nodeOf(client, 'big'), undefined);

    // A node that fits appears: the pod is scheduled there.
    await createNode(client, 'n3', '4');
    assert.equal(await eventually(() => nodeOf(client, 'big'), 'big bound after node add'), 'n3');
    assert.equal(await nodeOf(client, 'other'), undefined, 'pods of another scheduler are left alone');

    // Fill n1 and n2 with low-priority pods, then a high-priority pod preempts one.
    await client.create(refs.priorityclasses, '', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    for (const n of ['fill-1', 'fill-2']) await client.create(refs.pods, 'default', podObj(n, '1500m'));
    await eventually(() => nodeOf(client, 'fill-1'), 'fill-1 bound');
    await eventually(() => nodeOf(client, 'fill-2'), 'fill-2 bound');
    await client.create(refs.pods, 'default', podObj('vip', '1500m', { priorityClassName: 'high' }));
    // No kubelet here: finish graceful deletions as one would.
    const reaper = setInterval(() => {
      void client.list(refs.pods, 'default').then(async (l) => {
        for (const p of l.items) if (p.metadata?.deletionTimestamp) await client.delete(refs.pods, 'default', p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      });
    }, 50);
    const vipNode = await eventually(() => nodeOf(client, 'vip'), 'vip bound after preemption', 15000).finally(() => clearInterval(reaper));
    const vip = await client.get(refs.pods, 'default', 'vip');
    assert.equal((vip['status'] as { nominatedNodeName?: string }).nominatedNodeName, vipNode);
    assert.ok(['n1', 'n2'].includes(vipNode));
    const left = (await client.list(refs.pods, 'default')).items.map((p) => p.metadata?.name);
    assert.equal(left.filter((n) => n === 'fill-1' || n === 'fill-2').length, 1, 'exactly one victim');
    assert.ok((await client.list(refs.events, 'default')).items.some((e) => e['reason'] === 'Preempted'));
  } finally {
    await scheduler.stop();
    informers.stop();
    await plane.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
