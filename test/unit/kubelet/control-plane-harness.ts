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

export { eventually } from '../../support/eventually.js';
