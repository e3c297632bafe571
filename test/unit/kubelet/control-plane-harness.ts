/** Starts the real control plane in-process on a memory store, for kubelet tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../../src/cmd/control-plane.js';
import { MemoryBackend } from '../../../src/store/memory.js';
import { loadOrCreateCertificates } from '../../../src/pki/certificate-authority.js';
import { createLogger } from '../../../src/machinery/logger.js';
import type { Client } from '../../../src/client/interface.js';

export interface Harness {
  cp: ControlPlane;
  client: Client;
  dir: string;
  token: string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-kubelet-'));
  const backend = new MemoryBackend();
  await backend.start();
  const certs = await loadOrCreateCertificates(dir, { hostnames: [], ips: [] });
  const token = 'test-token';
  const cp = await startControlPlane({
    backend,
    dataDir: dir,
    certs,
    token,
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '127.0.0.1',
    serviceCIDR: '10.43.0.0/16',
    kubernetesServiceIP: '10.43.0.1',
    disableControllers: true,
    logger: createLogger('error'),
  });
  return {
    cp,
    client: cp.apiServer.client,
    dir,
    token,
    async close() {
      await cp.stop();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false) or `ms` pass. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
