/**
 * Starts a throwaway single-member etcd for tests: the `etcd` binary on PATH, listening on free
 * loopback ports, with its data in a temporary directory that `stop()` removes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface EtcdProcess {
  /** Client URL, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** Stops etcd (SIGTERM, then SIGKILL) and deletes its data directory. */
  stop(): Promise<void>;
  /** Stops etcd and starts it again on the same ports and data (to test reconnection). */
  restart(): Promise<void>;
}

/** The path of the etcd binary on PATH, or undefined when it is not installed. */
export function findEtcd(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export async function startEtcd(): Promise<EtcdProcess> {
  const bin = findEtcd();
  if (!bin) throw new Error('etcd binary not found on PATH (Debian: apt-get install etcd-server)');
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-etcd-'));
  // A port can be taken between probing and binding; retry with new ports a few times.
  for (let attempt = 0; ; attempt++) {
    const ports = { client: await freePort(), peer: await freePort() };
    const memberDir = join(dataDir, `member-${attempt}`);
    let child: ChildProcess;
    try {
      child = await launch(bin, memberDir, ports);
    } catch (err) {
      if (attempt < 2) continue;
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    const endpoint = `http://127.0.0.1:${ports.client}`;
    return {
      endpoint,
      stop: async () => {
        await stopChild(child);
        rmSync(dataDir, { recursive: true, force: true });
      },
      restart: async () => {
        await stopChild(child);
        child = await launch(bin, memberDir, ports);
      },
    };
  }
}

/** Runs etcd on the given ports and data directory until it reports healthy. */
async function launch(bin: string, memberDir: string, ports: { client: number; peer: number }): Promise<ChildProcess> {
  const endpoint = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  const child = spawn(
    bin,
    [
      '--name', 'k8ts-test',
      '--data-dir', memberDir,
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `k8ts-test=${peer}`,
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  try {
    await waitHealthy(endpoint, child, 20000);
  } catch (err) {
    await stopChild(child);
    throw new Error(`etcd did not start: ${(err as Error).message}\n${stderr}`);
  }
  return child;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`etcd exited (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (res.ok && body.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for /health');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
