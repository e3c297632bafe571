/**
 * What the benchmarks share: a bounded pool of concurrent work, percentiles, a process's memory
 * and CPU time from /proc, and CPU profiles of a spawned server.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import type { RawClient } from '../test/support/api-client.js';

/** The p-th percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs work(0 … n-1) with at most `concurrency` in flight; answers the seconds it took. */
export async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await work(i);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** Resident memory of a process, in MB. */
export function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** utime + stime of a process, in seconds (clock ticks are 100/s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `start` with `process.execPath` pointing at a wrapper that adds `--cpu-prof` (node refuses
 * it in NODE_OPTIONS, and startCluster spawns `process.execPath`); the profile is written when the
 * server exits cleanly.
 */
export async function withCpuProfile<T>(dir: string | undefined, start: () => Promise<T>): Promise<T> {
  if (!dir) return start();
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'node-cpu-prof.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' --cpu-prof --cpu-prof-dir='${dir}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const real = process.execPath;
  process.execPath = wrapper;
  try {
    return await start();
  } finally {
    process.execPath = real;
  }
}

/** GET and parse, failing with the status and the start of the body. */
export async function getJSON<T>(api: RawClient, path: string): Promise<T> {
  const r = await api.call('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as T;
}

/** Opens a streaming watch; calls `onEvent` per event line. */
export function openWatch<Obj = unknown>(api: RawClient, port: number, path: string, rv: number, onEvent: (type: string, obj: Obj) => void, onEnd: (why: string) => void): Promise<{ stop(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `${path}?watch=true&resourceVersion=${rv}&timeoutSeconds=3600`, agent: api.agent }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${path}: ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: Obj };
          if (ev.type === 'ERROR') onEnd(`watch ${path}: ERROR ${JSON.stringify(ev.object).slice(0, 200)}`);
          onEvent(ev.type, ev.object);
        }
      });
      res.on('end', () => onEnd(`watch ${path} ended`));
      res.on('error', (e) => onEnd(`watch ${path}: ${e.message}`));
      resolve({ stop: () => req.destroy() });
    });
    req.on('error', (e) => reject(e));
    req.end();
  });
}
