import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { refs, splitKey } from '../client/informer.js';
import { isNotFound, type ApiObject } from '../client/interface.js';
import { deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import {
  derivedLabels,
  endpointHostname,
  endpointPorts,
  enqueueServicesForPods,
  hasSelector,
  isPodReady,
  lastChangeTriggerTime,
  lastChangeTriggerTimeAnnotation,
  podIPs,
  selectedPods,
  shouldPodBeInEndpoints,
} from './endpoints.js';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
const zoneLabel = 'topology.kubernetes.io/zone';

type AddressType = 'IPv4' | 'IPv6';

function familyOf(ip: string): AddressType {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * Slice ports as the API stores them (name "" and protocol written out, as Kubernetes' controller
 * writes them), so what we compute compares equal to what we read back.
 */
function slicePorts(ports: EndpointPort[]): EndpointPort[] {
  return ports.map((p) => ({ ...p, name: p.name ?? '', protocol: p.protocol ?? 'TCP' }));
}

function portsKey(addressType: string, ports: EndpointPort[] | undefined): string {
  const sorted = slicePorts(ports ?? []).sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0));
  return `${addressType}|${JSON.stringify(sorted)}`;
}

function endpointId(e: Endpoint): string {
  return `${e.targetRef?.uid ?? ''}|${e.addresses[0] ?? ''}`;
}

function sliceIndex(o: ApiObject): string[] {
  const labels = o.metadata?.labels ?? {};
  if (labels[managedByLabel] !== controllerName) return [];
  const svc = labels[serviceNameLabel];
  return svc ? [`${o.metadata?.namespace ?? ''}/${svc}`] : [];
}

function revision(o: ApiObject | undefined): bigint {
  const rv = o?.metadata?.resourceVersion ?? '';
  return /^\d+$/.test(rv) ? BigInt(rv) : -1n;
}

/** One group of endpoints that share address type and ports, to be spread over slices. */
interface Group {
  addressType: AddressType;
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

/** What a slice should become: `slice` is the existing one (undefined: to create). */
interface Plan {
  slice?: EndpointSlice;
  addressType: AddressType;
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/**
 * The EndpointSlice controller: for every Service with a selector, `discovery.k8s.io/v1`
 * EndpointSlices (labelled `kubernetes.io/service-name` and managed-by this controller, owned by
 * the Service) listing the selected pods with ready/serving/terminating conditions, at most
 * `maxEndpointsPerSlice` (default 100) per slice, one set of slices per address type and port
 * set. Existing slices are filled before new ones are made, so endpoints rarely move.
 */
export class EndpointSliceController extends Controller {
  readonly name = 'endpointslice';
  /** service key → slice name → the revision we wrote (or 'deleted'), until the cache shows it. */
  private readonly written = new Map<string, Map<string, { rv: bigint | 'deleted'; at: number }>>();

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  private get maxPerSlice(): number {
    const n = Number(this.ctx.options['maxEndpointsPerSlice'] ?? 100);
    return Number.isFinite(n) && n > 0 ? n : 100;
  }

  setup(): void {
    const services = this.ctx.informers.for(refs.services);
    services.addEventHandler({ onAdd: (s) => this.enqueue(s), onUpdate: (_o, s) => this.enqueue(s), onDelete: (s) => this.enqueue(s) });
    const onPod = enqueueServicesForPods(services, (k) => this.queue.add(k));
    this.ctx.informers.for(refs.pods).addEventHandler({
      onAdd: (p) => onPod(undefined, p),
      onUpdate: (o, p) => onPod(o, p),
      onDelete: (p) => onPod(undefined, p),
    });
    const slices = this.ctx.informers.for(refs.endpointslices);
    slices.addIndexer('endpointslice-service', sliceIndex);
    const onSlice = (o: ApiObject): void => {
      for (const k of sliceIndex(o)) this.queue.add(k);
    };
    slices.addEventHandler({
      onAdd: onSlice,
      onUpdate: (_o, s) => onSlice(s),
      onDelete: (s) => {
        // Whatever we last wrote to it, a deleted slice no longer needs waiting for.
        for (const k of sliceIndex(s)) this.written.get(k)?.delete(s.metadata?.name ?? '');
        onSlice(s);
      },
    });
    this.ctx.informers.for(refs.nodes);
  }

  /** Whether the cache has not yet caught up with our own writes for this Service. */
  private stale(key: string): boolean {
    const mine = this.written.get(key);
    if (!mine) return false;
    const slices = this.ctx.informers.for(refs.endpointslices);
    const { namespace } = splitKey(key);
    const now = this.ctx.clock.now().getTime();
    for (const [name, { rv, at }] of mine) {
      const cached = slices.get(namespace, name);
      const caughtUp = rv === 'deleted' ? !cached : !!cached && revision(cached) >= rv;
      // A write the cache never shows (missed events) must not block the Service forever.
      if (caughtUp || now - at > 30_000) mine.delete(name);
    }
    if (!mine.size) this.written.delete(key);
    return mine.size > 0;
  }

  private note(key: string, name: string, rv: bigint | 'deleted'): void {
    let mine = this.written.get(key);
    if (!mine) this.written.set(key, (mine = new Map()));
    mine.set(name, { rv, at: this.ctx.clock.now().getTime() });
  }

  private toEndpoint(pod: Pod, svc: Service, ip: string): Endpoint {
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const serving = publishNotReady || isPodReady(pod);
    const terminating = !!pod.metadata?.deletionTimestamp;
    const ep: Endpoint = {
      addresses: [ip],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
    };
    const hostname = endpointHostname(pod, svc);
    if (hostname) ep.hostname = hostname;
    if (pod.spec?.nodeName) {
      ep.nodeName = pod.spec.nodeName;
      const zone = this.ctx.informers.for(refs.nodes).get('', pod.spec.nodeName)?.metadata?.labels?.[zoneLabel];
      if (zone) ep.zone = zone;
    }
    return ep;
  }

  private desiredGroups(svc: Service): { groups: Map<string, Group>; pods: Pod[] } {
    const families = (svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4']).filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
    const groups = new Map<string, Group>();
    const used: Pod[] = [];
    const servicePorts = svc.spec?.ports ?? [];
    for (const pod of selectedPods(this.ctx.informers.for(refs.pods), svc)) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = slicePorts(endpointPorts(pod, svc));
      if (servicePorts.length && !ports.length) continue;
      let any = false;
      for (const family of families) {
        const ip = podIPs(pod).find((i) => familyOf(i) === family);
        if (!ip) continue;
        const key = portsKey(family, ports);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { addressType: family, ports, endpoints: new Map() }));
        const ep = this.toEndpoint(pod, svc, ip);
        g.endpoints.set(endpointId(ep), ep);
        any = true;
      }
      if (any) used.push(pod);
    }
    return { groups, pods: used };
  }

  /**
   * Spreads each group over slices: endpoints stay in the slice that has them, new ones fill
   * slices with room, then new slices; slices left empty are deleted.
   */
  private plan(existing: EndpointSlice[], groups: Map<string, Group>): { keep: Plan[]; remove: EndpointSlice[] } {
    const max = this.maxPerSlice;
    const keep: Plan[] = [];
    const remove: EndpointSlice[] = [];
    const byKey = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const k = portsKey(s.addressType, s.ports);
      const list = byKey.get(k) ?? [];
      list.push(s);
      byKey.set(k, list);
    }
    for (const [k, list] of byKey) if (!groups.has(k)) remove.push(...list);
    for (const [k, group] of groups) {
      const remaining = new Map(group.endpoints);
      const plans: Plan[] = [];
      for (const slice of byKey.get(k) ?? []) {
        const endpoints: Endpoint[] = [];
        for (const e of slice.endpoints ?? []) {
          const id = endpointId(e);
          const want = remaining.get(id);
          if (want && endpoints.length < max) {
            endpoints.push(want);
            remaining.delete(id);
          }
        }
        plans.push({ slice, addressType: group.addressType, ports: group.ports, endpoints });
      }
      const fresh = [...remaining.values()].sort((a, b) => (a.addresses[0] ?? '').localeCompare(b.addresses[0] ?? '', 'en', { numeric: true }));
      for (const p of plans) while (p.endpoints.length < max && fresh.length) p.endpoints.push(fresh.shift()!);
      while (fresh.length) plans.push({ addressType: group.addressType, ports: group.ports, endpoints: fresh.splice(0, max) });
      for (const p of plans) {
        if (p.endpoints.length) keep.push(p);
        else if (p.slice) remove.push(p.slice);
      }
    }
    if (!keep.length) {
      // No endpoints at all: one empty placeholder slice remains, as Kubernetes keeps.
      const placeholder = remove.find((s) => !(s.endpoints ?? []).length) ?? undefined;
      const addressType = (placeholder?.addressType as AddressType | undefined) ?? 'IPv4';
      keep.push({ slice: placeholder, addressType, ports: [], endpoints: [] });
      if (placeholder) remove.splice(remove.indexOf(placeholder), 1);
    }
    return { keep, remove };
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (this.stale(key)) return; // the cache event for our last write re-enqueues the Service
    const existing = this.ctx.informers.for(refs.endpointslices).byIndex('endpointslice-service', key) as unknown as EndpointSlice[];
    const svcObj = this.ctx.informers.for(refs.services).getByKey(key);
    if (!svcObj) {
      for (const s of existing) await this.deleteSlice(key, s);
      return;
    }
    const svc = svcObj as unknown as Service;
    if (!hasSelector(svc)) {
      for (const s of existing) await this.deleteSlice(key, s);
      return;
    }
    const { groups, pods } = this.desiredGroups(svc);
    const { keep, remove } = this.plan(existing, groups);
    const labels = { ...derivedLabels(svc), [serviceNameLabel]: name, [managedByLabel]: controllerName };
    const trigger = lastChangeTriggerTime(svc, pods);
    const ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }];

    for (const p of keep) {
      if (p.slice) {
        const s = p.slice;
        const same =
          s.addressType === p.addressType &&
          deepEqual(s.endpoints ?? [], p.endpoints) &&
          deepEqual(s.ports ?? [], p.ports) &&
          deepEqual(s.metadata?.labels ?? {}, labels) &&
          deepEqual(s.metadata?.ownerReferences ?? [], ownerReferences);
        if (same) continue;
        const annotations: Record<string, string> = { ...(s.metadata?.annotations ?? {}) };
        if (trigger) annotations[lastChangeTriggerTimeAnnotation] = trigger;
        const updated = await this.ctx.client.update(refs.endpointslices, namespace, {
          ...(s as unknown as ApiObject),
          metadata: { ...(s.metadata as ApiObject['metadata']), labels, annotations, ownerReferences },
          ports: p.ports,
          endpoints: p.endpoints,
        });
        this.note(key, s.metadata?.name ?? '', revision(updated));
      } else {
        const annotations: Record<string, string> = trigger ? { [lastChangeTriggerTimeAnnotation]: trigger } : {};
        const prefix = name.length > 57 ? `${name.slice(0, 57)}-` : `${name}-`;
        const created = await this.ctx.client.create(refs.endpointslices, namespace, {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: prefix, namespace, labels, annotations, ownerReferences },
          addressType: p.addressType,
          ports: p.ports,
          endpoints: p.endpoints,
        });
        this.note(key, created.metadata?.name ?? '', revision(created));
      }
    }
    for (const s of remove) await this.deleteSlice(key, s);
  }

  private async deleteSlice(key: string, s: EndpointSlice): Promise<void> {
    const name = s.metadata?.name ?? '';
    try {
      await this.ctx.client.delete(refs.endpointslices, s.metadata?.namespace ?? '', name, { preconditions: { uid: s.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.note(key, name, 'deleted');
  }
}
