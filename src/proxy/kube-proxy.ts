/**
 * kube-proxy in iptables mode, for one node: watches Services and EndpointSlices and keeps the
 * node's iptables rules in line with them. Changes are coalesced: a sync starts as soon as the
 * previous one ends, so rules follow an endpoint change within one restore's time. Every
 * `fullSyncMs` the whole rule set is rewritten, repairing rules someone else removed. Stopping
 * removes every rule it made.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApiObject } from '../client/interface.js';
import { indexes, type SharedInformer } from '../client/informer.js';
import type { Logger } from '../machinery/logger.js';
import { CoalescedRun } from '../machinery/coalesced-run.js';
import { applyProxySysctls, IptablesSyncer, type IptablesRunner } from './iptables.js';
import { proxyRules } from './iptables-rules.js';
import { servicePorts, type ServicePort } from './service-ports.js';

const run = promisify(execFile);

/** `conntrack -D` of a UDP destination (a port on any address without `ip`); exits 1 when there was nothing to delete. */
async function deleteConntrack(ip: string | undefined, port: number): Promise<void> {
  await run('conntrack', ['-D', '-p', 'udp', ...(ip ? ['--orig-dst', ip] : []), '--orig-port-dst', String(port)]).catch(() => undefined);
}

/** Where a UDP Service port is reached: its ClusterIP, external addresses and node port. */
function udpDestinations(p: ServicePort): Array<{ ip?: string; port: number }> {
  return [...(p.clusterIP ? [{ ip: p.clusterIP, port: p.port }] : []), ...p.externalIPs.map((ip) => ({ ip, port: p.port })), ...(p.nodePort ? [{ port: p.nodePort }] : [])];
}

export interface KubeProxyOptions {
  nodeName: string;
  /** The bridge of this node's pods (traffic from it is pod traffic). */
  bridge: string;
  services: SharedInformer;
  endpointSlices: SharedInformer;
  log: Logger;
  runner?: IptablesRunner;
  /** Default 5 minutes. */
  fullSyncMs?: number;
}

/** What the last sync did: when it ended, how long it took, whether it was full, chains written. */
export interface SyncReport {
  at: number;
  ms: number;
  full: boolean;
  written: number;
}

export class KubeProxy {
  private readonly syncer: IptablesSyncer;
  private readonly runs: CoalescedRun;
  private fullTimer: NodeJS.Timeout | undefined;
  /** UDP Service ports (by id) at the last sync: their addresses and endpoints, to find the ones that changed. */
  private udpSeen = new Map<string, string>();
  /** Reported by `lastSync()`: for benchmarks and tests. */
  private last: SyncReport | undefined;

  constructor(private readonly o: KubeProxyOptions) {
    this.syncer = new IptablesSyncer(o.runner);
    this.runs = new CoalescedRun(() => this.syncOnce(), { retryMs: 1000, onError: (e) => o.log.error('could not sync Service rules; retrying in 1 s', { err: e.message }) });
    o.endpointSlices.addIndexer('serviceName', indexes.serviceName);
    const changed = { onAdd: () => this.schedule(), onUpdate: (a: ApiObject, b: ApiObject) => a !== b && this.schedule(), onDelete: () => this.schedule() };
    o.services.addEventHandler(changed);
    o.endpointSlices.addEventHandler(changed);
  }

  async start(): Promise<void> {
    const failed = applyProxySysctls();
    if (failed.length) this.o.log.warn('could not set kernel settings kube-proxy needs', { paths: failed });
    await Promise.all([this.o.services.start(), this.o.endpointSlices.start()]);
    this.schedule();
    await this.runs.idle();
    this.fullTimer = setInterval(() => {
      this.syncer.requestFullSync();
      this.schedule();
    }, this.o.fullSyncMs ?? 300_000);
    this.fullTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.fullTimer);
    await this.runs.stop();
    await this.syncer.cleanup().catch((e: unknown) => this.o.log.warn('could not remove the Service rules', { err: String(e) }));
  }

  lastSync(): SyncReport | undefined {
    return this.last;
  }

  private schedule(): void {
    if (!this.o.services.hasSynced() || !this.o.endpointSlices.hasSynced()) return;
    this.runs.request();
  }

  /**
   * UDP has no connection to close: conntrack keeps sending a client's datagrams where they went
   * before (to a deleted pod, or unrouted while the rules were missing). So when a UDP port's
   * endpoints change — and for every UDP port at the first sync — its entries are deleted (for
   * its ClusterIP, external addresses and node port), as kube-proxy does with `conntrack -D`.
   */
  private async clearStaleUdp(ports: ServicePort[]): Promise<void> {
    const now = new Map<string, string>();
    const stale: ServicePort[] = [];
    for (const p of ports) {
      if (p.protocol !== 'UDP') continue;
      // Where it is reached and where that leads: a change of either makes old entries wrong.
      const seen = [udpDestinations(p).map((d) => `${d.ip ?? '*'}:${d.port}`), ...[p.clusterEndpoints, p.allEndpoints, p.localEndpoints].map((es) => es.map((e) => `${e.ip}:${e.port}`).sort())].map((l) => l.join(',')).join('|');
      now.set(p.id, seen);
      if (this.udpSeen.get(p.id) !== seen) stale.push(p);
    }
    this.udpSeen = now;
    for (const p of stale) for (const d of udpDestinations(p)) await deleteConntrack(d.ip, d.port);
  }

  private async syncOnce(): Promise<void> {
    const t0 = performance.now();
    const ports = servicePorts(this.o.services.list(), (ns, name) => this.o.endpointSlices.byIndex('serviceName', `${ns}/${name}`), this.o.nodeName);
    const result = await this.syncer.sync(proxyRules(ports, { bridge: this.o.bridge }));
    await this.clearStaleUdp(ports);
    const ms = performance.now() - t0;
    this.last = { at: Date.now(), ms, full: result.full, written: result.written };
    this.o.log.debug('synced Service rules', { ms: Math.round(ms), servicePorts: ports.length, ...result });
  }
}
