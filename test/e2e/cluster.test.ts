/**
 * The cluster runs itself: `k8ts server --runtime sim --sim-nodes 3`, driven with kubectl as a
 * user would — nodes, scheduling, Deployments and their rollouts, scheduling failures, top.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 30000): Promise<T> => poll(what, probe, ms);

let c: TestCluster;
before(async () => {
  // A short HPA period and downscale window keep the autoscaling test to seconds.
  c = await startCluster({ simNodes: 3, extraArgs: ['--horizontal-pod-autoscaler-sync-period', '2', '--horizontal-pod-autoscaler-downscale-stabilization', '4'] });
});
after(async () => {
  await c?.destroy();
});


test('three simulated nodes register and are Ready', async () => {
  const nodes = await eventually('3 Ready nodes', async () => {
    const out = await c.k(['get', 'nodes', '--no-headers']);
    return out.trim().split('\n').filter((l) => /\sReady\s/.test(l)).length === 3 && out;
  });
  assert.match(nodes, /^sim-0\s+Ready\s+<none>\s+\S+\s+v1\.32\.0/m);
  const cidrs = await eventually('podCIDRs', async () => {
    const out = (await c.k(['get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}'])).trim().split(/\s+/);
    return out.length === 3 && out.every((x) => /^10\.42\.\d+\.0\/24$/.test(x)) && out;
  });
  assert.equal(new Set(cidrs).size, 3);
});

test('a Deployment rolls out, spreads over nodes, updates, and undoes', async () => {
  await c.k(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Array<{ spec: { nodeName: string }; status: { phase: string; podIP: string } }> };
  assert.equal(pods.items.length, 3);
  assert.ok(pods.items.every((p) => p.status.phase === 'Running' && /^10\.42\./.test(p.status.podIP)));
  assert.equal(new Set(pods.items.map((p) => p.spec.nodeName)).size, 3, 'spread over the three nodes');

  await c.k(['set', 'image', 'deployment/web', 'busybox=busybox:1.37']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  assert.match(await c.k(['rollout', 'history', 'deployment/web']), /^1\s+<none>\n2\s+<none>/m);
  await c.k(['rollout', 'undo', 'deployment/web']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1.36');
  const deploy = await c.k(['get', 'deploy', 'web']);
  assert.match(deploy, /^web\s+3\/3\s+3\s+3\s+\d+s$/m);

  await c.k(['scale', 'deployment/web', '--replicas=5']);
  await c.k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  assert.equal((await c.k(['get', 'pods', '-l', 'app=web', '--no-headers'])).trim().split('\n').length, 5);
});

test('a pod that fits nowhere stays Pending with a FailedScheduling event that says why', async () => {
  await c.k(['run', 'huge', '--image=busybox', '--overrides={"spec":{"containers":[{"name":"huge","image":"busybox","resources":{"requests":{"cpu":"100"}}}]}}']);
  const described = await eventually('FailedScheduling', async () => {
    const out = await c.k(['describe', 'pod', 'huge']);
    return out.includes('FailedScheduling') && out;
  });
  assert.match(described, /0\/3 nodes are available: 3 Insufficient cpu\./);
  assert.equal(await c.k(['get', 'pod', 'huge', '-o', 'jsonpath={.status.phase}']), 'Pending');
  await c.k(['delete', 'pod', 'huge', '--wait=false']);
});

test('kubectl top shows simulated usage', async () => {
  const nodes = await eventually('node metrics', async () => {
    const out = await c.kubectl(['top', 'node']);
    return out.code === 0 && out.stdout;
  });
  assert.match(nodes, /^NAME\s+CPU\(cores\)\s+CPU%?\(?%?\)?\s+MEMORY\(bytes\)/m);
  assert.match(nodes, /^sim-0\s+\d+m\s+/m);
  const pods = await c.k(['top', 'pod', '-l', 'app=web']);
  assert.match(pods, /^web-\S+\s+\d+m\s+\d+Mi\s*$/m);
});

test('kubectl autoscale makes an HPA that scales on simulated CPU, up and back down', async () => {
  await c.k(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: php}
spec:
  replicas: 1
  selector: {matchLabels: {app: php}}
  template:
    metadata: {labels: {app: php}, annotations: {sim.k8ts.io/cpu: 300m}}
    spec: {containers: [{name: php, image: busybox, resources: {requests: {cpu: 200m}}}]}
`,
  });
  await c.k(['autoscale', 'deployment', 'php', '--cpu-percent=50', '--min=1', '--max=4']);
  // 300m used of 200m requested is 150% against a 50% target: up, capped at 4.
  const up = await eventually('the HPA at 4 replicas', async () => {
    const out = await c.k(['get', 'hpa', 'php', '--no-headers']);
    return /^php\s+Deployment\/php\s+cpu: \d+%\/50%\s+1\s+4\s+4\s/m.test(out) && out;
  }, 60_000);
  assert.match(up, /cpu: 150%\/50%/);
  await c.k(['rollout', 'status', 'deployment/php', '--timeout=60s']);
  assert.match(await c.k(['describe', 'hpa', 'php']), /SuccessfulRescale\s+.*New size: \d; reason: cpu resource utilization \(percentage of request\) above target/);

  // Usage drops to 20m (10%): after the stabilization window it scales back to the minimum.
  await c.k(['patch', 'deployment', 'php', '-p', '{"spec":{"template":{"metadata":{"annotations":{"sim.k8ts.io/cpu":"20m"}}}}}']);
  await eventually('the HPA back at 1 replica', async () => {
    const out = await c.k(['get', 'deploy', 'php', '-o', 'jsonpath={.spec.replicas}']);
    return out === '1';
  }, 90_000);
  assert.match(await c.k(['describe', 'hpa', 'php']), /New size: 1; reason: All metrics below target/);
});

test('deleting a pod of a ReplicationController brings a new one', async () => {
  await c.k(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec:\n  replicas: 2\n  selector: {app: rc}\n  template:\n    metadata: {labels: {app: rc}}\n    spec: {containers: [{name: c, image: busybox}]}\n' });
  const first = await eventually('2 running rc pods', async () => {
    const out = (await c.k(['get', 'pods', '-l', 'app=rc', '--field-selector=status.phase=Running', '-o', 'name'])).trim().split('\n').filter(Boolean);
    return out.length === 2 && out;
  });
  await c.k(['delete', first[0]!, '--wait=false']);
  await eventually('a replacement pod', async () => {
    const out = (await c.k(['get', 'pods', '-l', 'app=rc', '--field-selector=status.phase=Running', '-o', 'name'])).trim().split('\n').filter(Boolean);
    return out.length === 2 && !out.includes(first[0]!) && out;
  });
  // Simulated pods have no containers: exec and port-forward say so rather than hang.
  const pod = (await c.k(['get', 'pods', '-l', 'app=rc', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const exec = await c.kubectl(['exec', pod, '--', 'true']);
  assert.notEqual(exec.code, 0);
  assert.match(exec.stderr, /runs on the simulated node \S+: it has no containers to exec/);
});

test('deleting a Deployment removes its ReplicaSets and pods', async () => {
  await c.k(['create', 'deployment', 'gone', '--image=busybox', '--replicas=2']);
  await c.k(['rollout', 'status', 'deployment/gone', '--timeout=60s']);
  await c.k(['delete', 'deployment', 'gone']);
  await eventually('ReplicaSets and pods gone', async () => {
    const rs = (await c.k(['get', 'rs', '-l', 'app=gone', '-o', 'name'])).trim();
    const pods = (await c.k(['get', 'pods', '-l', 'app=gone', '-o', 'name'])).trim();
    return rs === '' && pods === '';
  });
});

test('a new namespace gets its default ServiceAccount and the root CA ConfigMap', async () => {
  await c.k(['create', 'namespace', 'fresh']);
  await eventually('default ServiceAccount', async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', 'fresh'])).code === 0);
  await eventually('kube-root-ca.crt', async () => (await c.k(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'jsonpath={.data.ca\\.crt}'])).includes('BEGIN CERTIFICATE'));
  assert.match(await c.k(['create', 'token', 'default', '-n', 'fresh']), /^ey/);
});

test('nodeSelector, node affinity and taints decide where pods go', async () => {
  await c.k(['label', 'node', 'sim-1', 'disk=ssd']);
  await c.k(['taint', 'node', 'sim-2', 'dedicated=infra:NoSchedule']);
  await c.k(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: on-ssd}\nspec:\n  nodeSelector: {disk: ssd}\n  containers: [{name: c, image: busybox}]\n' });
  await c.k(['apply', '-f', '-'], {
    input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: not-ssd}\nspec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: DoesNotExist}]}]\n  containers: [{name: c, image: busybox}]\n',
  });
  await c.k(['apply', '-f', '-'], {
    input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: infra}\nspec:\n  nodeSelector: {kubernetes.io/hostname: sim-2}\n  tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]\n  containers: [{name: c, image: busybox}]\n',
  });
  const nodeOf = (pod: string) => eventually(`${pod} scheduled`, async () => (await c.k(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])) || undefined);
  assert.equal(await nodeOf('on-ssd'), 'sim-1');
  assert.equal(await nodeOf('not-ssd'), 'sim-0', 'sim-1 has the label and sim-2 the taint');
  assert.equal(await nodeOf('infra'), 'sim-2');
  await c.k(['taint', 'node', 'sim-2', 'dedicated-']);
  await c.k(['delete', 'pod', 'on-ssd', 'not-ssd', 'infra', '--wait=false']);
});

test('pause holds a template change until resume', async () => {
  await c.k(['create', 'deployment', 'held', '--image=busybox:1.36', '--replicas=2']);
  await c.k(['rollout', 'status', 'deployment/held', '--timeout=60s']);
  await c.k(['rollout', 'pause', 'deployment/held']);
  await c.k(['set', 'image', 'deployment/held', 'busybox=busybox:1.37']);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await c.k(['get', 'rs', '-l', 'app=held', '-o', 'name'])).trim().split('\n').length, 1, 'no new ReplicaSet while paused');
  await c.k(['rollout', 'resume', 'deployment/held']);
  await c.k(['rollout', 'status', 'deployment/held', '--timeout=60s']);
  // Old pods terminate gracefully; once gone, every pod runs the new image.
  await eventually('only new pods', async () => {
    const images = (await c.k(['get', 'pods', '-l', 'app=held', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).split(' ');
    return images.length === 2 && images.every((i) => i === 'busybox:1.37');
  });
});

test('a Job with completions 3 and parallelism 2 completes', async () => {
  await c.k(['apply', '-f', '-'], { input: 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n  completions: 3\n  parallelism: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: pi, image: busybox, command: [sh, -c, "echo 3.14"]}]\n' });
  await c.k(['wait', '--for=condition=Complete', 'job/pi', '--timeout=60s']);
  const table = await c.k(['get', 'job', 'pi']);
  assert.match(table, /^pi\s+Complete\s+3\/3\s+\d+s\s+\d+s$/m);
  const pods = (await c.k(['get', 'pods', '-l', 'job-name=pi', '-o', 'jsonpath={.items[*].status.phase}'])).split(' ');
  assert.deepEqual(pods, ['Succeeded', 'Succeeded', 'Succeeded']);
  const described = await c.k(['describe', 'job', 'pi']);
  assert.match(described, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed/);
});

test('a Job that keeps failing stops at its backoffLimit', async () => {
  await c.k(['apply', '-f', '-'], { input: 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: doomed}\nspec:\n  backoffLimit: 0\n  template:\n    metadata: {annotations: {sim.k8ts.io/exit-code: "1"}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n' });
  await c.k(['wait', '--for=condition=Failed', 'job/doomed', '--timeout=60s']);
  assert.match(await c.k(['get', 'job', 'doomed', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}']), /BackoffLimitExceeded/);
});

test('a DaemonSet runs one pod per node, and none on a node it does not tolerate', async () => {
  await c.k(['taint', 'node', 'sim-1', 'special=yes:NoSchedule']);
  await c.k(['apply', '-f', '-'], { input: 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: a, image: busybox}]}\n' });
  await c.k(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
  const nodes = (await c.k(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' ').sort();
  assert.deepEqual(nodes, ['sim-0', 'sim-2']);
  assert.match(await c.k(['get', 'ds', 'agent']), /^agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\d+s$/m);
  await c.k(['taint', 'node', 'sim-1', 'special-']);
  await eventually('a pod on sim-1 too', async () => (await c.k(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' ').length === 3);
});

test('a StatefulSet creates kafka-0..2 in order behind a headless Service', async () => {
  await c.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Service
metadata: {name: kafka}
spec: {clusterIP: None, selector: {app: kafka}, ports: [{port: 9092}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kafka}
spec:
  serviceName: kafka
  replicas: 3
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec: {containers: [{name: kafka, image: busybox}]}
`,
  });
  await c.k(['rollout', 'status', 'statefulset/kafka', '--timeout=60s']);
  const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=kafka', '-o', 'json'])) as { items: Array<{ metadata: { name: string; creationTimestamp: string }; spec: { hostname: string; subdomain: string } }> };
  const names = pods.items.map((p) => p.metadata.name).sort();
  assert.deepEqual(names, ['kafka-0', 'kafka-1', 'kafka-2']);
  assert.ok(pods.items.every((p) => p.spec.hostname === p.metadata.name && p.spec.subdomain === 'kafka'));
  const created = Object.fromEntries(pods.items.map((p) => [p.metadata.name, p.metadata.creationTimestamp]));
  assert.ok(created['kafka-0']! <= created['kafka-1']! && created['kafka-1']! <= created['kafka-2']!, 'created in order');
  assert.equal(await c.k(['get', 'svc', 'kafka', '-o', 'jsonpath={.spec.clusterIP}']), 'None');
  // The headless Service's endpoints name each pod by its stable hostname (what DNS will serve).
  const hostnames = await eventually('kafka endpoints with hostnames', async () => {
    const out = (await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kafka', '-o', 'jsonpath={.items[*].endpoints[*].hostname}'])).trim();
    return out.split(/\s+/).length === 3 && out;
  });
  assert.deepEqual(hostnames.split(/\s+/).sort(), ['kafka-0', 'kafka-1', 'kafka-2']);
  assert.match(await c.k(['get', 'endpoints', 'kafka']), /^kafka\s+(10\.42\.\d+\.\d+:9092,?){3}\s/m);
});

test('a Service\'s Endpoints and EndpointSlices follow its ready pods as they scale', async () => {
  await c.k(['create', 'deployment', 'echo', '--image=busybox', '--replicas=2', '--port=8080']);
  await c.k(['expose', 'deployment', 'echo', '--port=80', '--target-port=8080']);
  await c.k(['rollout', 'status', 'deployment/echo', '--timeout=60s']);
  const podIPs = async (): Promise<string[]> => (await c.k(['get', 'pods', '-l', 'app=echo', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).filter(Boolean).sort();
  const sliceIPs = async (): Promise<string[]> => (await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=echo', '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}'])).trim().split(/\s+/).filter(Boolean).sort();
  const endpointIPs = async (): Promise<string[]> => (await c.k(['get', 'endpoints', 'echo', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).trim().split(/\s+/).filter(Boolean).sort();
  for (const replicas of [2, 5, 1]) {
    if (replicas !== 2) {
      await c.k(['scale', 'deployment/echo', `--replicas=${replicas}`]);
      await c.k(['rollout', 'status', 'deployment/echo', '--timeout=60s']);
    }
    await eventually(`endpoints of ${replicas} pods`, async () => {
      const want = await podIPs();
      if (want.length !== replicas) return false;
      return JSON.stringify(await sliceIPs()) === JSON.stringify(want) && JSON.stringify(await endpointIPs()) === JSON.stringify(want);
    });
  }
  assert.match(await c.k(['get', 'endpoints', 'echo']), /^echo\s+10\.42\.\d+\.\d+:8080\s/m);
});

test('a quota of 2 pods refuses the third', async () => {
  await c.k(['create', 'namespace', 'capped']);
  await c.k(['create', 'quota', 'two', '-n', 'capped', '--hard=pods=2']);
  await c.k(['run', 'p1', '-n', 'capped', '--image=busybox']);
  await c.k(['run', 'p2', '-n', 'capped', '--image=busybox']);
  const third = await c.kubectl(['run', 'p3', '-n', 'capped', '--image=busybox']);
  assert.notEqual(third.code, 0);
  assert.match(third.stderr, /pods "p3" is forbidden: exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2/);
  await eventually('quota status', async () => (await c.k(['get', 'quota', 'two', '-n', 'capped', '-o', 'jsonpath={.status.used.pods}'])) === '2');
});

test('a PVC binds to a fitting PV and one too large stays Pending', async () => {
  await c.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], storageClassName: manual, hostPath: {path: /tmp/pv-small}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: fits}
spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 500Mi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: too-big}
spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 100Gi}}}
`,
  });
  await eventually('fits Bound', async () => (await c.k(['get', 'pvc', 'fits', '-o', 'jsonpath={.status.phase}'])) === 'Bound');
  assert.equal(await c.k(['get', 'pvc', 'fits', '-o', 'jsonpath={.spec.volumeName}']), 'pv-small');
  assert.equal(await c.k(['get', 'pvc', 'too-big', '-o', 'jsonpath={.status.phase}']), 'Pending');
});
