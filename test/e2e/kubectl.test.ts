/**
 * What a new user does with kubectl against `k8ts server`, on both stores: SQLite (default) and
 * etcd (a real etcd started here).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, sedEditor, type TestCluster } from '../support/cluster.js';
import { findEtcd, startEtcd, type EtcdProcess } from '../support/etcd-process.js';

const deploymentYaml = (replicas: number, image = 'busybox:1.36') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 8080
        env:
        - {name: A, value: "1"}
`;

for (const backend of ['sqlite', 'etcd'] as const) {
  describe(`kubectl against k8ts on ${backend}`, () => {
    let etcd: EtcdProcess | undefined;
    let c: TestCluster;
    const work = mkdtempSync(join(tmpdir(), 'k8ts-kubectl-'));

    before(async () => {
      if (backend === 'etcd') {
        if (!findEtcd() && !process.env['CI']) return;
        etcd = await startEtcd();
      }
      c = await startCluster({ etcd: etcd?.endpoint });
    });
    after(async () => {
      await c?.destroy();
      await etcd?.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const skip = (): boolean => backend === 'etcd' && !findEtcd() && !process.env['CI'];

    test('version and api-resources', { skip: skip() }, async () => {
      const version = JSON.parse(await c.k(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string; major: string; minor: string } };
      assert.match(version.serverVersion.gitVersion, /^v1\.32\.\d+\+k8ts/);
      const resources = await c.k(['api-resources']);
      assert.match(resources, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(resources, /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);
      assert.match(resources, /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition$/m);
    });

    test('the cluster starts with its namespaces and the kubernetes Service', { skip: skip() }, async () => {
      const ns = await c.k(['get', 'namespaces', '-o', 'name']);
      for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(ns, new RegExp(`^namespace/${n}$`, 'm'));
      const svc = await c.k(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].port}']);
      assert.equal(svc, '10.43.0.1 443');
    });

    test('kubectl create for the common kinds', { skip: skip() }, async () => {
      await c.k(['create', 'namespace', 'shop']);
      await c.k(['create', 'configmap', 'cfg', '-n', 'shop', '--from-literal=a=1', '--from-literal=b=2']);
      await c.k(['create', 'secret', 'generic', 'pw', '-n', 'shop', '--from-literal=password=s3cret']);
      await c.k(['create', 'deployment', 'api', '-n', 'shop', '--image=busybox', '--replicas=2']);
      await c.k(['create', 'service', 'clusterip', 'api', '-n', 'shop', '--tcp=80:8080']);
      await c.k(['create', 'cronjob', 'tick', '-n', 'shop', '--image=busybox', '--schedule=*/5 * * * *']);
      await c.k(['create', 'job', 'once', '-n', 'shop', '--image=busybox']);
      const cm = JSON.parse(await c.k(['get', 'configmap', 'cfg', '-n', 'shop', '-o', 'json'])) as { data: Record<string, string> };
      assert.deepEqual(cm.data, { a: '1', b: '2' });
      const secret = await c.k(['get', 'secret', 'pw', '-n', 'shop', '-o', 'jsonpath={.data.password}']);
      assert.equal(Buffer.from(secret, 'base64').toString(), 's3cret');
      const svcIP = await c.k(['get', 'svc', 'api', '-n', 'shop', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.match(svcIP, /^10\.43\.\d+\.\d+$/);
      const deploy = await c.k(['get', 'deploy', 'api', '-n', 'shop']);
      assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
      assert.match(deploy, /^api\s+0\/2\s+\d\s+0\s+\d+s$/m);
      const job = JSON.parse(await c.k(['get', 'job', 'once', '-n', 'shop', '-o', 'json'])) as { spec: { template: { metadata: { labels: Record<string, string> } }; backoffLimit: number } };
      assert.equal(job.spec.backoffLimit, 6);
      assert.equal(job.spec.template.metadata.labels['job-name'], 'once');
      const cj = await c.k(['get', 'cronjob', 'tick', '-n', 'shop']);
      assert.match(cj, /^tick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/m);
    });

    test('client-side apply twice is unchanged; a change is configured', { skip: skip() }, async () => {
      const file = join(work, `deploy-${backend}.yaml`);
      writeFileSync(file, deploymentYaml(1));
      assert.match(await c.k(['apply', '-f', file]), /deployment.apps\/web created/);
      assert.match(await c.k(['apply', '-f', file]), /deployment.apps\/web unchanged/);
      writeFileSync(file, deploymentYaml(3, 'busybox:1.37'));
      assert.match(await c.k(['apply', '-f', file]), /deployment.apps\/web configured/);
      const got = JSON.parse(await c.k(['get', 'deploy', 'web', '-o', 'json'])) as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string; env: unknown[] }> } } }; metadata: { generation: number; annotations: Record<string, string> } };
      assert.equal(got.spec.replicas, 3);
      assert.equal(got.spec.template.spec.containers[0]!.image, 'busybox:1.37');
      assert.equal(got.spec.template.spec.containers[0]!.env.length, 1);
      assert.equal(got.metadata.generation, 2);
      assert.ok(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    });

    test('server-side apply, ownership conflicts and --force-conflicts', { skip: skip() }, async () => {
      const file = join(work, `ssa-${backend}.yaml`);
      writeFileSync(file, deploymentYaml(2).replace('name: web\n  labels', 'name: ssa\n  labels'));
      assert.match(await c.k(['apply', '--server-side', '-f', file]), /deployment.apps\/ssa serverside-applied/);
      assert.match(await c.k(['apply', '--server-side', '-f', file]), /deployment.apps\/ssa serverside-applied/);
      const managers = await c.k(['get', 'deploy', 'ssa', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}']);
      assert.match(managers, /kubectl/);
      await c.k(['scale', 'deploy', 'ssa', '--replicas=5']);
      writeFileSync(file, deploymentYaml(4).replace('name: web\n  labels', 'name: ssa\n  labels'));
      const conflict = await c.kubectl(['apply', '--server-side', '-f', file]);
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /conflict/i);
      assert.match(conflict.stderr, /\.spec\.replicas/);
      await c.k(['apply', '--server-side', '--force-conflicts', '-f', file]);
      assert.equal(await c.k(['get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas}']), '4');
    });

    test('get in every output format, with label and field selectors', { skip: skip() }, async () => {
      await c.k(['create', 'configmap', 'sel-a', '--from-literal=x=1']);
      await c.k(['create', 'configmap', 'sel-b', '--from-literal=x=1']);
      await c.k(['label', 'configmap', 'sel-a', 'tier=front']);
      await c.k(['label', 'configmap', 'sel-b', 'tier=back']);
      assert.equal((await c.k(['get', 'cm', '-l', 'tier=front', '-o', 'name'])).trim(), 'configmap/sel-a');
      assert.equal((await c.k(['get', 'cm', '-l', 'tier in (front,back)', '-o', 'name'])).trim().split('\n').length, 2);
      assert.equal((await c.k(['get', 'cm', '-l', 'tier,tier!=front', '-o', 'name'])).trim(), 'configmap/sel-b');
      assert.equal((await c.k(['get', 'cm', '--field-selector', 'metadata.name=sel-b', '-o', 'name'])).trim(), 'configmap/sel-b');
      const yaml = await c.k(['get', 'cm', 'sel-a', '-o', 'yaml']);
      assert.match(yaml, /^kind: ConfigMap$/m);
      assert.match(yaml, /tier: front/);
      const table = await c.k(['get', 'cm', 'sel-a', '--show-labels']);
      assert.match(table, /^NAME\s+DATA\s+AGE\s+LABELS$/m);
      assert.match(table, /^sel-a\s+1\s+\d+s\s+tier=front$/m);
      const wide = await c.k(['get', 'deploy', 'web', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
      assert.match(wide, /web\s+busybox:1\.37\s+app=web$/m);
      const bad = await c.kubectl(['get', 'cm', '--field-selector', 'spec.nothing=1']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field label not supported: spec\.nothing/);
    });

    test('get -w streams changes', { skip: skip() }, async () => {
      const child = spawn('kubectl', ['get', 'configmaps', '-w', '-o', 'name'], { env: { ...process.env, KUBECONFIG: c.kubeconfig } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const seen = (s: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`watch did not show ${s}; got:\n${out}`)), 15_000);
          const poll = setInterval(() => {
            if (out.includes(s)) {
              clearTimeout(t);
              clearInterval(poll);
              resolve();
            }
          }, 50);
        });
      try {
        await seen('configmap/sel-a');
        await c.k(['create', 'configmap', 'watched', '--from-literal=k=v']);
        await seen('configmap/watched');
      } finally {
        child.kill();
      }
    });

    test('describe, edit, patch (three kinds), annotate, scale, replace, delete', { skip: skip() }, async () => {
      const described = await c.k(['describe', 'deploy', 'web']);
      assert.match(described, /^Name:\s+web$/m);
      assert.match(described, /^Replicas:\s+3 desired/m);
      assert.match(described, /StrategyType:\s+RollingUpdate/);

      const editor = sedEditor(work, 's/replicas: 3/replicas: 2/');
      await c.k(['edit', 'deploy', 'web'], { env: { KUBE_EDITOR: editor } });
      assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '2');

      await c.k(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:2"}]}}}}']);
      await c.k(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"patched":"merge"}}}']);
      await c.k(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":1}]']);
      const d = JSON.parse(await c.k(['get', 'deploy', 'web', '-o', 'json'])) as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string; ports: unknown[] }> } } }; metadata: { labels: Record<string, string> } };
      assert.equal(d.spec.template.spec.containers[0]!.image, 'busybox:2');
      assert.equal(d.spec.template.spec.containers[0]!.ports.length, 1, 'strategic merge keeps the container ports');
      assert.equal(d.metadata.labels['patched'], 'merge');
      assert.equal(d.spec.replicas, 1);

      await c.k(['annotate', 'deploy', 'web', 'owner=team-a']);
      assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-a');
      await c.k(['scale', 'deploy', 'web', '--replicas=4']);
      assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '4');

      const current = await c.k(['get', 'cm', 'watched', '-o', 'yaml']);
      const file = join(work, `replace-${backend}.yaml`);
      writeFileSync(file, current.replace('k: v', 'k: replaced'));
      await c.k(['replace', '-f', file]);
      assert.equal(await c.k(['get', 'cm', 'watched', '-o', 'jsonpath={.data.k}']), 'replaced');

      assert.match(await c.k(['delete', 'cm', 'watched']), /configmap "watched" deleted/);
      const gone = await c.kubectl(['get', 'cm', 'watched']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /Error from server \(NotFound\): configmaps "watched" not found/);
    });

    test('explain reads the published schema', { skip: skip() }, async () => {
      const out = await c.k(['explain', 'deployment.spec.replicas']);
      assert.match(out, /KIND:\s+Deployment/);
      assert.match(out, /FIELD:\s+replicas <integer>/);
      assert.match(out, /Number of desired pods/);
    });

    test('invalid objects are refused, naming the field, and nothing is stored', { skip: skip() }, async () => {
      const file = join(work, `bad-${backend}.yaml`);
      writeFileSync(file, deploymentYaml(1).replace('name: web\n  labels', 'name: bad\n  labels').replace('matchLabels: {app: web}', 'matchLabels: {app: other}'));
      const r = await c.kubectl(['apply', '-f', file]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: map\[string\]string{"app":"web"}: `selector` does not match template `labels`/);
      assert.notEqual((await c.kubectl(['get', 'deploy', 'bad'])).code, 0);

      const unknownField = await c.kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: b}\n' });
      assert.notEqual(unknownField.code, 0);
      assert.match(unknownField.stderr, /unknown field "datta"/);
      assert.notEqual((await c.kubectl(['get', 'cm', 'typo'])).code, 0);

      const badName = await c.kubectl(['create', 'configmap', 'Bad_Name']);
      assert.notEqual(badName.code, 0);
      assert.match(badName.stderr, /metadata.name: Invalid value: "Bad_Name"/);

      await c.k(['create', 'namespace', 'twice']);
      const dup = await c.kubectl(['create', 'namespace', 'twice']);
      assert.match(dup.stderr, /AlreadyExists.*namespaces "twice" already exists/);
    });

    test('objects survive a restart', { skip: skip() }, async () => {
      await c.k(['create', 'configmap', 'durable', '--from-literal=k=v']);
      await c.restart();
      assert.equal(await c.k(['get', 'cm', 'durable', '-o', 'jsonpath={.data.k}']), 'v');
      assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '4');
      // The service IP allocator remembers what it handed out.
      const dup = await c.kubectl(['create', 'service', 'clusterip', 'api2', '-n', 'shop', '--tcp=80:8080', '--clusterip', await c.k(['get', 'svc', 'api', '-n', 'shop', '-o', 'jsonpath={.spec.clusterIP}'])]);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already allocated/);
    });

    test('deleting a namespace deletes what is in it, then the namespace', { skip: skip() }, async () => {
      await c.k(['create', 'namespace', 'doomed']);
      await c.k(['create', 'configmap', 'x', '-n', 'doomed', '--from-literal=a=b']);
      await c.k(['create', 'deployment', 'd', '-n', 'doomed', '--image=busybox']);
      await c.k(['delete', 'namespace', 'doomed', '--timeout=60s']);
      const r = await c.kubectl(['get', 'namespace', 'doomed']);
      assert.notEqual(r.code, 0);
      assert.equal((await c.k(['get', 'cm,deploy', '-A', '--field-selector', 'metadata.namespace=doomed', '-o', 'name'])).trim(), '');
      const forbidden = await c.kubectl(['delete', 'namespace', 'default']);
      assert.match(forbidden.stderr, /this namespace may not be deleted/);
    });
  });
}
