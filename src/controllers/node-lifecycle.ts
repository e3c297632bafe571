import { indexes, refs } from '../client/informer.js';
import { isNotFound, type ApiObject } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';

interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export const unreachableTaintKey = 'node.kubernetes.io/unreachable';
export const notReadyTaintKey = 'node.kubernetes.io/not-ready';

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/**
 * Node lifecycle (kube-controller-manager's node lifecycle + taint manager): a node whose kubelet
 * stopped heartbeating (Lease and Ready condition) for `nodeMonitorGracePeriodSeconds` becomes
 * Ready=Unknown with the `unreachable` taints (a Ready=False node gets `not-ready`), and pods
 * on a NoExecute-tainted node are deleted once their toleration runs out — so their controllers
 * recreate them on healthy nodes.
 */
export class NodeLifecycleController extends Controller {
  readonly name = 'node-lifecycle';
  private timer: (() => void) | undefined;

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  private get graceMs(): number {
    return (this.ctx.options.nodeMonitorGracePeriodSeconds ?? 40) * 1000;
  }

  setup(): void {
    this.ctx.informers.for(refs.nodes).addEventHandler({ onAdd: (n) => this.enqueue(n), onUpdate: (_o, n) => this.enqueue(n) });
    this.ctx.informers.for(refs.leases);
    this.ctx.informers.for(refs.pods).addIndexer('nodeName', indexes.nodeName);
    // nodeMonitorPeriod: look at every node every 5 s (or faster with a short grace period).
    const period = Math.max(500, Math.min(5000, this.graceMs / 4));
    const tick = (): void => {
      for (const n of this.ctx.informers.for(refs.nodes).list()) this.enqueue(n);
      this.timer = this.ctx.clock.after(period, tick);
    };
    this.timer = this.ctx.clock.after(period, tick);
  }

  override stop(): void {
    this.timer?.();
    super.stop();
  }

  async reconcile(name: string): Promise<void> {
    const node = this.ctx.informers.for(refs.nodes).getByKey(name);
    if (!node) return;
    const now = this.ctx.clock.now();
    const status = (node['status'] ?? {}) as { conditions?: Condition[] };
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const lease = this.ctx.informers.for(refs.leases).get('kube-node-lease', name);
    const renewed = Date.parse(String((lease?.['spec'] as { renewTime?: string } | undefined)?.renewTime ?? '')) || 0;
    const heartbeat = Math.max(renewed, Date.parse(ready?.lastHeartbeatTime ?? '') || 0, Date.parse(String(node.metadata?.['creationTimestamp'] ?? '')) || 0);
    const stale = now.getTime() - heartbeat > this.graceMs;

    let current = node;
    if (stale && ready?.status !== 'Unknown') {
      current = await this.markUnknown(node, now);
      this.ctx.recorder('node-controller').event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const readyNow = ((current['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
    const wanted = readyNow?.status === 'Unknown' ? unreachableTaintKey : readyNow?.status === 'False' ? notReadyTaintKey : undefined;
    current = await this.setTaints(current, wanted, now);
    if (readyNow && readyNow.status !== 'True') await this.markPodsNotReady(name, now);
    await this.evictPods(current, now);
    if (wanted) this.queue.addAfter(name, 1000);
  }

  private async markUnknown(node: ApiObject, now: Date): Promise<ApiObject> {
    const fresh = await this.ctx.client.get(refs.nodes, '', node.metadata?.name ?? '');
    const status = structuredClone((fresh['status'] ?? {}) as { conditions?: Condition[] });
    const message = 'Kubelet stopped posting node status.';
    status.conditions = (status.conditions ?? []).map((c) =>
      ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type) ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message, lastTransitionTime: rfc3339(now) } : c,
    );
    if (!status.conditions.some((c) => c.type === 'Ready')) status.conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: rfc3339(now) });
    return this.ctx.client.update(refs.nodes, '', { ...fresh, status }, { subresource: 'status' });
  }

  /** Keeps exactly the lifecycle taint `wanted` (both NoSchedule and NoExecute), or none. */
  private async setTaints(node: ApiObject, wanted: string | undefined, now: Date): Promise<ApiObject> {
    const spec = (node['spec'] ?? {}) as { taints?: Taint[] };
    const taints = spec.taints ?? [];
    const ours = [unreachableTaintKey, notReadyTaintKey];
    const keep = taints.filter((t) => !ours.includes(t.key) || t.key === wanted);
    const next = [...keep];
    if (wanted) {
      for (const effect of ['NoSchedule', 'NoExecute'] as const) {
        if (!next.some((t) => t.key === wanted && t.effect === effect)) next.push(effect === 'NoExecute' ? { key: wanted, effect, timeAdded: rfc3339(now) } : { key: wanted, effect });
      }
    }
    if (next.length === taints.length && next.every((t, i) => t === taints[i])) return node;
    try {
      const fresh = await this.ctx.client.get(refs.nodes, '', node.metadata?.name ?? '');
      return await this.ctx.client.update(refs.nodes, '', { ...fresh, spec: { ...(fresh['spec'] as object), taints: next.length ? next : undefined } });
    } catch (e) {
      if (isNotFound(e)) return node;
      throw e;
    }
  }

  /** A node that is not Ready cannot vouch for its pods: their Ready condition becomes False (Services drop them). */
  private async markPodsNotReady(nodeName: string, now: Date): Promise<void> {
    for (const pod of this.ctx.informers.for(refs.pods).byIndex('nodeName', nodeName)) {
      const conditions = ((pod['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []);
      if (!conditions.some((c) => c.type === 'Ready' && c.status !== 'False')) continue;
      try {
        const fresh = await this.ctx.client.get(refs.pods, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
        const status = structuredClone((fresh['status'] ?? {}) as { conditions?: Condition[] });
        let changed = false;
        status.conditions = (status.conditions ?? []).map((c) => {
          if (c.type !== 'Ready' || c.status === 'False') return c;
          changed = true;
          return { ...c, status: 'False', lastTransitionTime: rfc3339(now) };
        });
        if (!changed) continue;
        await this.ctx.client.update(refs.pods, fresh.metadata?.namespace ?? '', { ...fresh, status }, { subresource: 'status' });
        this.ctx.recorder('node-controller').event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  /** The taint manager: delete pods that do not (or no longer) tolerate the node's NoExecute taints. */
  private async evictPods(node: ApiObject, now: Date): Promise<void> {
    const noExecute = (((node['spec'] ?? {}) as { taints?: Taint[] }).taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (!noExecute.length) return;
    const pods = this.ctx.informers.for(refs.pods).byIndex('nodeName', node.metadata?.name ?? '');
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const tolerations = ((pod['spec'] as { tolerations?: Toleration[] } | undefined)?.tolerations ?? []);
      let evictAt = -Infinity;
      let forever = true;
      for (const taint of noExecute) {
        const matching = tolerations.filter((t) => tolerates(t, taint));
        if (!matching.length) {
          forever = false;
          evictAt = Math.max(evictAt, now.getTime());
          continue;
        }
        const seconds = Math.min(...matching.map((t) => t.tolerationSeconds ?? Infinity));
        if (Number.isFinite(seconds)) {
          forever = false;
          evictAt = Math.max(evictAt, (Date.parse(taint.timeAdded ?? '') || now.getTime()) + Math.max(0, seconds) * 1000);
        }
      }
      if (forever || evictAt > now.getTime()) continue;
      try {
        await this.ctx.client.delete(refs.pods, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
        this.ctx.recorder('taint-eviction-controller').event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}
