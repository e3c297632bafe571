import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { refs, splitKey, type SharedInformer } from '../client/informer.js';
import { isNotFound, type ApiObject } from '../client/interface.js';
import { selectorFromSet } from '../machinery/labels.js';
import { deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';

export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
export const headlessLabel = 'service.kubernetes.io/headless';
/** Kubernetes truncates an Endpoints object to this many addresses. */
const maxEndpointsAddresses = 1000;

function asPod(o: ApiObject): Pod {
  return o as unknown as Pod;
}

function asService(o: ApiObject): Service {
  return o as unknown as Service;
}

/** Whether the Service's endpoints are computed from a selector (services without one are left to their users). */
export function hasSelector(svc: Service): boolean {
  return !!svc.spec?.selector && Object.keys(svc.spec.selector).length > 0;
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a pod belongs in a Service's endpoints at all: it has an IP, has not finished, and
 * (unless terminating pods are wanted) is not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** The pod's IPs (status.podIPs, else status.podIP). */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/**
 * The container port a Service port sends to on this pod: a number is taken as is, a name is
 * looked up among the containers' ports of the same protocol; undefined when the name is unknown.
 */
export function resolveTargetPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  const protocol = port.protocol ?? 'TCP';
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** Endpoint ports of this pod for the Service, in the Service's port order (unresolvable ones left out). */
export function endpointPorts(pod: Pod, svc: Service): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
    if (sp.name) ep.name = sp.name;
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** `hostname` of the pod's endpoint: set when the pod asks for one under this Service's subdomain. */
export function endpointHostname(pod: Pod, svc: Service): string | undefined {
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) return pod.spec.hostname;
  return undefined;
}

/**
 * When the newest change the endpoints reflect happened: the latest of the Service's creation
 * and each pod's creation or readiness transition.
 */
export function lastChangeTriggerTime(svc: Service, pods: Pod[]): string | undefined {
  let latest = Date.parse(svc.metadata?.creationTimestamp ?? '') || 0;
  for (const pod of pods) {
    latest = Math.max(latest, Date.parse(pod.metadata?.creationTimestamp ?? '') || 0);
    const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
    latest = Math.max(latest, Date.parse(ready?.lastTransitionTime ?? '') || 0);
    if (pod.metadata?.deletionTimestamp) latest = Math.max(latest, Date.parse(pod.metadata.deletionTimestamp) || 0);
  }
  // RFC 3339 as Go prints it: no fraction when it is zero (all these times have whole seconds).
  return latest ? new Date(latest).toISOString().replace('.000Z', 'Z') : undefined;
}

/** Labels of objects derived from a Service: its own, plus `service.kubernetes.io/headless` for headless ones. */
export function derivedLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete labels[headlessLabel];
  if (svc.spec?.clusterIP === 'None') labels[headlessLabel] = '';
  return labels;
}

/**
 * Watches pods and enqueues every Service (of the same namespace, with a selector) that selects
 * the pod before or after a change. Shared by the Endpoints and EndpointSlice controllers.
 */
export function enqueueServicesForPods(services: SharedInformer, add: (key: string) => void): (oldObj: ApiObject | undefined, newObj: ApiObject) => void {
  return (oldObj, newObj) => {
    const ns = newObj.metadata?.namespace ?? '';
    for (const s of services.list(ns)) {
      const svc = asService(s);
      if (!hasSelector(svc)) continue;
      const sel = selectorFromSet(svc.spec?.selector);
      if (sel.matches(newObj.metadata?.labels ?? {}) || (oldObj && sel.matches(oldObj.metadata?.labels ?? {}))) add(`${ns}/${svc.metadata?.name ?? ''}`);
    }
  };
}

/** The pods a Service selects, from the cache. */
export function selectedPods(pods: SharedInformer, svc: Service): Pod[] {
  const sel = selectorFromSet(svc.spec?.selector);
  return pods
    .list(svc.metadata?.namespace ?? '')
    .filter((p) => sel.matches(p.metadata?.labels ?? {}))
    .map(asPod);
}

function portsKey(ports: EndpointPort[]): string {
  return JSON.stringify([...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port));
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip.localeCompare(b.ip, 'en', { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

/**
 * The Endpoints controller: for every Service with a selector, an Endpoints object of the same
 * name whose subsets hold the selected pods' IPs (ready ones in `addresses`, others in
 * `notReadyAddresses`, or all ready with `publishNotReadyAddresses`), with ports resolved per pod
 * from the Service's target ports. Services without a selector (such as `default/kubernetes`,
 * written by the API server) are not touched.
 */
export class EndpointsController extends Controller {
  readonly name = 'endpoints';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const services = this.ctx.informers.for(refs.services);
    services.addEventHandler({
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_o, s) => this.enqueue(s),
      onDelete: (s) => this.enqueue(s),
    });
    const onPod = enqueueServicesForPods(services, (k) => this.queue.add(k));
    this.ctx.informers.for(refs.pods).addEventHandler({
      onAdd: (p) => onPod(undefined, p),
      onUpdate: (o, p) => onPod(o, p),
      onDelete: (p) => onPod(undefined, p),
    });
    this.ctx.informers.for(refs.endpoints).addEventHandler({
      // Someone else changed or deleted our Endpoints: put them back.
      onUpdate: (_o, e) => this.enqueueIfService(e),
      onDelete: (e) => this.enqueueIfService(e),
    });
  }

  private enqueueIfService(e: ApiObject): void {
    if (this.ctx.informers.for(refs.services).getByKey(`${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? ''}`)) this.enqueue(e);
  }

  /** The subsets the Service should have now, plus the pods they came from. */
  desired(svc: Service): { subsets: EndpointSubset[]; pods: Pod[]; truncated: boolean } {
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
    const used: Pod[] = [];
    for (const pod of selectedPods(this.ctx.informers.for(refs.pods), svc)) {
      if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
      const ip = podIPs(pod)[0];
      if (!ip) continue;
      const address: EndpointAddress = { ip, targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' } };
      if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
      const hostname = endpointHostname(pod, svc);
      if (hostname) address.hostname = hostname;
      const ports = endpointPorts(pod, svc);
      // A Service with ports that resolve to none on this pod leaves the pod out.
      if ((svc.spec?.ports ?? []).length && !ports.length) continue;
      const key = portsKey(ports);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { ports, ready: [], notReady: [] }));
      if (publishNotReady || isPodReady(pod)) g.ready.push(address);
      else g.notReady.push(address);
      used.push(pod);
    }
    let budget = maxEndpointsAddresses;
    let truncated = false;
    const subsets: EndpointSubset[] = [];
    for (const key of [...groups.keys()].sort()) {
      const g = groups.get(key)!;
      g.ready.sort(compareAddresses);
      g.notReady.sort(compareAddresses);
      const ready = g.ready.slice(0, budget);
      budget -= ready.length;
      const notReady = g.notReady.slice(0, budget);
      budget -= notReady.length;
      if (ready.length < g.ready.length || notReady.length < g.notReady.length) truncated = true;
      if (!ready.length && !notReady.length) continue;
      const subset: EndpointSubset = {};
      if (ready.length) subset.addresses = ready;
      if (notReady.length) subset.notReadyAddresses = notReady;
      if (g.ports.length) subset.ports = g.ports;
      subsets.push(subset);
    }
    return { subsets, pods: used, truncated };
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svcObj = this.ctx.informers.for(refs.services).getByKey(key);
    if (!svcObj) {
      // The Service is gone: so are its Endpoints.
      await this.ctx.client.delete(refs.endpoints, namespace, name).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      return;
    }
    const svc = asService(svcObj);
    if (!hasSelector(svc)) return;
    const { subsets, pods, truncated } = this.desired(svc);
    const labels = derivedLabels(svc);
    const current = this.ctx.informers.for(refs.endpoints).get(namespace, name);
    const currentSubsets = (current?.['subsets'] as EndpointSubset[] | undefined) ?? [];
    const currentAnnotations = current?.metadata?.annotations ?? {};
    const overCapacityNow = currentAnnotations[overCapacityAnnotation] === 'truncated';
    if (current && deepEqual(currentSubsets, subsets) && deepEqual(current.metadata?.labels ?? {}, labels) && overCapacityNow === truncated) return;

    const annotations: Record<string, string> = { ...currentAnnotations };
    const trigger = lastChangeTriggerTime(svc, pods);
    if (trigger) annotations[lastChangeTriggerTimeAnnotation] = trigger;
    else delete annotations[lastChangeTriggerTimeAnnotation];
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];

    if (!current) {
      const obj: ApiObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels, annotations }, subsets };
      try {
        await this.ctx.client.create(refs.endpoints, namespace, obj);
      } catch (e) {
        // A namespace being deleted takes the Service with it; anything else (such as Endpoints
        // created meanwhile and not yet in the cache) is retried.
        if (e instanceof Error && /being terminated/.test(e.message)) return;
        throw e;
      }
      return;
    }
    await this.ctx.client.update(refs.endpoints, namespace, { ...current, metadata: { ...current.metadata, labels, annotations }, subsets });
  }
}
