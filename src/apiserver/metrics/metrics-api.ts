/**
 * The `metrics.k8s.io/v1beta1` API as metrics-server serves it (NodeMetrics, PodMetrics), read
 * from whatever reports usage (simulated nodes today, kubelets' stats later). `kubectl top` and
 * the HPA read it. Nothing is stored: every request is answered from the sources.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceDescriptor } from '../../api/resource-table.js';
import { parseSelector } from '../../machinery/labels.js';
import { parseFieldSelector } from '../../machinery/fields.js';
import { Quantity } from '../../machinery/quantity.js';
import { StatusError, badRequest, methodNotAllowed, notFound } from '../../machinery/status-error.js';
import type { RequestInfo } from '../request-info.js';
import type { NodeUsageSample, PodUsageSample } from '../../api/usage-samples.js';

export type { ContainerUsageSample, NodeUsageSample, PodUsageSample } from '../../api/usage-samples.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const groupVersion = `${METRICS_GROUP}/${METRICS_VERSION}`;

/**
 * Where usage comes from (the sim runtime's `SimMetricsSource`, the kubelet's stats later).
 * Called on every request; should answer from memory.
 */
export interface MetricsSource {
  /** Every node it knows, or only `name` (empty when unknown). */
  nodeUsage(name?: string): NodeUsageSample[];
  /** Every running pod it knows, of one namespace, or one pod. */
  podUsage(namespace?: string, name?: string): PodUsageSample[];
}

/** The resources to register with `ApiServer.serveAnswered` (discovery lists them from these). */
export const metricsResources: ResourceDescriptor[] = [
  { group: METRICS_GROUP, versions: [METRICS_VERSION], storageVersion: METRICS_VERSION, resource: 'nodes', kind: 'NodeMetrics', singular: '', namespaced: false, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, versions: [METRICS_VERSION], storageVersion: METRICS_VERSION, resource: 'pods', kind: 'PodMetrics', singular: '', namespaced: true, verbs: ['get', 'list'] },
];

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** CPU as metrics-server prints it: nanocores in canonical form (`1234567n`, `5m`, `2`). */
export function cpuQuantity(nanoCores: number): string {
  return Quantity.fromScaled(BigInt(Math.max(0, Math.round(nanoCores))), -9).toString();
}

/** Memory as metrics-server prints it: bytes in binary-SI canonical form (`4Mi`, `12345Ki`). */
export function memoryQuantity(bytes: number): string {
  return Quantity.fromInt(BigInt(Math.max(0, Math.round(bytes))), 'BinarySI').toString();
}

function windowOf(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3)}s`;
}

/** An answer: HTTP status and JSON body. */
export interface MetricsAnswer {
  code: number;
  body: unknown;
}

/**
 * Serves `GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]`, `…/namespaces/NS/pods[/NAME]` and
 * `…/pods`, plus the group's discovery documents. Sources can be added later (`addSource`).
 */
export class MetricsApi {
  private readonly sources: MetricsSource[] = [];

  constructor(
    source?: MetricsSource,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (source) this.sources.push(source);
  }

  addSource(source: MetricsSource): void {
    this.sources.push(source);
  }

  /** `APIResourceList` of `/apis/metrics.k8s.io/v1beta1`. */
  apiResourceList(): Record<string, unknown> {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion,
      resources: metricsResources.map((d) => ({ name: d.resource, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: d.verbs })),
    };
  }

  /** `APIGroup` of `/apis/metrics.k8s.io`. */
  apiGroup(): Record<string, unknown> {
    const v = { groupVersion, version: METRICS_VERSION };
    return { kind: 'APIGroup', apiVersion: 'v1', name: METRICS_GROUP, versions: [v], preferredVersion: v };
  }

  /** The answered-resource handler for `ApiServer.serveAnswered(metricsResources, api.handle)`. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (info.verb === 'watch' || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (info.verb !== 'get' && info.verb !== 'list') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const answer = this.resource(info.resource, info.namespace, info.name, info.subresource, url.searchParams);
    res.writeHead(answer.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(JSON.stringify(answer.body));
  };

  /**
   * Answers a GET for any path under `/apis/metrics.k8s.io` (discovery included); errors come back
   * as `Status` bodies. For servers that route by path rather than by RequestInfo.
   */
  answer(method: string, path: string, query: URLSearchParams = new URLSearchParams()): MetricsAnswer {
    try {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('the server does not allow this method on the requested resource');
      const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
      if (parts[0] !== 'apis' || parts[1] !== METRICS_GROUP) throw notFound('', '', path);
      if (parts.length === 2) return { code: 200, body: this.apiGroup() };
      if (parts[2] !== METRICS_VERSION) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const rest = parts.slice(3);
      if (rest.length === 0) return { code: 200, body: this.apiResourceList() };
      let namespace = '';
      let r = rest;
      if (r[0] === 'namespaces' && r.length >= 3) {
        namespace = r[1] ?? '';
        r = r.slice(2);
      }
      return this.resource(r[0] ?? '', namespace, r[1] ?? '', r[2] ?? '', query);
    } catch (e) {
      if (e instanceof StatusError) return { code: e.code, body: e.toStatus() };
      throw e;
    }
  }

  private resource(resource: string, namespace: string, name: string, subresource: string, query: URLSearchParams): MetricsAnswer {
    try {
      if (subresource) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      if (resource === 'nodes' && !namespace) return { code: 200, body: name ? this.node(name) : this.nodeList(query) };
      if (resource === 'pods') return { code: 200, body: name ? this.pod(namespace, name) : this.podList(namespace, query) };
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    } catch (e) {
      if (e instanceof StatusError) return { code: e.code, body: e.toStatus() };
      throw e;
    }
  }

  private filters(query: URLSearchParams): (o: { name: string; namespace?: string; labels: Record<string, string> }) => boolean {
    let labels: ReturnType<typeof parseSelector> | undefined;
    let fields: ReturnType<typeof parseFieldSelector> | undefined;
    try {
      const ls = query.get('labelSelector');
      if (ls) labels = parseSelector(ls);
      const fs = query.get('fieldSelector');
      if (fs) fields = parseFieldSelector(fs);
    } catch (e) {
      throw badRequest(e instanceof Error ? e.message : String(e));
    }
    return (o) => {
      if (labels && !labels.matches(o.labels)) return false;
      if (fields && !fields.matches({ 'metadata.name': o.name, 'metadata.namespace': o.namespace ?? '' })) return false;
      return true;
    };
  }

  private nodeItem(s: NodeUsageSample): Record<string, unknown> {
    return {
      metadata: { name: s.name, creationTimestamp: rfc3339(this.now()), labels: s.labels },
      timestamp: rfc3339(s.timestamp),
      window: windowOf(s.windowSeconds),
      usage: { cpu: cpuQuantity(s.cpuNanoCores), memory: memoryQuantity(s.memoryBytes) },
    };
  }

  private podItem(s: PodUsageSample): Record<string, unknown> {
    return {
      metadata: { name: s.name, namespace: s.namespace, creationTimestamp: rfc3339(this.now()), labels: s.labels },
      timestamp: rfc3339(s.timestamp),
      window: windowOf(s.windowSeconds),
      containers: s.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
    };
  }

  private node(name: string): Record<string, unknown> {
    const s = this.sources.flatMap((src) => src.nodeUsage(name)).find((x) => x.name === name);
    if (!s) throw notFound(METRICS_GROUP, 'nodemetrics', name);
    return { kind: 'NodeMetrics', apiVersion: groupVersion, ...this.nodeItem(s) };
  }

  private nodeList(query: URLSearchParams): Record<string, unknown> {
    const keep = this.filters(query);
    const items = this.sources
      .flatMap((src) => src.nodeUsage())
      .filter((s) => keep(s))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((s) => this.nodeItem(s));
    return { kind: 'NodeMetricsList', apiVersion: groupVersion, metadata: {}, items };
  }

  private pod(namespace: string, name: string): Record<string, unknown> {
    const s = this.sources.flatMap((src) => src.podUsage(namespace, name)).find((x) => x.name === name && x.namespace === namespace);
    if (!s) throw notFound(METRICS_GROUP, 'podmetrics', `${namespace}/${name}`);
    return { kind: 'PodMetrics', apiVersion: groupVersion, ...this.podItem(s) };
  }

  private podList(namespace: string, query: URLSearchParams): Record<string, unknown> {
    const keep = this.filters(query);
    const items = this.sources
      .flatMap((src) => src.podUsage(namespace || undefined))
      .filter((s) => (!namespace || s.namespace === namespace) && keep(s))
      .sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1))
      .map((s) => this.podItem(s));
    return { kind: 'PodMetricsList', apiVersion: groupVersion, metadata: {}, items };
  }
}
