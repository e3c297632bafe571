import { StatusError } from '../../machinery/status-error.js';
import { Quantity } from '../../machinery/quantity.js';
import type { AdmissionHook, RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';

/** Lists the LimitRanges of a namespace. */
export type LimitRangeLookup = (namespace: string) => Promise<KubeObject[]>;

type ResourceList = Record<string, string>;

interface LimitRangeItem {
  type?: string;
  max?: ResourceList;
  min?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

interface Container {
  name?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

const annotation = 'kubernetes.io/limit-ranger';

function items(lr: KubeObject): LimitRangeItem[] {
  return ((lr.spec ?? {}) as { limits?: LimitRangeItem[] }).limits ?? [];
}

function sorted(keys: Iterable<string>): string[] {
  return [...keys].sort();
}

function minConstraint(kind: string, r: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = Quantity.parse(enforced);
  if (req[r] === undefined) return `minimum ${r} usage per ${kind} is ${e.toString()}.  No request is specified`;
  if (Quantity.parse(req[r]).cmp(e) < 0) return `minimum ${r} usage per ${kind} is ${e.toString()}, but request is ${Quantity.parse(req[r]).toString()}`;
  if (lim[r] !== undefined && Quantity.parse(lim[r]).cmp(e) < 0) return `minimum ${r} usage per ${kind} is ${e.toString()}, but limit is ${Quantity.parse(lim[r]).toString()}`;
  return undefined;
}

function maxConstraint(kind: string, r: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = Quantity.parse(enforced);
  if (lim[r] === undefined) return `maximum ${r} usage per ${kind} is ${e.toString()}.  No limit is specified`;
  if (Quantity.parse(lim[r]).cmp(e) > 0) return `maximum ${r} usage per ${kind} is ${e.toString()}, but limit is ${Quantity.parse(lim[r]).toString()}`;
  if (req[r] !== undefined && Quantity.parse(req[r]).cmp(e) > 0) return `maximum ${r} usage per ${kind} is ${e.toString()}, but request is ${Quantity.parse(req[r]).toString()}`;
  return undefined;
}

function ratioConstraint(kind: string, r: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = Quantity.parse(enforced);
  const reqV = req[r] !== undefined ? Number(Quantity.parse(req[r]).milliValue()) : 0;
  const limV = lim[r] !== undefined ? Number(Quantity.parse(lim[r]).milliValue()) : 0;
  if (reqV === 0) return `${r} max limit to request ratio per ${kind} is ${e.toString()}, but no request is specified or request is 0`;
  if (limV === 0) return `${r} max limit to request ratio per ${kind} is ${e.toString()}, but no limit is specified or limit is 0`;
  const ratio = limV / reqV;
  if (ratio * 1000 > Number(e.milliValue())) return `${r} max limit to request ratio per ${kind} is ${e.toString()}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

/** Checks min, max and maxLimitRequestRatio of one item against requests and limits. */
function check(kind: string, item: LimitRangeItem, req: ResourceList, lim: ResourceList): string[] {
  const errs: string[] = [];
  for (const [r, v] of Object.entries(item.min ?? {})) {
    const e = minConstraint(kind, r, v, req, lim);
    if (e) errs.push(e);
  }
  for (const [r, v] of Object.entries(item.max ?? {})) {
    const e = maxConstraint(kind, r, v, req, lim);
    if (e) errs.push(e);
  }
  for (const [r, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const e = ratioConstraint(kind, r, v, req, lim);
    if (e) errs.push(e);
  }
  return errs;
}

/** Sum of the containers' (max with any init container's) requests or limits, for Pod items. */
function podTotal(containers: Container[], inits: Container[], kind: 'requests' | 'limits'): ResourceList {
  const sum = new Map<string, Quantity>();
  for (const c of containers) for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) sum.set(r, (sum.get(r) ?? Quantity.parse(0)).add(Quantity.parse(v)));
  for (const c of inits) {
    for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) {
      const cur = sum.get(r);
      if (!cur || Quantity.parse(v).cmp(cur) > 0) sum.set(r, Quantity.parse(v));
    }
  }
  return Object.fromEntries([...sum].map(([k, v]) => [k, v.toString()]));
}

/** Kubernetes joins several errors as `[a, b]`. */
function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`;
}

/**
 * The LimitRanger admission plugin: new pods' containers without requests or limits get the
 * namespace's LimitRange defaults (`default`, `defaultRequest`, noted in the
 * `kubernetes.io/limit-ranger` annotation); then Container, Pod and PersistentVolumeClaim
 * items' min, max and maxLimitRequestRatio are enforced with 403 and Kubernetes' messages.
 */
export class LimitRanger implements AdmissionHook {
  constructor(private readonly limitRanges: LimitRangeLookup) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext, subresource: string): Promise<void> {
    const d = resource.descriptor;
    if (op !== 'CREATE' || subresource || d.group !== '' || (d.resource !== 'pods' && d.resource !== 'persistentvolumeclaims')) return;
    const namespace = obj.metadata?.namespace;
    if (!namespace) return;
    const ranges = (await this.limitRanges(namespace)).filter((lr) => !lr.metadata?.deletionTimestamp);
    if (!ranges.length) return;
    const all = ranges.flatMap(items);
    const errs = d.resource === 'pods' ? this.admitPod(obj, all) : this.admitClaim(obj, all);
    if (errs.length) {
      const name = obj.metadata?.name ?? '';
      throw new StatusError(403, 'Forbidden', `${d.resource} "${name}" is forbidden: ${aggregate(errs)}`, { name, kind: d.resource });
    }
  }

  private admitPod(pod: KubeObject, all: LimitRangeItem[]): string[] {
    const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] };
    const containers = spec.containers ?? [];
    const inits = spec.initContainers ?? [];
    const notes: string[] = [];
    const containerItems = all.filter((i) => i.type === 'Container');
    for (const c of [...containers, ...inits]) {
      const setReq = new Set<string>();
      const setLim = new Set<string>();
      for (const item of containerItems) {
        const res = (c.resources ??= {});
        for (const [r, v] of Object.entries(item.default ?? {})) {
          if (res.limits?.[r] !== undefined) continue;
          (res.limits ??= {})[r] = v;
          setLim.add(r);
        }
        for (const [r, v] of Object.entries(item.defaultRequest ?? {})) {
          if (res.requests?.[r] !== undefined) continue;
          (res.requests ??= {})[r] = v;
          setReq.add(r);
        }
      }
      if (setReq.size) notes.push(`${sorted(setReq).join(', ')} request for container ${c.name ?? ''}`);
      if (setLim.size) notes.push(`${sorted(setLim).join(', ')} limit for container ${c.name ?? ''}`);
    }
    if (notes.length) {
      const meta = (pod.metadata ??= {});
      meta.annotations = { ...meta.annotations, [annotation]: `LimitRanger plugin set: ${notes.join('; ')}` };
    }
    const errs: string[] = [];
    for (const item of all) {
      if (item.type === 'Container') {
        for (const c of [...containers, ...inits]) errs.push(...check('Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {}));
      } else if (item.type === 'Pod') {
        errs.push(...check('Pod', item, podTotal(containers, inits, 'requests'), podTotal(containers, inits, 'limits')));
      }
    }
    return errs;
  }

  private admitClaim(pvc: KubeObject, all: LimitRangeItem[]): string[] {
    const res = ((pvc.spec ?? {}) as { resources?: { requests?: ResourceList; limits?: ResourceList } }).resources ?? {};
    const errs: string[] = [];
    for (const item of all) {
      if (item.type !== 'PersistentVolumeClaim') continue;
      for (const [r, v] of Object.entries(item.min ?? {})) {
        const req = res.requests?.[r];
        if (req === undefined) errs.push(`minimum ${r} usage per PersistentVolumeClaim is ${Quantity.parse(v).toString()}.  No request is specified`);
        else if (Quantity.parse(req).cmp(Quantity.parse(v)) < 0) errs.push(`minimum ${r} usage per PersistentVolumeClaim is ${Quantity.parse(v).toString()}, but request is ${Quantity.parse(req).toString()}`);
      }
      for (const [r, v] of Object.entries(item.max ?? {})) {
        const req = res.requests?.[r];
        if (req === undefined) errs.push(`maximum ${r} usage per PersistentVolumeClaim is ${Quantity.parse(v).toString()}.  No request is specified`);
        else if (Quantity.parse(req).cmp(Quantity.parse(v)) > 0) errs.push(`maximum ${r} usage per PersistentVolumeClaim is ${Quantity.parse(v).toString()}, but request is ${Quantity.parse(req).toString()}`);
      }
    }
    return errs;
  }
}
