/**
 * The syncer against the real iptables, in a network namespace the test makes: rules land, a
 * change rewrites only the chains it touches, stale chains of an earlier run are removed, and
 * cleanup leaves nothing. Needs root (CI runs as root).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import type { ApiObject } from '../../../src/client/interface.js';
import { IptablesSyncer, systemIptables, type IptablesRunner } from '../../../src/proxy/iptables.js';
import { proxyRules } from '../../../src/proxy/iptables-rules.js';
import { servicePorts } from '../../../src/proxy/service-ports.js';

const root = process.getuid?.() === 0;
const netns = `k8tsp${Math.random().toString(36).slice(2, 8)}`;
const prefix = ['nsenter', `--net=/run/netns/${netns}`];

before(() => {
  if (root) execFileSync('ip', ['netns', 'add', netns]);
});
after(() => {
  if (root) spawnSync('ip', ['netns', 'del', netns]);
});

const save = (table: string): string => execFileSync(prefix[0]!, [...prefix.slice(1), 'iptables-save', '-t', table], { encoding: 'utf8' });

/** Services web0, web1, … with the endpoints given for each. */
function rulesFor(endpointsOf: string[][]) {
  const svcs: ApiObject[] = [];
  const slices: ApiObject[] = [];
  for (const [i, endpoints] of endpointsOf.entries()) {
    svcs.push({ metadata: { namespace: 'demo', name: `web${i}` }, spec: { clusterIP: `10.43.0.${20 + i}`, ports: [{ port: 80 }] } });
    slices.push({ metadata: { namespace: 'demo', name: `web${i}-x`, labels: { 'kubernetes.io/service-name': `web${i}` } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: endpoints.map((ip) => ({ addresses: [ip], conditions: { ready: true } })) });
  }
  const ports = servicePorts(svcs, (ns, name) => slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name), 'node-a');
  return { ports, rules: proxyRules(ports, { bridge: 'k8ts0' }) };
}

/** Records every restore input, passing it on to the real iptables. */
function recording(): IptablesRunner & { inputs: string[] } {
  const real = systemIptables(prefix);
  const inputs: string[] = [];
  return { ...real, inputs, restore: (input) => (inputs.push(input), real.restore(input)) };
}

test('rules land, jump rules are added once, and a later change rewrites only the chains it touches', { skip: !root && 'needs root' }, async () => {
  const runner = recording();
  const syncer = new IptablesSyncer(runner);
  const first = rulesFor([['10.42.0.5', '10.42.0.6'], ['10.42.0.5', '10.42.0.6'], ['10.42.0.5', '10.42.0.6']]);
  assert.equal((await syncer.sync(first.rules)).full, true);
  const nat = save('nat');
  assert.match(nat, /-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/);
  assert.match(nat, /-A KUBE-SERVICES -d 10\.43\.0\.21\/32 -p tcp -m tcp --dport 80 .*-j KUBE-SVC-/);
  assert.match(nat, /-j DNAT --to-destination 10\.42\.0\.6:8080/);

  // Only web1's endpoints change: its SVC chain is rewritten, one SEP chain is new, one goes.
  const second = rulesFor([['10.42.0.5', '10.42.0.6'], ['10.42.0.5', '10.42.0.7'], ['10.42.0.5', '10.42.0.6']]);
  const result = await syncer.sync(second.rules);
  assert.equal(result.full, false);
  assert.deepEqual([result.written, result.deleted], [2, 1]);
  const input = runner.inputs.at(-1)!;
  assert.doesNotMatch(input, /KUBE-SERVICES/);
  const after = save('nat');
  assert.match(after, /--to-destination 10\.42\.0\.7:8080/);
  assert.equal((after.match(/-j KUBE-SERVICES/g) ?? []).length, 2, 'PREROUTING and OUTPUT jump once each');

  // A new syncer (k8ts restarted) removes chains the old one left and nobody wants.
  const restarted = new IptablesSyncer(systemIptables(prefix));
  const third = rulesFor([['10.42.0.5']]);
  const r3 = await restarted.sync(third.rules);
  assert.equal(r3.full, true);
  assert.ok(r3.deleted >= 4, `deleted ${r3.deleted}`);
  assert.doesNotMatch(save('nat'), /10\.43\.0\.21|10\.42\.0\.7/);
  assert.equal((save('nat').match(/-j KUBE-SERVICES/g) ?? []).length, 2);

  await restarted.cleanup();
  assert.doesNotMatch(save('nat') + save('filter'), /KUBE-/);
});
