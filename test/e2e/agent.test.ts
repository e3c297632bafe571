/**
 * `k8ts agent` joins nodes to a `k8ts server` that runs none itself: with the join token the
 * server saved, over HTTPS with the CA checked against the token; pods run on the agents' nodes,
 * and a killed agent's pods move to the other one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, run, startAgent, startCluster, type TestAgent, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 60000): Promise<T> => poll(what, probe, ms);

let c: TestCluster;
const agents: TestAgent[] = [];
before(async () => {
  c = await startCluster({ extraArgs: ['--node-monitor-grace-period', '3', '--default-toleration-seconds', '2'] });
});
after(async () => {
  for (const a of agents) await a.stop();
  await c?.destroy();
});


test('an agent with a token for another cluster is refused before it registers anything', async () => {
  const wrongCA = `K10${'0'.repeat(64)}::server:whatever`;
  const r = await run(process.execPath, [cli, 'agent', '--server', c.server, '--token', wrongCA, '--node-name', 'intruder']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /presents a CA that does not match the token/);
  const token = readFileSync(join(c.dataDir, 'server', 'token'), 'utf8').trim();
  const badSecret = token.replace(/::server:.*$/, '::server:not-the-secret');
  const r2 = await run(process.execPath, [cli, 'agent', '--server', c.server, '--token', badSecret, '--node-name', 'intruder']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /the server refused the token \(Unauthorized\)/);
  assert.doesNotMatch(await c.k(['get', 'nodes']), /intruder/);
});

test('two agents join, run a Deployment, and a killed agent\'s pods move to the other', async () => {
  // Heartbeats every second: more often than the server's 3 s node monitor grace period.
  agents.push(await startAgent(c, ['--runtime', 'sim', '--node-name', 'worker-a', '--node-lease-duration-seconds', '4']));
  const b = await startAgent(c, ['--runtime', 'sim', '--node-name', 'worker-b', '--node-lease-duration-seconds', '4']);
  agents.push(b);
  await eventually('2 Ready nodes', async () => (await c.k(['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /^worker-[ab]\s+Ready\s/.test(l)).length === 2);

  await c.k(['create', 'deployment', 'web', '--image=busybox', '--replicas=4']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  const nodesOf = async (): Promise<string[]> => (await c.k(['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim().split(/\s+/);
  assert.deepEqual([...new Set(await nodesOf())].sort(), ['worker-a', 'worker-b']);
  // The server answers metrics.k8s.io for nodes it does not run itself.
  const top = await eventually('kubectl top node', async () => {
    const r = await c.kubectl(['top', 'node']);
    return r.code === 0 && /^worker-a\s+\d+m/m.test(r.stdout) && /^worker-b\s+\d+m/m.test(r.stdout) && r.stdout;
  });
  assert.match(top, /^NAME\s+CPU\(cores\)/m);

  await b.kill9();
  await eventually('worker-b NotReady', async () => /^worker-b\s+NotReady/m.test(await c.k(['get', 'nodes'])));
  await eventually(async () => `4 running pods, all on worker-a; now:\n${await c.k(['get', 'pods', '-o', 'wide'])}`, async () => {
    const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Array<{ metadata: { deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }> };
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
    return live.length === 4 && live.every((p) => p.spec.nodeName === 'worker-a');
  });
  assert.match(await c.k(['get', 'deploy', 'web']), /^web\s+4\/4/m);
});
