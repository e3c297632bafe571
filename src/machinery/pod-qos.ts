/**
 * The QoS class of a pod (`qos.GetPodQOS`): Guaranteed when every container has equal cpu and
 * memory limits and requests, BestEffort when nothing is requested or limited, else Burstable.
 * Used by the API server (status.qosClass at creation) and the kubelet (cgroups, OOM scores).
 */
import { Quantity } from './quantity.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrAt = (parent: unknown, key: string): unknown[] => (isObj(parent) && Array.isArray(parent[key]) ? (parent[key] as unknown[]) : []);
const toQuantity = (v: unknown): Quantity | undefined => (typeof v === 'string' || typeof v === 'number' ? Quantity.tryParse(String(v)) : undefined);

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const qosResources = ['cpu', 'memory'];

export function podQOSClass(spec: unknown): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (m: Map<string, Quantity>, k: string, q: Quantity): void => {
    const cur = m.get(k);
    m.set(k, cur ? cur.add(q) : q);
  };
  for (const c of [...arrAt(spec, 'initContainers'), ...arrAt(spec, 'containers')]) {
    const res = isObj(c) && isObj(c.resources) ? c.resources : {};
    const req = isObj(res.requests) ? res.requests : {};
    const lim = isObj(res.limits) ? res.limits : {};
    for (const [k, v] of Object.entries(req)) {
      const q = toQuantity(v);
      if (qosResources.includes(k) && q && q.sign() > 0) add(requests, k, q);
    }
    const found = new Set<string>();
    for (const [k, v] of Object.entries(lim)) {
      const q = toQuantity(v);
      if (qosResources.includes(k) && q && q.sign() > 0) {
        found.add(k);
        add(limits, k, q);
      }
    }
    if (!qosResources.every((r) => found.has(r))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [k, req] of requests) {
      const lim = limits.get(k);
      if (!lim || lim.cmp(req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
