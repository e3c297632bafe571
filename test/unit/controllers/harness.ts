/** Starts the real API server in-process (memory store) and runs chosen controllers against it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend } from '../../../src/store/memory.js';
import { loadOrCreateCertificates } from '../../../src/pki/certificate-authority.js';
import { startControlPlane } from '../../../src/cmd/control-plane.js';
import { createLogger } from '../../../src/machinery/logger.js';
import { InformerFactory, refs } from '../../../src/client/informer.js';
import { ClientEventRecorder } from '../../../src/client/event-recorder.js';
import { realClock } from '../../../src/machinery/clock.js';
import type { ApiObject, Client } from '../../../src/client/interface.js';
import type { Controller, ControllerContext } from '../../../src/controllers/controller.js';
import { eventually as poll } from '../../support/eventually.js';

export interface Harness {
  client: Client;
  ctx: ControllerContext;
  start(...ctors: Array<new (ctx: ControllerContext) => Controller>): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-ctrl-'));
  const certs = await loadOrCreateCertificates(dir, { hostnames: [], ips: [] });
  const backend = new MemoryBackend();
  await backend.start();
  const log = createLogger('error');
  const plane = await startControlPlane({ backend, dataDir: dir, certs, token: 'tok', bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', serviceCIDR: '10.43.0.0/16', kubernetesServiceIP: '10.43.0.1', logger: log, disableControllers: true });
  const client = plane.apiServer.client;
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = { client, informers, recorder: (c) => new ClientEventRecorder(client, c), clock: realClock, log, options: {} };
  const controllers: Controller[] = [];
  return {
    client,
    ctx,
    async start(...ctors) {
      for (const C of ctors) {
        const c = new C(ctx);
        c.setup();
        controllers.push(c);
      }
      await informers.start();
      for (const c of controllers) c.run(2);
    },
    async stop() {
      for (const c of controllers) c.stop();
      informers.stop();
      await plane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probe-first form used by these tests; see support/eventually. */
export function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> {
  return poll(what, probe, ms);
}

export function podsOf(list: ApiObject[], ownerUid: string | undefined): ApiObject[] {
  return list.filter((p) => ((p.metadata?.['ownerReferences'] as Array<{ uid: string; controller?: boolean }> | undefined) ?? []).some((r) => r.uid === ownerUid && r.controller));
}

/** What a kubelet would report: Running and Ready. */
export async function markReady(client: Client, pod: ApiObject): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const fresh = await client.get(refs.pods, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
  await client.update(refs.pods, pod.metadata?.namespace ?? '', { ...fresh, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, { subresource: 'status' });
}

export async function listPods(client: Client, ns = 'default'): Promise<ApiObject[]> {
  return (await client.list(refs.pods, ns)).items.filter((p) => !p.metadata?.deletionTimestamp);
}
