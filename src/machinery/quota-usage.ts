/**
 * What objects count against a ResourceQuota (Kubernetes' quota evaluators), shared by the
 * resource-quota controller (status.used) and quota admission (refusing creates over the limit).
 */
import { Quantity } from './quantity.js';

/** The plain JSON shape both the API server and clients hand around. */
export interface QuotaObject {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; [f: string]: unknown };
  spec?: unknown;
  status?: unknown;
  [f: string]: unknown;
}

export interface GroupResource {
  group: string;
  resource: string;
}

const podComputeKeys = /^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$|^(requests|limits)\.hugepages-|^hugepages-/;
const storageClassKey = /^(.+)\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims)$/;

/** The resource a quota key (`pods`, `requests.cpu`, `count/deployments.apps` …) is about. */
export function resourceOfQuotaKey(key: string): GroupResource | undefined {
  if (key.startsWith('count/')) {
    const rest = key.slice('count/'.length);
    const dot = rest.indexOf('.');
    return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
  }
  if (key === 'pods' || podComputeKeys.test(key)) return { group: '', resource: 'pods' };
  if (key === 'services' || key === 'services.nodeports' || key === 'services.loadbalancers') return { group: '', resource: 'services' };
  if (key === 'persistentvolumeclaims' || key === 'requests.storage' || storageClassKey.test(key)) return { group: '', resource: 'persistentvolumeclaims' };
  if (['secrets', 'configmaps', 'replicationcontrollers', 'resourcequotas'].includes(key)) return { group: '', resource: key };
  return undefined;
}

/** Quota keys of `hard` that objects of `gr` count against. */
export function keysFor(hard: Record<string, unknown>, gr: GroupResource): string[] {
  return Object.keys(hard).filter((k) => {
    const r = resourceOfQuotaKey(k);
    return r !== undefined && r.group === gr.group && r.resource === gr.resource;
  });
}

interface Container {
  name?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpecLike {
  containers?: Container[];
  initContainers?: Container[];
  overhead?: Record<string, string>;
  activeDeadlineSeconds?: number;
  priorityClassName?: string;
}

function q(v: string | number | undefined): Quantity {
  return v === undefined ? Quantity.parse(0) : (Quantity.tryParse(v) ?? Quantity.parse(0));
}

/** The pod's effective requests or limits: max(sum of containers, any init container) + overhead. */
export function podResources(spec: PodSpecLike, kind: 'requests' | 'limits'): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const c of spec.containers ?? []) for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) out.set(r, (out.get(r) ?? q(0)).add(q(v)));
  for (const c of spec.initContainers ?? []) {
    for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) {
      const cur = out.get(r);
      if (!cur || q(v).cmp(cur) > 0) out.set(r, q(v));
    }
  }
  for (const [r, v] of Object.entries(spec.overhead ?? {})) if (out.has(r)) out.set(r, out.get(r)!.add(q(v)));
  return out;
}

/** Whether a pod still counts: not finished, and not past its deletion grace (Kubernetes' QuotaV1Pod). */
export function podCounts(pod: QuotaObject, now: Date): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const m = pod.metadata;
  if (m?.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined) {
    if (now.getTime() > new Date(m.deletionTimestamp).getTime() + m.deletionGracePeriodSeconds * 1000) return false;
  }
  return true;
}

function isBestEffort(spec: PodSpecLike): boolean {
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].every((c) => {
    const names = [...Object.keys(c.resources?.requests ?? {}), ...Object.keys(c.resources?.limits ?? {})];
    return !names.some((n) => n === 'cpu' || n === 'memory');
  });
}

interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

/** Whether a quota's scopes (and scopeSelector) select this object; only pods can be out of scope. */
export function quotaSelects(quota: QuotaObject, gr: GroupResource, obj: QuotaObject): boolean {
  const spec = (quota.spec ?? {}) as { scopes?: string[]; scopeSelector?: { matchExpressions?: ScopeRequirement[] } };
  const reqs: ScopeRequirement[] = [...(spec.scopes ?? []).map((s) => ({ scopeName: s, operator: 'Exists' })), ...(spec.scopeSelector?.matchExpressions ?? [])];
  if (!reqs.length) return true;
  if (gr.group !== '' || gr.resource !== 'pods') return false;
  const pod = (obj.spec ?? {}) as PodSpecLike;
  return reqs.every((r) => {
    switch (r.scopeName) {
      case 'Terminating':
        return pod.activeDeadlineSeconds !== undefined && pod.activeDeadlineSeconds !== null;
      case 'NotTerminating':
        return pod.activeDeadlineSeconds === undefined || pod.activeDeadlineSeconds === null;
      case 'BestEffort':
        return isBestEffort(pod);
      case 'NotBestEffort':
        return !isBestEffort(pod);
      case 'PriorityClass': {
        const name = pod.priorityClassName ?? '';
        if (r.operator === 'Exists') return name !== '';
        if (r.operator === 'DoesNotExist') return name === '';
        if (r.operator === 'In') return (r.values ?? []).includes(name);
        if (r.operator === 'NotIn') return !(r.values ?? []).includes(name);
        return false;
      }
      default:
        return false;
    }
  });
}

/** What one object adds to each of `keys` (only keys it uses; zeros left out). */
export function usageOf(gr: GroupResource, obj: QuotaObject, keys: readonly string[], now: Date): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  const set = (k: string, v: Quantity): void => {
    if (!v.isZero()) out.set(k, v);
  };
  if (gr.group === '' && gr.resource === 'pods' && !podCounts(obj, now)) return out;
  for (const k of keys) {
    if (k.startsWith('count/')) {
      set(k, q(1));
      continue;
    }
    if (gr.group !== '') continue;
    switch (gr.resource) {
      case 'pods': {
        const spec = (obj.spec ?? {}) as PodSpecLike;
        if (k === 'pods') set(k, q(1));
        else {
          const m = /^(requests|limits)\.(.+)$/.exec(k);
          const kind = m ? (m[1] as 'requests' | 'limits') : 'requests';
          const name = m ? m[2]! : k;
          const v = podResources(spec, kind).get(name);
          if (v) set(k, v);
        }
        break;
      }
      case 'services': {
        const spec = (obj.spec ?? {}) as { type?: string; ports?: Array<{ nodePort?: number }> };
        if (k === 'services') set(k, q(1));
        if (k === 'services.loadbalancers' && spec.type === 'LoadBalancer') set(k, q(1));
        if (k === 'services.nodeports' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) set(k, q((spec.ports ?? []).length));
        break;
      }
      case 'persistentvolumeclaims': {
        const spec = (obj.spec ?? {}) as { storageClassName?: string; resources?: { requests?: Record<string, string> } };
        const status = (obj.status ?? {}) as { allocatedResources?: Record<string, string> };
        let storage = q(spec.resources?.requests?.['storage']);
        const allocated = status.allocatedResources?.['storage'];
        if (allocated && q(allocated).cmp(storage) > 0) storage = q(allocated);
        const cls = storageClassKey.exec(k);
        if (k === 'persistentvolumeclaims') set(k, q(1));
        else if (k === 'requests.storage') set(k, storage);
        else if (cls && cls[1] === (spec.storageClassName ?? '')) set(k, cls[2] === 'requests.storage' ? storage : q(1));
        break;
      }
      default:
        if (k === gr.resource) set(k, q(1));
    }
  }
  return out;
}

/** The summed usage of `objects` for every key in `keys` (zero included, as status.used shows it). */
export function totalUsage(quota: QuotaObject, gr: GroupResource, objects: readonly QuotaObject[], keys: readonly string[], now: Date): Map<string, Quantity> {
  const out = new Map<string, Quantity>(keys.map((k) => [k, q(0)]));
  for (const o of objects) {
    if (!quotaSelects(quota, gr, o)) continue;
    for (const [k, v] of usageOf(gr, o, keys, now)) out.set(k, out.get(k)!.add(v));
  }
  return out;
}

/** `a=1,b=2` with keys sorted, as Kubernetes prints resource lists in quota errors. */
export function prettyPrint(list: Map<string, Quantity> | Record<string, string>): string {
  const entries = list instanceof Map ? [...list].map(([k, v]) => [k, v.toString()] as const) : Object.entries(list).map(([k, v]) => [k, q(v).toString()] as const);
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Resources whose quota requires every container to state them (Kubernetes' pod quota constraint). */
const explicitResources = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/**
 * The constraint pod quota puts on containers: when a quota limits cpu or memory requests or
 * limits, every container must set them. Returns Kubernetes' message, or undefined when met.
 */
export function podConstraintError(spec: PodSpecLike, quotaKeys: readonly string[]): string | undefined {
  const required = quotaKeys.filter((k) => explicitResources.includes(k));
  if (!required.length) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const has = new Set<string>();
    for (const r of Object.keys(c.resources?.requests ?? {})) has.add(r).add(`requests.${r}`);
    for (const r of Object.keys(c.resources?.limits ?? {})) has.add(`limits.${r}`);
    for (const r of required) {
      if (has.has(r)) continue;
      let names = missing.get(r);
      if (!names) missing.set(r, (names = new Set()));
      names.add(c.name ?? '');
    }
  }
  if (!missing.size) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}
