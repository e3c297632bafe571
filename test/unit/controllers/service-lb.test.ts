import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import type { Client } from '../../../src/client/interface.js';
import { ServiceLBController } from '../../../src/controllers/service-lb.js';
import { eventually, startHarness } from './harness.js';

async function node(client: Client, name: string, ip: string, ready: boolean): Promise<void> {
  await client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const fresh = await client.get(refs.nodes, '', name);
  await client.update(refs.nodes, '', { ...fresh, status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, { subresource: 'status' });
}

const ingressOf = async (client: Client, name: string): Promise<string[]> =>
  (((await client.get(refs.services, 'default', name))['status'] as { loadBalancer?: { ingress?: Array<{ ip: string }> } }).loadBalancer?.ingress ?? []).map((i) => i.ip);

const lb = (name: string, port: number, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port }], ...extra } });

test('a LoadBalancer Service gets the Ready nodes\' addresses; a port taken by an older one stays pending; ClusterIP loses it', async () => {
  const h = await startHarness();
  try {
    await node(h.client, 'node-a', '192.168.5.10', true);
    await node(h.client, 'node-b', '192.168.5.11', true);
    await node(h.client, 'node-c', '192.168.5.12', false);
    await h.start(ServiceLBController);
    await h.client.create(refs.services, 'default', lb('web', 80));
    assert.deepEqual(await eventually(async () => {
      const ips = await ingressOf(h.client, 'web');
      return ips.length === 2 && ips;
    }, 'web to get ingress'), ['192.168.5.10', '192.168.5.11']);

    // Another load balancer's Service is left alone.
    await h.client.create(refs.services, 'default', lb('other', 81, { loadBalancerClass: 'example.com/lb' }));
    // The same port on the same addresses: pending, with an event naming the holder.
    await new Promise((r) => setTimeout(r, 1100)); // a younger creationTimestamp (second precision)
    await h.client.create(refs.services, 'default', lb('web2', 80));
    const event = await eventually(async () => (await h.client.list(refs.events, 'default')).items.find((e) => (e as { reason?: string }).reason === 'PortInUse'), 'a PortInUse event');
    assert.match((event as { message: string }).message, /default\/web/);
    assert.deepEqual(await ingressOf(h.client, 'web2'), []);
    assert.deepEqual(await ingressOf(h.client, 'other'), []);

    // The node that becomes Ready is added.
    const c = await h.client.get(refs.nodes, '', 'node-c');
    await h.client.update(refs.nodes, '', { ...c, status: { ...(c['status'] as object), conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    await eventually(async () => (await ingressOf(h.client, 'web')).length === 3, 'node-c added');

    // Turned into a ClusterIP Service, it has no load balancer any more.
    const web = await h.client.get(refs.services, 'default', 'web');
    await h.client.update(refs.services, 'default', { ...web, spec: { ...(web['spec'] as object), type: 'ClusterIP' } });
    await eventually(async () => (await ingressOf(h.client, 'web')).length === 0, 'web\'s ingress cleared');
    // … and the port is free for web2.
    await eventually(async () => (await ingressOf(h.client, 'web2')).length === 3, 'web2 served once the port is free');
  } finally {
    await h.stop();
  }
});
