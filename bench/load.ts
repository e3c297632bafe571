/**
 * A load generator the network benchmarks run inside a lab machine's network namespace
 * (`nsenter --net=… node dist/bench/load.js …`), where pod and Service addresses are routed.
 * Keeps `--concurrency` requests in flight for `--seconds` and prints one JSON line:
 * {requests, errors, seconds, perSecond, p50, p99, cpuPerRequestUs, connectionsPerRequest}
 * (latencies in ms; the client's own CPU; the TCP connections it opened per request).
 *   http: `load.js http URL[,URL…] [--host H] [--keep-alive]`: a new connection per request; with
 *         --keep-alive the client keeps its connections where the server lets it, as HTTP/1.1
 *         clients and load generators (wrk, hey, ab -k) do — busybox httpd answers
 *         `Connection: close`, an ingress keeps them; several URLs are taken in turn.
 *   dns:  `load.js dns SERVER NAME`: UDP A queries.
 */
import { Agent, request } from 'node:http';
import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';
import { percentile } from './bench-support.js';

const [mode, target, extra] = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const SECONDS = Number(flag('seconds', '10'));
const CONCURRENCY = Number(flag('concurrency', '8'));

let connections = 0;

function httpOnce(url: URL, host: string | undefined, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port || 80, path: url.pathname, agent, headers: host ? { host } : {}, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    // The agent marks a request it puts on a kept connection before handing it the socket.
    req.on('socket', () => {
      if (!req.reusedSocket) connections++;
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function dnsClient(server: string, name: string): () => Promise<void> {
  const socket = createSocket('udp4');
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let id = 0;
  socket.on('message', (msg) => {
    const p = packet.decode(msg);
    const w = pending.get(p.id ?? -1);
    if (!w) return;
    pending.delete(p.id!);
    clearTimeout(w.timer);
    if (p.answers?.length) w.resolve();
    else w.reject(new Error('no answer'));
  });
  const [host, port] = server.split(':');
  return () =>
    new Promise((resolve, reject) => {
      id = (id + 1) % 65536;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('timeout'));
      }, 2000);
      pending.set(id, { resolve, reject, timer });
      socket.send(packet.encode({ id, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), Number(port ?? 53), host);
    });
}

async function main(): Promise<void> {
  const urls = mode === 'http' ? (target ?? '').split(',').map((u) => new URL(u)) : [];
  let turn = 0;
  const host = flag('host', '') || undefined;
  const agent = process.argv.includes('--keep-alive') ? new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) : false;
  const once = mode === 'http' ? () => httpOnce(urls[turn++ % urls.length]!, host, agent) : dnsClient(target!, extra!);
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await once();
          latencies.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, latencies.length + errors), connectionsPerRequest: connections / Math.max(1, latencies.length + errors) })}\n`);
  process.exit(0);
}

void main();
