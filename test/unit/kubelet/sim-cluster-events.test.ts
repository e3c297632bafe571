/** Simulated nodes write kubelet events (source kubelet on the node) without being handed a recorder. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import { refs } from '../../../src/client/informer.js';
import { SimCluster } from '../../../src/kubelet/sim/sim-cluster.js';
import { startHarness, eventually, type Harness } from './control-plane-harness.js';

let h: Harness;
let cluster: SimCluster;

before(async () => {
  h = await startHarness();
  cluster = new SimCluster(h.client, { nodes: 1, namePrefix: 'ev-', startDelayMs: 0, defaultPodCIDR: () => '10.42.0.0/24' });
  await cluster.start();
});

after(async () => {
  cluster.close();
  await h.close();
});

test('a pod started on a sim node gets Pulled, Created and Started events from kubelet on that node', async () => {
  await h.client.create(refs.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hello', namespace: 'default' },
    spec: { nodeName: 'ev-0', containers: [{ name: 'app', image: 'busybox' }] },
  } as ApiObject);
  const events = await eventually('three kubelet events', async () => {
    const list = await h.client.list(refs.events, 'default');
    const mine = list.items.filter((e) => (e['involvedObject'] as { name?: string }).name === 'hello');
    return mine.length >= 3 ? mine : undefined;
  }, 5000);
  assert.deepEqual(events.map((e) => e['reason']).sort(), ['Created', 'Pulled', 'Started']);
  for (const e of events) assert.deepEqual(e['source'], { component: 'kubelet', host: 'ev-0' });
  assert.equal(events.find((e) => e['reason'] === 'Started')?.['message'], 'Started container app');
});
