/**
 * Resource arithmetic of the scheduler: a pod's effective requests (the init-container rule,
 * sidecars and overhead) and a node's allocatable, as plain numbers (milli-CPU, bytes, counts).
 */
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../machinery/quantity.js';

/** Amounts by resource: `milliCPU` for cpu, bytes for memory and ephemeral storage, units otherwise. */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources, hugepages … by name. */
  scalar: Map<string, number>;
}

/** Requests with Kubernetes' defaults for containers that ask for nothing (used for scoring only). */
export interface NonZeroResources {
  milliCPU: number;
  memory: number;
}

/** What a container without requests counts as when spreading load (Kubernetes' DefaultMilliCPURequest / DefaultMemoryRequest). */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: new Map() };
}

export function cloneResources(r: Resources): Resources {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: new Map(r.scalar) };
}

function quantityNumber(name: string, q: unknown): number {
  if (typeof q !== 'string' && typeof q !== 'number') return 0;
  const parsed = Quantity.tryParse(q);
  if (!parsed) return 0;
  return name === 'cpu' ? Number(parsed.milliValue()) : Number(parsed.value());
}

/** Parses a ResourceList (`{cpu: '500m', memory: '1Gi', …}`) into numbers. */
export function parseResourceList(list: Record<string, unknown> | undefined): Resources {
  const r = emptyResources();
  if (!list) return r;
  for (const [name, q] of Object.entries(list)) addResource(r, name, quantityNumber(name, q));
  return r;
}

export function addResource(r: Resources, name: string, v: number): void {
  if (name === 'cpu') r.milliCPU += v;
  else if (name === 'memory') r.memory += v;
  else if (name === 'ephemeral-storage') r.ephemeralStorage += v;
  else if (name !== 'pods') r.scalar.set(name, (r.scalar.get(name) ?? 0) + v);
}

export function addInto(into: Resources, r: Resources, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + sign * v);
}

function maxInto(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
}

function containerRequests(c: Container, nonZero: boolean): Resources {
  const r = parseResourceList(c.resources?.requests as Record<string, unknown> | undefined);
  if (nonZero) {
    const req = c.resources?.requests ?? {};
    if (req['cpu'] === undefined) r.milliCPU = defaultMilliCPURequest;
    if (req['memory'] === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * The pod's effective request: the larger of (regular containers + sidecars) and each init
 * container (plus the sidecars started before it), plus `spec.overhead` — Kubernetes' rule.
 */
function computeRequests(pod: Pod, nonZero: boolean): Resources {
  const spec = pod.spec;
  const sum = emptyResources();
  for (const c of spec?.containers ?? []) addInto(sum, containerRequests(c, nonZero));
  const initMax = emptyResources();
  const sidecars = emptyResources();
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const during = cloneResources(sidecars);
      addInto(during, r);
      maxInto(initMax, during);
    }
  }
  addInto(sum, sidecars);
  maxInto(sum, initMax);
  if (spec?.overhead) addInto(sum, parseResourceList(spec.overhead as Record<string, unknown>));
  return sum;
}

const requestsCache = new WeakMap<object, { requests: Resources; nonZero: NonZeroResources }>();

/** The pod's requests and its non-zero requests (cached per pod object: pods are immutable snapshots). */
export function podRequests(pod: Pod): { requests: Resources; nonZero: NonZeroResources } {
  let v = requestsCache.get(pod);
  if (!v) {
    const nz = computeRequests(pod, true);
    v = { requests: computeRequests(pod, false), nonZero: { milliCPU: nz.milliCPU, memory: nz.memory } };
    requestsCache.set(pod, v);
  }
  return v;
}

/** A node's allocatable resources and its pod count limit. */
export function nodeAllocatable(node: Node | undefined): Resources & { pods: number } {
  const list = (node?.status?.allocatable ?? node?.status?.capacity) as Record<string, unknown> | undefined;
  const r = parseResourceList(list);
  const pods = list?.['pods'];
  return { ...r, pods: pods === undefined ? 110 : quantityNumber('pods', pods) };
}
