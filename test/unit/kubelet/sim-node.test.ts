import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import { isNotFound } from '../../../src/client/interface.js';
import { refs } from '../../../src/client/informer.js';
import { SimNode } from '../../../src/kubelet/sim/sim-node.js';
import { startHarness, eventually, type Harness } from './control-plane-harness.js';

let h: Harness;
let node: SimNode;
const NODE = 'simnode-a';

before(async () => {
  h = await startHarness();
  node = new SimNode(h.client, {
    name: NODE,
    internalIP: '172.30.0.2',
    statusUpdateFrequencyMs: 50,
    leaseRenewIntervalMs: 50,
    startDelayMs: 30,
    runMs: 100,
    terminateDelayMs: 20,
    backoffBaseMs: 60,
    backoffMaxMs: 200,
  });
  await node.start();
  // Without a pod range the node is not Ready, with the kubelet's message for an unconfigured CNI.
  const registered = await h.client.get(refs.nodes, '', NODE);
  notReadyBeforeCIDR = (((registered['status'] as Obj | undefined)?.['conditions'] ?? []) as Obj[]).find((c) => c['type'] === 'Ready');
  await h.client.update(refs.nodes, '', { ...registered, spec: { ...(registered['spec'] as object), podCIDR: '10.42.7.0/24', podCIDRs: ['10.42.7.0/24'] } });
});

let notReadyBeforeCIDR: Obj | undefined;

test('a node is NotReady until it has a pod range, then Ready', async () => {
  assert.equal(notReadyBeforeCIDR?.['status'], 'False');
  assert.match(String(notReadyBeforeCIDR?.['message']), /^container runtime network not ready: NetworkReady=false/);
  await eventually('Ready', async () => cond(await h.client.get(refs.nodes, '', NODE), 'Ready')?.['status'] === 'True', 4000);
});

after(async () => {
  node.close();
  await h.close();
});

type Obj = Record<string, unknown>;
const status = (o: ApiObject): Obj => (o['status'] ?? {}) as Obj;
const conditions = (o: ApiObject): Array<Obj> => (status(o)['conditions'] ?? []) as Array<Obj>;
const cond = (o: ApiObject, type: string): Obj | undefined => conditions(o).find((c) => c['type'] === type);
const containerStatuses = (o: ApiObject): Array<Obj> => (status(o)['containerStatuses'] ?? []) as Array<Obj>;

function pod(name: string, extra: { annotations?: Record<string, string>; restartPolicy?: string; initContainers?: unknown[]; containers?: unknown[] } = {}): ApiObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      nodeName: NODE,
      restartPolicy: extra.restartPolicy ?? 'Always',
      ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
      containers: extra.containers ?? [{ name: 'app', image: 'nginx:1.25' }],
    },
  };
}

test('a sim node registers with its capacity, node info and a Ready condition', async () => {
  const n = await h.client.get(refs.nodes, '', NODE);
  const s = status(n);
  assert.deepEqual(s['capacity'], { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' });
  assert.deepEqual(s['allocatable'], s['capacity']);
  const ready = cond(n, 'Ready');
  assert.equal(ready?.['status'], 'True');
  assert.equal(ready?.['reason'], 'KubeletReady');
  assert.equal(ready?.['message'], 'kubelet is posting ready status');
  assert.equal(cond(n, 'MemoryPressure')?.['status'], 'False');
  assert.equal(cond(n, 'DiskPressure')?.['reason'], 'KubeletHasNoDiskPressure');
  assert.equal(cond(n, 'PIDPressure')?.['status'], 'False');
  const info = s['nodeInfo'] as Obj;
  assert.equal(info['containerRuntimeVersion'], 'sim://0.1');
  assert.match(String(info['kubeletVersion']), /^v1\.32\.0\+k8ts/);
  assert.equal(info['operatingSystem'], 'linux');
  assert.deepEqual(s['addresses'], [
    { type: 'InternalIP', address: '172.30.0.2' },
    { type: 'Hostname', address: NODE },
  ]);
  const labels = n.metadata?.labels ?? {};
  assert.equal(labels['kubernetes.io/hostname'], NODE);
  assert.equal(labels['kubernetes.io/os'], 'linux');
  assert.equal(labels['node.kubernetes.io/instance-type'], 'k8ts-sim');
});

test('the node Lease is held by the node, owned by the Node, and renewed', async () => {
  const n = await h.client.get(refs.nodes, '', NODE);
  const first = await h.client.get(refs.leases, 'kube-node-lease', NODE);
  const spec = first['spec'] as Obj;
  assert.equal(spec['holderIdentity'], NODE);
  assert.equal(spec['leaseDurationSeconds'], 40);
  const owners = (first.metadata?.['ownerReferences'] ?? []) as Obj[];
  assert.equal(owners[0]?.['kind'], 'Node');
  assert.equal(owners[0]?.['uid'], n.metadata?.uid);
  await eventually('lease renewal', async () => {
    const l = await h.client.get(refs.leases, 'kube-node-lease', NODE);
    return (l['spec'] as Obj)['renewTime'] !== spec['renewTime'];
  });
});

test('a pod bound to the node becomes Running and Ready with an IP from the podCIDR', async () => {
  await h.client.create(refs.pods, 'default', pod('web'));
  // First seen as ContainerCreating.
  const creating = await eventually('ContainerCreating', async () => {
    const p = await h.client.get(refs.pods, 'default', 'web');
    const w = (containerStatuses(p)[0]?.['state'] as Obj | undefined)?.['waiting'] as Obj | undefined;
    return w?.['reason'] === 'ContainerCreating' ? p : undefined;
  });
  assert.equal(status(creating)['phase'], 'Pending');
  const p = await eventually('Running and Ready', async () => {
    const x = await h.client.get(refs.pods, 'default', 'web');
    return status(x)['phase'] === 'Running' && cond(x, 'Ready')?.['status'] === 'True' ? x : undefined;
  });
  const s = status(p);
  assert.match(String(s['podIP']), /^10\.42\.7\.\d+$/);
  assert.notEqual(s['podIP'], '10.42.7.1');
  assert.deepEqual(s['podIPs'], [{ ip: s['podIP'] }]);
  assert.equal(s['hostIP'], '172.30.0.2');
  assert.ok(s['startTime']);
  for (const t of ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'PodScheduled']) assert.equal(cond(p, t)?.['status'], 'True', t);
  const cs = containerStatuses(p)[0]!;
  assert.equal(cs['ready'], true);
  assert.equal(cs['started'], true);
  assert.equal(cs['restartCount'], 0);
  assert.match(String(cs['containerID']), /^sim:\/\/[0-9a-f]{64}$/);
  assert.match(String(cs['imageID']), /^docker\.io\/library\/nginx@sha256:/);
  assert.ok(((cs['state'] as Obj)['running'] as Obj)['startedAt']);
  assert.equal(s['qosClass'], 'BestEffort');
});

test('two pods get different IPs', async () => {
  await h.client.create(refs.pods, 'default', pod('ip-a'));
  await h.client.create(refs.pods, 'default', pod('ip-b'));
  const ips = await Promise.all(
    ['ip-a', 'ip-b'].map((n) => eventually(`${n} IP`, async () => status(await h.client.get(refs.pods, 'default', n))['podIP'] as string | undefined)),
  );
  assert.notEqual(ips[0], ips[1]);
});

test('init containers run first and terminate with exit 0', async () => {
  await h.client.create(refs.pods, 'default', pod('with-init', { initContainers: [{ name: 'setup', image: 'busybox' }] }));
  const p = await eventually('Running', async () => {
    const x = await h.client.get(refs.pods, 'default', 'with-init');
    return status(x)['phase'] === 'Running' ? x : undefined;
  });
  const init = ((status(p)['initContainerStatuses'] ?? []) as Obj[])[0]!;
  const term = (init['state'] as Obj)['terminated'] as Obj;
  assert.equal(term['exitCode'], 0);
  assert.equal(term['reason'], 'Completed');
  assert.equal(cond(p, 'Initialized')?.['status'], 'True');
});

test('a restartPolicy Never pod ends Succeeded with exit code 0', async () => {
  await h.client.create(refs.pods, 'default', pod('job-like', { restartPolicy: 'Never' }));
  const p = await eventually('Succeeded', async () => {
    const x = await h.client.get(refs.pods, 'default', 'job-like');
    return status(x)['phase'] === 'Succeeded' ? x : undefined;
  });
  const term = (containerStatuses(p)[0]!['state'] as Obj)['terminated'] as Obj;
  assert.equal(term['exitCode'], 0);
  assert.equal(term['reason'], 'Completed');
  assert.equal(cond(p, 'Ready')?.['reason'], 'PodCompleted');
});

test('a Never pod with exit-code 3 ends Failed with reason Error', async () => {
  await h.client.create(refs.pods, 'default', pod('failing', { restartPolicy: 'Never', annotations: { 'sim.k8ts.io/exit-code': '3', 'sim.k8ts.io/run-seconds': '0.05' } }));
  const p = await eventually('Failed', async () => {
    const x = await h.client.get(refs.pods, 'default', 'failing');
    return status(x)['phase'] === 'Failed' ? x : undefined;
  });
  const term = (containerStatuses(p)[0]!['state'] as Obj)['terminated'] as Obj;
  assert.equal(term['exitCode'], 3);
  assert.equal(term['reason'], 'Error');
});

test('a crashing restartPolicy Always pod restarts with a growing restartCount and CrashLoopBackOff', async () => {
  await h.client.create(refs.pods, 'default', pod('crasher', { annotations: { 'sim.k8ts.io/exit-code': '1', 'sim.k8ts.io/run-seconds': '0.05' } }));
  const seen = new Set<number>();
  let backoff = false;
  await eventually(
    'restartCount >= 3',
    async () => {
      const x = await h.client.get(refs.pods, 'default', 'crasher');
      const cs = containerStatuses(x)[0];
      if (!cs) return undefined;
      seen.add(cs['restartCount'] as number);
      const waiting = (cs['state'] as Obj)['waiting'] as Obj | undefined;
      if (waiting?.['reason'] === 'CrashLoopBackOff') {
        backoff = true;
        assert.match(String(waiting['message']), /^back-off \d+s restarting failed container=app pod=crasher_default/);
      }
      if ((cs['restartCount'] as number) >= 3) {
        const last = (cs['lastState'] as Obj)['terminated'] as Obj;
        assert.equal(last['exitCode'], 1);
        assert.equal(last['reason'], 'Error');
        assert.equal(status(x)['phase'], 'Running');
        return true;
      }
      return undefined;
    },
    8000,
  );
  assert.ok(backoff, 'CrashLoopBackOff was observed');
  assert.ok(seen.size >= 2, `restart counts seen: ${[...seen].join(',')}`);
});

test('a readinessProbe initialDelaySeconds delays Ready', async () => {
  await h.client.create(refs.pods, 'default', pod('slow-ready', { containers: [{ name: 'app', image: 'nginx', readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 1 } }] }));
  const running = await eventually('Running', async () => {
    const x = await h.client.get(refs.pods, 'default', 'slow-ready');
    return status(x)['phase'] === 'Running' ? x : undefined;
  });
  assert.equal(cond(running, 'Ready')?.['status'], 'False');
  assert.equal(cond(running, 'Ready')?.['reason'], 'ContainersNotReady');
  await eventually('Ready', async () => cond(await h.client.get(refs.pods, 'default', 'slow-ready'), 'Ready')?.['status'] === 'True', 4000);
});

test('deleting a pod stops it and removes it', async () => {
  await h.client.create(refs.pods, 'default', pod('doomed'));
  await eventually('Running', async () => status(await h.client.get(refs.pods, 'default', 'doomed'))['phase'] === 'Running');
  const phases: string[] = [];
  const w = await h.client.watch(refs.pods, 'default', { fieldSelector: 'metadata.name=doomed' }, (e) => {
    const st = status(e.object as ApiObject);
    const term = ((st['containerStatuses'] as Obj[] | undefined)?.[0]?.['state'] as Obj | undefined)?.['terminated'] as Obj | undefined;
    phases.push(`${String(st['phase'])}:${term ? String(term['exitCode']) : '-'}`);
  });
  const marked = await h.client.delete(refs.pods, 'default', 'doomed');
  assert.ok(marked?.metadata?.deletionTimestamp, 'graceful deletion marks the pod first');
  await eventually('pod gone', async () => {
    try {
      await h.client.get(refs.pods, 'default', 'doomed');
      return false;
    } catch (e) {
      return isNotFound(e);
    }
  });
  w.stop();
  // Stopped by SIGTERM: exit code 143 and phase Failed, never Succeeded (a Job would count that).
  assert.ok(phases.includes('Failed:143'), `phases seen: ${phases.join(' ')}`);
  assert.ok(!phases.some((p) => p.startsWith('Succeeded')), `phases seen: ${phases.join(' ')}`);
});

test('stopping the node stops Lease renewals; resuming renews again', async () => {
  node.stop();
  await new Promise((r) => setTimeout(r, 120));
  const before = ((await h.client.get(refs.leases, 'kube-node-lease', NODE))['spec'] as Obj)['renewTime'];
  await new Promise((r) => setTimeout(r, 250));
  const later = ((await h.client.get(refs.leases, 'kube-node-lease', NODE))['spec'] as Obj)['renewTime'];
  assert.equal(later, before, 'no renewal while stopped');
  // Pods are frozen too: a new pod is not started.
  await h.client.create(refs.pods, 'default', pod('while-down'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(status(await h.client.get(refs.pods, 'default', 'while-down'))['phase'], 'Pending');
  await node.resume();
  await eventually('renewal after resume', async () => ((await h.client.get(refs.leases, 'kube-node-lease', NODE))['spec'] as Obj)['renewTime'] !== before);
  await eventually('pod started after resume', async () => status(await h.client.get(refs.pods, 'default', 'while-down'))['phase'] === 'Running');
});

test('the sim.k8ts.io/stopped annotation stops and resumes the node', async () => {
  const n = await h.client.get(refs.nodes, '', NODE);
  await h.client.update(refs.nodes, '', { ...n, metadata: { ...n.metadata, annotations: { ...(n.metadata?.annotations ?? {}), 'sim.k8ts.io/stopped': 'true' } } });
  await eventually('stopped', () => node.stopped);
  const n2 = await h.client.get(refs.nodes, '', NODE);
  const ann = { ...(n2.metadata?.annotations ?? {}) };
  delete ann['sim.k8ts.io/stopped'];
  await h.client.update(refs.nodes, '', { ...n2, metadata: { ...n2.metadata, annotations: ann } });
  await eventually('resumed', () => !node.stopped);
});
