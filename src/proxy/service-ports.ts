/**
 * What kube-proxy programs, read from Services and EndpointSlices: one entry per Service port
 * (`ns/name:port`), with the addresses it is reached on and the endpoints it may go to, already
 * chosen by Kubernetes' rules (ready endpoints; serving-and-terminating ones only when none is
 * ready; this node's endpoints for the `Local` traffic policies). IPv4 only.
 */
import type { ApiObject } from '../client/interface.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServiceEndpoint {
  ip: string;
  port: number;
}

export interface ServicePort {
  /** `namespace/name:portName` (`namespace/name` for an unnamed port), as kube-proxy names it. */
  id: string;
  protocol: Protocol;
  clusterIP?: string;
  port: number;
  nodePort?: number;
  /** `status.loadBalancer.ingress[].ip` and `spec.externalIPs`. */
  externalIPs: string[];
  /** `sessionAffinity: ClientIP`: its timeout in seconds. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  /** Where ClusterIP traffic may go (every node's endpoints, or only this node's with internalTrafficPolicy Local). */
  clusterEndpoints: ServiceEndpoint[];
  /** This node's endpoints: for the Local policies. */
  localEndpoints: ServiceEndpoint[];
  /** Every usable endpoint, whatever its node. */
  allEndpoints: ServiceEndpoint[];
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalIPs?: string[];
  ports?: Array<{ name?: string; port: number; protocol?: string; nodePort?: number }>;
  sessionAffinity?: string;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
}

interface Slice {
  addressType?: string;
  endpoints?: Array<{ addresses: string[]; nodeName?: string; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean } }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

const isV4 = (ip: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(ip);

/**
 * Ready endpoints; when none is ready, the ones still serving while they terminate (so a rolling
 * update never leaves a Service with nothing) — kube-proxy's CategorizeEndpoints.
 */
function usable(candidates: Array<ServiceEndpoint & { ready: boolean; serving: boolean }>): ServiceEndpoint[] {
  const ready = candidates.filter((e) => e.ready);
  const chosen = ready.length ? ready : candidates.filter((e) => e.serving);
  const seen = new Set<string>();
  return chosen.filter((e) => !seen.has(`${e.ip}:${e.port}`) && seen.add(`${e.ip}:${e.port}`)).map(({ ip, port }) => ({ ip, port }));
}

/** The Service ports of `services`, with the endpoints of `slicesOf(service)`. */
export function servicePorts(services: ApiObject[], slicesOf: (namespace: string, name: string) => ApiObject[], nodeName: string): ServicePort[] {
  const out: ServicePort[] = [];
  for (const svc of services) {
    const spec = (svc['spec'] ?? {}) as ServiceSpec;
    if (spec.type === 'ExternalName') continue;
    const ns = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const clusterIP = [spec.clusterIP, ...(spec.clusterIPs ?? [])].find((ip): ip is string => !!ip && isV4(ip));
    const headless = spec.clusterIP === 'None';
    const lbIPs = (((svc['status'] as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ''));
    const externalIPs = [...new Set([...(spec.externalIPs ?? []), ...(spec.type === 'LoadBalancer' ? lbIPs : [])].filter(isV4))];
    if (headless || (!clusterIP && !externalIPs.length)) continue;
    const slices = (slicesOf(ns, name) as Slice[]).filter((s) => (s.addressType ?? 'IPv4') === 'IPv4');
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const candidates: Array<ServiceEndpoint & { ready: boolean; serving: boolean; local: boolean }> = [];
      for (const s of slices) {
        // The slice's port of the same name carries the target port, resolved per pod.
        const sp = (s.ports ?? []).find((x) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP') === protocol);
        if (!sp?.port) continue;
        for (const e of s.endpoints ?? []) {
          const ready = e.conditions?.ready !== false;
          const serving = e.conditions?.serving ?? ready;
          for (const ip of e.addresses.filter(isV4)) candidates.push({ ip, port: sp.port, ready, serving, local: e.nodeName === nodeName });
        }
      }
      const all = usable(candidates);
      const local = usable(candidates.filter((c) => c.local));
      const internalLocal = spec.internalTrafficPolicy === 'Local';
      const externalLocal = spec.externalTrafficPolicy === 'Local' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer');
      out.push({
        id: p.name ? `${ns}/${name}:${p.name}` : `${ns}/${name}`,
        protocol,
        clusterIP,
        port: p.port,
        nodePort: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? p.nodePort : undefined,
        externalIPs,
        affinitySeconds: spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined,
        internalLocal,
        externalLocal,
        clusterEndpoints: internalLocal ? local : all,
        localEndpoints: local,
        allEndpoints: all,
      });
    }
  }
  return out;
}
