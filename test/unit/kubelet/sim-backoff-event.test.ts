/** The sim kubelet's BackOff event reads as the real kubelet's: container and pod named. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import type { EventRecorder } from '../../../src/client/event-recorder.js';
import { refs } from '../../../src/client/informer.js';
import { SimNode } from '../../../src/kubelet/sim/sim-node.js';
import { startHarness, eventually, type Harness } from './control-plane-harness.js';

let h: Harness;
let node: SimNode;
const NODE = 'simnode-backoff';
const events: Array<{ name: string; type: string; reason: string; message: string }> = [];
const recorder: EventRecorder = {
  event: (obj, type, reason, message) => events.push({ name: obj.metadata?.name ?? '', type, reason, message }),
};

before(async () => {
  h = await startHarness();
  node = new SimNode(h.client, { name: NODE, internalIP: '172.30.0.9', defaultPodCIDR: '10.42.9.0/24', startDelayMs: 10, runMs: 20, backoffBaseMs: 40, backoffMaxMs: 80, recorder });
  await node.start();
});

after(async () => {
  node.close();
  await h.close();
});

test('a crash-looping container gets BackOff events naming the container and name_namespace(uid)', async () => {
  const created = await h.client.create(refs.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'crashy', namespace: 'default', annotations: { 'sim.k8ts.io/exit-code': '1', 'sim.k8ts.io/run-seconds': '0' } },
    spec: { nodeName: NODE, restartPolicy: 'Always', containers: [{ name: 'app', image: 'busybox' }] },
  } as ApiObject);
  const backoffs = await eventually('two BackOff events', async () => {
    const b = events.filter((e) => e.name === 'crashy' && e.reason === 'BackOff');
    return b.length >= 2 ? b : undefined;
  }, 5000);
  for (const e of backoffs) {
    assert.equal(e.type, 'Warning');
    assert.equal(e.message, `Back-off restarting failed container app in pod crashy_default(${created.metadata?.uid})`);
  }
});
