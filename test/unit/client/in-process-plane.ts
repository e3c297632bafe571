/** The real API server in-process (memory store, no controllers) for tests of the client machinery. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend } from '../../../src/store/memory.js';
import { loadOrCreateCertificates } from '../../../src/pki/certificate-authority.js';
import { startControlPlane, type ControlPlane } from '../../../src/cmd/control-plane.js';
import { createLogger } from '../../../src/machinery/logger.js';
import type { Client } from '../../../src/client/interface.js';
import { eventually as poll } from '../../support/eventually.js';

export interface Plane {
  plane: ControlPlane;
  client: Client;
  stop(): Promise<void>;
}

export async function startPlane(): Promise<Plane> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-client-'));
  const certs = await loadOrCreateCertificates(dir, { hostnames: [], ips: [] });
  const backend = new MemoryBackend();
  await backend.start();
  const plane = await startControlPlane({ backend, dataDir: dir, certs, token: 'tok', bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', serviceCIDR: '10.43.0.0/16', kubernetesServiceIP: '10.43.0.1', logger: createLogger('error'), disableControllers: true });
  return {
    plane,
    client: plane.apiServer.client,
    async stop() {
      await plane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probe-first form used by these tests; see support/eventually. */
export function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> {
  return poll(what, probe, ms);
}
