/**
 * A second `k8ts server` on the same etcd stands by: it serves the API at once, and takes over
 * the controllers and the scheduler when the leader dies (kill -9), as kube-controller-manager's
 * Lease election does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, startCluster, type TestAgent, type TestCluster } from '../support/cluster.js';
import { findEtcd, startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { eventually as poll } from '../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 90000): Promise<T> => poll(what, probe, ms);

const skip = !findEtcd() && !process.env['CI'];
let etcd: EtcdProcess | undefined;
let first: TestCluster | undefined;
let second: TestCluster | undefined;
let agent: TestAgent | undefined;

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  first = await startCluster({ etcd: etcd.endpoint });
  // Servers of one cluster share its certificates and token (k3s keeps them in the datastore;
  // here the second server's data dir starts as a copy of the first's).
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-standby-'));
  mkdirSync(join(dataDir, 'server'), { recursive: true });
  cpSync(join(first.dataDir, 'server', 'tls'), join(dataDir, 'server', 'tls'), { recursive: true });
  cpSync(join(first.dataDir, 'server', 'token'), join(dataDir, 'server', 'token'));
  second = await startCluster({ etcd: etcd.endpoint, dataDir });
  agent = await startAgent(second, ['--runtime', 'sim', '--node-name', 'worker', '--node-lease-duration-seconds', '8']);
});
after(async () => {
  await agent?.stop();
  await second?.destroy();
  await first?.destroy();
  await etcd?.stop();
});


const holder = async (c: TestCluster): Promise<string> => c.k(['get', 'lease', '-n', 'kube-system', 'k8ts-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}']);

test('the standby server takes over controllers and scheduling when the leader is killed', { skip }, async () => {
  const a = first!;
  const b = second!;
  await eventually('worker Ready', async () => /^worker\s+Ready/m.test(await b.k(['get', 'nodes'])));
  const leader = await holder(b);
  assert.ok(leader, 'one server holds the controller lease');
  await b.k(['create', 'deployment', 'before', '--image=busybox', '--replicas=2']);
  await b.k(['rollout', 'status', 'deployment/before', '--timeout=60s']);

  // The first server took the lease when it started alone; kill it.
  await a.kill9();
  const survivor = b;
  const next = await eventually('a new lease holder', async () => {
    const h = await holder(survivor);
    return h && h !== leader && h;
  });
  assert.notEqual(next, leader);
  await survivor.k(['create', 'deployment', 'after', '--image=busybox', '--replicas=2']);
  await survivor.k(['rollout', 'status', 'deployment/after', '--timeout=60s']);
  assert.match(await survivor.k(['get', 'deploy', 'after']), /^after\s+2\/2/m);
});
