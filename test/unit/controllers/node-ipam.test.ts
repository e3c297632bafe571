import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import { NodeIpamController } from '../../../src/controllers/node-ipam.js';
import { eventually, startHarness } from './harness.js';

import type { ApiObject } from '../../../src/client/interface.js';

function cidrOf(n: ApiObject): string | undefined {
  return (n['spec'] as { podCIDR?: string } | undefined)?.podCIDR;
}

test('node IPAM: distinct /24 pod CIDRs from the cluster CIDR, released with the node', async () => {
  const h = await startHarness();
  try {
    h.ctx.options = { clusterCIDR: '10.99.0.0/22', nodeCIDRMaskSize: 24 };
    await h.start(NodeIpamController);
    for (const name of ['n1', 'n2', 'n3']) await h.client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    const nodes = await eventually(async () => {
      const items = (await h.client.list(refs.nodes, '')).items;
      return items.length === 3 && items.every((n) => cidrOf(n)) ? items : undefined;
    }, 'three nodes with CIDRs');
    const cidrs = nodes.map((n) => cidrOf(n)!);
    assert.equal(new Set(cidrs).size, 3);
    for (const c of cidrs) assert.match(c, /^10\.99\.[0-3]\.0\/24$/);
    for (const n of nodes) assert.deepEqual((n['spec'] as { podCIDRs?: string[] }).podCIDRs, [cidrOf(n)]);

    // Only a fourth /24 is left in the /22; then none, until a node goes.
    await h.client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n4' } });
    const c4 = await eventually(async () => cidrOf(await h.client.get(refs.nodes, '', 'n4')), 'n4 CIDR');
    assert.ok(!cidrs.includes(c4));
    await h.client.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n5' } });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cidrOf(await h.client.get(refs.nodes, '', 'n5')), undefined, 'no CIDR left');
    await h.client.delete(refs.nodes, '', 'n2');
    const c2 = cidrOf(nodes.find((n) => n.metadata?.name === 'n2')!);
    const c5 = await eventually(async () => cidrOf(await h.client.get(refs.nodes, '', 'n5')), 'n5 gets the released CIDR', 15000);
    assert.equal(c5, c2);
  } finally {
    await h.stop();
  }
});
