/** NetworkPolicies to iptables rules: who is isolated, and what each rule lets through. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import { policyRules, type PolicyPod } from '../../../src/network/network-policy.js';

const pod = (name: string, ip: string, labels: Record<string, string>, opts: { ns?: string; node?: string; ports?: Array<[string, number]> } = {}): PolicyPod => ({
  namespace: opts.ns ?? 'default',
  name,
  labels,
  ip,
  node: opts.node ?? 'node-a',
  ports: new Map((opts.ports ?? []).map(([n, p]) => [n, { port: p, protocol: 'TCP' }])),
});
const policy = (name: string, spec: Record<string, unknown>, ns = 'default'): ApiObject => ({ metadata: { name, namespace: ns }, spec });
const namespaces: ApiObject[] = [{ metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } }, { metadata: { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'ops' } } }];

const pods = [
  pod('web', '10.42.0.5', { app: 'web' }, { ports: [['http', 8080]] }),
  pod('client', '10.42.0.6', { app: 'client' }),
  pod('other-node-web', '10.42.1.5', { app: 'web' }, { node: 'node-b' }),
  pod('prometheus', '10.42.1.9', { app: 'prometheus' }, { ns: 'monitoring', node: 'node-b' }),
];
/** The rules of the chain K8TS-NETPOL sends `ip`'s packets to, in `direction`. */
function chainFor(rules: Map<string, string[]>, ip: string, flag: '-d' | '-s'): string[] | undefined {
  const jump = rules.get('K8TS-NETPOL')!.find((r) => r.includes(`${flag} ${ip}/32`));
  const chain = jump?.split(' -j ')[1];
  return chain ? rules.get(chain) : undefined;
}

test('without policies nothing is isolated; replies of allowed connections always pass', () => {
  const { filter } = policyRules({ policies: [], pods, namespaces, nodeName: 'node-a' });
  assert.deepEqual(filter.get('K8TS-NETPOL'), ['-A K8TS-NETPOL -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN']);
  assert.equal(filter.size, 1);
});

test('a policy with no ingress rules isolates the pods it selects on this node, and drops everything to them', () => {
  const { filter } = policyRules({ policies: [policy('deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] })], pods, namespaces, nodeName: 'node-a' });
  const web = chainFor(filter, '10.42.0.5', '-d')!;
  assert.ok(!web.some((r) => r.includes('--or-mark')), 'nothing is allowed');
  assert.match(web.at(-1)!, /-j DROP$/);
  assert.equal(chainFor(filter, '10.42.0.6', '-d'), undefined, 'client is not selected');
  assert.equal(chainFor(filter, '10.42.1.5', '-d'), undefined, 'a pod on another node is that node\'s to police');
});

test('ingress from pods by label, from namespaces by label, on a named port', () => {
  const { filter } = policyRules({
    policies: [
      policy('web', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] },
          { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] },
        ],
      }),
    ],
    pods,
    namespaces,
    nodeName: 'node-a',
  });
  const web = chainFor(filter, '10.42.0.5', '-d')!;
  const allows = web.filter((r) => r.includes('--or-mark'));
  assert.equal(allows.length, 2);
  assert.match(allows[0]!, /^-A \S+ -s 10\.42\.0\.6\/32 -p tcp -m tcp --dport 8080 -m comment --comment "default\/web ingress\[0\]" -j MARK --or-mark 0x10000$/);
  assert.match(allows[1]!, /-s 10\.42\.1\.9\/32 -m comment --comment "default\/web ingress\[1\]"/);
});

test('an ipBlock with exceptions, and egress isolation of the sending pod', () => {
  const { filter } = policyRules({
    policies: [policy('out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.42.1.0/24'] } }], ports: [{ protocol: 'TCP', port: 80, endPort: 90 }] }] })],
    pods,
    namespaces,
    nodeName: 'node-a',
  });
  const client = chainFor(filter, '10.42.0.6', '-s')!;
  const jump = client.find((r) => r.includes('-d 10.0.0.0/8'))!;
  assert.match(jump, /-p tcp -m tcp --dport 80:90 .* -j K8TS-NP-B-/);
  const sub = filter.get(jump.split(' -j ')[1]!)!;
  assert.deepEqual(sub.map((r) => r.replace(/^-A \S+ /, '')), ['-d 10.42.1.0/24 -j RETURN', '-j MARK --or-mark 0x10000']);
  assert.equal(chainFor(filter, '10.42.0.6', '-d'), undefined, 'an Egress-only policy does not isolate ingress');
});
