/**
 * The workloads of the seed documents (../shared/seeds) on real containers: the k8sdemo backend
 * (Deployment + Service), the Tomcat ReplicationController and Deployment with their Services,
 * the kafka StatefulSet behind a headless Service with volume claims, a DaemonSet, a Job, and the
 * PV/PVC pair. The documents' YAML is flattened or dated in places; the manifests below are theirs
 * with only what Kubernetes 1.32 needs mended: indentation, `apps/v1` for `extensions/v1beta1`,
 * the misspelt `psec`/`spector` of tomcat-service, and `imagePullPolicy: IfNotPresent` for the
 * backend's `Always` — there is no registry here, the images come from archives (built from
 * busybox under the seeds' image names, serving HTTP on the seeds' ports).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
let c: TestCluster | undefined;

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> => poll(what, probe, ms);

/** An image that answers HTTP on `port` with its hostname, as the seeds' web apps would. */
const webCmd = (port: number): string[] => ['sh', '-c', `mkdir -p /www && hostname > /www/index.html && exec httpd -f -p ${port} -h /www`];
const applets = ['sh', 'mkdir', 'hostname', 'httpd', 'wget', 'cat', 'echo', 'sleep', 'ls'];

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-seeds-'));
  const images = join(dataDir, 'agent', 'images');
  mkdirSync(images, { recursive: true });
  await busyboxImageArchive('docker.io/dweizhao/backend:latest', join(images, 'backend.tar'), applets, webCmd(8080));
  await busyboxImageArchive('docker.io/library/tomcat:latest', join(images, 'tomcat.tar'), applets, webCmd(8080));
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(images, 'busybox.tar'), applets);
  c = await startCluster({ dataDir, containerd: { nodeName: 'k8ts-seeds-node' } });
});
after(async () => {
  if (!c) return;
  await c.k(['delete', 'namespace', 'k8sdemo', '--wait=true', '--timeout=90s']).catch(() => undefined);
  await c.destroy();
});

/** Every pod matching `selector` Running and Ready; returns their names. */
async function allReady(selector: string, count: number, namespace = 'default'): Promise<string[]> {
  return eventually(`${count} ready pods ${selector}`, async () => {
    const pods = JSON.parse(await c!.k(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { phase: string; conditions?: Array<{ type: string; status: string }> } }> };
    const ready = pods.items.filter((p) => p.status.phase === 'Running' && p.status.conditions?.some((k) => k.type === 'Ready' && k.status === 'True'));
    return ready.length === count && ready.map((p) => p.metadata.name);
  });
}

test('k8sdemo: the backend Deployment and its Service (seed 003)', { skip }, async () => {
  await c!.k(['create', 'namespace', 'k8sdemo']);
  await c!.k(['apply', '-n', 'k8sdemo', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
spec:
  selector:
    matchLabels:
      app: backend
  replicas: 1
  template:
    metadata:
      labels:
        app: backend
        version: latest
    spec:
      containers:
      - name: backend
        image: dweizhao/backend:latest
        imagePullPolicy: IfNotPresent
---
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  type: ClusterIP
  ports:
  - name: backend-http
    port: 8080
    targetPort: 8080
    protocol: TCP
  selector:
    app: backend
`,
  });
  const [pod] = await allReady('app=backend', 1, 'k8sdemo');
  await c!.k(['rollout', 'status', 'deployment/backend', '-n', 'k8sdemo', '--timeout=60s']);
  const ip = await eventually('the Service endpoint', async () => (await c!.k(['get', 'endpoints', 'backend', '-n', 'k8sdemo', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])) || false);
  // The backend answers on its endpoint. (This cluster shares the host's network, so it runs no
  // kube-proxy; Services that route are tested in services.test.ts, in a network namespace of its own.)
  assert.equal(await c!.k(['exec', '-n', 'k8sdemo', pod!, '--', 'wget', '-qO-', `http://${ip}:8080/`]), `${pod}\n`);
});

test('Tomcat: the ReplicationController, the Deployment with set-based selector, their Services (seed 002)', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: ReplicationController
metadata:
  name: frontend
spec:
  replicas: 1
  selector:
    tier: frontend
  template:
    metadata:
      labels:
        app: app-demo
        tier: frontend
    spec:
      volumes:
      - name: datavol
        emptyDir: {}
      containers:
      - name: tomcat-demo
        image: tomcat
        imagePullPolicy: IfNotPresent
        env:
        - name: GET_HOSTS_FROM
          value: dns
        ports:
        - containerPort: 8080
        volumeMounts:
        - mountPath: /mydata-data
          name: datavol
---
apiVersion: v1
kind: Service
metadata:
  name: tomcat-service
spec:
  ports:
  - port: 8080
  selector:
    tier: frontend
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tomcat-deploy
spec:
  replicas: 2
  selector:
    matchLabels:
      app: tomcat-deploy
    matchExpressions:
    - {key: app, operator: In, values: [tomcat-deploy]}
  template:
    metadata:
      labels:
        app: tomcat-deploy
    spec:
      containers:
      - name: tomcat-demo
        image: tomcat
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 8080
`,
  });
  const [rcPod] = await allReady('tier=frontend', 1);
  await allReady('app=tomcat-deploy', 2);
  assert.equal(await c!.k(['exec', rcPod!, '--', 'sh', '-c', 'echo $GET_HOSTS_FROM; ls -d /mydata-data']), 'dns\n/mydata-data\n');
  const endpoints = await eventually('tomcat-service endpoints', async () => {
    const e = await c!.k(['get', 'endpoints', 'tomcat-service', '--no-headers']);
    return /:8080/.test(e) && e;
  });
  assert.match(endpoints, /^tomcat-service\s+\d+\.\d+\.\d+\.\d+:8080\s/);
});

test('kafka: a StatefulSet behind a headless Service, one volume claim per pod, started in order (seed 002)', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Service
metadata:
  name: kafka
spec:
  clusterIP: None
  selector:
    app: kafka
  ports:
  - port: 9092
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: kafka
spec:
  serviceName: kafka
  replicas: 3
  selector:
    matchLabels:
      app: kafka
  template:
    metadata:
      labels:
        app: kafka
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: kafka
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'hostname > /data/id; exec httpd -f -p 9092 -h /data']
        ports:
        - containerPort: 9092
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`,
  });
  assert.deepEqual((await allReady('app=kafka', 3)).sort(), ['kafka-0', 'kafka-1', 'kafka-2']);
  // Each pod keeps its own volume: kafka-1 wrote its own name into data-kafka-1.
  assert.equal(await c!.k(['exec', 'kafka-1', '--', 'cat', '/data/id']), 'kafka-1\n');
  const pvcs = await c!.k(['get', 'pvc', '-l', 'app=kafka', '--no-headers']);
  assert.equal(pvcs.trim().split('\n').filter((l) => /^data-kafka-\d\s+Bound\s/.test(l)).length, 3, pvcs);
  const started = JSON.parse(await c!.k(['get', 'pods', '-l', 'app=kafka', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { startTime: string } }> };
  const order = started.items.sort((a, b) => Date.parse(a.status.startTime) - Date.parse(b.status.startTime)).map((p) => p.metadata.name);
  assert.deepEqual(order, ['kafka-0', 'kafka-1', 'kafka-2']);
});

test('a DaemonSet runs on the node; a Job runs to completion (seeds 002, 004)', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      app: node-agent
  template:
    metadata:
      labels:
        app: node-agent
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'echo watching $NODE; exec sleep 3600']
        env:
        - name: NODE
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
---
apiVersion: batch/v1
kind: Job
metadata:
  name: batch
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'echo done by $(hostname)']
`,
  });
  const [agent] = await allReady('app=node-agent', 1);
  assert.equal(await c!.k(['logs', agent!]), 'watching k8ts-seeds-node\n');
  await c!.k(['wait', '--for=condition=Complete', 'job/batch', '--timeout=120s']);
  const done = await c!.k(['get', 'job', 'batch', '-o', 'jsonpath={.status.succeeded}']);
  assert.equal(done, '3');
  const logs = await c!.k(['logs', 'job/batch']);
  assert.match(logs, /^done by batch-/);
});

test('a PV and a claim that asks for more than it holds (seed 002)', { skip }, async () => {
  await c!.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv0003
spec:
  capacity:
    storage: 5Gi
  accessModes:
  - ReadWriteOnce
  storageClassName: ""
  nfs:
    path: /somepath
    server: 172.17.0.2
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: myclaim
spec:
  accessModes:
  - ReadWriteOnce
  storageClassName: ""
  resources:
    requests:
      storage: 8Gi
`,
  });
  // 8Gi does not fit the 5Gi volume: the claim waits, as Kubernetes' would.
  await new Promise((r) => setTimeout(r, 2000));
  assert.match(await c!.k(['get', 'pvc', 'myclaim', '--no-headers']), /^myclaim\s+Pending\s/);
  assert.match(await c!.k(['get', 'pv', 'pv0003', '--no-headers']), /^pv0003\s+5Gi\s+RWO\s+Retain\s+Available\s/);
});
