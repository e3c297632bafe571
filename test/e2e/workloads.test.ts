/**
 * A new user's acceptance sweep of the workload controllers: `k8ts server --runtime sim
 * --sim-nodes 3` driven with the real kubectl — Deployment restarts, deadlines and Recreate,
 * StatefulSets with claims and partitions, DaemonSet updates, Jobs, CronJobs, garbage
 * collection, drain with a PodDisruptionBudget, preemption, other schedulers and event counts.
 * Each test works in its own namespace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';

const eventually = <T>(what: Parameters<typeof poll>[0], probe: () => Promise<T | undefined | false>, ms = 30000): Promise<T> => poll(what, probe, ms, 100);

let c: TestCluster;
before(async () => {
  c = await startCluster({ simNodes: 3 });
  await eventually('3 Ready nodes', async () => (await c.k(['get', 'nodes', '--no-headers'])).trim().split('\n').filter((l) => /\sReady\s/.test(l)).length === 3);
});
after(async () => {
  await c?.destroy();
});

/** Creates a namespace for one test and returns kubectl args that select it. */
async function namespace(name: string): Promise<string[]> {
  await c.k(['create', 'namespace', name]);
  return ['-n', name];
}

const apply = (ns: string[], yaml: string): Promise<string> => c.k(['apply', ...ns, '-f', '-'], { input: yaml });
const get = (ns: string[], what: string[], jsonpath: string): Promise<string> => c.k(['get', ...ns, ...what, '-o', `jsonpath=${jsonpath}`]);
const lines = (s: string): string[] => s.trim().split('\n').filter((l) => l !== '');

// Started first so that its minute boundary passes while the other tests run (see the last test).
test('CronJob: create job --from=cronjob, and suspend is honoured', async () => {
  const ns = await namespace('cron');
  await c.k(['create', ...ns, 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *']);
  await c.k(['create', ...ns, 'cronjob', 'sleepy', '--image=busybox', '--schedule=*/1 * * * *']);
  assert.equal(await c.k(['patch', ...ns, 'cronjob', 'sleepy', '-p', '{"spec":{"suspend":true}}']), 'cronjob.batch/sleepy patched\n');

  assert.equal(await c.k(['create', ...ns, 'job', 'by-hand', '--from=cronjob/tick']), 'job.batch/by-hand created\n');
  assert.equal(await get(ns, ['job', 'by-hand'], '{.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}'), 'manual');
  assert.equal(await get(ns, ['job', 'by-hand'], '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'), 'CronJob/tick');
  await c.k(['wait', ...ns, '--for=condition=complete', 'job/by-hand', '--timeout=30s']);
  assert.match(await c.k(['get', ...ns, 'cronjob']), /^sleepy\s+\*\/1 \* \* \* \*\s+<none>\s+True\s+0\s+<none>/m);
});

test('Deployment: rollout restart makes a new ReplicaSet and rolls', async () => {
  const ns = await namespace('restart');
  await c.k(['create', ...ns, 'deployment', 'web', '--image=busybox', '--replicas=2']);
  await c.k(['rollout', ...ns, 'status', 'deployment/web', '--timeout=60s']);
  const before = lines(await c.k(['get', ...ns, 'pods', '-l', 'app=web', '-o', 'name']));
  assert.equal(before.length, 2);

  assert.equal(await c.k(['rollout', ...ns, 'restart', 'deployment/web']), 'deployment.apps/web restarted\n');
  assert.match(await get(ns, ['deploy', 'web'], '{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'), /^\d{4}-\d\d-\d\dT/);
  await c.k(['rollout', ...ns, 'status', 'deployment/web', '--timeout=60s']);
  const rs = await eventually('the old ReplicaSet scaled to 0', async () => {
    const out = await c.k(['get', ...ns, 'rs', '-l', 'app=web', '--no-headers']);
    return lines(out).length === 2 && /\s0\s+0\s+0\s/.test(out) && /\s2\s+2\s+2\s/.test(out) && out;
  });
  assert.equal(lines(rs).length, 2);
  const after = await eventually('only new pods', async () => {
    const out = lines(await c.k(['get', ...ns, 'pods', '-l', 'app=web', '-o', 'name']));
    return out.length === 2 && out;
  });
  assert.ok(after.every((p) => !before.includes(p)), `pods replaced: ${before} → ${after}`);
  assert.match(await c.k(['rollout', ...ns, 'history', 'deployment/web']), /^1\s+<none>\n2\s+<none>/m);
});

test('Deployment: progressDeadlineSeconds exceeded gives ProgressDeadlineExceeded and rollout status fails', async () => {
  const ns = await namespace('deadline');
  // A readiness probe that passes only after an hour: the pods never become Ready.
  await apply(ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  replicas: 1
  progressDeadlineSeconds: 3
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      containers:
      - name: app
        image: busybox
        readinessProbe: {initialDelaySeconds: 3600, exec: {command: ["true"]}}
`);
  const reason = await eventually('Progressing=False', async () => {
    const out = await get(ns, ['deploy', 'slow'], '{.status.conditions[?(@.type=="Progressing")].status}/{.status.conditions[?(@.type=="Progressing")].reason}');
    return out.startsWith('False/') && out;
  }, 20_000);
  assert.equal(reason, 'False/ProgressDeadlineExceeded');
  assert.match(await get(ns, ['deploy', 'slow'], '{.status.conditions[?(@.type=="Progressing")].message}'), /^ReplicaSet "slow-[a-z0-9]+" has timed out progressing\.$/);
  const status = await c.kubectl(['rollout', ...ns, 'status', 'deployment/slow', '--timeout=20s']);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /^error: deployment "slow" exceeded its progress deadline$/m);
});

test('Deployment: Recreate deletes every old pod before making new ones', async () => {
  const ns = await namespace('recreate');
  await apply(ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  replicas: 3
  strategy: {type: Recreate}
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "busybox:1.36"}]}
`);
  await c.k(['rollout', ...ns, 'status', 'deployment/db', '--timeout=60s']);
  const oldRS = await get(ns, ['rs', '-l', 'app=db'], '{.items[0].metadata.name}');
  // Watch pods through the rollout: no new pod may appear while an old one still exists.
  const watch = c.kubectl(['get', ...ns, 'pods', '-l', 'app=db', '--watch-only', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}', '--request-timeout=8s']);
  await new Promise((r) => setTimeout(r, 500));
  await c.k(['set', 'image', ...ns, 'deployment/db', 'db=busybox:1.37']);
  await c.k(['rollout', ...ns, 'status', 'deployment/db', '--timeout=60s']);
  const events = lines((await watch).stdout).map((l) => l.split(' ') as [string, string]);
  const firstNew = events.findIndex(([type, name]) => type === 'ADDED' && !name.startsWith(oldRS));
  const lastOldDelete = events.map(([type, name]) => type === 'DELETED' && name.startsWith(oldRS)).lastIndexOf(true);
  assert.ok(firstNew > 0 && lastOldDelete >= 0, `saw the rollout: ${JSON.stringify(events)}`);
  assert.ok(lastOldDelete < firstNew, `old pods were all deleted before the first new one: ${JSON.stringify(events)}`);
  assert.equal(events.filter(([type, name]) => type === 'DELETED' && name.startsWith(oldRS)).length, 3);
  const described = await c.k(['describe', ...ns, 'deployment', 'db']);
  assert.match(described, /^StrategyType:\s+Recreate$/m);
  assert.match(described, new RegExp(`Scaled down replica set ${oldRS} from 3 to 0`));
});

test('StatefulSet: claims from volumeClaimTemplates are Bound; partition; ordered scale down keeps PVCs', async () => {
  const ns = await namespace('sts');
  await apply(ns, `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "busybox:1.36"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
  await c.k(['rollout', ...ns, 'status', 'sts/web', '--timeout=60s']);
  const pvcs = await eventually('3 Bound claims', async () => {
    const out = await c.k(['get', ...ns, 'pvc', '--no-headers']);
    return lines(out).filter((l) => /\sBound\s/.test(l)).length === 3 && out;
  });
  for (const i of [0, 1, 2]) assert.match(pvcs, new RegExp(`^data-web-${i}\\s+Bound\\s+pvc-\\S+\\s+1Gi\\s+RWO\\s+local-path\\s`, 'm'));
  assert.equal(await get(ns, ['pod', 'web-1'], '{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}'), 'data-web-1');
  assert.equal(await get(ns, ['pvc', 'data-web-1'], '{.metadata.labels.app}'), 'web');

  await c.k(['patch', ...ns, 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}']);
  await c.k(['set', 'image', ...ns, 'sts/web', 'app=busybox:1.37']);
  const status = await c.k(['rollout', ...ns, 'status', 'sts/web', '--timeout=60s']);
  assert.match(status, /partitioned roll out complete: 1 new pods have been updated\.\.\./);
  const images = await eventually('web-2 updated', async () => {
    const out = await get(ns, ['pods', 'web-0', 'web-1', 'web-2'], '{range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}');
    return out.includes('web-2=busybox:1.37') && out;
  });
  assert.equal(images.trim(), 'web-0=busybox:1.36 web-1=busybox:1.36 web-2=busybox:1.37');

  const watch = c.kubectl(['get', ...ns, 'pods', '-l', 'app=web', '--watch-only', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}', '--request-timeout=6s']);
  await new Promise((r) => setTimeout(r, 500));
  await c.k(['scale', ...ns, 'sts/web', '--replicas=1']);
  await eventually('one pod left', async () => lines(await c.k(['get', ...ns, 'pods', '--no-headers'])).length === 1);
  const deleted = lines((await watch).stdout).filter((l) => l.startsWith('DELETED '));
  assert.deepEqual(deleted, ['DELETED web-2', 'DELETED web-1']);
  assert.deepEqual(lines(await c.k(['get', ...ns, 'pvc', '-o', 'name'])), ['persistentvolumeclaim/data-web-0', 'persistentvolumeclaim/data-web-1', 'persistentvolumeclaim/data-web-2']);
});

// Kubernetes does not validate a StatefulSet template's pod spec (ValidatePodTemplateSpecForStatefulSet
// only checks labels and annotations) because its volumeMounts name volumes that only the claim
// templates provide — the docs' own example does this. Our apiserver validates the whole pod spec.
test('StatefulSet: a volumeMount naming a volumeClaimTemplate is accepted', async () => {
  const ns = await namespace('sts-mount');
  await apply(ns, `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: www}
spec:
  replicas: 1
  serviceName: www
  selector: {matchLabels: {app: www}}
  template:
    metadata: {labels: {app: www}}
    spec: {containers: [{name: nginx, image: nginx, volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]}]}
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
  await c.k(['rollout', ...ns, 'status', 'sts/www', '--timeout=60s']);
  assert.equal(await get(ns, ['pod', 'www-0'], '{.spec.volumes[?(@.name=="www")].persistentVolumeClaim.claimName}'), 'www-www-0');
});

test('StatefulSet: podManagementPolicy Parallel creates every pod at once', async () => {
  const ns = await namespace('sts-parallel');
  // The pods never become Ready, so OrderedReady would stop at db-0.
  const set = (policy: string, name: string): string => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  replicas: 3
  serviceName: ${name}
  podManagementPolicy: ${policy}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: app, image: busybox, readinessProbe: {initialDelaySeconds: 3600, exec: {command: ["true"]}}}]}
`;
  await apply(ns, set('Parallel', 'par'));
  await apply(ns, set('OrderedReady', 'ord'));
  const par = await eventually('3 parallel pods running', async () => {
    const out = await get(ns, ['pods', '-l', 'app=par'], '{range .items[*]}{.metadata.name}:{.status.phase} {end}');
    return out.trim().split(' ').filter((p) => p.endsWith(':Running')).length === 3 && out;
  });
  assert.equal(par.trim(), 'par-0:Running par-1:Running par-2:Running');
  assert.equal(await get(ns, ['pods', '-l', 'app=ord'], '{.items[*].metadata.name}'), 'ord-0');
});

test('DaemonSet: set image rolls every pod; a node freed of its taint gets its pod', async () => {
  const ns = await namespace('ds');
  await c.k(['taint', 'node', 'sim-2', 'dedicated=gpu:NoSchedule']);
  try {
    await apply(ns, `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "busybox:1.36"}]}
`);
    await c.k(['rollout', ...ns, 'status', 'ds/agent', '--timeout=60s']);
    assert.match(await c.k(['get', ...ns, 'ds', 'agent']), /^agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s/m);
    const before = lines(await c.k(['get', ...ns, 'pods', '-o', 'name']));

    await c.k(['set', 'image', ...ns, 'ds/agent', 'agent=busybox:1.37']);
    const status = await c.k(['rollout', ...ns, 'status', 'ds/agent', '--timeout=60s']);
    assert.match(status, /daemon set "agent" successfully rolled out/);
    const after = await eventually('old pods gone', async () => {
      const out = await get(ns, ['pods'], '{range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}');
      return out.trim().split(' ').length === 2 && !out.includes('1.36') && out;
    });
    for (const p of before) assert.ok(!after.includes(p.replace('pod/', '') + '='), `${p} replaced`);

    assert.equal(await c.k(['taint', 'node', 'sim-2', 'dedicated-']), 'node/sim-2 untainted\n');
    await eventually('a pod on sim-2', async () => (await get(ns, ['pods'], '{.items[*].spec.nodeName}')).split(' ').includes('sim-2'));
    await c.k(['rollout', ...ns, 'status', 'ds/agent', '--timeout=60s']);
    assert.match(await c.k(['get', ...ns, 'ds', 'agent']), /^agent\s+3\s+3\s+3\s+3\s+3\s+<none>\s/m);
  } finally {
    await c.kubectl(['taint', 'node', 'sim-2', 'dedicated-']);
    await c.k(['delete', 'namespace', 'ds', '--wait=false']);
  }
});

test('Job: Indexed completion mode gives each pod its index and completes', async () => {
  const ns = await namespace('job-indexed');
  await apply(ns, `apiVersion: batch/v1
kind: Job
metadata: {name: shard}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec: {restartPolicy: Never, containers: [{name: work, image: busybox}]}
`);
  await c.k(['wait', ...ns, '--for=condition=complete', 'job/shard', '--timeout=30s']);
  const indexes = await get(ns, ['pods', '-l', 'job-name=shard'], '{range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {end}');
  assert.deepEqual(indexes.trim().split(' ').sort(), ['0', '1', '2']);
  const pods = await get(ns, ['pods', '-l', 'job-name=shard'], '{range .items[*]}{.metadata.name} {end}');
  for (const name of pods.trim().split(' ')) assert.match(name, /^shard-[0-2]-[a-z0-9]{5}$/);
  assert.equal(await get(ns, ['job', 'shard'], '{.status.completedIndexes}'), '0-2');
  assert.match(await c.k(['get', ...ns, 'job', 'shard']), /^shard\s+Complete\s+3\/3\s/m);
});

test('Job: activeDeadlineSeconds fails a long job with DeadlineExceeded', async () => {
  const ns = await namespace('job-deadline');
  await apply(ns, `apiVersion: batch/v1
kind: Job
metadata: {name: long}
spec:
  activeDeadlineSeconds: 2
  template:
    metadata: {annotations: {sim.k8ts.io/run-seconds: "600"}}
    spec: {restartPolicy: Never, containers: [{name: work, image: busybox}]}
`);
  await c.k(['wait', ...ns, '--for=condition=failed', 'job/long', '--timeout=30s']);
  assert.equal(await get(ns, ['job', 'long'], '{.status.conditions[?(@.type=="Failed")].reason}'), 'DeadlineExceeded');
  assert.match(await c.k(['describe', ...ns, 'job', 'long']), /Warning\s+DeadlineExceeded\s+.*job-controller\s+Job was active longer than specified deadline/);
  await eventually('the running pod deleted', async () => (await c.k(['get', ...ns, 'pods', '-o', 'name'])).trim() === '');
});

test('Job: ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  const ns = await namespace('job-ttl');
  await apply(ns, `apiVersion: batch/v1
kind: Job
metadata: {name: brief}
spec:
  ttlSecondsAfterFinished: 2
  template:
    spec: {restartPolicy: Never, containers: [{name: work, image: busybox}]}
`);
  await c.k(['wait', ...ns, '--for=condition=complete', 'job/brief', '--timeout=30s']);
  await eventually('the job deleted', async () => {
    const r = await c.kubectl(['get', ...ns, 'job', 'brief']);
    return r.code !== 0 && /NotFound/.test(r.stderr);
  }, 15_000);
  await eventually('its pod deleted', async () => (await c.k(['get', ...ns, 'pods', '-o', 'name'])).trim() === '');
});

const replicaSet = (name: string, replicas: number, podFinalizer?: string): string => `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}${podFinalizer ? `, finalizers: [${podFinalizer}]` : ''}}
    spec: {containers: [{name: app, image: busybox}]}
`;

test('Garbage collection: --cascade=orphan leaves pods without ownerReferences', async () => {
  const ns = await namespace('gc-orphan');
  await apply(ns, replicaSet('keep', 2));
  await eventually('2 pods', async () => lines(await c.k(['get', ...ns, 'pods', '-l', 'app=keep', '-o', 'name'])).length === 2);
  assert.equal(await c.k(['delete', ...ns, 'rs', 'keep', '--cascade=orphan']), 'replicaset.apps "keep" deleted\n');
  const owners = await eventually('ownerReferences removed', async () => {
    const out = await get(ns, ['pods', '-l', 'app=keep'], '{range .items[*]}{.metadata.name}:{.metadata.ownerReferences}|{end}');
    return out.split('|').filter((x) => x.endsWith(':')).length === 2 && out;
  });
  assert.equal(owners.split('|').filter((x) => x !== '').length, 2);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(lines(await c.k(['get', ...ns, 'pods', '-l', 'app=keep', '--no-headers'])).filter((l) => /\sRunning\s/.test(l)).length, 2, 'the orphans keep running');
  // Bare pods would stop `kubectl drain` below (it needs --force for them).
  await c.k(['delete', 'namespace', 'gc-orphan', '--timeout=30s']);
});

test('Garbage collection: --cascade=foreground deletes dependents first', async () => {
  const ns = await namespace('gc-foreground');
  // A finalizer on the pods holds them while terminating, so the owner visibly waits for them.
  await apply(ns, replicaSet('fg', 2, 'example.com/hold'));
  await eventually('2 pods', async () => lines(await c.k(['get', ...ns, 'pods', '-l', 'app=fg', '-o', 'name'])).length === 2);
  await c.k(['delete', ...ns, 'rs', 'fg', '--cascade=foreground', '--wait=false']);
  const owner = await eventually('the owner waiting in the foreground', async () => {
    const out = await get(ns, ['rs', 'fg'], '{.metadata.finalizers}|{.metadata.deletionTimestamp}');
    return /foregroundDeletion/.test(out) && /\|\d{4}-/.test(out) && out;
  });
  assert.match(owner, /"foregroundDeletion"/);
  await eventually('the pods deleting', async () => (await get(ns, ['pods', '-l', 'app=fg'], '{range .items[*]}{.metadata.deletionTimestamp} {end}')).trim().split(' ').filter((t) => t !== '').length === 2);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await c.kubectl(['get', ...ns, 'rs', 'fg'])).code, 0, 'the owner stays while its dependents exist');
  for (const pod of lines(await c.k(['get', ...ns, 'pods', '-l', 'app=fg', '-o', 'name']))) {
    await c.k(['patch', ...ns, pod, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  }
  await eventually('the owner gone', async () => /NotFound/.test((await c.kubectl(['get', ...ns, 'rs', 'fg'])).stderr));
});

test('cordon/uncordon, and drain blocked by a PodDisruptionBudget until it allows', async () => {
  const ns = await namespace('drain');
  await apply(ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {nodeSelector: {kubernetes.io/hostname: sim-1}, volumes: [{name: scratch, emptyDir: {}}], containers: [{name: api, image: busybox, volumeMounts: [{name: scratch, mountPath: /scratch}]}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: api}}
`);
  await c.k(['rollout', ...ns, 'status', 'deployment/api', '--timeout=60s']);
  await eventually('the PDB allows no disruption', async () => (await get(ns, ['pdb', 'api'], '{.status.currentHealthy}/{.status.disruptionsAllowed}')) === '1/0');

  assert.equal(await c.k(['cordon', 'sim-1']), 'node/sim-1 cordoned\n');
  try {
    assert.match(await c.k(['get', 'node', 'sim-1', '--no-headers']), /^sim-1\s+Ready,SchedulingDisabled\s/);
    assert.equal(await c.k(['uncordon', 'sim-1']), 'node/sim-1 uncordoned\n');
    assert.match(await c.k(['get', 'node', 'sim-1', '--no-headers']), /^sim-1\s+Ready\s/);

    // A pod with an emptyDir needs --delete-emptydir-data.
    const local = await c.kubectl(['drain', 'sim-1', '--ignore-daemonsets', '--timeout=7s']);
    assert.notEqual(local.code, 0);
    assert.match(local.stderr, /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): drain\/api-\S+/);
    assert.equal(await get(ns, ['pods', '-l', 'app=api'], '{.items[*].status.phase}'), 'Running');

    const blocked = await c.kubectl(['drain', 'sim-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=7s']);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(blocked.stderr, /error: unable to drain node "sim-1" due to error: .*global timeout reached: 7s/);
    assert.match(await c.k(['get', 'node', 'sim-1', '--no-headers']), /^sim-1\s+Ready,SchedulingDisabled\s/);
    assert.equal(await get(ns, ['pods', '-l', 'app=api'], '{.items[*].status.phase}'), 'Running');

    // Allow one disruption: drain now evicts the pod.
    await c.k(['patch', ...ns, 'pdb', 'api', '--type=merge', '-p', '{"spec":{"minAvailable":0}}']);
    await eventually('the PDB allows a disruption', async () => (await get(ns, ['pdb', 'api'], '{.status.disruptionsAllowed}')) === '1');
    const drained = await c.k(['drain', 'sim-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=30s']);
    assert.match(drained, /pod\/api-\S+ evicted/);
    assert.match(drained, /^node\/sim-1 drained$/m);
    await eventually('the replacement pending on the cordoned node', async () => {
      const out = await get(ns, ['pods', '-l', 'app=api'], '{range .items[*]}{.status.phase}:{.spec.nodeName} {end}');
      return out.trim() === 'Pending:' && out;
    });
  } finally {
    await c.k(['uncordon', 'sim-1']);
  }
  await c.k(['rollout', ...ns, 'status', 'deployment/api', '--timeout=60s']);
  await c.k(['delete', 'namespace', 'drain', '--wait=false']);
});

test('PriorityClass: a high-priority pod preempts a low-priority one', async () => {
  const ns = await namespace('prio');
  await apply([], `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000000
`);
  // Two 3-CPU pods fill each 8-CPU node as far as another 3-CPU pod is concerned.
  await apply(ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: filler}
spec:
  replicas: 6
  selector: {matchLabels: {app: filler}}
  template:
    metadata: {labels: {app: filler}}
    spec: {priorityClassName: low, containers: [{name: app, image: busybox, resources: {requests: {cpu: "3"}}}]}
`);
  await c.k(['rollout', ...ns, 'status', 'deployment/filler', '--timeout=60s']);
  assert.equal(await get(ns, ['pods', '-l', 'app=filler'], '{.items[0].spec.priority}'), '100');
  const fillers = lines(await c.k(['get', ...ns, 'pods', '-l', 'app=filler', '-o', 'name']));

  await c.k(['run', ...ns, 'vip', '--image=busybox', '--overrides={"spec":{"priorityClassName":"high","containers":[{"name":"vip","image":"busybox","resources":{"requests":{"cpu":"3"}}}]}}']);
  let nominated = '';
  const node = await eventually('vip running', async () => {
    const out = await get(ns, ['pod', 'vip'], '{.status.nominatedNodeName}|{.spec.nodeName}|{.status.phase}');
    const [nom, nodeName, phase] = out.split('|');
    if (nom) nominated = nom;
    return phase === 'Running' && nodeName;
  });
  assert.equal(nominated, node, 'vip was nominated to the node it runs on');
  const preempted = await c.k(['get', ...ns, 'events', '--field-selector', 'reason=Preempted', '-o', 'jsonpath={range .items[*]}{.involvedObject.name}: {.message}{"\\n"}{end}']);
  assert.equal(lines(preempted).length, 1, preempted);
  assert.match(preempted, new RegExp(`^filler-\\S+: Preempted by pod [0-9a-f-]{36} on node ${node}$`, 'm'));
  const victim = preempted.split(':')[0]!;
  assert.ok(fillers.includes(`pod/${victim}`));
  await eventually('the victim deleted', async () => /NotFound/.test((await c.kubectl(['get', ...ns, 'pod', victim])).stderr));
  // Its replacement has nowhere to go.
  await eventually('one filler pending', async () => (await get(ns, ['pods', '-l', 'app=filler'], '{.items[*].status.phase}')).split(' ').filter((p) => p === 'Pending').length === 1);
  await c.k(['delete', 'namespace', 'prio', '--wait=false']);
});

test('a pod for another scheduler stays Pending with no event from ours', async () => {
  const ns = await namespace('other-sched');
  await c.k(['run', ...ns, 'mine', '--image=busybox', '--overrides={"spec":{"schedulerName":"other","containers":[{"name":"mine","image":"busybox"}]}}']);
  await c.k(['run', ...ns, 'control', '--image=busybox']);
  await eventually('the control pod running', async () => (await get(ns, ['pod', 'control'], '{.status.phase}')) === 'Running');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await get(ns, ['pod', 'mine'], '{.status.phase}|{.spec.nodeName}|{.status.conditions}'), 'Pending||');
  assert.equal(await c.k(['get', ...ns, 'events', '--field-selector', 'involvedObject.name=mine', '-o', 'name']), '');
  assert.match(await c.k(['describe', ...ns, 'pod', 'mine']), /^Events:\s+<none>$/m);
});

test('a crash-looping pod shows BackOff with (xN over …) in describe', async () => {
  const ns = await namespace('crash');
  await c.k(['run', ...ns, 'crash', '--image=busybox', '--annotations=sim.k8ts.io/exit-code=1', '--annotations=sim.k8ts.io/run-seconds=0']);
  const described = await eventually(async () => `BackOff counted twice in:\n${await c.k(['describe', ...ns, 'pod', 'crash'])}`, async () => {
    const out = await c.k(['describe', ...ns, 'pod', 'crash']);
    return /Warning\s+BackOff\s+\S+\s+\(x[2-9]\d* over \S+\)\s+kubelet\s+Back-off restarting failed container crash in pod crash_crash\(/.test(out) && out;
  }, 40_000);
  assert.match(described, /State:\s+Waiting\n\s+Reason:\s+CrashLoopBackOff/);
  assert.match(described, /Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+1/);
  assert.match(await c.k(['get', ...ns, 'pod', 'crash', '--no-headers']), /^crash\s+0\/1\s+(CrashLoopBackOff|Error)\s+[2-9]\d*\s/);
});

test('CronJob: the schedule fires a job at the minute; the suspended one fires none', async () => {
  const ns = ['-n', 'cron'];
  const job = await eventually('a scheduled job', async () => {
    const out = await get(ns, ['jobs', '-l', '!nonexistent'], '{range .items[*]}{.metadata.name} {end}');
    return out.split(' ').find((n) => /^tick-\d+$/.test(n));
  }, 65_000);
  assert.match(await c.k(['describe', ...ns, 'cronjob', 'tick']), new RegExp(`Normal\\s+SuccessfulCreate\\s+.*cronjob-controller\\s+Created job ${job}`));
  assert.match(await get(ns, ['cronjob', 'tick'], '{.status.lastScheduleTime}'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
  assert.equal(await get(ns, ['cronjob', 'sleepy'], '{.status.lastScheduleTime}'), '');
  assert.deepEqual((await get(ns, ['jobs'], '{.items[*].metadata.name}')).split(' ').filter((n) => n.startsWith('sleepy')), []);
});
