import { createHash } from 'node:crypto';
import { groupOrder, standardVerbs, type ResourceDescriptor } from '../api/resource-table.js';
import type { ResourceRegistry } from './resource-registry.js';
import { parseAccept } from './negotiation.js';

interface Kind {
  group: string;
  version: string;
  kind: string;
}

const proxyVerbs = ['create', 'delete', 'get', 'patch', 'update'];

/** Verbs and response kinds of subresources, as Kubernetes' discovery documents list them. */
function subresourceInfo(d: ResourceDescriptor, sub: string): { verbs: string[]; kind: Kind } {
  const self: Kind = { group: '', version: '', kind: d.kind };
  switch (sub) {
    case 'status':
    case 'ephemeralcontainers':
      return { verbs: ['get', 'patch', 'update'], kind: self };
    case 'scale':
      return { verbs: ['get', 'patch', 'update'], kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } };
    case 'binding':
      return { verbs: ['create'], kind: { group: '', version: 'v1', kind: 'Binding' } };
    case 'eviction':
      return { verbs: ['create'], kind: { group: 'policy', version: 'v1', kind: 'Eviction' } };
    case 'log':
      return { verbs: ['get'], kind: self };
    case 'exec':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodExecOptions' } };
    case 'attach':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodAttachOptions' } };
    case 'portforward':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' } };
    case 'proxy':
      return { verbs: proxyVerbs, kind: { group: '', version: 'v1', kind: `${d.kind}ProxyOptions` } };
    case 'token':
      return { verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } };
    case 'finalize':
      return { verbs: ['update'], kind: self };
    default:
      return { verbs: ['get'], kind: self };
  }
}

function storageVersionHash(d: ResourceDescriptor): string {
  return createHash('sha256').update(`${d.group}/${d.storageVersion}/${d.kind}`).digest('base64').slice(0, 11);
}

export interface GroupVersions {
  group: string;
  versions: string[];
}

/**
 * Discovery documents, built from the resource registry: the legacy ones (`/api`, `/apis`,
 * `/api/v1`, `/apis/G/V`) and the aggregated `apidiscovery.k8s.io/v2` lists kubectl asks for first.
 */
export class Discovery {
  constructor(private readonly registry: ResourceRegistry) {}

  /** Groups (other than core) with their versions, preferred version first, in Kubernetes' order. */
  groups(): GroupVersions[] {
    const byGroup = new Map<string, string[]>();
    for (const d of this.registry.descriptors()) {
      if (!d.group) continue;
      const list = byGroup.get(d.group) ?? [];
      for (const v of d.versions) if (!list.includes(v)) list.push(v);
      byGroup.set(d.group, list);
    }
    const rank = (g: string): number => {
      const i = groupOrder.indexOf(g);
      return i < 0 ? groupOrder.length : i;
    };
    return [...byGroup.entries()]
      .map(([group, versions]) => ({ group, versions: sortVersions(versions) }))
      .sort((a, b) => rank(a.group) - rank(b.group) || a.group.localeCompare(b.group));
  }

  apiVersions(serverAddress: string): unknown {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }

  private groupDoc(g: GroupVersions): unknown {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
    return { name: g.group, versions, preferredVersion: versions[0] };
  }

  apiGroupList(): unknown {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups().map((g) => this.groupDoc(g)) };
  }

  apiGroup(group: string): unknown | undefined {
    const g = this.groups().find((x) => x.group === group);
    return g ? { kind: 'APIGroup', apiVersion: 'v1', ...(this.groupDoc(g) as object) } : undefined;
  }

  private resourcesOf(group: string, version: string): ResourceDescriptor[] {
    return this.registry
      .descriptors()
      .filter((d) => d.group === group && d.versions.includes(version))
      .sort((a, b) => a.resource.localeCompare(b.resource));
  }

  apiResourceList(group: string, version: string): unknown | undefined {
    const descriptors = this.resourcesOf(group, version);
    if (!descriptors.length) return undefined;
    const resources: unknown[] = [];
    for (const d of descriptors) {
      const entry: Record<string, unknown> = { name: d.resource, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs ?? standardVerbs };
      if (d.shortNames?.length) entry['shortNames'] = d.shortNames;
      if (d.categories?.length) entry['categories'] = d.categories;
      if (d.verbs === undefined || d.verbs.includes('create')) entry['storageVersionHash'] = storageVersionHash(d);
      resources.push(entry);
      for (const sub of d.subresources ?? []) {
        const info = subresourceInfo(d, sub);
        const subEntry: Record<string, unknown> = { name: `${d.resource}/${sub}`, singularName: '', namespaced: d.namespaced, kind: info.kind.kind, verbs: info.verbs };
        if (info.kind.group) subEntry['group'] = info.kind.group;
        if (info.kind.version) subEntry['version'] = info.kind.version;
        resources.push(subEntry);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private aggregatedGroup(group: string, versions: string[]): unknown {
    return {
      metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
      versions: versions.map((version) => ({
        version,
        resources: this.resourcesOf(group, version).map((d) => {
          const entry: Record<string, unknown> = {
            resource: d.resource,
            responseKind: { group: '', kind: d.kind, version: '' },
            scope: d.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: d.singular,
            verbs: d.verbs ?? standardVerbs,
          };
          if (d.shortNames?.length) entry['shortNames'] = d.shortNames;
          if (d.categories?.length) entry['categories'] = d.categories;
          if (d.subresources?.length) {
            entry['subresources'] = d.subresources.map((sub) => {
              const info = subresourceInfo(d, sub);
              return { subresource: sub, responseKind: info.kind, verbs: info.verbs };
            });
          }
          return entry;
        }),
        freshness: 'Current',
      })),
    };
  }

  /** The aggregated document for `/api` (core) or `/apis` (every group). */
  aggregated(legacy: boolean, version: 'v2' | 'v2beta1'): unknown {
    const items = legacy ? [this.aggregatedGroup('', ['v1'])] : this.groups().map((g) => this.aggregatedGroup(g.group, g.versions));
    return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
  }
}

/** Whether the client asked for aggregated discovery, and which version of it. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (m.params['g'] === 'apidiscovery.k8s.io' && m.params['as'] === 'APIGroupDiscoveryList') {
      if (m.params['v'] === 'v2' || m.params['v'] === 'v2beta1') return m.params['v'];
    }
    if (m.type === 'application/json' && !m.params['as']) return undefined;
  }
  return undefined;
}

/** Kubernetes' version priority: GA > beta > alpha, higher numbers first. */
export function sortVersions(versions: string[]): string[] {
  const key = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [-1, 0, 0];
    const stability = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return kb[0] - ka[0] || kb[1] - ka[1] || kb[2] - ka[2];
  });
}
