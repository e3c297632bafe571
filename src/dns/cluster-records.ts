/**
 * The names cluster DNS answers, as CoreDNS's kubernetes plugin (the Kubernetes DNS spec):
 * `svc.ns.svc.<domain>` A/AAAA (the ClusterIP, or a headless Service's ready endpoints),
 * `host.svc.ns.svc.<domain>` for endpoints with a hostname (StatefulSet pods),
 * `_port._proto.svc.ns.svc.<domain>` SRV for named ports, ExternalName as CNAME, and PTR for
 * ClusterIPs and headless endpoints. Everything is read from informer caches on each query.
 */
import type { ApiObject } from '../client/interface.js';

/** What the records need of an informer. */
export interface Cache {
  list(namespace?: string): ApiObject[];
  get(namespace: string, name: string): ApiObject | undefined;
}

export type RecordType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME';

export interface DnsAnswer {
  name: string;
  type: RecordType;
  ttl: number;
  data: string | { priority: number; weight: number; port: number; target: string };
}

/** An answer, or `nxdomain` for a cluster name that does not exist, or `notCluster` to forward. */
export type Lookup = { kind: 'answers'; answers: DnsAnswer[] } | { kind: 'nxdomain' } | { kind: 'notCluster' };

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  ports?: Array<{ name?: string; port: number; protocol?: string }>;
}

interface Slice {
  metadata?: { labels?: Record<string, string>; namespace?: string };
  addressType?: string;
  endpoints?: Array<{ addresses: string[]; hostname?: string; conditions?: { ready?: boolean } }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

const TTL = 5;

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** The reverse name of an address (`4.3.2.1.in-addr.arpa`, nibbles for IPv6). */
export function reverseName(ip: string): string {
  if (!isV6(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const parts = ip.split('::');
  const head = parts[0] ? parts[0].split(':') : [];
  const tail = parts[1] ? parts[1].split(':') : [];
  const groups = parts.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

export class ClusterRecords {
  constructor(
    private readonly services: Cache,
    /** The EndpointSlices of a Service (an informer's `serviceName` index on a node). */
    private readonly slicesOfService: (namespace: string, service: string) => ApiObject[],
    private readonly domain = 'cluster.local',
  ) {}

  private slicesOf(namespace: string, service: string): Slice[] {
    return this.slicesOfService(namespace, service) as Slice[];
  }

  /** Ready endpoint addresses of a Service (of one family), with their hostnames. */
  private endpoints(namespace: string, service: string): Array<{ ip: string; hostname?: string }> {
    const out: Array<{ ip: string; hostname?: string }> = [];
    for (const s of this.slicesOf(namespace, service)) {
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const ip of e.addresses) out.push({ ip, hostname: e.hostname });
      }
    }
    return out;
  }

  lookup(qname: string, qtype: RecordType): Lookup {
    const name = qname.toLowerCase().replace(/\.$/, '');
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return this.reverse(name, qtype);
    const suffix = `.svc.${this.domain}`;
    if (!name.endsWith(suffix) && name !== this.domain && !name.endsWith(`.${this.domain}`)) return { kind: 'notCluster' };
    if (!name.endsWith(suffix)) return { kind: 'nxdomain' };
    const labels = name.slice(0, -suffix.length).split('.');
    // ns, svc.ns, host.svc.ns, _port._proto.svc.ns
    if (labels.length < 2) return { kind: 'nxdomain' };
    const ns = labels[labels.length - 1]!;
    const svcName = labels[labels.length - 2]!;
    const svc = this.services.get(ns, svcName);
    if (!svc) return { kind: 'nxdomain' };
    const spec = (svc['spec'] ?? {}) as ServiceSpec;
    const headless = spec.clusterIP === 'None';
    const ok = (answers: DnsAnswer[]): Lookup => ({ kind: 'answers', answers });
    if (labels.length === 2) {
      if (spec.type === 'ExternalName') return ok([{ name, type: 'CNAME', ttl: TTL, data: spec.externalName ?? '' }]);
      const ips = headless ? this.endpoints(ns, svcName).map((e) => e.ip) : (spec.clusterIPs ?? [spec.clusterIP ?? '']).filter(Boolean);
      if (qtype === 'SRV') return ok(this.srv(name, ns, svcName, spec, headless));
      const want = qtype === 'AAAA' ? ips.filter(isV6) : qtype === 'A' ? ips.filter((ip) => !isV6(ip)) : [];
      return ok(want.map((ip) => ({ name, type: qtype === 'AAAA' ? 'AAAA' : 'A', ttl: TTL, data: ip })));
    }
    if (labels.length === 3 && headless) {
      const host = labels[0]!;
      const matches = this.endpoints(ns, svcName).filter((e) => e.hostname === host || e.ip.replace(/[.:]/g, '-') === host);
      if (!matches.length) return { kind: 'nxdomain' };
      const want = matches.filter((e) => (qtype === 'AAAA' ? isV6(e.ip) : !isV6(e.ip)));
      return ok(qtype === 'A' || qtype === 'AAAA' ? want.map((e) => ({ name, type: qtype, ttl: TTL, data: e.ip })) : []);
    }
    if (labels.length === 4 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) {
      const port = labels[0]!.slice(1);
      const proto = labels[1]!.slice(1);
      const all = this.srv(`${svcName}.${ns}${suffix}`, ns, svcName, spec, headless, port, proto);
      if (!all.length) return { kind: 'nxdomain' };
      return ok(qtype === 'SRV' ? all.map((a) => ({ ...a, name })) : []);
    }
    return { kind: 'nxdomain' };
  }

  /** SRV records for a Service's named ports: the Service name, or each headless endpoint. */
  private srv(name: string, ns: string, svcName: string, spec: ServiceSpec, headless: boolean, port?: string, proto?: string): DnsAnswer[] {
    const base = `${svcName}.${ns}.svc.${this.domain}`;
    const out: DnsAnswer[] = [];
    const ports = headless ? this.slicesOf(ns, svcName).flatMap((s) => s.ports ?? []).map((p) => ({ name: p.name, port: p.port ?? 0, protocol: p.protocol })) : (spec.ports ?? []);
    for (const p of ports) {
      if (!p.name) continue;
      if (port !== undefined && p.name !== port) continue;
      if (proto !== undefined && (p.protocol ?? 'TCP').toLowerCase() !== proto) continue;
      const targets = headless ? this.endpoints(ns, svcName).map((e) => `${e.hostname ?? e.ip.replace(/[.:]/g, '-')}.${base}`) : [base];
      for (const target of [...new Set(targets)]) out.push({ name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: Math.floor(100 / targets.length), port: p.port, target } });
    }
    return out;
  }

  private reverse(name: string, qtype: RecordType): Lookup {
    if (qtype !== 'PTR') return { kind: 'notCluster' };
    for (const svc of this.services.list()) {
      const spec = (svc['spec'] ?? {}) as ServiceSpec;
      const ns = svc.metadata?.namespace ?? '';
      const svcName = svc.metadata?.name ?? '';
      for (const ip of spec.clusterIPs ?? [spec.clusterIP ?? '']) {
        if (ip && ip !== 'None' && reverseName(ip) === name) return { kind: 'answers', answers: [{ name, type: 'PTR', ttl: TTL, data: `${svcName}.${ns}.svc.${this.domain}` }] };
      }
      if (spec.clusterIP === 'None') {
        for (const e of this.endpoints(ns, svcName)) {
          if (reverseName(e.ip) === name) return { kind: 'answers', answers: [{ name, type: 'PTR', ttl: TTL, data: `${e.hostname ?? e.ip.replace(/[.:]/g, '-')}.${svcName}.${ns}.svc.${this.domain}` }] };
        }
      }
    }
    return { kind: 'notCluster' };
  }
}
