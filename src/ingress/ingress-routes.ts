/**
 * The routing table of the ingress controller, built from the Ingresses of its class: requests
 * are matched by host (exact, or `*.example.com` for one label) and path, as the Ingress spec
 * says — Exact paths match the whole path, Prefix paths match by `/`-separated elements
 * (ImplementationSpecific is Prefix here); among matches the longest path wins, Exact before
 * Prefix; rules of a host come before host-less rules; an Ingress's defaultBackend catches the
 * rest. Pure: the same Ingresses give the same table.
 */
import type { ApiObject } from '../client/interface.js';

export const INGRESS_CLASS = 'k8ts';
export const INGRESS_CONTROLLER = 'k8ts.io/ingress-controller';

/** The IngressClass of this controller, the cluster's default. */
export function defaultIngressClass(): ApiObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
    spec: { controller: INGRESS_CONTROLLER },
  };
}

export interface Backend {
  namespace: string;
  service: string;
  /** The Service port, by number or by name. */
  port: number | string;
}

interface Route {
  host: string;
  path: string;
  exact: boolean;
  backend: Backend;
  /** `ns/ingress`, for errors and ordering. */
  source: string;
}

interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: { service?: { name: string; port?: { number?: number; name?: string } } };
  tls?: Array<{ hosts?: string[]; secretName?: string }>;
  rules?: Array<{ host?: string; http?: { paths?: Array<{ path?: string; pathType?: string; backend?: { service?: { name: string; port?: { number?: number; name?: string } } } }> } }>;
}

/** Whether our IngressClass (`k8ts`, of our controller) is the cluster's default, given the IngressClasses. */
export function ourClassIsDefault(classes: ApiObject[]): boolean {
  return classes.some((c) => c.metadata?.name === INGRESS_CLASS && c.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true' && (c['spec'] as { controller?: string } | undefined)?.controller === INGRESS_CONTROLLER);
}

/** Whether an Ingress is ours: of our class, or of no class while ours is the default. */
export function isOurs(ing: ApiObject, defaultClass: boolean): boolean {
  const spec = (ing['spec'] ?? {}) as IngressSpec;
  const cls = spec.ingressClassName ?? ing.metadata?.annotations?.['kubernetes.io/ingress.class'];
  return cls === INGRESS_CLASS || (cls === undefined && defaultClass);
}

function hostMatches(pattern: string, host: string): boolean {
  if (!pattern) return true;
  if (pattern.startsWith('*.')) {
    const rest = pattern.slice(1); // ".example.com"
    return host.endsWith(rest) && !host.slice(0, -rest.length).includes('.') && host.length > rest.length;
  }
  return pattern === host;
}

function pathMatches(r: Route, path: string): boolean {
  if (r.exact) return path === r.path;
  if (r.path === '/' || r.path === '') return true;
  const prefix = r.path.replace(/\/+$/, '');
  return path === prefix || path.startsWith(`${prefix}/`);
}

export class IngressRoutes {
  private readonly routes: Route[] = [];
  private readonly defaults: Backend[] = [];
  /** TLS Secrets by host (`*` for an entry without hosts): `ns/name`. */
  readonly tls = new Map<string, string>();

  constructor(ingresses: ApiObject[]) {
    // Oldest first: with equal rules, the older Ingress wins, as most controllers do.
    const sorted = [...ingresses].sort((a, b) => String(a.metadata?.['creationTimestamp'] ?? '').localeCompare(String(b.metadata?.['creationTimestamp'] ?? '')) || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
    for (const ing of sorted) {
      const ns = ing.metadata?.namespace ?? 'default';
      const source = `${ns}/${ing.metadata?.name ?? ''}`;
      const spec = (ing['spec'] ?? {}) as IngressSpec;
      const backendOf = (b: { service?: { name: string; port?: { number?: number; name?: string } } } | undefined): Backend | undefined =>
        b?.service ? { namespace: ns, service: b.service.name, port: b.service.port?.number ?? b.service.port?.name ?? 80 } : undefined;
      const dflt = backendOf(spec.defaultBackend);
      if (dflt) this.defaults.push(dflt);
      for (const rule of spec.rules ?? []) {
        for (const p of rule.http?.paths ?? []) {
          const backend = backendOf(p.backend);
          if (!backend) continue;
          this.routes.push({ host: (rule.host ?? '').toLowerCase(), path: p.path ?? '/', exact: p.pathType === 'Exact', backend, source });
        }
      }
      for (const t of spec.tls ?? []) {
        if (!t.secretName) continue;
        for (const h of t.hosts?.length ? t.hosts : ['*']) if (!this.tls.has(h.toLowerCase())) this.tls.set(h.toLowerCase(), `${ns}/${t.secretName}`);
      }
    }
  }

  /** The backend for a request, or undefined (404). */
  match(hostHeader: string, path: string): Backend | undefined {
    const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
    const candidates = this.routes.filter((r) => hostMatches(r.host, host) && pathMatches(r, path));
    // A rule for this host (exact before wildcard) beats a host-less one; then the longest path, Exact first.
    const rank = (r: Route): [number, number, number] => [r.host ? (r.host.startsWith('*.') ? 1 : 2) : 0, r.path.length, r.exact ? 1 : 0];
    candidates.sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
    });
    return candidates[0]?.backend ?? this.defaults[0];
  }

  /** The TLS Secret (`ns/name`) for a server name: exact, then wildcard, then one without hosts. */
  secretFor(serverName: string | undefined): string | undefined {
    const name = (serverName ?? '').toLowerCase();
    const wildcard = name.includes('.') ? `*${name.slice(name.indexOf('.'))}` : '';
    return this.tls.get(name) ?? this.tls.get(wildcard) ?? this.tls.get('*');
  }
}
