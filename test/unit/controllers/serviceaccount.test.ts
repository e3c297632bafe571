import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refs } from '../../../src/client/informer.js';
import { ServiceAccountController } from '../../../src/controllers/serviceaccount.js';
import { RootCAPublisher } from '../../../src/controllers/root-ca-publisher.js';
import { eventually, startHarness } from './harness.js';

const caPem = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

test('a new namespace gets the default ServiceAccount and kube-root-ca.crt, and both come back', async () => {
  const h = await startHarness();
  try {
    h.ctx.options = { caPem };
    await h.start(ServiceAccountController, RootCAPublisher);
    await h.client.create(refs.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await eventually(() => h.client.get(refs.serviceaccounts, 'team-a', 'default'), 'default ServiceAccount');
    const cm = await eventually(() => h.client.get(refs.configmaps, 'team-a', 'kube-root-ca.crt'), 'kube-root-ca.crt');
    assert.equal((cm['data'] as Record<string, string>)['ca.crt'], caPem);
    // Namespaces that existed before the controllers started are covered too.
    await eventually(() => h.client.get(refs.serviceaccounts, 'kube-system', 'default'), 'default SA in kube-system');

    await h.client.delete(refs.serviceaccounts, 'team-a', 'default');
    await eventually(async () => {
      const sa = await h.client.get(refs.serviceaccounts, 'team-a', 'default');
      return !sa.metadata?.deletionTimestamp ? sa : undefined;
    }, 'default ServiceAccount re-created');

    const cur = await h.client.get(refs.configmaps, 'team-a', 'kube-root-ca.crt');
    await h.client.update(refs.configmaps, 'team-a', { ...cur, data: { 'ca.crt': 'tampered' } });
    await eventually(async () => ((await h.client.get(refs.configmaps, 'team-a', 'kube-root-ca.crt'))['data'] as Record<string, string>)['ca.crt'] === caPem, 'CA restored');
    await h.client.delete(refs.configmaps, 'team-a', 'kube-root-ca.crt');
    await eventually(() => h.client.get(refs.configmaps, 'team-a', 'kube-root-ca.crt'), 'kube-root-ca.crt re-created');
  } finally {
    await h.stop();
  }
});
