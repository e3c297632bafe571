/**
 * kubectl exec, attach, cp and port-forward against real containers, with the protocols kubectl
 * 1.32 speaks (WebSocket v5 for exec, SPDY tunneled in WebSocket for port-forward) and the SPDY
 * it falls back to — and that older kubectl versions speak only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, run, startCluster, type TestCluster } from '../support/cluster.js';
import { eventually as poll } from '../support/eventually.js';
import { busyboxImageArchive, skipWithoutContainers } from '../support/containerd.js';

const skip = skipWithoutContainers();
let c: TestCluster | undefined;
const work = mkdtempSync(join(tmpdir(), 'k8ts-e2e-streaming-work-'));

const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => poll(what, probe, ms);

/** kubectl of another version, next to the default one (`kubectl.1.27` …), if this machine has it. */
function kubectlVersion(v: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const k = join(dir, 'kubectl');
    if (!existsSync(k)) continue;
    let target = k;
    try {
      target = join(dirname(k), readlinkSync(k));
    } catch {
      // not a link
    }
    for (const candidate of [join(dirname(target), `kubectl.${v}`), join(dir, `kubectl.${v}`)]) if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-e2e-streaming-'));
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  await busyboxImageArchive('docker.io/library/busybox:1.36', join(dataDir, 'agent', 'images', 'busybox.tar'), ['sh', 'sleep', 'echo', 'cat', 'hostname', 'tar', 'httpd', 'tty', 'ls', 'mkdir', 'wc', 'wget']);
  c = await startCluster({ dataDir, containerd: { nodeName: 'k8ts-stream-node' } });
  await c.k(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sh, -c, 'mkdir -p /www && echo served-from-the-pod > /www/index.html && httpd -f -p 8080 -h /www']}
  - {name: side, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: cat, image: busybox:1.36, imagePullPolicy: IfNotPresent, command: [cat], stdin: true}
`,
  });
  await c.k(['wait', '--for=condition=Ready', 'pod/shell', 'pod/echo', '--timeout=90s']);
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!c) return;
  await c.k(['delete', 'pods', '--all', '--grace-period=1', '--wait=true']).catch(() => undefined);
  await c.destroy();
});

test('kubectl exec runs a command in the container (WebSocket v5) and returns its output', { skip }, async () => {
  const r = await c!.kubectl(['exec', 'shell', '-c', 'main', '-v=4', '--', 'hostname']);
  assert.equal(r.stdout, 'shell\n');
  // kubectl says which protocol it got: the WebSocket one, not the SPDY fallback.
  assert.match(r.stderr, /subprotocol is v5\.channel\.k8s\.io/);
  // Containers of one pod share its network: the side container reaches main's httpd on localhost.
  assert.equal(await c!.k(['exec', 'shell', '-c', 'side', '--', 'wget', '-qO-', 'http://127.0.0.1:8080/index.html']), 'served-from-the-pod\n');
});

test('kubectl exec passes the exit code, stderr and stdin through', { skip }, async () => {
  const failed = await c!.kubectl(['exec', 'shell', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(failed.code, 3);
  assert.equal(failed.stdout, 'out\n');
  assert.match(failed.stderr, /err\n/);
  assert.match(failed.stderr, /command terminated with exit code 3/);
  const input = 'line one\nline two\n'.repeat(2000);
  const counted = await c!.k(['exec', '-i', 'shell', '-c', 'main', '--', 'wc', '-c'], { input });
  assert.equal(Number(counted.trim()), Buffer.byteLength(input));
  const missing = await c!.kubectl(['exec', 'shell', '-c', 'nope', '--', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /container nope is not valid for pod shell/);
});

test('kubectl exec -t gets a terminal', { skip }, async () => {
  // `script` gives kubectl a terminal of its own, as a user's shell would.
  const r = await run('script', ['-qec', `kubectl exec -it shell -c main -- tty`, '/dev/null'], { env: { ...process.env, KUBECONFIG: c!.kubeconfig } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
});

test('SPDY: kubectl falling back to it, and older kubectl that speaks nothing else', { skip }, async () => {
  const spdy = await c!.k(['exec', 'shell', '-c', 'main', '--', 'hostname'], { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
  assert.equal(spdy, 'shell\n');
  const old = kubectlVersion('1.27');
  if (!old) return;
  const r = await run(old, ['exec', '-i', 'shell', '-c', 'main', '--', 'sh', '-c', 'cat; exit 4'], { input: 'via-spdy\n', env: { ...process.env, KUBECONFIG: c!.kubeconfig } });
  assert.equal(r.stdout, 'via-spdy\n');
  assert.equal(r.code, 4);
});

test('kubectl cp copies files into and out of a container', { skip }, async () => {
  const src = join(work, 'upload.txt');
  const body = Array.from({ length: 5000 }, (_, i) => `row ${i}`).join('\n') + '\n';
  writeFileSync(src, body);
  await c!.k(['cp', src, 'shell:/www/upload.txt', '-c', 'main']);
  assert.equal(await c!.k(['exec', 'shell', '-c', 'main', '--', 'cat', '/www/upload.txt']), body);
  const back = join(work, 'download.txt');
  await c!.k(['cp', 'shell:/www/upload.txt', back, '-c', 'main']);
  assert.equal(readFileSync(back, 'utf8'), body);
});

test('kubectl attach -i talks to the container\'s own stdin and stdout', { skip }, async () => {
  const r = await c!.kubectl(['attach', '-i', 'echo'], { input: 'hello through attach\n' });
  assert.match(r.stdout, /hello through attach/);
});

async function portForward(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn('kubectl', ['port-forward', 'pod/shell', `${port}:8080`, '-v=4'], { env: { ...process.env, KUBECONFIG: c!.kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await eventually('port-forward to listen', async () => out.includes('Forwarding from'), 30_000);
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`);
      bodies.push(await res.text());
    }
    return `${/negotiated protocol: portforward\.k8s\.io|Negotiation complete/.test(out) ? 'websocket' : 'spdy'}:${bodies.join('')}`;
  } finally {
    child.kill('SIGTERM');
  }
}

test('kubectl port-forward serves a container\'s port on localhost (WebSocket tunnel and SPDY)', { skip }, async () => {
  assert.equal(await portForward({}), `websocket:${'served-from-the-pod\n'.repeat(3)}`);
  assert.equal(await portForward({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }), `spdy:${'served-from-the-pod\n'.repeat(3)}`);
});

test('@kubernetes/client-node: Exec (WebSocket v5) and PortForward (WebSocket channels)', { skip }, async () => {
  const k8s = await import('@kubernetes/client-node');
  const { PassThrough, Readable } = await import('node:stream');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c!.kubeconfig);
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const status = await new Promise<{ status?: string }>((resolve, reject) => {
    new k8s.Exec(kc).exec('default', 'shell', 'main', ['sh', '-c', 'hostname; cat'], stdout, null, Readable.from(['from client-node\n']), false, resolve).catch(reject);
  });
  assert.equal(status.status, 'Success');
  assert.equal(out, 'shell\nfrom client-node\n');

  // PortForward: one WebSocket per connection, the request's bytes in, the response's out.
  let response = '';
  const output = new PassThrough();
  output.on('data', (d: Buffer) => (response += d.toString()));
  const input = new PassThrough();
  const ws = (await new k8s.PortForward(kc).portForward('default', 'shell', [8080], output, null, input)) as { close(): void };
  input.write('GET /index.html HTTP/1.0\r\n\r\n');
  await eventually('the forwarded response', async () => response.includes('served-from-the-pod'), 30_000);
  assert.match(response, /^HTTP\/1\.[01] 200 OK/);
  ws.close();
});
