import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestInfo } from './request-info.js';
import type { ResourceRegistry } from './resource-registry.js';

/** The API server's Prometheus metrics, named as kube-apiserver names them. */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, group, version, resource, subresource and HTTP response code.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'code'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, group, version, resource and subresource.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource'],
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly objects = new Gauge({
    name: 'apiserver_storage_objects',
    help: 'Number of stored objects at the time of last check split by kind.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  private readonly watchers = new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Number of currently registered watchers for a given resources',
    labelNames: ['group', 'kind'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observe(method: string, info: RequestInfo | undefined, code: number, seconds: number): void {
    // Watches last as long as the client wants; Kubernetes leaves them out of latency too.
    const verb = info?.isResourceRequest ? info.verb.toUpperCase() : method;
    const labels = { verb, group: info?.group ?? '', version: info?.version ?? '', resource: info?.resource ?? '', subresource: info?.subresource ?? '' };
    this.requests.inc({ ...labels, code: String(code) });
    if (verb !== 'WATCH') this.latency.observe(labels, seconds);
  }

  async render(resources: ResourceRegistry): Promise<string> {
    for (const s of resources.all()) {
      const d = s.descriptor;
      const resource = d.group ? `${d.resource}.${d.group}` : d.resource;
      this.objects.set({ resource }, await s.store.count());
      this.watchers.set({ group: d.group, kind: d.kind }, s.store.cache.watcherCount);
    }
    return this.registry.metrics();
  }
}
